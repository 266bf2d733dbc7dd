// Face persons and their collection memberships. Every write that changes what the vector index holds for a person
// (create, update of its collections, delete) records it in the change feed (WriteContext.touch).
import { UnknownReferenceError } from '../../domain/errors.js';
import type { FacePerson, NewFacePerson } from '../../domain/model.js';
import { newObjectId } from '../../domain/ids.js';
import { checkPage, isoNow, likePattern } from '../shared.js';
import type { FacePersonRepo, Page, PageQuery } from '../../domain/ports.js';
import { requireClient } from './clients.js';
import { collectionRow } from './collections.js';
import type { Q, Scope } from './connection.js';
import { toFacePerson } from '../rows.js';

type Patch = Parameters<FacePersonRepo['update']>[2];

/** Collection ids of each person (of `client`), in the order they were given. */
async function membershipsOf(q: Q, client: string, personIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(personIds.map((id) => [id, []]));
  if (personIds.length === 0) return out;
  const { rows } = await q(
    'SELECT person_id, collection_id FROM face_person_collections WHERE client_id = $1 AND person_id = ANY($2::text[]) ORDER BY ord',
    [client, personIds],
  );
  for (const r of rows) out.get(r.person_id as string)?.push(r.collection_id as string);
  return out;
}

/** Resolves ids or codes to ids of this client's collections, deduplicated, order kept. */
async function resolveCollections(q: Q, client: string, refs: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const ref of refs) {
    const r = await collectionRow(q, client, ref, 'FOR KEY SHARE');
    if (!r) throw new UnknownReferenceError('collection', ref);
    if (!ids.includes(r.id as string)) ids.push(r.id as string);
  }
  return ids;
}

async function setMemberships(q: Q, client: string, person: string, collectionIds: string[], replace = true): Promise<void> {
  if (replace) await q('DELETE FROM face_person_collections WHERE client_id = $1 AND person_id = $2', [client, person]);
  if (collectionIds.length === 0) return;
  // WITH ORDINALITY keeps the given order in `ord`.
  await q(
    `INSERT INTO face_person_collections (client_id, person_id, collection_id)
     SELECT $1, $2, c FROM unnest($3::text[]) WITH ORDINALITY AS u(c, i) ORDER BY i`,
    [client, person, collectionIds],
  );
}

/** A person with its collections in one round trip (a search answer reads one per match). */
async function getFacePerson(q: Q, client: string, id: string): Promise<FacePerson | null> {
  const { rows } = await q(
    `SELECT p.*, ARRAY(SELECT m.collection_id FROM face_person_collections m
                       WHERE m.client_id = p.client_id AND m.person_id = p.id ORDER BY m.ord) AS collection_ids
     FROM face_persons p WHERE p.client_id = $1 AND p.id = $2`,
    [client, id],
  );
  if (!rows[0]) return null;
  return toFacePerson(rows[0], rows[0].collection_ids as string[]);
}

export class PgFacePersons implements FacePersonRepo {
  constructor(private readonly s: Scope) {}

  async create(p: NewFacePerson): Promise<FacePerson> {
    const now = isoNow();
    const id = p.id ?? newObjectId();
    return this.s.write('face person', async (q, w) => {
      await requireClient(q, p.client);
      const cols = await resolveCollections(q, p.client, p.collections ?? []);
      const { rows } = await q(
        `INSERT INTO face_persons (id, client_id, name, gender, date_of_birth, nationality, notes, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
        [id, p.client, p.name, p.gender ?? null, p.dateOfBirth ?? null, p.nationality ?? null, p.notes ?? null, now, now],
      );
      // A new person has no memberships to replace, and its list is the one just resolved.
      await setMemberships(q, p.client, id, cols, false);
      w.touch(p.client, id);
      return toFacePerson(rows[0], cols);
    });
  }

  async get(client: string, id: string): Promise<FacePerson | null> {
    return this.s.read((q) => getFacePerson(q, client, id));
  }

  async list(client: string, query: PageQuery & { collection?: string; search?: string; after?: string }): Promise<Page<FacePerson>> {
    const { limit, offset } = checkPage(query);
    return this.s.read(async (q) => {
      const args: unknown[] = [client];
      const conds = ['p.client_id = $1'];
      let collectionId: string | undefined;
      if (query.collection !== undefined) {
        const c = await collectionRow(q, client, query.collection);
        if (!c) return { items: [], total: 0 };
        collectionId = c.id as string;
        args.push(collectionId);
        conds.push(`EXISTS (SELECT 1 FROM face_person_collections m WHERE m.person_id = p.id AND m.collection_id = $${args.length})`);
      }
      if (query.search) {
        args.push(likePattern(query.search));
        conds.push(`p.name ILIKE $${args.length} ESCAPE '\\'`);
      }
      const where = conds.join(' AND ');
      const total =
        collectionId !== undefined && !query.search
          ? (await q('SELECT count(*)::int AS n FROM face_person_collections WHERE client_id = $1 AND collection_id = $2', [client, collectionId])).rows[0].n
          : (await q(`SELECT count(*)::int AS n FROM face_persons p WHERE ${where}`, args)).rows[0].n;
      // Keyset paging: start right after a given person in the list's order (newest first).
      let pageWhere = where;
      const pageArgs = [...args];
      if (query.after !== undefined) {
        pageArgs.push(query.after);
        pageWhere += ` AND p.ord < (SELECT ord FROM face_persons WHERE client_id = $1 AND id = $${pageArgs.length})`;
      }
      const { rows } = await q(`SELECT p.* FROM face_persons p WHERE ${pageWhere} ORDER BY p.ord DESC LIMIT ${limit} OFFSET ${offset}`, pageArgs);
      const members = await membershipsOf(q, client, rows.map((r) => r.id as string));
      return { items: rows.map((r) => toFacePerson(r, members.get(r.id as string) ?? [])), total: total as number };
    });
  }

  async update(client: string, id: string, patch: Patch): Promise<FacePerson | null> {
    return this.s.write('face person', async (q, w) => {
      const cur = (await q('SELECT * FROM face_persons WHERE client_id = $1 AND id = $2 FOR UPDATE', [client, id])).rows[0];
      if (!cur) return null;
      const pick = <K extends keyof Patch>(k: K, col: string): unknown => (k in patch && patch[k] !== undefined ? patch[k] : cur[col]);
      await q(
        `UPDATE face_persons SET name = $1, gender = $2, date_of_birth = $3, nationality = $4, notes = $5, updated_at = $6
         WHERE client_id = $7 AND id = $8`,
        [pick('name', 'name'), pick('gender', 'gender'), pick('dateOfBirth', 'date_of_birth'), pick('nationality', 'nationality'), pick('notes', 'notes'), isoNow(), client, id],
      );
      if (patch.collections !== undefined) {
        await setMemberships(q, client, id, await resolveCollections(q, client, patch.collections));
        w.touch(client, id);
      }
      return getFacePerson(q, client, id);
    });
  }

  async delete(client: string, id: string): Promise<boolean> {
    return this.s.write('face person', async (q, w) => {
      // Memberships, templates and thumbnails go with it (ON DELETE CASCADE).
      const { rowCount } = await q('DELETE FROM face_persons WHERE client_id = $1 AND id = $2', [client, id]);
      if (rowCount > 0) {
        w.touch(client, id);
        w.biometricDeleted();
      }
      return rowCount > 0;
    });
  }
}
