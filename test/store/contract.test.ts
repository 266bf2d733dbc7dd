// The store contract (src/domain/ports.ts), run once per backend from this one suite: SQLite in a temporary folder,
// PostgreSQL in a fresh database per test (test/support/postgres.ts says how to run it; it skips without one
// outside CI, fails in CI).
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, StoreUnavailableError, UnknownReferenceError } from '../../src/domain/errors.js';
import type { NewLivenessSession, SigningKeyRecord } from '../../src/domain/model.js';
import { openStore } from '../../src/store/open.js';
import { pgMigrations } from '../../src/store/postgres/migrations.js';
import { openPgStore } from '../../src/store/postgres/store.js';
import { OBJECT_ID_RE } from '../../src/domain/ids.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { Client, Store } from '../../src/domain/ports.js';
import { createTestDatabase, noteSkipped, skipPostgres, type TestDatabase } from '../support/postgres.js';
import { tcpProxy } from '../support/tcpProxy.js';
import { embedding, personInput, recordInput, tempDir } from './helpers.js';

type Row = Record<string, unknown>;

const UUID_V4_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface Harness {
  store: Store;
  /**
   * Another writer on the same database: another instance (pool) for PostgreSQL; for SQLite the same store, since
   * one process has one (a second connection's BEGIN IMMEDIATE would block the only thread).
   */
  second(): Promise<Store>;
  /** An independent store on the same database (closed by cleanup unless the test closes it). */
  fresh(): Promise<Store>;
  /** Reads the database directly, for checks the repositories do not expose. */
  raw(sql: string): Promise<Row[]>;
  /** Writes to the database directly, around the repositories (as an operator's SQL session would). */
  exec(sql: string, params?: unknown[]): Promise<void>;
  /** A connection string (PostgreSQL only). */
  url?: string;
  cleanup(): Promise<void>;
}

interface Backend {
  name: 'sqlite' | 'postgres';
  skip: boolean;
  open(): Promise<Harness>;
}

const backends: Backend[] = [
  {
    name: 'sqlite',
    skip: false,
    async open() {
      const t = tempDir();
      const store = await openStore({ dataDir: t.dir });
      const others: Store[] = [];
      return {
        store,
        async second() {
          return store;
        },
        async fresh() {
          const s = openSqliteStore({ dataDir: t.dir });
          others.push(s);
          return s;
        },
        async raw(sql) {
          const db = new Database((store as unknown as { file: string }).file, { readonly: true });
          try {
            return db.prepare(sql).all() as Row[];
          } finally {
            db.close();
          }
        },
        async exec(sql, params = []) {
          const db = new Database((store as unknown as { file: string }).file);
          try {
            db.pragma('foreign_keys = ON'); // as the store's own connections have it
            db.prepare(sql).run(...params);
          } finally {
            db.close();
          }
        },
        async cleanup() {
          for (const s of others) await s.close();
          await store.close();
          t.cleanup();
        },
      };
    },
  },
  {
    name: 'postgres',
    skip: skipPostgres,
    async open() {
      const db: TestDatabase = await createTestDatabase('contract');
      const store = await openStore({ dataDir: '/nonexistent', databaseUrl: db.url, databasePoolSize: 4 });
      const others: Store[] = [];
      const fresh = async () => {
        const s = await openPgStore({ connectionString: db.url, poolSize: 4 });
        others.push(s);
        return s;
      };
      return {
        store,
        url: db.url,
        second: () => fresh(),
        fresh: () => fresh(),
        async raw(sql) {
          const c = new pg.Client({ connectionString: db.url });
          await c.connect();
          try {
            return (await c.query(sql)).rows as Row[];
          } finally {
            await c.end();
          }
        },
        async exec(sql, params = []) {
          const c = new pg.Client({ connectionString: db.url });
          await c.connect();
          // Placeholders: `?` as in SQLite, numbered for PostgreSQL.
          let n = 0;
          try {
            await c.query(sql.replace(/\?/g, () => `$${++n}`), params);
          } finally {
            await c.end();
          }
        },
        async cleanup() {
          for (const s of others) await s.close();
          await store.close();
          await db.drop();
        },
      };
    },
  },
];

