import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrations } from '../../src/store/sqlite/migrations.js';

/** The newest schema version (versions may have gaps, so not migrations.length). */
const LATEST = migrations[migrations.length - 1].version;
import { DB_FILE_NAME, openSqliteStore, type SqliteStore } from '../../src/store/sqlite/store.js';
import type { Client } from '../../src/domain/ports.js';
import { embedding, openTemp, personInput, recordInput, tempDir } from './helpers.js';

/** Versions may skip numbers (branches merged out of order), so the newest is the last one's, not the count. */
const latestVersion = migrations[migrations.length - 1].version;
const nextVersion = latestVersion + 1;


let store: SqliteStore;
let dir: string;
let cleanup: () => Promise<void>;
let a: Client;
let b: Client;

beforeEach(async () => {
  ({ store, dir, cleanup } = openTemp());
  a = await store.clients.create('client-a');
  b = await store.clients.create('client-b');
});
afterEach(async () => cleanup());

/** A raw connection for checks the repositories do not expose. */
function raw(): Database.Database {
  return new Database(path.join(dir, DB_FILE_NAME), { readonly: true });
}
function count(table: string): number {
  const db = raw();
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('open', () => {
  it('uses WAL, an owner-only folder and file, and records the schema version', () => {
    const db = raw();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST);
    db.close();
    expect(store.schemaVersion()).toBe(LATEST);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
  });

  it('is idempotent on reopen: no migration runs twice, data is kept', async () => {
    await store.collections.create({ client: a.id, name: 'kept', description: '' });
    await store.close();
    for (let i = 0; i < 2; i++) {
      const again = openSqliteStore({ dataDir: dir });
      expect(again.schemaVersion()).toBe(LATEST);
      expect((await again.collections.list(a.id, { page: 1, limit: 10 })).items.map((c) => c.name)).toEqual(['kept']);
      await again.close();
    }
    const db = raw();
    expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual(migrations.map((m) => ({ version: m.version })));
    db.close();
    store = openSqliteStore({ dataDir: dir }); // for afterEach
  });

  it('upgrades a file made by an older build, step by step, keeping its data', async () => {
    const t = tempDir();
    const old = openSqliteStore({ dataDir: t.dir, migrations: migrations.slice(0, 1) });
    expect(old.schemaVersion()).toBe(1);
    const c = await old.clients.create('old');
    const col = await old.collections.create({ client: c.id, name: 'kept', description: '' });
    await old.close();
    // The person as that build wrote it (today's repositories also append to the change feed, a later table).
    const w = new Database(path.join(t.dir, DB_FILE_NAME));
    w.prepare("INSERT INTO face_persons (id, client_id, name, created_at, updated_at) VALUES ('p1', ?, 'Ann', 't', 't')").run(c.id);
    w.prepare("INSERT INTO face_person_collections (client_id, person_id, collection_id) VALUES (?, 'p1', ?)").run(c.id, col.id);
    w.close();
    const s = openSqliteStore({ dataDir: t.dir });
    expect(s.schemaVersion()).toBe(LATEST);
    const listed = await s.facePersons.list(c.id, { page: 1, limit: 10, collection: col.code });
    expect(listed).toMatchObject({ items: [{ id: 'p1', name: 'Ann', collections: [col.id] }], total: 1 });
    await s.close();
    const db = new Database(path.join(t.dir, DB_FILE_NAME), { readonly: true });
    expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'face_person_collections_by_collection'").get()).toEqual({
      sql: expect.stringContaining('(collection_id, person_id)'),
    });
    db.close();
    t.cleanup();
  });

  it('tolerates gaps in migration numbers: a migration numbered below one already applied still runs later', async () => {
    const t = tempDir();
    const base = migrations.slice(0, 3);
    const m10 = { version: 10, name: 'ten', sql: 'CREATE TABLE ten (x INTEGER)' };
    const m8 = { version: 8, name: 'eight', sql: 'CREATE TABLE eight (x INTEGER)' };
    const first = openSqliteStore({ dataDir: t.dir, migrations: [...base, m10] });
    expect(first.schemaVersion()).toBe(10);
    await first.close();
    // A later build knows 8 too (another branch's number, merged afterwards): it is applied, 10 is not re-run.
    const second = openSqliteStore({ dataDir: t.dir, migrations: [...base, m8, m10] });
    await second.close();
    const db = new Database(path.join(t.dir, DB_FILE_NAME), { readonly: true });
    expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual([1, 2, 3, 8, 10].map((version) => ({ version })));
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name IN ('eight', 'ten')").get()).toEqual({ n: 2 });
    db.close();
    // A build that lacks 10 refuses the file.
    expect(() => openSqliteStore({ dataDir: t.dir, migrations: [...base, m8] })).toThrow(/newer than this build/);
    expect(() => openSqliteStore({ dataDir: t.dir, migrations: [...base, m10, m8] })).toThrow(/increasing/);
    t.cleanup();
  });

  it('refuses a database from a newer build', async () => {
    await store.close();
    const db = new Database(path.join(dir, DB_FILE_NAME));
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(LATEST + 1, 'future', new Date().toISOString());
    db.close();
    expect(() => openSqliteStore({ dataDir: dir })).toThrow(/newer than this build/);
    store = openSqliteStore({ dataDir: dir, migrations: [...migrations, { version: LATEST + 1, name: 'future', sql: 'SELECT 1' }] });
  });

  it('applies a failing migration not at all', async () => {
    await store.close();
    const broken = [
      ...migrations,
      { version: LATEST + 1, name: 'half', sql: 'CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);' },
    ];
    expect(() => openSqliteStore({ dataDir: dir, migrations: broken })).toThrow(/no_such_table/);
    const db = raw();
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half_done'").get()).toEqual({ n: 0 });
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST);
    db.close();
    store = openSqliteStore({ dataDir: dir });
    expect(store.schemaVersion()).toBe(LATEST);
  });

  it('opens an explicit file path too', async () => {
    const t = tempDir();
    const s = openSqliteStore({ file: path.join(t.dir, 'nested', 'x.sqlite') });
    expect(s.file).toBe(path.join(t.dir, 'nested', 'x.sqlite'));
    expect(await s.healthy()).toBe(true);
    await s.close();
    expect(await s.healthy()).toBe(false);
    await expect(s.clients.list()).rejects.toThrow(/closed/);
    t.cleanup();
  });
});

