// Generic `/v2/persons` records. Their templates are not in the vector index (no change-feed rows).
import type { NewPersonRecord, PersonRecord, VerificationStatus } from '../../domain/model.js';
import { newPersonRecordId } from '../../domain/ids.js';
import { checkPage, isoNow, PERSON_RECORD_COLUMNS } from '../shared.js';
import type { Page, PageQuery, PersonRecordRepo } from '../../domain/ports.js';
import { requireClient } from './clients.js';
import type { Q, Scope } from './connection.js';
import { toPersonRecord } from '../rows.js';

async function getPersonRecord(q: Q, client: string, id: string): Promise<PersonRecord | null> {
  const { rows } = await q('SELECT * FROM person_records WHERE client_id = $1 AND id = $2', [client, id]);
  return rows[0] ? toPersonRecord(rows[0]) : null;
}

export class PgPersons implements PersonRecordRepo {
  constructor(private readonly s: Scope) {}

  async create(p: NewPersonRecord): Promise<PersonRecord> {
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

  async get(client: string, id: string): Promise<PersonRecord | null> {
    return this.s.read((q) => getPersonRecord(q, client, id));
  }

  async list(client: string, query: PageQuery & { status?: VerificationStatus }): Promise<Page<PersonRecord>> {
    const { limit, offset } = checkPage(query);
    return this.s.read(async (q) => {
      const where = query.status ? 'client_id = $1 AND verification_status = $2' : 'client_id = $1';
      const args = query.status ? [client, query.status] : [client];
      const total = (await q(`SELECT count(*)::int AS n FROM person_records WHERE ${where}`, args)).rows[0].n as number;
      const { rows } = await q(`SELECT * FROM person_records WHERE ${where} ORDER BY ord DESC LIMIT ${limit} OFFSET ${offset}`, args);
      return { items: rows.map(toPersonRecord), total };
    });
  }

  async update(client: string, id: string, patch: Parameters<PersonRecordRepo['update']>[2]): Promise<PersonRecord | null> {
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

  async delete(client: string, id: string): Promise<boolean> {
    return this.s.write('person', async (q, w) => {
      const { rowCount } = await q('DELETE FROM person_records WHERE client_id = $1 AND id = $2', [client, id]);
      if (rowCount > 0) w.biometricDeleted();
      return rowCount > 0;
    });
  }
}
