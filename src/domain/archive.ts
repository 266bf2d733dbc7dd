// The portable archive (`npm run cli -- export` / `import --from-archive`, docs/import-export.md): a server's face
// persons, collections, your ids and templates, as records that either backend can read back. Each template
// travels with its model version and the aligned face image it was made from (the "thumbnail"), so a server with
// another face model re-embeds it (src/domain/reindex.ts) instead of needing the original photos.
//
// Records (one JSON object each, in this order): the header, then per client its `client` record, its
// `collection`s and its `person`s (templates inside), and an `end` record with the counts, whose absence says the
// archive was cut short. Erased people are not in the store, so never in an archive made after their erasure.
import { newObjectId } from './ids.js';
import type { Client, FaceQualityRecord, Repos, Store } from './ports.js';
import { ConflictError } from './errors.js';

export const ARCHIVE_FORMAT = 'facegate-archive';
export const ARCHIVE_VERSION = 1;

export interface HeaderRecord {
  type: 'header';
  format: typeof ARCHIVE_FORMAT;
  version: number;
  created_at: string;
  backend: string;
}
export interface ClientRecord {
  type: 'client';
  name: string;
}
export interface CollectionRecord {
  type: 'collection';
  client: string;
  id: string;
  code: string;
  name: string;
  description: string;
}
export interface TemplateRecord {
  image_index: number;
  model_version: string;
  /** float32 little-endian, base64. */
  embedding: string;
  /** JPEG of the aligned face, base64: what re-embedding with another model reads. */
  face_image: string | null;
  quality: FaceQualityRecord | null;
  source_sha256: string | null;
}
export interface PersonRecord {
  type: 'person';
  client: string;
  id: string;
  external_id: string | null;
  name: string;
  gender: 'M' | 'F' | null;
  date_of_birth: string | null;
  nationality: string | null;
  notes: string | null;
  /** Collection ids (as in this archive's collection records). */
  collections: string[];
  created_at: string;
  templates: TemplateRecord[];
}
export interface EndRecord {
  type: 'end';
  clients: number;
  collections: number;
  persons: number;
  templates: number;
}
export type ArchiveRecord = HeaderRecord | ClientRecord | CollectionRecord | PersonRecord | EndRecord;

export class ArchiveError extends Error {}

const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
function embeddingFrom(s: string): Float32Array {
  const buf = Buffer.from(s, 'base64');
  if (buf.length === 0 || buf.length % 4 !== 0) throw new ArchiveError('a template embedding is not float32 data');
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}
function embeddingTo(v: Float32Array): string {
  const buf = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) buf.writeFloatLE(v[i], i * 4);
  return buf.toString('base64');
}

/** Every record of the archive of `clients` (all when absent), read page by page (never the whole store in memory). */
export async function* exportArchive(store: Store, opts: { clients?: string[]; now?: Date; pageSize?: number } = {}): AsyncGenerator<ArchiveRecord> {
  const pageSize = opts.pageSize ?? 200;
  const all = await store.clients.list();
  let clients: Client[] = all;
  if (opts.clients) {
    clients = opts.clients.map((name) => {
      const c = all.find((x) => x.name === name);
      if (!c) throw new ArchiveError(`no client named "${name}"`);
      return c;
    });
  }
  yield { type: 'header', format: ARCHIVE_FORMAT, version: ARCHIVE_VERSION, created_at: (opts.now ?? new Date()).toISOString(), backend: store.backend };
  const end: EndRecord = { type: 'end', clients: 0, collections: 0, persons: 0, templates: 0 };
  for (const client of clients) {
    yield { type: 'client', name: client.name };
    end.clients++;
    for (let page = 1; ; page++) {
      const { items } = await store.collections.list(client.id, { page, limit: pageSize });
      for (const c of items) {
        yield { type: 'collection', client: client.name, id: c.id, code: c.code, name: c.name, description: c.description };
        end.collections++;
      }
      if (items.length < pageSize) break;
    }
    let after: string | undefined;
    for (;;) {
      const { items } = await store.facePersons.list(client.id, { page: 1, limit: pageSize, after });
      for (const p of items) {
        const templates = await store.templates.listForPerson(client.id, p.id);
        yield {
          type: 'person',
          client: client.name,
          id: p.id,
          external_id: p.externalId,
          name: p.name,
          gender: p.gender,
          date_of_birth: p.dateOfBirth,
          nationality: p.nationality,
          notes: p.notes,
          collections: p.collections,
          created_at: p.createdAt,
          templates: templates.map((t) => ({
            image_index: t.imageIndex,
            model_version: t.modelVersion,
            embedding: embeddingTo(t.embedding),
            face_image: t.thumbnail ? b64(t.thumbnail) : null,
            quality: t.quality,
            source_sha256: t.sourceDigest,
          })),
        };
        end.persons++;
        end.templates += templates.length;
      }
      if (items.length < pageSize) break;
      after = items[items.length - 1].id;
    }
  }
  yield end;
}

export interface ArchiveImportResult {
  clients: number;
  collections: number;
  persons: number;
  templates: number;
  /** Persons already on this server (same id): a second run of the same archive imports nothing new. */
  skipped: number;
  /** Persons not imported, with why (an external id another person has here). */
  refused: { id: string; client: string; reason: string }[];
  /** Templates made by another model version than `modelVersion`: re-embedded by `reindex` or at the next start. */
  otherModel: number;
}

