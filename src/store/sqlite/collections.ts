// Collections: named sets of face persons, looked up by id or by code within their client.
import type { Collection, NewCollection } from '../../domain/model.js';
import { checkPage, isoNow, likePattern } from '../shared.js';
import type { CollectionRepo, Page, PageQuery } from '../../domain/ports.js';
import { requireClient } from './clients.js';
import type { Query, Row, Scope } from './connection.js';
import { newCollectionRecord, toCollection } from '../rows.js';

/** This client's collection with id or code `idOrCode`. */
export function collectionRow(q: Query, client: string, idOrCode: string): Row | undefined {
  return q(
    'SELECT * FROM collections WHERE client_id = @client AND id = @ref UNION ALL SELECT * FROM collections WHERE client_id = @client AND code = @ref LIMIT 1',
  ).get({ client, ref: idOrCode }) as Row | undefined;
}

export class SqliteCollections implements CollectionRepo {
  constructor(private readonly s: Scope) {}

  async create(c: NewCollection): Promise<Collection> {
    const rec = newCollectionRecord(c);
    await this.s.write('collection', (q) => {
      requireClient(q, rec.client);
      q('INSERT INTO collections (id, client_id, code, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        rec.id,
        rec.client,
        rec.code,
        rec.name,
        rec.description,
        rec.createdAt,
        rec.updatedAt,
      );
    });
    return rec;
  }

  async get(client: string, idOrCode: string): Promise<Collection | null> {
    return this.s.read((q) => {
      const r = collectionRow(q, client, idOrCode);
      return r ? toCollection(r) : null;
    });
  }

  async list(client: string, query: PageQuery & { search?: string }): Promise<Page<Collection>> {
    const { limit, offset } = checkPage(query);
    return this.s.read((q) => {
      const where = query.search ? `client_id = ? AND name LIKE ? ESCAPE '\\'` : 'client_id = ?';
      const args = query.search ? [client, likePattern(query.search)] : [client];
      const total = (q(`SELECT count(*) AS n FROM collections WHERE ${where}`).get(...args) as { n: number }).n;
      const rows = q(`SELECT * FROM collections WHERE ${where} ORDER BY rowid DESC LIMIT ${limit} OFFSET ${offset}`).all(...args) as Row[];
      return { items: rows.map(toCollection), total };
    });
  }

  async update(client: string, id: string, patch: Partial<Pick<Collection, 'name' | 'description'>>): Promise<Collection | null> {
    return this.s.write('collection', (q) => {
      const r = collectionRow(q, client, id);
      if (!r) return null;
      q('UPDATE collections SET name = ?, description = ?, updated_at = ? WHERE client_id = ? AND id = ?').run(
        patch.name ?? r.name,
        patch.description ?? r.description,
        isoNow(),
        client,
        r.id,
      );
      return toCollection(q('SELECT * FROM collections WHERE client_id = ? AND id = ?').get(client, r.id) as Row);
    });
  }

  async delete(client: string, id: string): Promise<boolean> {
    return this.s.write('collection', (q, w) => {
      const r = collectionRow(q, client, id);
      if (!r) return false;
      // Every member's index entry loses this collection.
      const members = q('SELECT person_id FROM face_person_collections WHERE client_id = ? AND collection_id = ?').all(client, r.id) as Row[];
      for (const m of members) w.touch(client, m.person_id as string);
      return q('DELETE FROM collections WHERE client_id = ? AND id = ?').run(client, r.id).changes > 0;
    });
  }
}
