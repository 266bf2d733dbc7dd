// The embedded store: SQLite through better-sqlite3 (synchronous) behind the async repository contracts of
// ./types.ts. Design notes and the schema are in docs/storage.md.
//
// Connections: one writer (every write, and every read inside a transaction), one read-only reader for reads
// outside transactions (WAL gives it the last committed snapshot, so a request never sees another request's
// uncommitted rows and reads never wait for a writer), and a short-lived one per iterateIndexEntries() call.
import { AsyncLocalStorage } from 'node:async_hooks';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { auditRepo } from './audit.js';
import { ConflictError, UnknownReferenceError } from '../domain/errors.js';
import { newCollectionCode, newObjectId, newPersonRecordId } from './ids.js';
import { migrations as defaultMigrations, type Migration } from './migrations/index.js';
import { buildLivenessSessionRepo } from './livenessSessions.js';
import type {
  Client,
  ClientRepo,
  Collection,
  CollectionRepo,
  FacePerson,
  FacePersonRepo,
  FaceQualityRecord,
  FaceTemplate,
  NewFaceTemplate,
  Page,
  PersonRecord,
  PersonRecordRepo,
  Repos,
  Store,
  TemplateRepo,
  TokenRecord,
  TokenRepo,
  VerificationStatus,
} from './types.js';

export const DB_FILE_NAME = 'facegate.db';

export type SqliteStoreOptions = ({ dataDir: string } | { file: string }) & {
  /** How long a statement waits for another process's write lock (ms). Default 5000. */
  busyTimeoutMs?: number;
  /**
   * FULL (default): a committed request survives power loss. NORMAL: faster commits in WAL mode, the last
   * transactions may be lost on power loss (never corrupted).
   */
  synchronous?: 'FULL' | 'NORMAL';
  /** Persons per batch in iterateIndexEntries(). Default 500. */
  iterateBatchSize?: number;
  /**
   * A transaction callback still running after this long is rolled back and its caller gets an error, so one
   * stuck request cannot hold every write of the process forever. Default 30000.
   */
  transactionTimeoutMs?: number;
  /** For tests of the migration runner only. */
  migrations?: readonly Migration[];
};

export interface SqliteStore extends Store {
  /** Absolute path of the database file. */
  readonly file: string;
  /** Schema version the file is at. */
  schemaVersion(): number;
}

type Row = Record<string, unknown>;

const ISO_NOW = (): string => new Date().toISOString();

/** Runs async critical sections one at a time, in call order. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

function applyPragmas(db: Db, opts: { busyTimeoutMs: number; synchronous: string; writer: boolean }): void {
  db.pragma(`busy_timeout = ${opts.busyTimeoutMs}`);
  if (opts.writer) {
    // WAL: readers (this process's reader, the CLI) never block the writer and vice versa. Persistent in the file.
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') throw new Error(`could not switch ${db.name} to WAL (got ${mode})`);
    db.pragma(`synchronous = ${opts.synchronous}`);
    // Deleted rows (embeddings, thumbnails) are overwritten with zeros instead of lingering in free pages.
    db.pragma('secure_delete = ON');
    // Keeps the -wal file from staying large (it also holds old page images) after a checkpoint.
    db.pragma('journal_size_limit = 8388608');
  }
  db.pragma('foreign_keys = ON');
}

/**
 * Brings the file's schema up to the newest migration; returns the resulting version (the highest applied).
 * Versions must increase but may have gaps: branches developed side by side each take their own number, and a file
 * migrated by a build that had 6 but not yet 4 gets 4 applied later. So every known migration missing from
 * `schema_migrations` runs, in version order; one the file has but this build does not know means a newer build.
 */