/**
 * Writes an archive's records into `store`. Ids are kept (the ids your systems hold stay valid), unless this
 * server already uses one for another tenant; each person is one transaction, so a run that stops half-way is
 * finished by running it again. `clientName` imports every client of the archive into that one client.
 */
export async function importArchive(
  store: Store,
  records: AsyncIterable<unknown>,
  opts: { modelVersion: string; clientName?: string; onPerson?: (done: number) => void },
): Promise<ArchiveImportResult> {
  const res: ArchiveImportResult = { clients: 0, collections: 0, persons: 0, templates: 0, skipped: 0, refused: [], otherModel: 0 };
  const clientIds = new Map<string, string>();
  /** Archive collection id → this server's, per client. */
  const collectionIds = new Map<string, string>();
  let header = false;
  let end: EndRecord | null = null;
  let seen = 0;
  const clientOf = async (name: string): Promise<string> => {
    const target = opts.clientName ?? name;
    let id = clientIds.get(target);
    if (!id) {
      id = (await store.clients.getByName(target))?.id ?? (await store.clients.create(target)).id;
      clientIds.set(target, id);
      res.clients++;
    }
    return id;
  };
  for await (const raw of records) {
    const r = raw as ArchiveRecord;
    if (!header) {
      if (r?.type !== 'header' || (r as HeaderRecord).format !== ARCHIVE_FORMAT) throw new ArchiveError('not a Facegate archive');
      if ((r as HeaderRecord).version > ARCHIVE_VERSION) throw new ArchiveError(`archive version ${(r as HeaderRecord).version} is newer than this server reads (${ARCHIVE_VERSION}): upgrade Facegate`);
      header = true;
      continue;
    }
    if (end) throw new ArchiveError('records after the end record');
    switch (r.type) {
      case 'client':
        await clientOf(r.name);
        break;
      case 'collection': {
        const client = await clientOf(r.client);
        const mine = (await store.collections.get(client, r.id)) ?? (await store.collections.get(client, r.code));
        if (mine) {
          collectionIds.set(r.id, mine.id);
          break;
        }
        try {
          collectionIds.set(r.id, (await store.collections.create({ id: r.id, code: r.code, client, name: r.name, description: r.description })).id);
        } catch (e) {
          if (!(e instanceof ConflictError)) throw e;
          // The id is another tenant's on this server: a new one.
          collectionIds.set(r.id, (await store.collections.create({ id: newObjectId(), code: r.code, client, name: r.name, description: r.description })).id);
        }
        res.collections++;
        break;
      }
      case 'person': {
        const client = await clientOf(r.client);
        seen++;
        if (await store.facePersons.get(client, r.id)) {
          res.skipped++;
          opts.onPerson?.(seen);
          break;
        }
        if (r.external_id !== null) {
          const holder = await store.facePersons.getByExternalId(client, r.external_id);
          if (holder) {
            res.refused.push({ id: r.id, client: r.client, reason: `external_id "${r.external_id}" is person ${holder.id}'s here` });
            opts.onPerson?.(seen);
            break;
          }
        }
        const templates = r.templates.map((t) => ({ ...t, vector: embeddingFrom(t.embedding) }));
        const write = (id: string) =>
          store.transaction(async (tx: Repos) => {
            await tx.facePersons.create({
              id,
              client,
              name: r.name,
              gender: r.gender,
              dateOfBirth: r.date_of_birth,
              nationality: r.nationality,
              notes: r.notes,
              externalId: r.external_id,
              collections: r.collections.map((c) => collectionIds.get(c)).filter((c): c is string => c !== undefined),
            });
            for (const t of templates) {
              await tx.templates.add({
                client,
                person: id,
                imageIndex: t.image_index,
                modelVersion: t.model_version,
                embedding: t.vector,
                thumbnail: t.face_image ? new Uint8Array(Buffer.from(t.face_image, 'base64')) : null,
                quality: t.quality,
                sourceDigest: t.source_sha256,
              });
            }
            await tx.audit.append({
              client,
              token: null,
              request: null,
              route: 'cli import --from-archive',
              action: 'face_person.import',
              outcome: 'ok',
              status: null,
              subject: id,
              details: { templates: templates.length, archived_id: r.id },
            });
          });
        try {
          await write(r.id);
        } catch (e) {
          if (!(e instanceof ConflictError)) throw e;
          await write(newObjectId());
        }
        res.persons++;
        res.templates += templates.length;
        res.otherModel += templates.filter((t) => t.model_version !== opts.modelVersion).length;
        opts.onPerson?.(seen);
        break;
      }
      case 'end':
        end = r;
        break;
      default:
        throw new ArchiveError(`unknown record type "${(r as { type?: unknown })?.type}"`);
    }
  }
  if (!header) throw new ArchiveError('empty archive');
  if (!end) throw new ArchiveError(`the archive is cut short (no end record) after ${seen} persons: what was read is imported; get a whole archive and run the import again`);
  if (end.persons !== seen) throw new ArchiveError(`the archive says ${end.persons} persons but holds ${seen}`);
  return res;
}