describe('tenant isolation', () => {
  it('enforces tenancy in the schema itself: a membership row cannot cross clients', () => {
    const db = new Database(store.file);
    db.pragma('foreign_keys = ON');
    const colA = db.prepare("INSERT INTO collections VALUES ('c'||hex(randomblob(11)), ?, 'x', 'x', '', '', '') RETURNING id").get(a.id) as { id: string };
    const pB = db.prepare("INSERT INTO face_persons (id, client_id, name, created_at, updated_at) VALUES ('p1', ?, 'x', '', '') RETURNING id").get(b.id) as { id: string };
    expect(() => db.prepare('INSERT INTO face_person_collections VALUES (?, ?, ?)').run(b.id, pB.id, colA.id)).toThrow(/FOREIGN KEY/);
    db.close();
  });
});

describe('transactions', () => {
  it('runs transactions one at a time, in call order, even across awaits', async () => {
    const events: string[] = [];
    const run = (name: string, ms: number) =>
      store.transaction(async (tx) => {
        events.push(`${name}:start`);
        await tx.collections.create({ client: a.id, name, description: '' });
        await new Promise((r) => setTimeout(r, ms));
        events.push(`${name}:end`);
      });
    const slow = run('slow', 30);
    const failing = store.transaction(async () => {
      events.push('bad:start');
      throw new Error('x');
    });
    await Promise.all([slow, failing.catch(() => events.push('bad:failed')), run('fast', 0)]);
    expect(events.filter((e) => e !== 'bad:failed')).toEqual(['slow:start', 'slow:end', 'bad:start', 'fast:start', 'fast:end']);
    expect(events).toContain('bad:failed');
    expect((await store.collections.list(a.id, { page: 1, limit: 10 })).total).toBe(2);
  });

  it('queues writes made outside transactions behind an open one; reads see only committed data', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const tx = store.transaction(async (t) => {
      await t.collections.create({ client: a.id, name: 'in-tx', description: '' });
      await gate;
    });
    await new Promise((r) => setTimeout(r, 5));
    const outside = store.collections.create({ client: a.id, name: 'outside', description: '' });
    // The open transaction's row is invisible to readers outside it.
    expect((await store.collections.list(a.id, { page: 1, limit: 10 })).total).toBe(0);
    release();
    await tx;
    await outside;
    expect((await store.collections.list(a.id, { page: 1, limit: 10 })).items.map((c) => c.name)).toEqual(['outside', 'in-tx']);
  });

  it('rolls back a callback that runs past the timeout, and frees the lock for the next one', async () => {
    const s = openSqliteStore({ dataDir: dir, transactionTimeoutMs: 100 });
    let lateWrite: Promise<unknown> | undefined;
    await expect(
      s.transaction(async (tx) => {
        await tx.collections.create({ client: a.id, name: 'stuck', description: '' });
        await new Promise((r) => setTimeout(r, 300));
        lateWrite = tx.collections.create({ client: a.id, name: 'late', description: '' });
        await lateWrite;
      }),
    ).rejects.toThrow(/still running after 100 ms: rolled back/);
    await s.transaction(async (tx) => tx.collections.create({ client: a.id, name: 'next', description: '' }));
    await new Promise((r) => setTimeout(r, 350));
    await expect(lateWrite).rejects.toThrow(/already finished/);
    expect((await s.collections.list(a.id, { page: 1, limit: 10 })).items.map((c) => c.name)).toEqual(['next']);
    await s.close();
  });

  it('refuses the top-level store inside a transaction (it would deadlock) and a leaked tx afterwards', async () => {
    let leaked: Parameters<Parameters<typeof store.transaction>[0]>[0] | undefined;
    await expect(
      store.transaction(async (tx) => {
        leaked = tx;
        await store.collections.create({ client: a.id, name: 'x', description: '' });
      }),
    ).rejects.toThrow(/inside store.transaction/);
    await expect(store.transaction(async () => store.transaction(async () => 1))).rejects.toThrow(/inside store.transaction/);
    await expect(leaked!.collections.create({ client: a.id, name: 'late', description: '' })).rejects.toThrow(/already finished/);
    expect(count('collections')).toBe(0);
  });
});

