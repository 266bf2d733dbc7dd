// Erasing a person, in one place. A person's face lives in more places than its row; this use case is the one list
// of every copy, what clears it, and when. The copies (ERASED_COPIES) in the order an erasure reaches them:
//
//  1. store rows: the person, its collection memberships, its templates (embeddings) and thumbnails (face crops),
//     deleted in one transaction: all or nothing. Hard deletes, never a flag.
//  2. SQLite's pages and log: `secure_delete = ON` zeroes the deleted rows in the database file, and the commit of a
//     transaction that deleted biometric rows runs a WAL checkpoint(TRUNCATE) so their old page images leave the
//     -wal file (src/store/sqlite/connection.ts, retried after later writes while a reader holds an old snapshot).
//  3. PostgreSQL's pages: no secure_delete; the commit schedules a VACUUM of the biometric tables within 2 s, which
//     prunes the dead tuples out of their pages and truncates emptied TOAST files (src/store/postgres/connection.ts).
//     WAL segments and WAL archives keep the bytes until recycled: outside what a database can erase.
//  4. the change feed: the same transaction appends one row (ids and a time, never a template) so that every
//     instance learns of the erasure.
//  5. this instance's vector index: the person's graph nodes and int8 rows go, and the float32 copy of each row
//     (an unlinked file) is overwritten at once (src/index/vectors.ts).
//  6. other instances' indexes: their followers read the feed row and remove the person (src/domain/indexFollower.ts),
//     within their poll interval (500 ms) or at once on PostgreSQL's NOTIFY.
//  7. index snapshots: a snapshot is deleted once loaded at start-up, and the one written at shutdown zeroes the slots
//     of removed nodes (src/index/snapshot.ts, scrub.ts), so an erased person never reaches one.
//  8. the audit trail keeps the fact (who erased which id, when): ids only, never a face or a name.
//
// Not erased here: backups and filesystem snapshots of the database, PostgreSQL WAL archives, and the frames a
// liveness session kept (its reference and audit frames belong to the session, not to a person).
import type { DomainDeps } from './deps.js';
import { NotFoundError } from './errors.js';

/** The copies of a person's biometric data that an erasure clears, by name (docs/storage.md, "Erasure"). */
export const ERASED_COPIES = [
  'store rows (person, memberships, templates, thumbnails)',
  'SQLite: zeroed pages (secure_delete) and the WAL checkpointed and truncated',
  'PostgreSQL: the biometric tables vacuumed (dead tuples pruned, emptied TOAST truncated)',
  'change feed row (ids only) for every instance',
  "this instance's vector index (graph nodes, int8 rows, the float32 copy overwritten)",
  "other instances' indexes, through their change-feed followers",
  'index snapshots (deleted when loaded; removed slots zeroed when saved)',
] as const;

export type ErasableKind = 'face_person' | 'person_record';

/**
 * Erases a face person (`/v2/face-recognition/persons`) or a person record (`/v2/persons`) with every copy of its
 * face. Throws NotFoundError when the client has no such person (nothing is touched then).
 */
export async function erasePerson(deps: Pick<DomainDeps, 'store' | 'index'>, client: string, kind: ErasableKind, id: string): Promise<void> {
  // 1-4: rows, in one transaction; the backend's commit clears its own traces (2 or 3) and appends the feed row (4).
  await deps.store.transaction(async (tx) => {
    await tx.templates.deleteForPerson(client, id);
    const deleted = kind === 'face_person' ? await tx.facePersons.delete(client, id) : await tx.persons.delete(client, id);
    if (!deleted) throw new NotFoundError('person');
  });
  // 5: only face persons are searchable; a person record's template was never indexed. 6 and 7 follow from 4 and 5.
  if (kind === 'face_person') deps.index.removePerson(client, id);
}