if (skipPostgres) noteSkipped();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(backends)('store contract: $name', (backend) => {
  // `describe.each` cannot skip one row, so each backend's body is guarded by its own skipIf.
  describe.skipIf(backend.skip)(backend.skip ? 'skipped: no PostgreSQL (see test/support/postgres.ts)' : 'runs', () => {
    let h: Harness;
    let store: Store;
    let a: Client;
    let b: Client;

    beforeEach(async () => {
      h = await backend.open();
      store = h.store;
      a = await store.clients.create('client-a');
      b = await store.clients.create('client-b');
    });
    afterEach(async () => h?.cleanup());

    /** Rows in `table` (all tenants), read directly from the database. */
    const count = async (table: string): Promise<number> => Number((await h.raw(`SELECT count(*) AS n FROM ${table}`))[0].n);

    async function enrol(client: string, name: string, collections: string[] = [], faces = 2) {
      const p = await store.facePersons.create(personInput(client, name, collections));
      for (let i = 0; i < faces; i++) {
        await store.templates.add({
          client,
          person: p.id,
          imageIndex: i,
          modelVersion: 'm1',
          embedding: embedding(i + name.length, 512),
          thumbnail: new Uint8Array([0xff, 0xd8, i, 0xff, 0xd9]),
          quality: null,
        });
      }
      return p;
    }

    it('says which backend it is and is healthy', async () => {
      expect(store.backend).toBe(backend.name);
      expect(await store.healthy()).toBe(true);
    });

    it('round-trips records: camelCase nouns, embeddings bit for bit, thumbnails, conflicts', async () => {
      const col = await store.collections.create({ client: a.id, name: 'c', description: 'd', code: 'code-1' });
      await expect(store.collections.create({ client: a.id, name: 'c2', description: '', code: 'code-1' })).rejects.toBeInstanceOf(ConflictError);
      await store.collections.create({ client: b.id, name: 'c', description: '', code: 'code-1' }); // codes are per client
      const p = await store.facePersons.create({ ...personInput(a.id, 'Ann', [col.code, col.id]), dateOfBirth: '1990-01-31', gender: 'F' });
      expect(p).toMatchObject({ client: a.id, name: 'Ann', gender: 'F', dateOfBirth: '1990-01-31', collections: [col.id] });
      const e = embedding(7, 512);
      const t = await store.templates.add({ client: a.id, person: p.id, imageIndex: 0, modelVersion: 'm1', embedding: e, thumbnail: new Uint8Array([1, 2, 3]), quality: null });
      const [back] = await store.templates.listForPerson(a.id, p.id);
      expect(back.id).toBe(t.id);
      expect(Buffer.from(back.embedding.buffer)).toEqual(Buffer.from(e.buffer));
      expect(Array.from(back.thumbnail!)).toEqual([1, 2, 3]);
      expect(await store.clients.getByName('client-a')).toEqual(a);
      await expect(store.clients.create('client-a')).rejects.toBeInstanceOf(ConflictError);
    });

    it('lets a transaction catch a failed write and carry on; searches names case-insensitively', async () => {
      await store.collections.create({ client: a.id, name: 'Staff Room', description: '', code: 'taken' });
      const made = await store.transaction(async (tx) => {
        await expect(tx.collections.create({ client: a.id, name: 'dup', description: '', code: 'taken' })).rejects.toBeInstanceOf(ConflictError);
        return tx.collections.create({ client: a.id, name: 'after the conflict', description: '' });
      });
      expect(await store.collections.get(a.id, made.id)).toEqual(made);
      expect((await store.collections.list(a.id, { page: 1, limit: 10, search: 'staff' })).items.map((c) => c.name)).toEqual(['Staff Room']);
      expect((await store.collections.list(a.id, { page: 1, limit: 10, search: '%' })).total).toBe(0);
      await store.facePersons.create(personInput(a.id, 'Ann Lee'));
      expect((await store.facePersons.list(a.id, { page: 1, limit: 10, search: 'ann' })).total).toBe(1);
    });

    it('pages face persons newest first, by keyset too', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await store.facePersons.create(personInput(a.id, `P${i}`))).id);
      const first = await store.facePersons.list(a.id, { page: 1, limit: 2 });
      expect(first.total).toBe(5);
      expect(first.items.map((p) => p.id)).toEqual([ids[4], ids[3]]);
      const next = await store.facePersons.list(a.id, { page: 1, limit: 2, after: ids[3] });
      expect(next.items.map((p) => p.id)).toEqual([ids[2], ids[1]]);
    });

    it('erases a person completely: templates, thumbnails and memberships go; feed rows hold ids only', async () => {
      const col = await store.collections.create({ client: a.id, name: 'c', description: '' });
      const p = await enrol(a.id, 'Erased', [col.id], 3);
      const keep = await enrol(a.id, 'Kept', [col.id], 1);
      expect(await store.facePersons.delete(a.id, p.id)).toBe(true);
      const q = (table: string, where: string) => h.raw(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).then((r) => Number(r[0].n));
      expect(await q('face_persons', `id = '${p.id}'`)).toBe(0);
      expect(await q('face_templates', `face_person_id = '${p.id}'`)).toBe(0);
      expect(await q('face_person_collections', `person_id = '${p.id}'`)).toBe(0);
      // Thumbnails belong to templates: only the kept person's one remains.
      expect(await q('face_thumbnails', '1 = 1')).toBe(1);
      expect(await q('face_templates', `face_person_id = '${keep.id}'`)).toBe(1);
      // The feed keeps ids and a time, nothing about the person.
      const feed = await h.raw(`SELECT * FROM index_changes WHERE person_id = '${p.id}'`);
      expect(feed.length).toBeGreaterThan(0);
      for (const row of feed) expect(Object.keys(row).sort()).toEqual(['at', 'client_id', 'person_id', 'seq']);
      expect(JSON.stringify(await h.raw('SELECT * FROM index_changes'))).not.toContain('Erased');
    });

    it('appends one feed row per affected face person, in the writing transaction, and reads it by seq', async () => {
      expect(await store.changes.latest()).toBe(0);
      const col = await store.collections.create({ client: a.id, name: 'c', description: '' });
      expect(await store.changes.latest()).toBe(0); // an empty collection changes no index entry
      const p1 = await store.facePersons.create(personInput(a.id, 'One', [col.id]));
      const p2 = await store.facePersons.create(personInput(a.id, 'Two', [col.id]));
      // One transaction touching p1 three times: one row.
      await store.transaction(async (tx) => {
        await tx.templates.add({ client: a.id, person: p1.id, imageIndex: 0, modelVersion: 'm1', embedding: embedding(1, 8), thumbnail: null, quality: null });
        await tx.templates.add({ client: a.id, person: p1.id, imageIndex: 1, modelVersion: 'm1', embedding: embedding(2, 8), thumbnail: null, quality: null });
        await tx.facePersons.update(a.id, p1.id, { collections: [] });
      });
      // A rolled-back transaction leaves no row.
      await expect(
        store.transaction(async (tx) => {
          await tx.facePersons.update(a.id, p2.id, { collections: [] });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      // Deleting the collection: one row per member (p2 only, p1 left it).
      await store.collections.delete(a.id, col.id);
      const all = await store.changes.since(0, 100);
      expect(all.map((c) => c.person)).toEqual([p1.id, p2.id, p1.id, p2.id]);
      expect(all.every((c) => c.client === a.id)).toBe(true);
      const seqs = all.map((c) => c.seq);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(await store.changes.latest()).toBe(seqs.at(-1));
      expect((await store.changes.since(seqs[1], 1)).map((c) => c.seq)).toEqual([seqs[2]]);
      // Retention keeps the newest row, so latest() never goes back.
      expect(await store.changes.prune(seqs.at(-1)!, new Date(Date.now() + 60_000).toISOString())).toBe(3);
      expect(await store.changes.latest()).toBe(seqs.at(-1));
    });

    it('hands out feed seqs in commit order, even when transactions overlap', async () => {
      let releaseFirst!: () => void;
      const firstMayCommit = new Promise<void>((r) => (releaseFirst = r));
      const committed: string[] = [];
      const first = store
        .transaction(async (tx) => {
          await tx.facePersons.create({ ...personInput(a.id, 'slow'), id: 'aaaaaaaaaaaaaaaaaaaaaaa1' });
          await firstMayCommit;
        })
        .then(() => committed.push('aaaaaaaaaaaaaaaaaaaaaaa1'));
      await sleep(50);
      const other = await h.second();
      const second = other
        .transaction(async (tx) => {
          await tx.facePersons.create({ ...personInput(a.id, 'fast'), id: 'bbbbbbbbbbbbbbbbbbbbbbb2' });
        })
        .then(() => committed.push('bbbbbbbbbbbbbbbbbbbbbbb2'));
      await sleep(200);
      releaseFirst();
      await Promise.all([first, second]);
      const feed = await store.changes.since(0, 10);
      expect(feed.map((c) => c.person)).toEqual(committed);
    });

    it('streams the index entries in batches and counts them', async () => {
      const col = await store.collections.create({ client: a.id, name: 'c', description: '' });
      await enrol(a.id, 'A1', [col.id], 2);
      await enrol(b.id, 'B1', [], 1);
      const rec = await store.persons.create({
        client: a.id, firstName: 'G', lastName: null, email: null, phone: null, dateOfBirth: null, documentType: null,
        documentNumber: null, livenessScore: null, verificationStatus: 'pending',
      });
      await store.templates.add({ client: a.id, person: rec.id, imageIndex: 0, modelVersion: 'm1', embedding: embedding(3, 512), thumbnail: null, quality: null });
      expect(await store.templates.countIndexEntries()).toBe(3);
      const entries = [];
      for await (const e of store.templates.iterateIndexEntries()) entries.push(e);
      expect(entries).toHaveLength(2);
      const ann = entries.find((e) => e.client === a.id)!;
      expect(ann.collections).toEqual([col.id]);
      expect(ann.templates).toHaveLength(2);
      expect(ann.templates[0].embedding).toBeInstanceOf(Float32Array);
      await expect(store.transaction(async (tx) => tx.templates.iterateIndexEntries()[Symbol.asyncIterator]().next())).rejects.toThrow(/transaction/);
    });

    it('the dedup lock holds a second transaction on the same key until the first commits', async () => {
      await expect(store.locks.dedup(a.id, 'c1')).rejects.toThrow(/transaction/);
      const other = await h.second();
      const events: string[] = [];
      let firstHasLock!: () => void;
      const locked = new Promise<void>((r) => (firstHasLock = r));
      const first = store.transaction(async (tx) => {
        await tx.locks.dedup(a.id, 'c1');
        events.push('first locked');
        firstHasLock();
        await sleep(300);
        events.push('first commits');
      });
      await locked;
      const second = other.transaction(async (tx) => {
        await tx.locks.dedup(a.id, 'c1');
        events.push('second locked');
      });
      await Promise.all([first, second]);
      expect(events).toEqual(['first locked', 'first commits', 'second locked']);
    });

    it('wakes a watcher after a commit that appended changes', async () => {
      const other = await h.second();
      let wakes = 0;
      const watcher = await store.watchChanges(() => wakes++);
      // SQLite wakes its own process's watchers; PostgreSQL any instance's (the write comes from another pool).
      const writer = backend.name === 'postgres' ? other : store;
      const before = wakes;
      await writer.facePersons.create(personInput(a.id, 'Woken'));
      for (let i = 0; i < 50 && wakes === before; i++) await sleep(20);
      expect(wakes).toBeGreaterThan(before);
      await watcher.close();
      const after = wakes;
      await writer.facePersons.create(personInput(a.id, 'Unwatched'));
      await sleep(200);
      expect(wakes).toBe(after);
    });

    it('rotates signing keys by compare-and-set, newest first, and prunes retired ones', async () => {
      const key = (kid: string, createdAt: string): SigningKeyRecord => ({
        kid, alg: 'EdDSA', privateJwk: JSON.stringify({ kid, d: 'x' }), publicJwk: JSON.stringify({ kid }), createdAt, retiredAt: null,
      });
      expect(await store.signingKeys.list()).toEqual([]);
      expect(await store.signingKeys.rotate(key('k1', '2026-01-01T00:00:00.000Z'), null)).toBe(true);
      expect(await store.signingKeys.rotate(key('k2', '2026-01-02T00:00:00.000Z'), null)).toBe(false); // lost the race
      expect(await store.signingKeys.rotate(key('k2', '2026-01-02T00:00:00.000Z'), 'k1')).toBe(true);
      const keys = await store.signingKeys.list();
      expect(keys.map((k) => [k.kid, k.retiredAt])).toEqual([
        ['k2', null],
        ['k1', '2026-01-02T00:00:00.000Z'],
      ]);
      expect(await store.signingKeys.pruneRetired('2026-01-03T00:00:00.000Z')).toBe(1);
      expect((await store.signingKeys.list()).map((k) => k.kid)).toEqual(['k2']);
    });

    it('refuses every call after close', async () => {
      const other = await h.fresh();
      await other.close();
      expect(await other.healthy()).toBe(false);
      await expect(other.clients.list()).rejects.toThrow(/closed/);
    });

    // ---- each repository, as SQLite and PostgreSQL must both behave

    describe('clients', () => {
      it('creates, finds by id and name, lists, and refuses duplicate names', async () => {
        expect(a.id).toMatch(OBJECT_ID_RE);
        expect(a.createdAt).toMatch(ISO_RE);
        expect(await store.clients.get(a.id)).toEqual(a);
        expect(await store.clients.getByName('client-b')).toEqual(b);
        expect(await store.clients.getByName('nobody')).toBeNull();
        expect(await store.clients.get('0'.repeat(24))).toBeNull();
        expect(await store.clients.list()).toEqual([a, b]);
        await expect(store.clients.create('client-a')).rejects.toBeInstanceOf(ConflictError);
      });
    });

    describe('tokens', () => {
      it('stores, finds by hash, lists per client, and revokes once', async () => {
        const t1 = await store.tokens.create({ client: a.id, hash: 'h1', label: 'ci', expiresAt: null });
        const t2 = await store.tokens.create({ client: b.id, hash: 'h2', label: null, expiresAt: '2030-01-01T00:00:00.000Z' });
        expect(t1).toMatchObject({ client: a.id, hash: 'h1', label: 'ci', revokedAt: null, expiresAt: null });
        expect(t1.id).toMatch(OBJECT_ID_RE);
        expect(await store.tokens.findByHash('h2')).toEqual(t2);
        expect(await store.tokens.findByHash('nope')).toBeNull();
        expect((await store.tokens.list(a.id)).map((t) => t.id)).toEqual([t1.id]);
        expect((await store.tokens.list()).map((t) => t.id)).toEqual([t1.id, t2.id]);
        expect(await store.tokens.revoke(t1.id)).toBe(true);
        expect(await store.tokens.revoke(t1.id)).toBe(false);
        expect(await store.tokens.revoke('missing')).toBe(false);
        expect((await store.tokens.findByHash('h1'))!.revokedAt).toMatch(ISO_RE);
      });

      it('refuses a duplicate hash and an unknown client', async () => {
        await store.tokens.create({ client: a.id, hash: 'same', label: null, expiresAt: null });
        await expect(store.tokens.create({ client: b.id, hash: 'same', label: null, expiresAt: null })).rejects.toBeInstanceOf(ConflictError);
        await expect(store.tokens.create({ client: 'ghost', hash: 'x', label: null, expiresAt: null })).rejects.toBeInstanceOf(UnknownReferenceError);
      });
    });

    describe('collections', () => {
      it('makes ids and codes, and finds a collection by either', async () => {
        const c = await store.collections.create({ client: a.id, name: 'staff', description: 'employees' });
        expect(c.id).toMatch(OBJECT_ID_RE);
        expect(c.code).toMatch(UUID_V4_RE);
        expect(c.createdAt).toMatch(ISO_RE);
        expect(c).toMatchObject({ client: a.id, name: 'staff', description: 'employees' });
        expect(await store.collections.get(a.id, c.id)).toEqual(c);
        expect(await store.collections.get(a.id, c.code)).toEqual(c);
        expect(await store.collections.get(a.id, 'other')).toBeNull();
      });

      it('keeps codes unique per client only', async () => {
        await store.collections.create({ client: a.id, name: 'x', description: '', code: 'vip' });
        await expect(store.collections.create({ client: a.id, name: 'y', description: '', code: 'vip' })).rejects.toBeInstanceOf(ConflictError);
        const other = await store.collections.create({ client: b.id, name: 'x', description: '', code: 'vip' });
        expect((await store.collections.get(b.id, 'vip'))!.id).toBe(other.id);
        expect((await store.collections.get(a.id, 'vip'))!.id).not.toBe(other.id);
      });

      it('lists newest first with pages, totals and a literal name search', async () => {
        for (const name of ['alpha', 'beta', '100% gamma', 'delta_1', 'deltax1']) {
          await store.collections.create({ client: a.id, name, description: '' });
        }
        await store.collections.create({ client: b.id, name: 'alpha of b', description: '' });
        const p1 = await store.collections.list(a.id, { page: 1, limit: 2 });
        expect(p1.total).toBe(5);
        expect(p1.items.map((c) => c.name)).toEqual(['deltax1', 'delta_1']);
        const p3 = await store.collections.list(a.id, { page: 3, limit: 2 });
        expect(p3.items.map((c) => c.name)).toEqual(['alpha']);
        expect((await store.collections.list(a.id, { page: 4, limit: 2 })).items).toEqual([]);
        expect((await store.collections.list(a.id, { page: 1, limit: 10, search: 'ALPHA' })).items.map((c) => c.name)).toEqual(['alpha']);
        expect((await store.collections.list(a.id, { page: 1, limit: 10, search: '%' })).items.map((c) => c.name)).toEqual(['100% gamma']);
        expect((await store.collections.list(a.id, { page: 1, limit: 10, search: 'a_1' })).items.map((c) => c.name)).toEqual(['delta_1']);
        await expect(store.collections.list(a.id, { page: 0, limit: 10 })).rejects.toBeInstanceOf(RangeError);
      });

      it('updates only the given fields and bumps updatedAt', async () => {
        const c = await store.collections.create({ client: a.id, name: 'n', description: 'd' });
        await new Promise((r) => setTimeout(r, 5));
        const u = await store.collections.update(a.id, c.code, { name: 'n2' });
        expect(u).toMatchObject({ id: c.id, code: c.code, name: 'n2', description: 'd', createdAt: c.createdAt });
        expect(u!.updatedAt > c.updatedAt).toBe(true);
        expect(await store.collections.update(a.id, 'missing', { name: 'z' })).toBeNull();
      });

      it('deletes by _id or code, removing memberships but not persons', async () => {
        const c1 = await store.collections.create({ client: a.id, name: 'one', description: '' });
        const c2 = await store.collections.create({ client: a.id, name: 'two', description: '' });
        const p = await store.facePersons.create(personInput(a.id, 'Ann', [c1.id, c2.code]));
        expect(p.collections).toEqual([c1.id, c2.id]);
        expect(await store.collections.delete(a.id, c1.code)).toBe(true);
        expect(await store.collections.delete(a.id, c1.id)).toBe(false);
        expect((await store.facePersons.get(a.id, p.id))!.collections).toEqual([c2.id]);
        expect(await store.collections.delete(a.id, c2.id)).toBe(true);
        expect((await store.facePersons.get(a.id, p.id))!.collections).toEqual([]);
        expect(await count('face_person_collections')).toBe(0);
      });
    });

    describe('face persons', () => {
      it('creates with collections by _id or code (deduplicated, order kept) and gets it back', async () => {
        const c1 = await store.collections.create({ client: a.id, name: 'one', description: '' });
        const c2 = await store.collections.create({ client: a.id, name: 'two', description: '' });
        const p = await store.facePersons.create({
          client: a.id,
          name: 'John Doe',
          gender: 'M',
          dateOfBirth: '1990-01-15',
          nationality: 'US',
          notes: 'VIP',
          collections: [c2.code, c1.id, c2.id],
        });
        expect(p.id).toMatch(OBJECT_ID_RE);
        expect(p).toMatchObject({ client: a.id, name: 'John Doe', gender: 'M', dateOfBirth: '1990-01-15', nationality: 'US', notes: 'VIP' });
        expect(p.collections).toEqual([c2.id, c1.id]);
        expect(await store.facePersons.get(a.id, p.id)).toEqual(p);
      });

      it('refuses unknown collections and writes nothing', async () => {
        await expect(store.facePersons.create(personInput(a.id, 'X', ['nope']))).rejects.toBeInstanceOf(UnknownReferenceError);
        expect(await count('face_persons')).toBe(0);
      });

      it('lists with a collection filter (by _id or code) and a name search', async () => {
        const c = await store.collections.create({ client: a.id, name: 'c', description: '' });
        await store.facePersons.create(personInput(a.id, 'Ann Smith', [c.id]));
        await store.facePersons.create(personInput(a.id, 'Bob Smith'));
        await store.facePersons.create(personInput(a.id, 'Carl Jones', [c.id]));
        const all = await store.facePersons.list(a.id, { page: 1, limit: 10 });
        expect(all.total).toBe(3);
        expect(all.items.map((p) => p.name)).toEqual(['Carl Jones', 'Bob Smith', 'Ann Smith']);
        const inC = await store.facePersons.list(a.id, { page: 1, limit: 10, collection: c.code });
        expect(inC.items.map((p) => p.name)).toEqual(['Carl Jones', 'Ann Smith']);
        expect(inC.items[0].collections).toEqual([c.id]);
        expect((await store.facePersons.list(a.id, { page: 1, limit: 10, collection: c.id, search: 'smith' })).items.map((p) => p.name)).toEqual([
          'Ann Smith',
        ]);
        expect(await store.facePersons.list(a.id, { page: 1, limit: 10, collection: 'missing' })).toEqual({ items: [], total: 0 });
        expect((await store.facePersons.list(a.id, { page: 2, limit: 2 })).items.map((p) => p.name)).toEqual(['Ann Smith']);
      });

      it('updates partially, can clear a field, and replaces collections', async () => {
        const c1 = await store.collections.create({ client: a.id, name: 'one', description: '' });
        const c2 = await store.collections.create({ client: a.id, name: 'two', description: '' });
        const p = await store.facePersons.create({ ...personInput(a.id, 'Ann', [c1.id]), gender: 'F', notes: 'n' });
        const u1 = await store.facePersons.update(a.id, p.id, { notes: null });
        expect(u1).toMatchObject({ name: 'Ann', gender: 'F', notes: null, collections: [c1.id] });
        const u2 = await store.facePersons.update(a.id, p.id, { collections: [c2.code], name: 'Anne' });
        expect(u2).toMatchObject({ name: 'Anne', gender: 'F', collections: [c2.id] });
        await expect(store.facePersons.update(a.id, p.id, { collections: ['nope'] })).rejects.toBeInstanceOf(UnknownReferenceError);
        expect((await store.facePersons.get(a.id, p.id))!.collections).toEqual([c2.id]);
        expect(await store.facePersons.update(a.id, 'f'.repeat(24), { name: 'z' })).toBeNull();
      });

      it('deletes the person with its memberships, templates and thumbnails', async () => {
        const c = await store.collections.create({ client: a.id, name: 'c', description: '' });
        const p = await store.facePersons.create(personInput(a.id, 'Ann', [c.id]));
        await store.templates.add({ client: a.id, person: p.id, imageIndex: 0, modelVersion: 'm', embedding: embedding(1), thumbnail: new Uint8Array(300), quality: null });
        expect(await count('face_templates')).toBe(1);
        expect(await count('face_thumbnails')).toBe(1);
        expect(await store.facePersons.delete(a.id, p.id)).toBe(true);
        expect(await store.facePersons.delete(a.id, p.id)).toBe(false);
        expect(await store.facePersons.get(a.id, p.id)).toBeNull();
        for (const t of ['face_persons', 'face_person_collections', 'face_templates', 'face_thumbnails']) expect(await count(t)).toBe(0);
        expect(await store.collections.get(a.id, c.id)).not.toBeNull();
      });
    });

    describe('templates', () => {
      it('round-trips embeddings bit for bit, thumbnails and quality', async () => {
        const p = await store.facePersons.create(personInput(a.id, 'Ann'));
        const tricky = new Float32Array([0, -0, 1e-45, -3.4028234663852886e38, Math.PI, NaN, Infinity, 0.1]);
        const big = new Float32Array(1030);
        big.set(embedding(7, 1024), 3);
        const view = big.subarray(3, 3 + 1024); // a view at an unaligned-to-the-buffer-start offset
        const thumb = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) % 256);
        const quality = { faceSize: 112, sharpness: 0.8, yaw: -3.5, pitch: 1, roll: 0.25, brightness: 0.5 };
        const t1 = await store.templates.add({ client: a.id, person: p.id, imageIndex: 1, modelVersion: 'faceres-v1', embedding: view, thumbnail: thumb, quality });
        const t0 = await store.templates.add({ client: a.id, person: p.id, imageIndex: 0, modelVersion: 'faceres-v1', embedding: tricky, thumbnail: null, quality: null });
        expect(t0.id).toBeGreaterThan(t1.id);
        const listed = await store.templates.listForPerson(a.id, p.id);
        expect(listed.map((t) => t.imageIndex)).toEqual([0, 1]);
        expect(Buffer.from(listed[0].embedding.buffer).equals(Buffer.from(tricky.buffer))).toBe(true);
        expect(listed[1].embedding).toBeInstanceOf(Float32Array);
        expect(Array.from(listed[1].embedding)).toEqual(Array.from(view));
        expect(Buffer.from(listed[1].thumbnail!).equals(Buffer.from(thumb))).toBe(true);
        expect(listed[1].quality).toEqual(quality);
        expect(listed[1]).toMatchObject({ id: t1.id, client: a.id, person: p.id, modelVersion: 'faceres-v1' });
        expect(listed[0].thumbnail).toBeNull();
        expect(listed[0].quality).toBeNull();
      });

      it('never reuses a template id, even after deleting the newest', async () => {
        const p = await store.facePersons.create(personInput(a.id, 'Ann'));
        const add = () => store.templates.add({ client: a.id, person: p.id, imageIndex: 0, modelVersion: 'm', embedding: embedding(1), thumbnail: null, quality: null });
        await add();
        const t2 = await add();
        expect(await store.templates.deleteForPerson(a.id, p.id)).toBe(2);
        const t3 = await add();
        expect(t3.id).toBeGreaterThan(t2.id);
      });

      it('belongs to generic person records too, and goes with them', async () => {
        const r = await store.persons.create({ ...recordInput(a.id) });
        await store.templates.add({ client: a.id, person: r.id, imageIndex: 0, modelVersion: 'm', embedding: embedding(2), thumbnail: new Uint8Array([1]), quality: null });
        expect((await store.templates.listForPerson(a.id, r.id)).map((t) => t.person)).toEqual([r.id]);
        expect(await store.persons.delete(a.id, r.id)).toBe(true);
        expect(await count('face_templates')).toBe(0);
        expect(await count('face_thumbnails')).toBe(0);
      });

      it('refuses an unknown owner and an empty embedding', async () => {
        await expect(
          store.templates.add({ client: a.id, person: 'nobody', imageIndex: 0, modelVersion: 'm', embedding: embedding(1), thumbnail: null, quality: null }),
        ).rejects.toBeInstanceOf(UnknownReferenceError);
        const p = await store.facePersons.create(personInput(a.id, 'Ann'));
        await expect(
          store.templates.add({ client: a.id, person: p.id, imageIndex: 0, modelVersion: 'm', embedding: new Float32Array(0), thumbnail: null, quality: null }),
        ).rejects.toThrow(/non-empty/);
      });
    });


    describe('person records', () => {
      it('creates person_ ids, gets, lists by status, updates and deletes', async () => {
        const r = await store.persons.create(recordInput(a.id));
        expect(r.id).toMatch(/^person_[0-9a-f]{24}$/);
        expect(r).toMatchObject({ ...recordInput(a.id), createdAt: r.updatedAt });
        expect(await store.persons.get(a.id, r.id)).toEqual(r);
        const r2 = await store.persons.create({ ...recordInput(a.id), firstName: 'Jane' });
        const u = await store.persons.update(a.id, r2.id, { livenessScore: 0.97, verificationStatus: 'verified', email: null });
        expect(u).toMatchObject({ firstName: 'Jane', livenessScore: 0.97, verificationStatus: 'verified', email: null, phone: '+1234567890' });
        expect((await store.persons.list(a.id, { page: 1, limit: 10 })).items.map((p) => p.id)).toEqual([r2.id, r.id]);
        expect(await store.persons.list(a.id, { page: 1, limit: 10, status: 'verified' })).toEqual({ items: [u], total: 1 });
        await expect(store.persons.update(a.id, r.id, { verificationStatus: 'bogus' as never })).rejects.toThrow(/check/i);
        expect(await store.persons.update(a.id, 'person_missing', { firstName: 'x' })).toBeNull();
        expect(await store.persons.delete(a.id, r.id)).toBe(true);
        expect(await store.persons.get(a.id, r.id)).toBeNull();
      });
    });

    describe('tenant isolation', () => {
      it("gives client B nothing of client A's rows, by any method", async () => {
        const col = await store.collections.create({ client: a.id, name: 'secret', description: '' });
        const p = await store.facePersons.create(personInput(a.id, 'Ann', [col.id]));
        await store.templates.add({ client: a.id, person: p.id, imageIndex: 0, modelVersion: 'm', embedding: embedding(3), thumbnail: null, quality: null });
        const r = await store.persons.create(recordInput(a.id));

        expect(await store.collections.get(b.id, col.id)).toBeNull();
        expect(await store.collections.get(b.id, col.code)).toBeNull();
        expect((await store.collections.list(b.id, { page: 1, limit: 10 })).total).toBe(0);
        expect(await store.collections.update(b.id, col.id, { name: 'pwned' })).toBeNull();
        expect(await store.collections.delete(b.id, col.code)).toBe(false);

        expect(await store.facePersons.get(b.id, p.id)).toBeNull();
        expect((await store.facePersons.list(b.id, { page: 1, limit: 10 })).total).toBe(0);
        expect((await store.facePersons.list(b.id, { page: 1, limit: 10, collection: col.id })).total).toBe(0);
        expect(await store.facePersons.update(b.id, p.id, { name: 'pwned' })).toBeNull();
        expect(await store.facePersons.delete(b.id, p.id)).toBe(false);
        // B cannot file its own person into A's collection, nor enrol a face onto A's person.
        await expect(store.facePersons.create(personInput(b.id, 'Mallory', [col.id]))).rejects.toBeInstanceOf(UnknownReferenceError);
        await expect(store.facePersons.create(personInput(b.id, 'Mallory', [col.code]))).rejects.toBeInstanceOf(UnknownReferenceError);
        await expect(
          store.templates.add({ client: b.id, person: p.id, imageIndex: 0, modelVersion: 'm', embedding: embedding(4), thumbnail: null, quality: null }),
        ).rejects.toBeInstanceOf(UnknownReferenceError);
        expect(await store.templates.listForPerson(b.id, p.id)).toEqual([]);
        expect(await store.templates.deleteForPerson(b.id, p.id)).toBe(0);

        expect(await store.persons.get(b.id, r.id)).toBeNull();
        expect((await store.persons.list(b.id, { page: 1, limit: 10 })).total).toBe(0);
        expect(await store.persons.update(b.id, r.id, { firstName: 'pwned' })).toBeNull();
        expect(await store.persons.delete(b.id, r.id)).toBe(false);

        // A's data is intact.
        expect(await store.collections.get(a.id, col.id)).toEqual(col);
        expect(await store.facePersons.get(a.id, p.id)).toEqual(p);
        expect(await store.templates.listForPerson(a.id, p.id)).toHaveLength(1);
        expect(await store.persons.get(a.id, r.id)).toEqual(r);
      });

    });

    it('enforces tenancy in the schema itself: a membership or a template cannot point across clients', async () => {
      const colA = await store.collections.create({ client: a.id, name: 'x', description: '' });
      const pA = await store.facePersons.create(personInput(a.id, 'A'));
      const pB = await store.facePersons.create(personInput(b.id, 'B'));
      await expect(
        h.exec('INSERT INTO face_person_collections (client_id, person_id, collection_id) VALUES (?, ?, ?)', [b.id, pB.id, colA.id]),
      ).rejects.toThrow(/foreign key/i);
      await expect(
        h.exec('INSERT INTO face_templates (client_id, face_person_id, image_index, model_version, created_at, embedding) VALUES (?, ?, 0, ?, ?, ?)', [
          b.id,
          pA.id,
          'm',
          new Date().toISOString(),
          Buffer.alloc(8),
        ]),
      ).rejects.toThrow(/foreign key/i);
    });

    describe('transactions', () => {
      it('commits every write of the callback together', async () => {
        const out = await store.transaction(async (tx) => {
          const c = await tx.collections.create({ client: a.id, name: 'c', description: '' });
          const p = await tx.facePersons.create(personInput(a.id, 'Ann', [c.id]));
          await tx.templates.add({ client: a.id, person: p.id, imageIndex: 0, modelVersion: 'm', embedding: embedding(1), thumbnail: new Uint8Array(10), quality: null });
          return p.id;
        });
        expect((await store.templates.listForPerson(a.id, out)).length).toBe(1);
      });

      it('leaves no partial rows when the callback throws', async () => {
        const existing = await store.facePersons.create(personInput(a.id, 'Before'));
        await expect(
          store.transaction(async (tx) => {
            const c = await tx.collections.create({ client: a.id, name: 'c', description: '' });
            const p = await tx.facePersons.create(personInput(a.id, 'Ann', [c.id]));
            await tx.templates.add({ client: a.id, person: p.id, imageIndex: 0, modelVersion: 'm', embedding: embedding(1), thumbnail: new Uint8Array(10), quality: null });
            await tx.persons.create(recordInput(a.id));
            await tx.facePersons.update(a.id, existing.id, { name: 'Changed' });
            await tx.facePersons.delete(a.id, existing.id);
            await tx.tokens.create({ client: a.id, hash: 'tx-hash', label: null, expiresAt: null });
            await new Promise((r) => setTimeout(r, 5)); // a real await between writes
            throw new Error('engine failed on image 2');
          }),
        ).rejects.toThrow('engine failed on image 2');
        expect(await count('collections')).toBe(0);
        expect(await count('face_persons')).toBe(1);
        expect(await count('face_person_collections')).toBe(0);
        expect(await count('face_templates')).toBe(0);
        expect(await count('face_thumbnails')).toBe(0);
        expect(await count('person_records')).toBe(0);
        expect(await count('tokens')).toBe(0);
        expect(await store.facePersons.get(a.id, existing.id)).toEqual(existing);
      });

      it('keeps going after a conflict the callback handles (savepoint), and commits the rest', async () => {
        await store.collections.create({ client: a.id, name: 'x', description: '', code: 'dup' });
        await store.transaction(async (tx) => {
          await tx.collections.create({ client: a.id, name: 'y', description: '' });
          await expect(tx.collections.create({ client: a.id, name: 'z', description: '', code: 'dup' })).rejects.toBeInstanceOf(ConflictError);
          await tx.collections.create({ client: a.id, name: 'w', description: '' });
        });
        expect((await store.collections.list(a.id, { page: 1, limit: 10 })).items.map((c) => c.name).sort()).toEqual(['w', 'x', 'y']);
      });

    });

    describe('liveness sessions', () => {
      const session = (client: string, id: string, expiresAt = '2999-01-01T00:00:00.000Z'): NewLivenessSession => ({
        id,
        client,
        steps: ['turn_left', 'smile'],
        nonce: 'n'.repeat(32),
        minScore: 0.5,
        maxAttempts: 2,
        createdAt: new Date().toISOString(),
        expiresAt,
      });

      it('are scoped to their tenant and read the same from another store on the database', async () => {
        const s = await store.livenessSessions.create(session(a.id, 'a'.repeat(24)));
        expect(s).toMatchObject({ status: 'CREATED', steps: ['turn_left', 'smile'], failedAttempts: 0, result: null, consumedAt: null });
        expect(await store.livenessSessions.get(b.id, s.id)).toBeNull();
        expect(await store.livenessSessions.update(b.id, s.id, { status: 'FAILED' }, ['CREATED'])).toBeNull();
        expect(await (await h.fresh()).livenessSessions.get(a.id, s.id)).toEqual(s);
      });

      it('update only applies from the given statuses, and consumption only once', async () => {
        const s = await store.livenessSessions.create(session(a.id, 'b'.repeat(24)));
        const done = await store.livenessSessions.update(a.id, s.id, { status: 'SUCCEEDED', result: { score: 0.9 } }, ['CREATED', 'IN_PROGRESS']);
        expect(done).toMatchObject({ status: 'SUCCEEDED', result: { score: 0.9 } });
        expect(await store.livenessSessions.update(a.id, s.id, { status: 'FAILED' }, ['CREATED', 'IN_PROGRESS'])).toBeNull();
        const now = new Date().toISOString();
        expect((await store.livenessSessions.update(a.id, s.id, { consumedAt: now }, ['SUCCEEDED']))?.consumedAt).toBe(now);
        expect(await store.livenessSessions.update(a.id, s.id, { consumedAt: now }, ['SUCCEEDED'])).toBeNull();
      });

      it('keeps frames in order with their embedding, then prunes all but the kept ones', async () => {
        const s = await store.livenessSessions.create(session(a.id, 'c'.repeat(24)));
        const frame = (seq: number) => ({ attempt: 0, seq, timestampMs: seq * 100, analysis: { seq }, embedding: embedding(seq), image: new Uint8Array([seq, 1, 2]) });
        await store.livenessSessions.addFrames(a.id, s.id, [frame(0), frame(1)]);
        await store.livenessSessions.addFrames(a.id, s.id, [frame(2)]);
        const frames = await store.livenessSessions.listFrames(a.id, s.id, { images: true });
        expect(frames.map((f) => f.seq)).toEqual([0, 1, 2]);
        expect(frames[1].embedding).toEqual(embedding(1));
        expect(frames[1].analysis).toEqual({ seq: 1 });
        expect(frames[2].image).toEqual(new Uint8Array([2, 1, 2]));
        expect(await store.livenessSessions.listFrames(b.id, s.id)).toEqual([]);
        await store.livenessSessions.pruneFrames(a.id, s.id, [{ id: frames[1].id, role: 'reference' }]);
        const kept = await store.livenessSessions.listFrames(a.id, s.id, { roles: true });
        expect(kept.map((f) => [f.seq, f.role])).toEqual([[1, 'reference']]);
        expect(await count('liveness_session_frames')).toBe(1);
      });

      it('expireStale marks open sessions past their expiry EXPIRED and drops their frames', async () => {
        const old = await store.livenessSessions.create(session(a.id, 'd'.repeat(24), '2000-01-01T00:00:00.000Z'));
        const fresh = await store.livenessSessions.create(session(a.id, 'e'.repeat(24)));
        await store.livenessSessions.addFrames(a.id, old.id, [{ attempt: 0, seq: 0, timestampMs: 0, analysis: {}, embedding: null }]);
        expect(await store.livenessSessions.expireStale(new Date().toISOString())).toBe(1);
        expect((await store.livenessSessions.get(a.id, old.id))?.status).toBe('EXPIRED');
        expect((await store.livenessSessions.get(a.id, fresh.id))?.status).toBe('CREATED');
        expect(await store.livenessSessions.listFrames(a.id, old.id)).toEqual([]);
      });
    });

    describe('audit trail', () => {
      const event = (at: string, request: string) => ({
        at, client: a.id, token: null, request, route: 'test', action: 'test', outcome: 'ok' as const, status: 200, subject: null, details: { ids: ['x'] },
      });

      it('appends in seq order, lists by time, and is append-only in the database itself', async () => {
        const old = await store.audit.append(event('2020-01-01T00:00:00.000Z', 'old'));
        const recent = await store.audit.append(event(new Date().toISOString(), 'new'));
        expect(recent.seq).toBeGreaterThan(old.seq);
        expect((await store.audit.list({ since: '2021-01-01', limit: 10 })).map((e) => e.request)).toEqual(['new']);
        expect((await store.audit.list({ since: '1970-01-01', after: old.seq, limit: 10 })).map((e) => e.seq)).toEqual([recent.seq]);
        expect(recent.details).toEqual({ ids: ['x'] });
        await expect(h.exec("UPDATE audit_events SET outcome = 'failed'")).rejects.toThrow(/append-only/);
        await expect(h.exec('DELETE FROM audit_events')).rejects.toThrow(/append-only/);
        await expect(h.exec('UPDATE audit_retention SET cutoff = ?', [new Date().toISOString()])).rejects.toThrow(/never to within a day/);
        // Retention: only rows older than the cutoff go.
        expect(await store.audit.prune('2021-01-01T00:00:00.000Z')).toBe(1);
        expect((await store.audit.list({ since: '1970-01-01', limit: 10 })).map((e) => e.request)).toEqual(['new']);
      });
    });

    if (backend.name === 'postgres') {
      it('applies each migration exactly once when several instances start at once', async () => {
        const db = await createTestDatabase('migrate');
        try {
          const stores = await Promise.all(Array.from({ length: 5 }, () => openPgStore({ connectionString: db.url, poolSize: 2 })));
          const c = new pg.Client({ connectionString: db.url });
          await c.connect();
          const { rows } = await c.query('SELECT version FROM schema_migrations ORDER BY version');
          await c.end();
          expect(rows.map((r) => r.version)).toEqual(pgMigrations.map((m) => m.version));
          for (const s of stores) expect(await s.schemaVersion()).toBe(pgMigrations.at(-1)!.version);
          await Promise.all(stores.map((s) => s.close()));
        } finally {
          await db.drop();
        }
      });

      it('applies a failing migration not at all, and refuses a database from a newer build', async () => {
        const db = await createTestDatabase('migrate-fail');
        try {
          const broken = [...pgMigrations, { version: 999, name: 'broken', sql: 'CREATE TABLE half_done (x int); SELECT * FROM no_such_table' }];
          await expect(openPgStore({ connectionString: db.url, migrations: broken })).rejects.toThrow(/no_such_table/);
          const c = new pg.Client({ connectionString: db.url });
          await c.connect();
          try {
            expect((await c.query("SELECT to_regclass('half_done') AS t")).rows[0].t).toBeNull();
            expect((await c.query('SELECT max(version) AS v FROM schema_migrations')).rows[0].v).toBe(pgMigrations.at(-1)!.version);
            await c.query(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'now')`);
          } finally {
            await c.end();
          }
          await expect(openPgStore({ connectionString: db.url })).rejects.toThrow(/newer than this build/);
        } finally {
          await db.drop();
        }
      });

      it('lets two instances dedup different keys at once', async () => {
        const other = await h.second();
        let inner = false;
        await store.transaction(async (tx) => {
          await tx.locks.dedup(a.id, 'c1');
          await other.transaction(async (tx2) => {
            await tx2.locks.dedup(a.id, 'c2');
            inner = true;
          });
        });
        expect(inner).toBe(true);
      });

      it('the change listener reconnects after losing its connection, and wakes its consumer once back', async () => {
        const proxy = await tcpProxy(new URL(h.url!));
        const url = new URL(h.url!);
        url.host = `127.0.0.1:${proxy.port}`;
        const s = await openPgStore({ connectionString: url.toString(), poolSize: 2, connectTimeoutMs: 1000 });
        let wakes = 0;
        const watcher = await s.watchChanges(() => wakes++);
        try {
          await store.facePersons.create(personInput(a.id, 'Before'));
          for (let i = 0; i < 50 && wakes === 0; i++) await sleep(20);
          expect(wakes).toBeGreaterThan(0);
          proxy.down();
          await sleep(100);
          // Committed while the listener is cut off: its notification is lost, the wake-up after reconnecting is not.
          await store.facePersons.create(personInput(a.id, 'Meanwhile'));
          const before = wakes;
          proxy.up();
          for (let i = 0; i < 100 && wakes === before; i++) await sleep(50);
          expect(wakes).toBeGreaterThan(before);
          // And it listens again: a later commit wakes it too.
          const after = wakes;
          await store.facePersons.create(personInput(a.id, 'After'));
          for (let i = 0; i < 50 && wakes === after; i++) await sleep(20);
          expect(wakes).toBeGreaterThan(after);
        } finally {
          await watcher.close();
          await s.close();
          await proxy.close();
        }
      });

      it('unreachable database: StoreUnavailableError, no partial write, then recovery without a restart', async () => {
        const proxy = await tcpProxy(new URL(h.url!));
        const url = new URL(h.url!);
        url.host = `127.0.0.1:${proxy.port}`;
        const s = await openPgStore({ connectionString: url.toString(), poolSize: 2, connectTimeoutMs: 1000 });
        try {
          expect(await s.healthy()).toBe(true);
          proxy.down();
          await expect(s.clients.list()).rejects.toBeInstanceOf(StoreUnavailableError);
          await expect(
            s.transaction(async (tx) => {
              await tx.collections.create({ client: a.id, name: 'half', description: '' });
            }),
          ).rejects.toBeInstanceOf(StoreUnavailableError);
          expect(await s.healthy()).toBe(false);
          // A transaction cut off in the middle writes nothing.
          proxy.up();
          const cut = s.transaction(async (tx) => {
            await tx.collections.create({ client: a.id, name: 'cut', description: '' });
            proxy.down();
            await tx.collections.create({ client: a.id, name: 'cut-2', description: '' });
          });
          await expect(cut).rejects.toBeInstanceOf(StoreUnavailableError);
          proxy.up();
          // Back: the same store answers again.
          let ok = false;
          for (let i = 0; i < 50 && !ok; i++) {
            ok = await s.healthy();
            if (!ok) await sleep(50);
          }
          expect(ok).toBe(true);
          expect((await s.collections.list(a.id, { page: 1, limit: 10 })).total).toBe(0);
          await s.collections.create({ client: a.id, name: 'after', description: '' });
          expect((await store.collections.list(a.id, { page: 1, limit: 10 })).items.map((c) => c.name)).toEqual(['after']);
        } finally {
          await s.close();
          await proxy.close();
        }
      });
    }
  });
});