describe('indexGeneration', () => {
  it('changes with every committed write to templates, face persons or memberships, and with nothing else', async () => {
    let last = await store.indexGeneration();
    const changed = async () => {
      const g = await store.indexGeneration();
      const moved = g !== last;
      last = g;
      return moved;
    };
    const c = await store.collections.create({ client: a.id, name: 'c', description: '' });
    await store.tokens.create({ client: a.id, hash: 'h', label: null, expiresAt: null });
    const r = await store.persons.create(recordInput(a.id));
    const p = await store.facePersons.create(personInput(a.id, 'Ann'));
    expect(await changed()).toBe(false); // a person without templates is not in the index
    await store.templates.add({ client: a.id, person: p.id, imageIndex: 0, modelVersion: 'm', embedding: embedding(1), thumbnail: null, quality: null });
    expect(await changed()).toBe(true);
    await store.facePersons.update(a.id, p.id, { name: 'Anne' });
    expect(await changed()).toBe(false);
    await store.facePersons.update(a.id, p.id, { collections: [c.id] });
    expect(await changed()).toBe(true);
    await store.collections.delete(a.id, c.id); // its memberships go with it
    expect(await changed()).toBe(true);
    await store.templates.deleteForPerson(a.id, p.id);
    expect(await changed()).toBe(true);
    await expect(
      store.transaction(async (tx) => {
        await tx.templates.add({ client: a.id, person: p.id, imageIndex: 0, modelVersion: 'm', embedding: embedding(2), thumbnail: null, quality: null });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await changed()).toBe(false);
    await store.facePersons.delete(a.id, p.id);
    expect(await changed()).toBe(true);
    await store.persons.delete(a.id, r.id);
    expect(await changed()).toBe(false);
  });
});

describe('iterateIndexEntries', () => {
  it('streams every face person once, in batches, with collections and exact templates', async () => {
    const s = openSqliteStore({ dataDir: dir, iterateBatchSize: 3 });
    const colA = await s.collections.create({ client: a.id, name: 'a', description: '' });
    const colA2 = await s.collections.create({ client: a.id, name: 'a2', description: '' });
    const colB = await s.collections.create({ client: b.id, name: 'b', description: '' });
    const expected = new Map<string, { client: string; collections: string[]; templates: number[] }>();
    for (let i = 0; i < 11; i++) {
      const client = i % 2 ? b.id : a.id;
      const cols = client === a.id ? (i % 4 === 0 ? [colA.id, colA2.id] : [colA.id]) : [colB.id];
      const p = await s.facePersons.create(personInput(client, `p${i}`, cols));
      const tids: number[] = [];
      for (let k = 0; k < i % 3; k++) {
        tids.push((await s.templates.add({ client, person: p.id, imageIndex: k, modelVersion: 'm', embedding: embedding(i * 10 + k), thumbnail: null, quality: null })).id);
      }
      expected.set(p.id, { client, collections: cols, templates: tids });
    }
    // Generic person records' templates are not face-search entries.
    const r = await s.persons.create(recordInput(a.id));
    await s.templates.add({ client: a.id, person: r.id, imageIndex: 0, modelVersion: 'm', embedding: embedding(99), thumbnail: null, quality: null });

    const seen = new Map<string, { client: string; collections: string[]; templates: number[] }>();
    for await (const e of s.templates.iterateIndexEntries()) {
      expect(seen.has(e.person)).toBe(false);
      seen.set(e.person, { client: e.client, collections: e.collections, templates: e.templates.map((t) => t.id) });
      for (const t of e.templates) {
        const idx = expected.get(e.person)!.templates.indexOf(t.id);
        const i = Number((await s.facePersons.get(e.client, e.person))!.name.slice(1));
        expect(Array.from(t.embedding)).toEqual(Array.from(embedding(i * 10 + idx)));
        expect(t.modelVersion).toBe('m');
      }
    }
    expect(seen).toEqual(expected);
    await s.close();
  });

  it('reads one snapshot: writes during the iteration do not show up half-way', async () => {
    const s = openSqliteStore({ dataDir: dir, iterateBatchSize: 2 });
    for (let i = 0; i < 6; i++) await s.facePersons.create(personInput(a.id, `p${i}`));
    let n = 0;
    for await (const _ of s.templates.iterateIndexEntries()) {
      if (n++ === 0) for (let i = 0; i < 6; i++) await s.facePersons.create(personInput(a.id, `late${i}`));
    }
    expect(n).toBe(6);
    let m = 0;
    for await (const _ of s.templates.iterateIndexEntries()) {
      if (++m === 3) break; // an abandoned iteration closes its connection
    }
    expect(m).toBe(3);
    await s.close();
  });

  it('yields nothing for an empty store', async () => {
    const got = [];
    for await (const e of store.templates.iterateIndexEntries()) got.push(e);
    expect(got).toEqual([]);
  });
});

describe('erasure', () => {
  /** Counts occurrences of `needle` in the database and its WAL. */
  function occurrences(needle: Buffer): number {
    let n = 0;
    for (const f of [store.file, `${store.file}-wal`]) {
      let buf: Buffer;
      try {
        buf = readFileSync(f);
      } catch {
        continue;
      }
      for (let i = buf.indexOf(needle); i !== -1; i = buf.indexOf(needle, i + 1)) n++;
    }
    return n;
  }

  it('leaves no copy of a deleted embedding or thumbnail in the database file or its WAL', async () => {
    const marker = Buffer.from('THUMBNAIL-MARKER-5f1c9e');
    const thumb = Buffer.concat([marker, Buffer.alloc(6000, 7), marker]);
    const emb = embedding(12345, 512);
    const embBytes = Buffer.from(emb.buffer, 0, 256);
    const p = await store.facePersons.create(personInput(a.id, 'Ann'));
    await store.templates.add({ client: a.id, person: p.id, imageIndex: 0, modelVersion: 'm', embedding: emb, thumbnail: thumb, quality: null });
    const r = await store.persons.create(recordInput(a.id));
    await store.templates.add({ client: a.id, person: r.id, imageIndex: 0, modelVersion: 'm', embedding: emb, thumbnail: thumb, quality: null });
    // Unrelated churn so that pages get reused and moved around.
    for (let i = 0; i < 20; i++) await store.collections.create({ client: a.id, name: `c${i}`, description: 'x'.repeat(500) });
    expect(occurrences(marker)).toBeGreaterThan(0); // the check can see the data when it is there
    expect(occurrences(embBytes)).toBeGreaterThan(0);

    await store.transaction(async (tx) => {
      await tx.facePersons.delete(a.id, p.id);
    });
    await store.templates.deleteForPerson(a.id, r.id);
    expect(occurrences(marker)).toBe(0);
    expect(occurrences(embBytes)).toBe(0);
  });

  it('does not stall on a reader holding an old snapshot, and finishes the erasure after it lets go', async () => {
    await store.close();
    store = openSqliteStore({ dataDir: dir, busyTimeoutMs: 3000, iterateBatchSize: 1 });
    const marker = Buffer.from('SNAPSHOT-MARKER-77ab01');
    const p = await store.facePersons.create(personInput(a.id, 'Ann'));
    await store.facePersons.create(personInput(a.id, 'Bob'));
    await store.templates.add({ client: a.id, person: p.id, imageIndex: 0, modelVersion: 'm', embedding: embedding(5), thumbnail: marker, quality: null });
    const it = store.templates.iterateIndexEntries()[Symbol.asyncIterator]();
    await it.next(); // the iteration's read transaction is open now
    const t0 = Date.now();
    await store.facePersons.delete(a.id, p.id);
    // A blocking checkpoint would wait the whole busy timeout (3 s) for a reader that cannot move meanwhile.
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(occurrences(marker)).toBeGreaterThan(0); // the snapshot still needs the old pages
    await it.return?.();
    await store.collections.create({ client: a.id, name: 'any write', description: '' });
    expect(occurrences(marker)).toBe(0);
  });
});