export function migrate(db: Db, list: readonly Migration[] = defaultMigrations): number {
  // Versions must increase but may skip numbers: work merged from parallel branches can land a later number before
  // an earlier one. Every migration not yet recorded in schema_migrations is applied, in version order.
  for (let i = 0; i < list.length; i++) {
    if (!Number.isInteger(list[i].version) || list[i].version < 1 || (i > 0 && list[i].version <= list[i - 1].version)) {
      throw new Error(`migrations must have increasing positive versions (found ${list[i].version} at ${i})`);
    }
  }
  const latest = list.length > 0 ? list[list.length - 1].version : 0;
  const run = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TEXT NOT NULL
    ) STRICT`);
    const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
    const known = new Set(list.map((m) => m.version));
    const unknown = [...applied].filter((v) => !known.has(v));
    if (unknown.length > 0) {
      throw new Error(`database schema has migration ${Math.max(...unknown)}, newer than this build knows (${latest}); upgrade Facegate`);
    }
    const insert = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of list) {
      if (applied.has(m.version)) continue;
      db.exec(m.sql);
      insert.run(m.version, m.name, ISO_NOW());
    }
    db.pragma(`user_version = ${latest}`);
    return latest;
  });
  // IMMEDIATE: take the write lock before reading the version, so concurrent openers serialise here.
  const version = run.immediate();
  const problems = db.pragma('foreign_key_check') as unknown[];
  if (problems.length > 0) throw new Error(`foreign key violations after migration: ${JSON.stringify(problems.slice(0, 5))}`);
  return version;
}

function isUniqueViolation(e: unknown): boolean {
  return (
    e instanceof Database.SqliteError && (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
  );
}

function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function checkPage(q: { page: number; limit: number }): { limit: number; offset: number } {
  if (!Number.isInteger(q.page) || q.page < 1) throw new RangeError(`page must be an integer >= 1 (got ${q.page})`);
  if (!Number.isInteger(q.limit) || q.limit < 1) throw new RangeError(`limit must be an integer >= 1 (got ${q.limit})`);
  return { limit: q.limit, offset: (q.page - 1) * q.limit };
}

function embeddingToBlob(v: Float32Array): Buffer {
  if (!(v instanceof Float32Array) || v.length === 0) throw new TypeError('embedding must be a non-empty Float32Array');
  // Copy: the caller's array may be a view into a larger buffer. Byte order is the host's (little-endian on every
  // platform Node supports in practice); docs/storage.md notes it for the PostgreSQL port.
  return Buffer.from(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}

function blobToEmbedding(b: Buffer): Float32Array {
  // Copy into a fresh, aligned ArrayBuffer (better-sqlite3's Buffers may sit at any offset).
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** Statement cache per connection: statements are prepared on first use. */
function statements(db: Db): (sql: string) => Statement {
  const cache = new Map<string, Statement>();
  return (sql) => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
}

const toClient = (r: Row): Client => ({ id: r.id as string, name: r.name as string, createdAt: r.created_at as string });

const toToken = (r: Row): TokenRecord => ({
  id: r.id as string,
  client: r.client_id as string,
  hash: r.hash as string,
  label: (r.label as string | null) ?? null,
  createdAt: r.created_at as string,
  expiresAt: (r.expires_at as string | null) ?? null,
  revokedAt: (r.revoked_at as string | null) ?? null,
});

const toCollection = (r: Row): Collection => ({
  id: r.id as string,
  code: r.code as string,
  name: r.name as string,
  description: r.description as string,
  client: r.client_id as string,
  createdAt: r.created_at as string,
  updatedAt: r.updated_at as string,
});

const toFacePerson = (r: Row, collections: string[]): FacePerson => ({
  id: r.id as string,
  client: r.client_id as string,
  name: r.name as string,
  gender: (r.gender as 'M' | 'F' | null) ?? null,
  dateOfBirth: (r.date_of_birth as string | null) ?? null,
  nationality: (r.nationality as string | null) ?? null,
  notes: (r.notes as string | null) ?? null,
  collections,
  createdAt: r.created_at as string,
  updatedAt: r.updated_at as string,
});

const PERSON_RECORD_COLUMNS = {
  firstName: 'first_name',
  lastName: 'last_name',
  email: 'email',
  phone: 'phone',
  dateOfBirth: 'date_of_birth',
  documentType: 'document_type',
  documentNumber: 'document_number',
  livenessScore: 'liveness_score',
  verificationStatus: 'verification_status',
} as const;

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

const toTemplate = (r: Row): FaceTemplate => ({
  id: r.id as number,
  client: r.client_id as string,
  person: ((r.face_person_id as string | null) ?? r.person_record_id) as string,
  imageIndex: r.image_index as number,
  modelVersion: r.model_version as string,
  embedding: blobToEmbedding(r.embedding as Buffer),
  thumbnail: r.jpeg ? new Uint8Array(r.jpeg as Buffer) : null,
  quality: r.quality ? (JSON.parse(r.quality as string) as FaceQualityRecord) : null,
  createdAt: r.created_at as string,
});

interface RepoHooks {
  /** Called after rows holding biometric data were deleted (see scrub()). */
  biometricDeleted(): void;
}

/**
 * Synchronous-bodied repositories over one connection. Multi-statement writes use better-sqlite3's
 * transaction(), which becomes a SAVEPOINT when an outer transaction is open.
 */
function buildRepos(db: Db, hooks: RepoHooks): Repos {
  const q = statements(db);

  /** Runs a write; maps unique-key violations to ConflictError. */
  function write<T>(entity: string, fn: () => T): T {
    try {
      return db.transaction(fn).immediate();
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError(`conflict: ${entity} already exists`, entity);
      throw e;
    }
  }

  function requireClient(client: string): void {
    if (!q('SELECT 1 FROM clients WHERE id = ?').get(client)) throw new UnknownReferenceError('client', client);
  }

  // ---- clients
  const clients: ClientRepo = {
    async create(name) {
      const c: Client = { id: newObjectId(), name, createdAt: ISO_NOW() };
      write('client', () => q('INSERT INTO clients (id, name, created_at) VALUES (?, ?, ?)').run(c.id, c.name, c.createdAt));
      return c;
    },
    async getByName(name) {
      const r = q('SELECT * FROM clients WHERE name = ?').get(name) as Row | undefined;
      return r ? toClient(r) : null;
    },
    async get(id) {
      const r = q('SELECT * FROM clients WHERE id = ?').get(id) as Row | undefined;
      return r ? toClient(r) : null;
    },
    async list() {
      return (q('SELECT * FROM clients ORDER BY rowid').all() as Row[]).map(toClient);
    },
  };

  // ---- tokens
  const tokens: TokenRepo = {
    async create(t) {
      const rec: TokenRecord = {
        id: t.id ?? newObjectId(),
        client: t.client,
        hash: t.hash,
        label: t.label ?? null,
        createdAt: ISO_NOW(),
        expiresAt: t.expiresAt ?? null,
        revokedAt: null,
      };
      write('token', () => {
        requireClient(rec.client);
        q('INSERT INTO tokens (id, client_id, hash, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)').run(
          rec.id,
          rec.client,
          rec.hash,
          rec.label,
          rec.createdAt,
          rec.expiresAt,
        );
      });
      return rec;
    },
    async findByHash(hash) {
      const r = q('SELECT * FROM tokens WHERE hash = ?').get(hash) as Row | undefined;
      return r ? toToken(r) : null;
    },
    async list(client) {
      const rows =
        client === undefined
          ? (q('SELECT * FROM tokens ORDER BY rowid').all() as Row[])
          : (q('SELECT * FROM tokens WHERE client_id = ? ORDER BY rowid').all(client) as Row[]);
      return rows.map(toToken);
    },
    async revoke(id) {
      return q('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(ISO_NOW(), id).changes > 0;
    },
  };

  // ---- collections
  const getCollectionRow = (client: string, idOrCode: string): Row | undefined =>
    q(
      'SELECT * FROM collections WHERE client_id = @client AND id = @ref UNION ALL SELECT * FROM collections WHERE client_id = @client AND code = @ref LIMIT 1',
    ).get({ client, ref: idOrCode }) as Row | undefined;

  const collections: CollectionRepo = {
    async create(c) {
      const now = ISO_NOW();
      const rec: Collection = {
        id: c.id ?? newObjectId(),
        code: c.code ?? newCollectionCode(),
        name: c.name,
        description: c.description ?? '',
        client: c.client,
        createdAt: now,
        updatedAt: now,
      };
      write('collection', () => {
        requireClient(rec.client);
        q(
          'INSERT INTO collections (id, client_id, code, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        ).run(rec.id, rec.client, rec.code, rec.name, rec.description, rec.createdAt, rec.updatedAt);
      });
      return rec;
    },
    async get(client, idOrCode) {
      const r = getCollectionRow(client, idOrCode);
      return r ? toCollection(r) : null;
    },
    async list(client, query) {
      const { limit, offset } = checkPage(query);
      const where = query.search ? `client_id = ? AND name LIKE ? ESCAPE '\\'` : 'client_id = ?';
      const args = query.search ? [client, likePattern(query.search)] : [client];
      const total = (q(`SELECT count(*) AS n FROM collections WHERE ${where}`).get(...args) as { n: number }).n;
      const rows = q(`SELECT * FROM collections WHERE ${where} ORDER BY rowid DESC LIMIT ${limit} OFFSET ${offset}`).all(...args) as Row[];
      return { items: rows.map(toCollection), total };
    },
    async update(client, id, patch) {
      return write('collection', () => {
        const r = getCollectionRow(client, id);
        if (!r) return null;
        q('UPDATE collections SET name = ?, description = ?, updated_at = ? WHERE id = ?').run(
          patch.name ?? r.name,
          patch.description ?? r.description,
          ISO_NOW(),
          r.id,
        );
        return toCollection(q('SELECT * FROM collections WHERE id = ?').get(r.id) as Row);
      });
    },
    async delete(client, id) {
      return write('collection', () => {
        const r = getCollectionRow(client, id);
        if (!r) return false;
        return q('DELETE FROM collections WHERE id = ? AND client_id = ?').run(r.id, client).changes > 0;
      });
    },
  };

  // ---- face persons
  const membershipsOf = (personIds: string[]): Map<string, string[]> => {
    const out = new Map<string, string[]>(personIds.map((id) => [id, []]));
    if (personIds.length === 0) return out;
    const rows = q(
      'SELECT person_id, collection_id FROM face_person_collections WHERE person_id IN (SELECT value FROM json_each(?)) ORDER BY rowid',
    ).all(JSON.stringify(personIds)) as { person_id: string; collection_id: string }[];
    for (const r of rows) out.get(r.person_id)?.push(r.collection_id);
    return out;
  };

  /** Resolves ids or codes to ids of this client's collections, deduplicated, order kept. */
  const resolveCollections = (client: string, refs: string[]): string[] => {
    const ids: string[] = [];
    for (const ref of refs) {
      const r = getCollectionRow(client, ref);
      if (!r) throw new UnknownReferenceError('collection', ref);
      if (!ids.includes(r.id as string)) ids.push(r.id as string);
    }
    return ids;
  };

  const setMemberships = (client: string, person: string, collectionIds: string[]): void => {
    q('DELETE FROM face_person_collections WHERE person_id = ? AND client_id = ?').run(person, client);
    const ins = q('INSERT INTO face_person_collections (client_id, person_id, collection_id) VALUES (?, ?, ?)');
    for (const c of collectionIds) ins.run(client, person, c);
  };

  const getFacePerson = (client: string, id: string): FacePerson | null => {
    const r = q('SELECT * FROM face_persons WHERE client_id = ? AND id = ?').get(client, id) as Row | undefined;
    return r ? toFacePerson(r, membershipsOf([id]).get(id) ?? []) : null;
  };

  const facePersons: FacePersonRepo = {
    async create(p) {
      const now = ISO_NOW();
      const id = p.id ?? newObjectId();
      return write('face person', () => {
        requireClient(p.client);
        const cols = resolveCollections(p.client, p.collections ?? []);
        q(
          `INSERT INTO face_persons (id, client_id, name, gender, date_of_birth, nationality, notes, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(id, p.client, p.name, p.gender ?? null, p.dateOfBirth ?? null, p.nationality ?? null, p.notes ?? null, now, now);
        setMemberships(p.client, id, cols);
        return getFacePerson(p.client, id)!;
      });
    },
    async get(client, id) {
      return getFacePerson(client, id);
    },
    async list(client, query) {
      const { limit, offset } = checkPage(query);
      const conds = ['p.client_id = ?'];
      const args: unknown[] = [client];
      let collectionId: string | undefined;
      if (query.collection !== undefined) {
        const c = getCollectionRow(client, query.collection);
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
      const members = membershipsOf(rows.map((r) => r.id as string));
      return { items: rows.map((r) => toFacePerson(r, members.get(r.id as string) ?? [])), total: total.n };
    },
    async update(client, id, patch) {
      return write('face person', () => {
        const cur = q('SELECT * FROM face_persons WHERE client_id = ? AND id = ?').get(client, id) as Row | undefined;
        if (!cur) return null;
        const pick = <K extends keyof typeof patch>(k: K, col: string): unknown => (k in patch && patch[k] !== undefined ? patch[k] : cur[col]);
        q(
          `UPDATE face_persons SET name = ?, gender = ?, date_of_birth = ?, nationality = ?, notes = ?, updated_at = ?
           WHERE client_id = ? AND id = ?`,
        ).run(
          pick('name', 'name'),
          pick('gender', 'gender'),
          pick('dateOfBirth', 'date_of_birth'),
          pick('nationality', 'nationality'),
          pick('notes', 'notes'),
          ISO_NOW(),
          client,
          id,
        );
        if (patch.collections !== undefined) setMemberships(client, id, resolveCollections(client, patch.collections));
        return getFacePerson(client, id);
      });
    },
    async delete(client, id) {
      const n = q('DELETE FROM face_persons WHERE client_id = ? AND id = ?').run(client, id).changes;
      if (n > 0) hooks.biometricDeleted();
      return n > 0;
    },
  };

  // ---- templates
  const templateSelect = `SELECT t.*, th.jpeg FROM face_templates t LEFT JOIN face_thumbnails th ON th.template_id = t.id`;
  const templates: TemplateRepo = {
    async add(t: NewFaceTemplate) {
      const blob = embeddingToBlob(t.embedding);
      const now = ISO_NOW();
      return write('template', () => {
        let owner: 'face_person_id' | 'person_record_id';
        if (q('SELECT 1 FROM face_persons WHERE client_id = ? AND id = ?').get(t.client, t.person)) owner = 'face_person_id';
        else if (q('SELECT 1 FROM person_records WHERE client_id = ? AND id = ?').get(t.client, t.person)) owner = 'person_record_id';
        else throw new UnknownReferenceError('person', t.person);
        const info = q(
          `INSERT INTO face_templates (client_id, ${owner}, image_index, model_version, quality, created_at, embedding)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ).run(t.client, t.person, t.imageIndex, t.modelVersion, t.quality ? JSON.stringify(t.quality) : null, now, blob);
        const id = Number(info.lastInsertRowid);
        if (t.thumbnail) q('INSERT INTO face_thumbnails (template_id, jpeg) VALUES (?, ?)').run(id, Buffer.from(t.thumbnail));
        return toTemplate(q(`${templateSelect} WHERE t.id = ?`).get(id) as Row);
      });
    },
    async listForPerson(client, person) {
      const rows = q(
        `${templateSelect} WHERE t.client_id = @client AND t.face_person_id = @person
         UNION ALL ${templateSelect} WHERE t.client_id = @client AND t.person_record_id = @person
         ORDER BY image_index, id`,
      ).all({ client, person }) as Row[];
      return rows.map(toTemplate);
    },
    async deleteForPerson(client, person) {
      const n = write('template', () => {
        const a = q('DELETE FROM face_templates WHERE client_id = ? AND face_person_id = ?').run(client, person).changes;
        const b = q('DELETE FROM face_templates WHERE client_id = ? AND person_record_id = ?').run(client, person).changes;
        return a + b;
      });
      if (n > 0) hooks.biometricDeleted();
      return n;
    },
    async listStale(modelVersion, afterId, limit) {
      const rows = q(`${templateSelect} WHERE t.model_version <> ? AND t.id > ? ORDER BY t.id LIMIT ?`).all(modelVersion, afterId, limit) as Row[];
      return rows.map(toTemplate);
    },
    async countStale(modelVersion) {
      return (q('SELECT count(*) AS n FROM face_templates WHERE model_version <> ?').get(modelVersion) as { n: number }).n;
    },
    async reembed(id, t) {
      const blob = embeddingToBlob(t.embedding);
      return write('template', () => {
        const n = q('UPDATE face_templates SET model_version = ?, quality = ?, embedding = ? WHERE id = ?').run(
          t.modelVersion,
          t.quality ? JSON.stringify(t.quality) : null,
          blob,
          id,
        ).changes;
        if (n && t.thumbnail) {
          q('INSERT INTO face_thumbnails (template_id, jpeg) VALUES (?, ?) ON CONFLICT (template_id) DO UPDATE SET jpeg = excluded.jpeg').run(id, Buffer.from(t.thumbnail));
        }
        return n > 0;
      });
    },
    iterateIndexEntries() {
      throw new Error('iterateIndexEntries is served by the store, not a connection');
    },
  };

  // ---- generic person records
  const getPersonRecord = (client: string, id: string): PersonRecord | null => {
    const r = q('SELECT * FROM person_records WHERE client_id = ? AND id = ?').get(client, id) as Row | undefined;
    return r ? toPersonRecord(r) : null;
  };
  const persons: PersonRecordRepo = {
    async create(p) {
      const now = ISO_NOW();
      const id = p.id ?? newPersonRecordId();
      return write('person', () => {
        requireClient(p.client);
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
        return getPersonRecord(p.client, id)!;
      });
    },
    async get(client, id) {
      return getPersonRecord(client, id);
    },
    async list(client, query) {
      const { limit, offset } = checkPage(query);
      const where = query.status ? 'client_id = ? AND verification_status = ?' : 'client_id = ?';
      const args = query.status ? [client, query.status] : [client];
      const total = (q(`SELECT count(*) AS n FROM person_records WHERE ${where}`).get(...args) as { n: number }).n;
      const rows = q(`SELECT * FROM person_records WHERE ${where} ORDER BY rowid DESC LIMIT ${limit} OFFSET ${offset}`).all(...args) as Row[];
      return { items: rows.map(toPersonRecord), total };
    },
    async update(client, id, patch) {
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
      args.push(ISO_NOW());
      return write('person', () => {
        const n = q(`UPDATE person_records SET ${sets.join(', ')} WHERE client_id = ? AND id = ?`).run(...args, client, id).changes;
        return n > 0 ? getPersonRecord(client, id) : null;
      });
    },
    async delete(client, id) {
      const n = q('DELETE FROM person_records WHERE client_id = ? AND id = ?').run(client, id).changes;
      if (n > 0) hooks.biometricDeleted();
      return n > 0;
    },
  };

  const livenessSessions = buildLivenessSessionRepo(db, q, hooks);

  return { audit: auditRepo(q), clients, tokens, collections, facePersons, templates, persons, livenessSessions };
}

const REPO_NAMES = ['audit', 'clients', 'tokens', 'collections', 'facePersons', 'templates', 'persons', 'livenessSessions'] as const;
const WRITE_METHODS = new Set(['create', 'update', 'delete', 'revoke', 'add', 'deleteForPerson', 'reembed', 'append', 'prune', 'addFrames', 'pruneFrames', 'expireStale']);

type AnyFn = (...args: unknown[]) => Promise<unknown>;

/** Copies a Repos object, passing every method through `wrap`. */
function mapRepos(repos: Repos, wrap: (name: string, fn: AnyFn) => AnyFn): Repos {
  const out: Record<string, Record<string, AnyFn>> = {};
  for (const repo of REPO_NAMES) {
    const src = repos[repo] as unknown as Record<string, AnyFn>;
    out[repo] = {};
    for (const [name, fn] of Object.entries(src)) out[repo][name] = wrap(name, fn.bind(src));
  }
  return out as unknown as Repos;
}

export function resolveDbFile(opts: { dataDir: string } | { file: string }): string {
  return 'file' in opts ? path.resolve(opts.file) : path.resolve(opts.dataDir, DB_FILE_NAME);
}

/**
 * Opens (creating and migrating as needed) the SQLite store. `dataDir` keeps the database as `facegate.db` inside
 * it; the folder is created owner-only (0700) and a new database file 0600, since it holds biometric data.
 */
export function openSqliteStore(opts: SqliteStoreOptions): SqliteStore {
  const file = resolveDbFile(opts);
  const busyTimeoutMs = opts.busyTimeoutMs ?? 5000;
  const synchronous = opts.synchronous ?? 'FULL';
  const batchSize = opts.iterateBatchSize ?? 500;
  const transactionTimeoutMs = opts.transactionTimeoutMs ?? 30_000;

  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Create the file ourselves so it is 0600; SQLite gives -wal/-shm the same mode as the database.
  closeSync(openSync(file, 'a', 0o600));

  const writer = new Database(file, { timeout: busyTimeoutMs });
  let reader: Db | undefined;
  try {
    applyPragmas(writer, { busyTimeoutMs, synchronous, writer: true });
    migrate(writer, opts.migrations);
    reader = new Database(file, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
    applyPragmas(reader, { busyTimeoutMs, synchronous, writer: false });
  } catch (e) {
    reader?.close();
    writer.close();
    throw e;
  }

  const lock = new Mutex();
  /** Set while the current async context runs inside transaction(). */
  const txContext = new AsyncLocalStorage<{ active: boolean }>();
  let open = true;
  let scrubPending = false;
  const hooks: RepoHooks = {
    biometricDeleted: () => {
      scrubPending = true;
    },
  };

  const writerRepos = buildRepos(writer, hooks);
  const readerRepos = buildRepos(reader, hooks);

  /**
   * After biometric rows are deleted and committed: move the WAL into the database file and truncate it, so the
   * deleted rows' old page images do not linger in the -wal file (secure_delete already zeroes them in the main
   * file). Best effort: a reader holding an old snapshot (another process) can keep the checkpoint partial.
   */
  function scrub(): void {
    if (!scrubPending || writer.inTransaction) return;
    // No waiting: a TRUNCATE checkpoint would otherwise block this (single) thread for up to busy_timeout while a
    // reader holds an old snapshot - possibly our own iterateIndexEntries() connection, which then could never
    // finish. If it cannot complete now, it is retried after the next write. Never throws: the data is committed.
    try {
      writer.pragma('busy_timeout = 0');
      const [r] = writer.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      scrubPending = r?.busy !== 0;
    } catch {
      scrubPending = true;
    } finally {
      writer.pragma(`busy_timeout = ${busyTimeoutMs}`);
    }
  }

  function assertUsable(method: string): void {
    if (!open) throw new Error('store is closed');
    if (txContext.getStore()?.active) {
      throw new Error(`store.${method} called inside store.transaction(): use the repositories passed to the callback`);
    }
  }

  const topLevel = mapRepos(writerRepos, (name, writeFn) => {
    if (!WRITE_METHODS.has(name)) return writeFn; // replaced below for reads
    return async (...args) => {
      // Checked before queueing: inside a transaction, waiting for the lock would wait for ourselves.
      assertUsable(name);
      return lock.run(async () => {
        if (!open) throw new Error('store is closed');
        try {
          return await writeFn(...args);
        } finally {
          scrub();
        }
      });
    };
  });
  // Reads outside transactions go to the reader connection.
  for (const repo of REPO_NAMES) {
    const src = readerRepos[repo] as unknown as Record<string, AnyFn>;
    const dst = topLevel[repo] as unknown as Record<string, AnyFn>;
    for (const [name, fn] of Object.entries(src)) {
      if (WRITE_METHODS.has(name) || name === 'iterateIndexEntries') continue;
      dst[name] = async (...args) => {
        assertUsable(name);
        return fn.apply(src, args);
      };
    }
  }

  async function* iterateIndexEntries(): AsyncGenerator<{
    client: string;
    person: string;
    collections: string[];
    templates: Pick<FaceTemplate, 'id' | 'embedding' | 'modelVersion'>[];
  }> {
    assertUsable('templates.iterateIndexEntries');
    // A dedicated connection holding one read transaction: a consistent snapshot across batches without pinning
    // the shared reader's snapshot (which would make every request read stale data).
    const db = new Database(file, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
    try {
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      db.exec('BEGIN');
      const personsAfter = db.prepare('SELECT id, client_id FROM face_persons WHERE id > ? ORDER BY id LIMIT ?');
      const membersIn = db.prepare(
        'SELECT person_id, collection_id FROM face_person_collections WHERE person_id >= ? AND person_id <= ? ORDER BY rowid',
      );
      const templatesIn = db.prepare(
        `SELECT id, face_person_id, model_version, embedding FROM face_templates
         WHERE face_person_id >= ? AND face_person_id <= ? ORDER BY face_person_id, image_index, id`,
      );
      let after = '';
      for (;;) {
        const batch = personsAfter.all(after, batchSize) as { id: string; client_id: string }[];
        if (batch.length === 0) break;
        const first = batch[0].id;
        const last = batch[batch.length - 1].id;
        const entries = new Map(
          batch.map((p) => [
            p.id,
            { client: p.client_id, person: p.id, collections: [] as string[], templates: [] as Pick<FaceTemplate, 'id' | 'embedding' | 'modelVersion'>[] },
          ]),
        );
        for (const m of membersIn.all(first, last) as { person_id: string; collection_id: string }[]) {
          entries.get(m.person_id)?.collections.push(m.collection_id);
        }
        for (const t of templatesIn.all(first, last) as { id: number; face_person_id: string; model_version: string; embedding: Buffer }[]) {
          entries.get(t.face_person_id)?.templates.push({ id: t.id, modelVersion: t.model_version, embedding: blobToEmbedding(t.embedding) });
        }
        for (const e of entries.values()) yield e;
        after = last;
        if (batch.length < batchSize) break;
      }
    } finally {
      if (db.inTransaction) db.exec('COMMIT');
      db.close();
    }
  }
  (topLevel.templates as { iterateIndexEntries: TemplateRepo['iterateIndexEntries'] }).iterateIndexEntries = iterateIndexEntries;

  const store: SqliteStore = {
    ...topLevel,
    file,
    schemaVersion: () => (writer.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number }).v,
    async transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
      assertUsable('transaction');
      return lock.run(async () => {
        if (!open) throw new Error('store is closed');
        const scope = { active: true };
        // The callback's repositories stop working once the transaction ends, so a leaked reference cannot write
        // outside the lock.
        const tx = mapRepos(writerRepos, (name, fn) => async (...args) => {
          if (!scope.active) throw new Error(`transaction already finished (${name})`);
          return fn(...args);
        });
        (tx.templates as { iterateIndexEntries: TemplateRepo['iterateIndexEntries'] }).iterateIndexEntries = () => {
          throw new Error('iterateIndexEntries is not available inside a transaction');
        };
        const scrubWasPending = scrubPending;
        writer.exec('BEGIN IMMEDIATE');
        let timer: NodeJS.Timeout | undefined;
        try {
          const work = (async () => txContext.run(scope, () => fn(tx)))();
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              work.catch(() => undefined); // its later failure is expected, not unhandled
              reject(new Error(`transaction still running after ${transactionTimeoutMs} ms: rolled back`));
            }, transactionTimeoutMs);
          });
          const result = await Promise.race([work, timeout]);
          scope.active = false;
          writer.exec('COMMIT');
          scrub();
          return result;
        } catch (e) {
          scope.active = false;
          if (writer.inTransaction) writer.exec('ROLLBACK');
          scrubPending = scrubWasPending;
          throw e;
        } finally {
          clearTimeout(timer);
        }
      });
    },
    async indexGeneration() {
      assertUsable('indexGeneration');
      return (writer.prepare('SELECT value FROM index_generation WHERE id = 1').get() as { value: number }).value;
    },
    async healthy() {
      if (!open) return false;
      try {
        writer.prepare('SELECT 1').get();
        reader!.prepare('SELECT 1').get();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (!open) return;
      await lock.run(() => {
        if (!open) return;
        open = false;
        reader!.close();
        try {
          writer.pragma('optimize'); // refreshes planner statistics where SQLite thinks they are stale; cheap
        } finally {
          writer.close();
        }
      });
    },
  };
  return store;
}
