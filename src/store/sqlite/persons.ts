// Generic `/v2/persons` records. Their templates are not in the vector index (no change-feed rows).
import type { NewPersonRecord, PersonRecord, VerificationStatus } from '../../domain/model.js';
import { newPersonRecordId } from '../../domain/ids.js';
import { checkPage, isoNow, PERSON_RECORD_COLUMNS } from '../shared.js';
import type { Page, PageQuery, PersonRecordRepo } from '../../domain/ports.js';
import { requireClient } from './clients.js';
import type { Query, Row, Scope } from './connection.js';
import { toPersonRecord } from '../rows.js';


function getPersonRecord(q: Query, client: string, id: string): PersonRecord | null {
  const r = q('SELECT * FROM person_records WHERE client_id = ? AND id = ?').get(client, id) as Row | undefined;
  return r ? toPersonRecord(r) : null;
}

export class SqlitePersons implements PersonRecordRepo {
  constructor(private readonly s: Scope) {}

  async create(p: NewPersonRecord): Promise<PersonRecord> {
    const now = isoNow();
    const id = p.id ?? newPersonRecordId();
    return this.s.write('person', (q) => {
      requireClient(q, p.client);
      q(
        `INSERT INTO person_records (id, client_id, first_name, last_name, email, phone, date_of_birth, document_type,
           document_number, liveness_score, verification_status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
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
      );
      return getPersonRecord(q, p.client, id)!;
    });
  }

  async get(client: string, id: string): Promise<PersonRecord | null> {
    return this.s.read((q) => getPersonRecord(q, client, id));
  }

  async list(client: string, query: PageQuery & { status?: VerificationStatus }): Promise<Page<PersonRecord>> {
    const { limit, offset } = checkPage(query);
    return this.s.read((q) => {
      const where = query.status ? 'client_id = ? AND verification_status = ?' : 'client_id = ?';
      const args = query.status ? [client, query.status] : [client];
      const total = (q(`SELECT count(*) AS n FROM person_records WHERE ${where}`).get(...args) as { n: number }).n;
      const rows = q(`SELECT * FROM person_records WHERE ${where} ORDER BY rowid DESC LIMIT ${limit} OFFSET ${offset}`).all(...args) as Row[];
      return { items: rows.map(toPersonRecord), total };
    });
  }

  async update(client: string, id: string, patch: Parameters<PersonRecordRepo['update']>[2]): Promise<PersonRecord | null> {
    const sets: string[] = [];
    const args: unknown[] = [];
    for (const [key, col] of Object.entries(PERSON_RECORD_COLUMNS)) {
      const v = (patch as Record<string, unknown>)[key];
      if (v !== undefined) {
        sets.push(`${col} = ?`);
        args.push(v);
      }
    }
    sets.push('updated_at = ?');
    args.push(isoNow());
    return this.s.write('person', (q) => {
      const n = q(`UPDATE person_records SET ${sets.join(', ')} WHERE client_id = ? AND id = ?`).run(...args, client, id).changes;
      return n > 0 ? getPersonRecord(q, client, id) : null;
    });
  }

  async delete(client: string, id: string): Promise<boolean> {
    return this.s.write('person', (q, w) => {
      const n = q('DELETE FROM person_records WHERE client_id = ? AND id = ?').run(client, id).changes;
      if (n > 0) w.biometricDeleted();
      return n > 0;
    });
  }
}
