// Erasure in one place (src/domain/erasure.ts), on both backends: a person enrolled with a recognisable embedding
// and face crop is found on disk (the check can see the bytes), erased through the use case the API calls, and then
// its bytes are in no file of the database: SQLite's database and WAL; PostgreSQL's biometric tables and their TOAST
// (read from the server's data directory when this machine can read it). The index's own copies (float file,
// snapshots) are searched by test/index/erasure.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERASED_COPIES, erasePerson } from '../../src/domain/erasure.js';
import { NotFoundError } from '../../src/domain/errors.js';
import { createFaceIndex } from '../../src/index/index.js';
import { openPgStore } from '../../src/store/postgres/store.js';
import type { Store } from '../../src/domain/ports.js';
import { embedding, openTemp, personInput, recordInput } from '../store/helpers.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/postgres.js';

const DIM = 128;

/** Enrols a face person and a person record, each with a template whose bytes are recognisable on disk. */
async function enrolMarked(store: Store, index: ReturnType<typeof createFaceIndex>, tag: string) {
  const client = (await store.clients.create(`erasure-${tag}`)).id;
  const marker = Buffer.from(`ERASE-ME-${tag}-7c1d`);
  const thumbnail = Buffer.concat([marker, Buffer.alloc(3000, 7), marker]);
  const emb = embedding(4242, DIM);
  const face = await store.facePersons.create(personInput(client, 'To Be Erased'));
  const t = await store.templates.add({ client, person: face.id, imageIndex: 0, modelVersion: 'm', embedding: emb, thumbnail, quality: null });
  index.upsertPerson({ client, person: face.id, collections: [], templates: [{ id: t.id, vector: emb }] });
  const record = await store.persons.create(recordInput(client));
  await store.templates.add({ client, person: record.id, imageIndex: 0, modelVersion: 'm', embedding: emb, thumbnail, quality: null });
  // Churn, so pages are shared with rows that stay.
  for (let i = 0; i < 10; i++) {
    const other = await store.facePersons.create(personInput(client, `Stays ${i}`));
    await store.templates.add({ client, person: other.id, imageIndex: 0, modelVersion: 'm', embedding: embedding(i, DIM), thumbnail: Buffer.alloc(3000, i), quality: null });
  }
  return { client, face: face.id, record: record.id, marker, embBytes: Buffer.from(emb.buffer, 0, 256) };
}

function count(files: string[], needle: Buffer): number {
  let n = 0;
  for (const f of files) {
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

it('the domain owns the contracts it calls: no file of src/domain imports from src/store or src/http', () => {
  const dir = new URL('../../src/domain/', import.meta.url);
  const offenders = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [...readFileSync(new URL(f, dir), 'utf8').matchAll(/from '(\.\.\/(?:store|http)\/[^']+)'/g)].map((m) => `${f}: ${m[1]}`));
  expect(offenders).toEqual([]);
});

it('names every copy it clears', () => {
  expect(ERASED_COPIES.length).toBeGreaterThanOrEqual(7);
  for (const copy of ['store rows', 'SQLite', 'PostgreSQL', 'change feed', 'vector index', 'followers', 'snapshots']) {
    expect(ERASED_COPIES.some((c) => c.includes(copy)), copy).toBe(true);
  }
});

describe('SQLite', () => {
  it('leaves no byte of the erased face in the database file or its WAL; the index no longer finds it', async () => {
    const { store, cleanup } = openTemp();
    try {
      const index = createFaceIndex({ dim: DIM });
      const m = await enrolMarked(store, index, 'sqlite');
      const files = [store.file, `${store.file}-wal`];
      expect(count(files, m.marker)).toBeGreaterThan(0);
      expect(count(files, m.embBytes)).toBeGreaterThan(0);
      const feedBefore = await store.changes.latest();
      await erasePerson({ store, index }, m.client, 'face_person', m.face);
      await erasePerson({ store, index }, m.client, 'person_record', m.record);
      expect(count(files, m.marker)).toBe(0);
      expect(count(files, m.embBytes)).toBe(0);
      expect(index.search(m.client, embedding(4242, DIM), { mode: 'ACCURATE', k: 5 }).map((h) => h.person)).not.toContain(m.face);
      expect((await store.changes.since(feedBefore, 10)).map((c) => c.person)).toContain(m.face);
      await expect(erasePerson({ store, index }, m.client, 'face_person', m.face)).rejects.toBeInstanceOf(NotFoundError);
    } finally {
      await cleanup();
    }
  });
});

describePostgres('PostgreSQL', () => {
  let db: TestDatabase;
  let store: Store;
  let admin: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase('erasure');
    store = await openPgStore({ connectionString: db.url, poolSize: 2 });
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await store?.close();
    await db?.drop();
  });

  /** The files of the biometric tables and their TOAST, when this machine can read the server's data directory. */
  async function biometricFiles(): Promise<string[] | null> {
    try {
      const dir = (await admin.query('SHOW data_directory')).rows[0].data_directory as string;
      const { rows } = await admin.query(
        `SELECT pg_relation_filepath(c.oid) AS f FROM pg_class c
          WHERE c.relname IN ('face_templates', 'face_thumbnails')
             OR c.oid IN (SELECT reltoastrelid FROM pg_class WHERE relname IN ('face_templates', 'face_thumbnails'))`,
      );
      const files = rows.map((r) => `${dir}/${r.f as string}`);
      readFileSync(files[0]);
      return files;
    } catch {
      return null;
    }
  }

  it("leaves no byte of the erased face in the biometric tables' files once the erasure's VACUUM ran", async () => {
    const index = createFaceIndex({ dim: DIM });
    const m = await enrolMarked(store, index, 'pg');
    await admin.query('CHECKPOINT');
    const files = await biometricFiles();
    // The check can see the bytes while they are there.
    if (files) expect(count(files, m.marker) + count(files, m.embBytes)).toBeGreaterThan(0);
    await erasePerson({ store, index }, m.client, 'face_person', m.face);
    await erasePerson({ store, index }, m.client, 'person_record', m.record);
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM face_templates WHERE face_person_id = $1 OR person_record_id = $2', [m.face, m.record]);
    expect(rows[0].n).toBe(0);
    expect(index.search(m.client, embedding(4242, DIM), { mode: 'ACCURATE', k: 5 }).map((h) => h.person)).not.toContain(m.face);
    if (!files) {
      console.warn('PostgreSQL data directory not readable from here: the on-disk check of the erasure is skipped');
      return;
    }
    // The store vacuums within 2 s of the commit; a checkpoint writes the pruned pages. Poll, generously.
    const deadline = Date.now() + 60_000;
    let left = Infinity;
    while (Date.now() < deadline) {
      await admin.query('CHECKPOINT');
      left = count(files, m.marker) + count(files, m.embBytes);
      if (left === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(left).toBe(0);
  });
});
