// Collections: named sets of face persons, looked up by id or by code within their client.
import type { Collection, NewCollection } from '../../domain/model.js';
import { checkPage, isoNow, likePattern } from '../shared.js';
import type { CollectionRepo, Page, PageQuery } from '../../domain/ports.js';
import { requireClient } from './clients.js';
import type { Q, Row, Scope } from './connection.js';
import { newCollectionRecord, toCollection } from '../rows.js';

/** This client's collection with id or code `idOrCode`; `lock` keeps it from being deleted before commit. */
export async function collectionRow(q: Q, client: string, idOrCode: string, lock = ''): Promise<Row | undefined> {
  const { rows } = await q(`SELECT * FROM collections WHERE client_id = $1 AND (id = $2 OR code = $2) ORDER BY (id = $2) DESC LIMIT 1 ${lock}`, [
    client,
    idOrCode,
  ]);
  return rows[0];
}

export class PgCollections implements CollectionRepo {
  constructor(private readonly s: Scope) {}

  async create(c: NewCollection): Promise<Collection> {
    const rec = newCollectionRecord(c);
    await this.s.write('collection', async (q) => {
      await requireClient(q, rec.client);
      await q('INSERT INTO collections (id, client_id, code, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        rec.id,
        rec.client,
        rec.code,
        rec.name,
        rec.description,
        rec.createdAt,
        rec.updatedAt,
      ]);
    });
    return rec;
  }

  async get(client: string, idOrCode: string): Promise<Collection | null> {
    const r = await this.s.read((q) => collectionRow(q, client, idOrCode));
    return r ? toCollection(r) : null;
  }

  async list(client: string, query: PageQuery & { search?: string }): Promise<Page<Collection>> {
    const { limit, offset } = checkPage(query);
    return this.s.read(async (q) => {
      const where = query.search ? `client_id = $1 AND name ILIKE $2 ESCAPE '\\'` : 'client_id = $1';
      const args: unknown[] = query.search ? [client, likePattern(query.search)] : [client];
      const total = (await q(`SELECT count(*)::int AS n FROM collections WHERE ${where}`, args)).rows[0].n as number;
      const { rows } = await q(`SELECT * FROM collections WHERE ${where} ORDER BY ord DESC LIMIT ${limit} OFFSET ${offset}`, args);
      return { items: rows.map(toCollection), total };
    });
  }

  async update(client: string, id: string, patch: Partial<Pick<Collection, 'name' | 'description'>>): Promise<Collection | null> {
    return this.s.write('collection', async (q) => {
      const r = await collectionRow(q, client, id);
      if (!r) return null;
      const { rows } = await q(
        `UPDATE collections SET name = coalesce($1, name), description = coalesce($2, description), updated_at = $3
         WHERE client_id = $4 AND id = $5 RETURNING *`,
        [patch.name ?? null, patch.description ?? null, isoNow(), client, r.id],
      );
      return rows[0] ? toCollection(rows[0]) : null;
    });
  }

  async delete(client: string, id: string): Promise<boolean> {
    return this.s.write('collection', async (q, w) => {
      // FOR UPDATE: no membership can be added meanwhile (that insert's key-share lock waits), so the member list
      // read next is complete.
      const r = await collectionRow(q, client, id, 'FOR UPDATE');
      if (!r) return false;
      const members = await q('SELECT person_id FROM face_person_collections WHERE client_id = $1 AND collection_id = $2', [client, r.id]);
      const { rowCount } = await q('DELETE FROM collections WHERE client_id = $1 AND id = $2', [client, r.id]);
      // Every member's index entry loses this collection (the memberships went by ON DELETE CASCADE).
      if (rowCount > 0) for (const m of members.rows) w.touch(client, m.person_id as string);
      return rowCount > 0;
    });
  }
}
