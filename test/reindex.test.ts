// The model-upgrade path on a database written by the previous release (test/fixtures/v1-release.db, 128-d
// face-api templates): the server skips the old templates (never compared with new probes), re-embeds them from
// the stored face images with the current model, and the persons are found again by photo.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebuildIndex, startBackgroundReindex, createLogger } from '../src/app.js';
import { runCli } from '../src/cli.js';
import { reindexTemplates } from '../src/domain/reindex.js';
import { createFaceEngine } from '../src/face/index.js';
import type { FaceEngine } from '../src/face/types.js';
import { PREVIOUS_MODEL_VERSIONS } from '../src/face/version.js';
import { createFaceIndex } from '../src/index/index.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import { repoRoot } from './support/harness.js';
import { faceJpeg } from './support/photos.js';

const FIXTURE = path.join(repoRoot, 'test/fixtures/v1-release.db');
const PERSONS = { s1a: '717311f3a5a03400658271e8', s4a: 'c3df7a506893caaa4383120b', s5a: 'bb4bd0e0aa63a6cf29a3c72d' } as const;

async function v1DataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'facegate-v1-'));
  await copyFile(FIXTURE, path.join(dir, 'facegate.db'));
  return dir;
}

describe('model upgrade: a database of the previous release', () => {
  let engine: FaceEngine;
  const dirs: string[] = [];
  beforeAll(async () => {
    engine = createFaceEngine({ workers: 1 });
    await engine.ready();
  }, 120_000);
  afterAll(async () => {
    await engine.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('skips old templates, re-embeds them from the stored faces, and finds each person by a new photo', async () => {
    const dir = await v1DataDir();
    dirs.push(dir);
    const store = openSqliteStore({ dataDir: dir });
    const index = createFaceIndex({ dim: engine.dim });
    const before = await rebuildIndex(store, index, engine.modelVersion);
    expect(before).toMatchObject({ persons: 0, templates: 0, skipped: 3 });
    expect(await store.templates.countStale(engine.modelVersion)).toBe(4); // 3 face persons + 1 generic record
    const old = (await store.templates.listStale(engine.modelVersion, 0, 10))[0];
    expect(PREVIOUS_MODEL_VERSIONS).toContain(old.modelVersion);
    expect(old.embedding.length).toBe(128);

    const lines: string[] = [];
    const job = startBackgroundReindex(store, engine, index, createLogger({ logLevel: 'info' }, { write: (l: string) => void lines.push(l) }));
    const res = await job.done;
    expect(res).toMatchObject({ total: 4, reembedded: 3, failed: 1 });
    // The generic record was stored without a face image by that release: it is named, for re-enrolment.
    expect(res!.failures).toEqual([expect.objectContaining({ person: 'person_27d309f5f89290ed78b978e8', reason: 'no_stored_face_image' })]);
    expect(lines.join('\n')).not.toMatch(/Person One|Rec|Ord/); // ids only in logs
    expect(await store.templates.countStale(engine.modelVersion)).toBe(1);

    const client = (await store.facePersons.get((await store.clients.list())[0].id, PERSONS.s1a))!.client;
    for (const [face, id] of Object.entries(PERSONS)) {
      const t = await store.templates.listForPerson(client, id);
      expect(t[0].modelVersion).toBe(engine.modelVersion);
      expect(t[0].embedding.length).toBe(engine.dim);
      // A fresh photo of the same face (the original cut, never stored) finds the re-embedded person first.
      const probe = (await engine.analyze([await faceJpeg(face as keyof typeof PERSONS)])).images[0].faces[0].embedding;
      const hits = index.search(client, probe, { mode: 'ACCURATE', k: 3 });
      expect(hits[0].person).toBe(id);
      expect(engine.scoreFromCosine(hits[0].similarity)).toBeGreaterThan(0.8);
      if (hits[1]) expect(engine.scoreFromCosine(hits[1].similarity)).toBeLessThan(0.5);
    }
    // A restart sees every face person's template as current.
    const again = await rebuildIndex(store, createFaceIndex({ dim: engine.dim }), engine.modelVersion);
    expect(again).toMatchObject({ persons: 3, templates: 3, skipped: 0 });
    await store.close();
  }, 300_000);

  it('is resumable: a run stopped after one step leaves the rest for the next run', async () => {
    const dir = await v1DataDir();
    dirs.push(dir);
    const store = openSqliteStore({ dataDir: dir });
    const abort = new AbortController();
    const first = await reindexTemplates(store, engine, { batch: 1, signal: abort.signal, onProgress: () => abort.abort() });
    expect(first.done).toBe(1);
    const second = await reindexTemplates(store, engine, { batch: 2 });
    expect(second).toMatchObject({ total: 3, reembedded: 2, failed: 1 });
    await store.close();
  }, 300_000);

  it('npm run cli -- reindex: progress on stderr, a summary naming what failed, exit 1 while something is left', async () => {
    const dir = await v1DataDir();
    dirs.push(dir);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['reindex', '--workers', '1'], { env: { DATA_DIR: dir }, out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(code).toBe(1);
    expect(err.at(-1)).toMatch(/^\[#+\] 100% 4\/4, 0m00s left, 1 failed$/);
    expect(out[0]).toMatch(/^re-embedded 3 of 4 templates with .*; 1 failed$/);
    expect(out[1]).toMatch(/person_27d309f5f89290ed78b978e8 .*no stored face image: re-enrol this person/);
    // Nothing left that can be done: a second run has nothing to do but the one it cannot.
    const again: string[] = [];
    expect(await runCli(['reindex'], { env: { DATA_DIR: dir }, out: (l) => again.push(l), err: () => {} })).toBe(1);
    expect(again[0]).toMatch(/^re-embedded 0 of 1 templates/);
  }, 300_000);
});
