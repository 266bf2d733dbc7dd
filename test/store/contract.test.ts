// The store contract (src/store/types.ts), run once per backend from this one suite: SQLite in a temporary folder,
// PostgreSQL in a fresh database per test (test/support/postgres.ts says how to run it; it skips without one
// outside CI, fails in CI).
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, StoreUnavailableError, UnknownReferenceError } from '../../src/domain/errors.js';
import type { SigningKeyRecord } from '../../src/domain/model.js';
import { openStore } from '../../src/store/open.js';
import { pgMigrations } from '../../src/store/postgres/migrations.js';
import { openPgStore } from '../../src/store/postgres/store.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { Client, Store } from '../../src/store/types.js';
import { createTestDatabase, noteSkipped, skipPostgres, type TestDatabase } from '../support/postgres.js';
import { tcpProxy } from '../support/tcpProxy.js';
import { embedding, personInput, tempDir } from './helpers.js';

type Row = Record<string, unknown>;

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

    it('keeps tenants apart: another client’s rows read exactly like missing ones', async () => {
      const col = await store.collections.create({ client: a.id, name: 'vip', description: '' });
      const p = await enrol(a.id, 'Ann', [col.id]);
      expect(await store.collections.get(b.id, col.id)).toBeNull();
      expect(await store.collections.get(b.id, col.code)).toBeNull();
      expect((await store.collections.list(b.id, { page: 1, limit: 10 })).total).toBe(0);
      expect(await store.collections.update(b.id, col.id, { name: 'x' })).toBeNull();
      expect(await store.collections.delete(b.id, col.id)).toBe(false);
      expect(await store.facePersons.get(b.id, p.id)).toBeNull();
      expect((await store.facePersons.list(b.id, { page: 1, limit: 10 })).total).toBe(0);
      expect(await store.facePersons.update(b.id, p.id, { name: 'x' })).toBeNull();
      expect(await store.facePersons.delete(b.id, p.id)).toBe(false);
      expect(await store.templates.listForPerson(b.id, p.id)).toEqual([]);
      expect(await store.templates.deleteForPerson(b.id, p.id)).toBe(0);
      await expect(store.facePersons.create(personInput(b.id, 'Mallory', [col.id]))).rejects.toBeInstanceOf(UnknownReferenceError);
      await expect(
        store.templates.add({ client: b.id, person: p.id, imageIndex: 0, modelVersion: 'm1', embedding: embedding(1, 512), thumbnail: null, quality: null }),
      ).rejects.toBeInstanceOf(UnknownReferenceError);
      // Nothing of A's changed.
      expect(await store.facePersons.get(a.id, p.id)).toEqual(p);
      expect(await store.templates.listForPerson(a.id, p.id)).toHaveLength(2);
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
