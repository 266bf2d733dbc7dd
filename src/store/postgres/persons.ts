// Generic `/v2/persons` records. Their templates are not in the vector index (no change-feed rows).
import type { NewPersonRecord, PersonRecord, VerificationStatus } from '../../domain/model.js';
import { newPersonRecordId } from '../ids.js';
import { checkPage, isoNow, PERSON_RECORD_COLUMNS } from '../shared.js';
import type { Page, PageQuery, PersonRecordRepo } from '../types.js';
import { requireClient } from './clients.js';
import type { Q, Row, Scope } from './connection.js';

const toPersonRecord = (r: Row): PersonRecord => ({
  id: r.id as string,
  client: r.client_id as string,
  firstName: (r.first_name as string | null) ?? null,
  lastName: (r.last_name as string | null) ?? null,
  email: (r.email as string | null) ?? null,
  phone: (r.phone as string | null) ?? null,
  dateOfBirth: (r.date_of_birth as string | null) ?? null,
  documentType: (r.document_type as string | null) ?? null,
  documentNumber: (r.document_number as string | null) ?? null,
  livenessScore: (r.liveness_score as number | null) ?? null,
  verificationStatus: r.verification_status as VerificationStatus,
  createdAt: r.created_at as string,
  updatedAt: r.updated_at as string,
});

async function getPersonRecord(q: Q, client: string, id: string): Promise<PersonRecord | null> {
  const { rows } = await q('SELECT * FROM person_records WHERE client_id = $1 AND id = $2', [client, id]);
  return rows[0] ? toPersonRecord(rows[0]) : null;
}

export class PgPersons implements PersonRecordRepo {
  constructor(private readonly s: Scope) {}

  create(p: NewPersonRecord): Promise<PersonRecord> {
    const now = isoNow();
    const id = p.id ?? newPersonRecordId();
    return this.s.write('person', async (q) => {
      await requireClient(q, p.client);
      const { rows } = await q(
        `INSERT INTO person_records (id, client_id, first_name, last_name, email, phone, date_of_birth, document_type,
           document_number, liveness_score, verification_status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *`,
        [
          id,
          p.client,
          p.firstName ?? null,
          p.lastName ?? null,
          p.email ?? null,
          p.phone ?? null,
          p.dateOfBirth ?? null,
          p.documentType ?? null,
          p.documentNumber ?? null,
          p.livenessScore ?? null,
          p.verificationStatus ?? 'pending',
          now,
          now,
        ],
      );
      return toPersonRecord(rows[0]);
    });
  }

  get(client: string, id: string): Promise<PersonRecord | null> {
    return this.s.read((q) => getPersonRecord(q, client, id));
  }

  list(client: string, query: PageQuery & { status?: VerificationStatus }): Promise<Page<PersonRecord>> {
    const { limit, offset } = checkPage(query);
    return this.s.read(async (q) => {
      const where = query.status ? 'client_id = $1 AND verification_status = $2' : 'client_id = $1';
      const args = query.status ? [client, query.status] : [client];
      const total = (await q(`SELECT count(*)::int AS n FROM person_records WHERE ${where}`, args)).rows[0].n as number;
      const { rows } = await q(`SELECT * FROM person_records WHERE ${where} ORDER BY ord DESC LIMIT ${limit} OFFSET ${offset}`, args);
      return { items: rows.map(toPersonRecord), total };
    });
  }

  update(client: string, id: string, patch: Parameters<PersonRecordRepo['update']>[2]): Promise<PersonRecord | null> {
    const sets: string[] = [];
    const args: unknown[] = [];
    for (const [key, col] of Object.entries(PERSON_RECORD_COLUMNS)) {
      const v = (patch as Record<string, unknown>)[key];
      if (v !== undefined) {
        args.push(v);
        sets.push(`${col} = $${args.length}`);
      }
    }
    args.push(isoNow());
    sets.push(`updated_at = $${args.length}`);
    args.push(client, id);
    return this.s.write('person', async (q) => {
      const { rows } = await q(`UPDATE person_records SET ${sets.join(', ')} WHERE client_id = $${args.length - 1} AND id = $${args.length} RETURNING *`, args);
      return rows[0] ? toPersonRecord(rows[0]) : null;
    });
  }

  delete(client: string, id: string): Promise<boolean> {
    return this.s.write('person', async (q) => (await q('DELETE FROM person_records WHERE client_id = $1 AND id = $2', [client, id])).rowCount > 0);
  }
}
