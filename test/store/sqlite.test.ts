import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, UnknownReferenceError } from '../../src/domain/errors.js';
import { OBJECT_ID_RE } from '../../src/store/ids.js';
import { migrations } from '../../src/store/migrations/index.js';

/** The newest schema version (versions may have gaps, so not migrations.length). */
const LATEST = migrations[migrations.length - 1].version;
import { DB_FILE_NAME, openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { Client } from '../../src/store/types.js';
import { embedding, openTemp, personInput, tempDir } from './helpers.js';

/** Versions may skip numbers (branches merged out of order), so the newest is the last one's, not the count. */
const latestVersion = migrations[migrations.length - 1].version;
const nextVersion = latestVersion + 1;

const UUID_V4_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

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
    const p = await old.facePersons.create(personInput(c.id, 'Ann', [col.id]));
    await old.close();
    const s = openSqliteStore({ dataDir: t.dir });
    expect(s.schemaVersion()).toBe(LATEST);
    expect(await s.facePersons.list(c.id, { page: 1, limit: 10, collection: col.code })).toEqual({ items: [p], total: 1 });
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
    expect(count('face_person_collections')).toBe(0);
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
    expect(count('face_persons')).toBe(0);
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
    expect(count('face_templates')).toBe(1);
    expect(count('face_thumbnails')).toBe(1);
    expect(await store.facePersons.delete(a.id, p.id)).toBe(true);
    expect(await store.facePersons.delete(a.id, p.id)).toBe(false);
    expect(await store.facePersons.get(a.id, p.id)).toBeNull();
    for (const t of ['face_persons', 'face_person_collections', 'face_templates', 'face_thumbnails']) expect(count(t)).toBe(0);
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
    expect(count('face_templates')).toBe(0);
    expect(count('face_thumbnails')).toBe(0);
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

function recordInput(client: string) {
  return {
    client,
    firstName: 'John',
    lastName: 'Doe',
    email: 'john@example.com',
    phone: '+1234567890',
    dateOfBirth: '1990-01-15',
    documentType: 'passport',
    documentNumber: '123456789',
    livenessScore: null,
    verificationStatus: 'pending' as const,
  };
}

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
    await expect(store.persons.update(a.id, r.id, { verificationStatus: 'bogus' as never })).rejects.toThrow(/CHECK/);
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
    expect(count('collections')).toBe(0);
    expect(count('face_persons')).toBe(1);
    expect(count('face_person_collections')).toBe(0);
    expect(count('face_templates')).toBe(0);
    expect(count('face_thumbnails')).toBe(0);
    expect(count('person_records')).toBe(0);
    expect(count('tokens')).toBe(0);
    expect(await store.facePersons.get(a.id, existing.id)).toEqual(existing);
  });

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

  it('keeps going after a conflict the callback handles (savepoint), and commits the rest', async () => {
    await store.collections.create({ client: a.id, name: 'x', description: '', code: 'dup' });
    await store.transaction(async (tx) => {
      await tx.collections.create({ client: a.id, name: 'y', description: '' });
      await expect(tx.collections.create({ client: a.id, name: 'z', description: '', code: 'dup' })).rejects.toBeInstanceOf(ConflictError);
      await tx.collections.create({ client: a.id, name: 'w', description: '' });
    });
    expect((await store.collections.list(a.id, { page: 1, limit: 10 })).items.map((c) => c.name).sort()).toEqual(['w', 'x', 'y']);
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
