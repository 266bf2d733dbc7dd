// Start-up: the vector index is rebuilt from the store, reusing the ANN graphs saved at the last shutdown only
// when nothing was written since (src/app.ts rebuildIndex / saveIndexSnapshot, docs/index.md).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rebuildIndex, saveIndexSnapshot } from '../src/app.js';
import { createFaceIndex } from '../src/index/index.js';
import type { SqliteStore } from '../src/store/sqlite.js';
import { openTemp, personInput } from './store/helpers.js';

const DIM = 128;
// Small enough that a tenant of a few hundred faces gets a graph (the default waits for 20 000 templates).
const newIndex = () => createFaceIndex({ dim: DIM, annMinSize: 200, annBatch: 50, expansionSearch: 64 });

function unit(seed: number): Float32Array {
  let x = seed * 2654435761 % 4294967296;
  const v = new Float32Array(DIM);
  let n = 0;
  for (let i = 0; i < DIM; i++) {
    x = (x * 1664525 + 1013904223) % 4294967296;
    v[i] = x / 4294967296 - 0.5;
    n += v[i] * v[i];
  }
  for (let i = 0; i < DIM; i++) v[i] /= Math.sqrt(n);
  return v;
}

let store: SqliteStore;
let dir: string;
let cleanup: () => Promise<void>;
let client: string;
let snapshotDir: string;

beforeEach(async () => {
  ({ store, dir, cleanup } = openTemp());
  snapshotDir = path.join(dir, 'index-snapshot');
  client = (await store.clients.create('tenant')).id;
  for (let i = 0; i < 300; i++) {
    const p = await store.facePersons.create(personInput(client, `p${i}`));
    await store.templates.add({ client, person: p.id, imageIndex: 0, modelVersion: 'm', embedding: unit(i), thumbnail: null, quality: null });
  }
});
afterEach(async () => cleanup());

const top = (index: ReturnType<typeof newIndex>, seed: number) => index.search(client, unit(seed), { mode: 'FAST', k: 3 }).map((h) => h.person);

describe('index start-up', () => {
  it('reuses the saved graphs when the store is unchanged, then deletes them', async () => {
    const first = newIndex();
    expect(await rebuildIndex(store, first, 'm', { snapshotDir })).toMatchObject({ persons: 300, templates: 300, restored: false });
    expect((await saveIndexSnapshot(store, first, snapshotDir)).templates).toBe(300);
    // Owner-only: the graphs hold int8 copies of the templates.
    for (const f of readdirSync(snapshotDir, { recursive: true, withFileTypes: true })) {
      expect(statSync(path.join(f.parentPath ?? f.path, f.name)).mode & 0o077).toBe(0);
    }
    expect(statSync(snapshotDir).mode & 0o077).toBe(0);

    const second = newIndex();
    expect(await rebuildIndex(store, second, 'm', { snapshotDir })).toMatchObject({ persons: 300, restored: true });
    expect(existsSync(snapshotDir)).toBe(false); // int8 copies of templates do not stay on disk while we run
    expect(second.searchPaths().graph).toBe(0);
    for (const seed of [0, 17, 299]) expect(top(second, seed)).toEqual(top(first, seed));
    expect(second.searchPaths().graph).toBeGreaterThan(0); // answered by the restored graph
  });

  it('rebuilds instead when anything was written after the save', async () => {
    const first = newIndex();
    await rebuildIndex(store, first, 'm', { snapshotDir });
    await saveIndexSnapshot(store, first, snapshotDir);
    const late = await store.facePersons.create(personInput(client, 'late'));
    await store.templates.add({ client, person: late.id, imageIndex: 0, modelVersion: 'm', embedding: unit(1000), thumbnail: null, quality: null });

    const second = newIndex();
    expect(await rebuildIndex(store, second, 'm', { snapshotDir })).toMatchObject({ persons: 301, restored: false });
    // Exact search: what is checked is that the rebuild holds the late person (FAST's recall on uniform random
    // vectors is not this test's subject, and a multi-threaded graph build is not deterministic).
    expect(second.search(client, unit(1000), { mode: 'ACCURATE', k: 1 })[0].person).toBe(late.id);
  });

  it('skips templates of another model version', async () => {
    const p = await store.facePersons.create(personInput(client, 'old'));
    await store.templates.add({ client, person: p.id, imageIndex: 0, modelVersion: 'old-model', embedding: unit(5000), thumbnail: null, quality: null });
    expect(await rebuildIndex(store, newIndex(), 'm')).toMatchObject({ persons: 300, templates: 300, skipped: 1, restored: false });
  });
});
