// Face persons and their collection memberships. Every write that changes what the vector index holds for a person
// (create, update, delete) records it in the change feed (WriteContext.touch).
import { UnknownReferenceError } from '../../domain/errors.js';
import type { FacePerson, NewFacePerson } from '../../domain/model.js';
import { newObjectId } from '../../domain/ids.js';
import { checkPage, isoNow, likePattern } from '../shared.js';
import type { FacePersonRepo, Page, PageQuery } from '../../domain/ports.js';
import { requireClient } from './clients.js';
import { collectionRow } from './collections.js';
import type { Query, Row, Scope } from './connection.js';
import { toFacePerson } from '../rows.js';

type Patch = Parameters<FacePersonRepo['update']>[2];

/** Collection ids of each person (of `client`), in the order they were given. */
function membershipsOf(q: Query, client: string, personIds: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>(personIds.map((id) => [id, []]));
  if (personIds.length === 0) return out;
  const rows = q(
    'SELECT person_id, collection_id FROM face_person_collections WHERE client_id = ? AND person_id IN (SELECT value FROM json_each(?)) ORDER BY rowid',
  ).all(client, JSON.stringify(personIds)) as { person_id: string; collection_id: string }[];
  for (const r of rows) out.get(r.person_id)?.push(r.collection_id);
  return out;
}

/** Resolves ids or codes to ids of this client's collections, deduplicated, order kept. */
function resolveCollections(q: Query, client: string, refs: string[]): string[] {
  const ids: string[] = [];
  for (const ref of refs) {
    const r = collectionRow(q, client, ref);
    if (!r) throw new UnknownReferenceError('collection', ref);
    if (!ids.includes(r.id as string)) ids.push(r.id as string);
  }
  return ids;
}

function setMemberships(q: Query, client: string, person: string, collectionIds: string[]): void {
  q('DELETE FROM face_person_collections WHERE client_id = ? AND person_id = ?').run(client, person);
  const ins = q('INSERT INTO face_person_collections (client_id, person_id, collection_id) VALUES (?, ?, ?)');
  for (const c of collectionIds) ins.run(client, person, c);
}

function getFacePerson(q: Query, client: string, id: string): FacePerson | null {
  const r = q('SELECT * FROM face_persons WHERE client_id = ? AND id = ?').get(client, id) as Row | undefined;
  return r ? toFacePerson(r, membershipsOf(q, client, [id]).get(id) ?? []) : null;
}

export class SqliteFacePersons implements FacePersonRepo {
  constructor(private readonly s: Scope) {}

  async create(p: NewFacePerson): Promise<FacePerson> {
    const now = isoNow();
    const id = p.id ?? newObjectId();
    return this.s.write('face person', (q, w) => {
      requireClient(q, p.client);
      const cols = resolveCollections(q, p.client, p.collections ?? []);
      q(
        `INSERT INTO face_persons (id, client_id, name, gender, date_of_birth, nationality, notes, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(id, p.client, p.name, p.gender ?? null, p.dateOfBirth ?? null, p.nationality ?? null, p.notes ?? null, now, now);
      setMemberships(q, p.client, id, cols);
      w.touch(p.client, id);
      return getFacePerson(q, p.client, id)!;
    });
  }

  async get(client: string, id: string): Promise<FacePerson | null> {
    return this.s.read((q) => getFacePerson(q, client, id));
  }

  async list(client: string, query: PageQuery & { collection?: string; search?: string; after?: string }): Promise<Page<FacePerson>> {
    const { limit, offset } = checkPage(query);
    return this.s.read((q) => {
      const conds = ['p.client_id = ?'];
      const args: unknown[] = [client];
      let collectionId: string | undefined;
      if (query.collection !== undefined) {
        const c = collectionRow(q, client, query.collection);
        if (!c) return { items: [], total: 0 };
        collectionId = c.id as string;
        // EXISTS walks the client's persons newest first and stops at the page's end (an IN list would be built
        // from every member first).
        conds.push('EXISTS (SELECT 1 FROM face_person_collections m WHERE m.person_id = p.id AND m.collection_id = ?)');
        args.push(collectionId);
      }
      if (query.search) {
        conds.push(`p.name LIKE ? ESCAPE '\\'`);
        args.push(likePattern(query.search));
      }
      const where = conds.join(' AND ');
      // A collection's members all belong to its client (composite foreign keys), so they can be counted from the
      // membership index alone.
      const total = (
        collectionId !== undefined && !query.search
          ? q('SELECT count(*) AS n FROM face_person_collections WHERE collection_id = ?').get(collectionId)
          : q(`SELECT count(*) AS n FROM face_persons p WHERE ${where}`).get(...args)
      ) as { n: number };
      // Keyset paging: start right after a given person in the list's order (newest first), so a deep page costs
      // what the first one does instead of skipping every row before it.
      let pageWhere = where;
      const pageArgs = [...args];
      if (query.after !== undefined) {
        pageWhere += ' AND p.rowid < (SELECT rowid FROM face_persons WHERE client_id = ? AND id = ?)';
        pageArgs.push(client, query.after);
      }
      const rows = q(`SELECT p.* FROM face_persons p WHERE ${pageWhere} ORDER BY p.rowid DESC LIMIT ${limit} OFFSET ${offset}`).all(
        ...pageArgs,
      ) as Row[];
      const members = membershipsOf(q, client, rows.map((r) => r.id as string));
      return { items: rows.map((r) => toFacePerson(r, members.get(r.id as string) ?? [])), total: total.n };
    });
  }

  async update(client: string, id: string, patch: Patch): Promise<FacePerson | null> {
    return this.s.write('face person', (q, w) => {
      const cur = q('SELECT * FROM face_persons WHERE client_id = ? AND id = ?').get(client, id) as Row | undefined;
      if (!cur) return null;
      const pick = <K extends keyof Patch>(k: K, col: string): unknown => (k in patch && patch[k] !== undefined ? patch[k] : cur[col]);
      q(
        `UPDATE face_persons SET name = ?, gender = ?, date_of_birth = ?, nationality = ?, notes = ?, updated_at = ?
         WHERE client_id = ? AND id = ?`,
      ).run(
        pick('name', 'name'),
        pick('gender', 'gender'),
        pick('dateOfBirth', 'date_of_birth'),
        pick('nationality', 'nationality'),
        pick('notes', 'notes'),
        isoNow(),
        client,
        id,
      );
      if (patch.collections !== undefined) {
        setMemberships(q, client, id, resolveCollections(q, client, patch.collections));
        w.touch(client, id);
      }
      return getFacePerson(q, client, id);
    });
  }

  async delete(client: string, id: string): Promise<boolean> {
    return this.s.write('face person', (q, w) => {
      // Memberships, templates and thumbnails go with it (ON DELETE CASCADE).
      const n = q('DELETE FROM face_persons WHERE client_id = ? AND id = ?').run(client, id).changes;
      if (n > 0) {
        w.touch(client, id);
        w.biometricDeleted();
      }
      return n > 0;
    });
  }
}
