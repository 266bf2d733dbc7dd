// The change-feed follower against real stores: a writer store and a follower's own store on the same database
// (SQLite file here; PostgreSQL when FACEGATE_TEST_DATABASE_URL is set, where wake-ups come from LISTEN/NOTIFY).
// The follower's index must end up holding exactly what the store holds, whatever wake-ups it missed.
import { afterEach, describe, expect, it } from 'vitest';
import { IndexFollower, type FollowedStore } from '../../src/domain/indexFollower.js';
import { createFaceIndex, type TenantedIndex } from '../../src/index/index.js';
import os from 'node:os';
import { openStore } from '../../src/store/open.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/domain/ports.js';
import { FaceLikeGenerator } from '../index/synthetic.js';
import { personInput, tempDir } from '../store/helpers.js';
import { createTestDatabase, PG_TEST_URL } from '../support/postgres.js';

const DIM = 32;
const MODEL = 'm1';

interface Pair {
  writer: Store;
  reader: Store;
  close(): Promise<void>;
}

async function sqlitePair(): Promise<Pair> {
  const t = tempDir('facegate-follower-');
  const writer = openSqliteStore({ dataDir: t.dir });
  const reader = openSqliteStore({ dataDir: t.dir });
  return {
    writer,
    reader,
    async close() {
      await reader.close();
      await writer.close();
      t.cleanup();
    },
  };
}

async function postgresPair(): Promise<Pair> {
  const db = await createTestDatabase('follower');
  // The writer first: it applies the migrations.
  const writer = await openStore({ databaseUrl: db.url, dataDir: os.tmpdir() });
  const reader = await openStore({ databaseUrl: db.url, dataDir: os.tmpdir() });
  return {
    writer,
    reader,
    async close() {
      await reader.close();
      await writer.close();
      await db.drop();
    },
  };
}

const backends: [string, () => Promise<Pair>][] = [['sqlite', sqlitePair]];
if (PG_TEST_URL) backends.push(['postgres', postgresPair]);

describe.each(backends)('index follower on %s', (_name, open) => {
  let pair: Pair;
  let follower: IndexFollower | null = null;
  let index: TenantedIndex;
  const gen = new FaceLikeGenerator({ dim: DIM, seed: 3 });

  afterEach(async () => {
    await follower?.stop();
    follower = null;
    index?.close();
    await pair?.close();
  });

  async function setup(opts: { pollMs?: number; batch?: number; from?: number } = {}) {
    pair = await open();
    index = createFaceIndex({ dim: DIM });
    const client = await pair.writer.clients.create('acme');
    const col = await pair.writer.collections.create({ client: client.id, name: 'staff', description: '' });
    follower = new IndexFollower({
      store: pair.reader as FollowedStore,
      index,
      modelVersion: MODEL,
      from: opts.from ?? (await pair.reader.changes.latest()),
      pollMs: opts.pollMs ?? 50,
      batch: opts.batch,
    });
    return { client: client.id, col: col.id };
  }

  async function enrol(client: string, collections: string[], vector: Float32Array, modelVersion = MODEL) {
    return pair.writer.transaction(async (tx) => {
      const p = await tx.facePersons.create(personInput(client, 'Someone', collections));
      await tx.templates.add({ client, person: p.id, imageIndex: 0, modelVersion, embedding: vector, thumbnail: null, quality: null });
      return p.id;
    });
  }

  const top = (client: string, v: Float32Array, collection?: string) => index.search(client, v, { mode: 'ACCURATE', k: 1, collection })[0]?.person;

  async function eventually(check: () => boolean, ms = 3000) {
    const t0 = Date.now();
    while (!check()) {
      if (Date.now() - t0 > ms) throw new Error('the follower did not apply the change in time');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('applies enrolments, collection changes and erasures written through another store handle', async () => {
    const { client, col } = await setup();
    await follower!.start();
    const v = gen.identity();
    const id = await enrol(client, [col], v);
    await eventually(() => top(client, v) === id);
    expect(top(client, v, col)).toBe(id);

    const other = await pair.writer.collections.create({ client, name: 'other', description: '' });
    await pair.writer.facePersons.update(client, id, { collections: [other.id] });
    await eventually(() => top(client, v, other.id) === id);
    expect(top(client, v, col)).toBeUndefined();

    await pair.writer.collections.delete(client, other.id);
    await eventually(() => top(client, v, other.id) === undefined);
    expect(top(client, v)).toBe(id);

    await pair.writer.facePersons.delete(client, id);
    await eventually(() => top(client, v) === undefined);
    expect(index.size()).toBe(0);
  });

  it('misses no change without any wake-up: catchUp() reads by seq, in small batches, and skips other model versions', async () => {
    const { client, col } = await setup({ pollMs: 3_600_000, batch: 3 });
    // No start(): no subscription, no timer. Everything arrives by catch-up alone.
    const vectors = Array.from({ length: 20 }, () => gen.identity());
    const ids: string[] = [];
    for (const v of vectors) ids.push(await enrol(client, [col], v));
    const stale = await enrol(client, [col], gen.identity(), 'older-model');
    for (const id of ids.slice(0, 5)) await pair.writer.facePersons.delete(client, id);
    await follower!.catchUp();
    expect(follower!.cursor).toBe(await pair.writer.changes.latest());
    for (let i = 5; i < 20; i++) expect(top(client, vectors[i])).toBe(ids[i]);
    for (let i = 0; i < 5; i++) expect(top(client, vectors[i])).not.toBe(ids[i]);
    // 15 live persons of this model version; the erased five and the other version's template are not indexed.
    expect(index.size(client)).toBe(15);
    expect(await pair.writer.facePersons.get(client, stale)).not.toBeNull();
  });

  it('a restart from an earlier cursor re-applies changes harmlessly (idempotent)', async () => {
    const { client, col } = await setup({ from: 0 });
    const v = gen.identity();
    const id = await enrol(client, [col], v);
    await follower!.catchUp();
    await follower!.stop();
    follower = new IndexFollower({ store: pair.reader as FollowedStore, index, modelVersion: MODEL, from: 0, pollMs: 3_600_000 });
    await follower.catchUp();
    expect(index.size(client)).toBe(1);
    expect(top(client, v)).toBe(id);
  });
});
