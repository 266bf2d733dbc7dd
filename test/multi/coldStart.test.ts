// Start-up of an instance on a populated store: templates stream in with progress logged, the index answers
// exactly as soon as they are loaded (graphs deferred), the feed position read before the load is returned for
// the follower, and the graphs are then built in the background. A real SQLite store; the same code path runs on
// PostgreSQL in test/multi/instances.test.ts (every restart there is a cold start).
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGraphsInBackground, createLogger, rebuildIndex } from '../../src/app.js';
import { createFaceIndex } from '../../src/index/index.js';
import { FaceLikeGenerator } from '../index/synthetic.js';
import { openTemp, personInput } from '../store/helpers.js';

const DIM = 32;

describe('cold start', () => {
  const t = openTemp();
  afterAll(() => t.cleanup());

  it('logs progress, answers exactly once loaded, then builds the graphs in the background', async () => {
    const gen = new FaceLikeGenerator({ dim: DIM, seed: 11 });
    const client = await t.store.clients.create('acme');
    const centres: Float32Array[] = [];
    const ids: string[] = [];
    await t.store.transaction(async (tx) => {
      for (let i = 0; i < 1500; i++) {
        const c = gen.identity();
        const p = await tx.facePersons.create(personInput(client.id, `P${i}`));
        await tx.templates.add({ client: client.id, person: p.id, imageIndex: 0, modelVersion: 'm', embedding: c, thumbnail: null, quality: null });
        centres.push(c);
        ids.push(p.id);
      }
    });
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    });
    const log = createLogger({ logLevel: 'info' }, sink);
    const index = createFaceIndex({ dim: DIM, annMinSize: 500, rows: 'f32' });
    const res = await rebuildIndex(t.store, index, 'm', { deferGraphs: true, log, progressMs: 0 });
    expect(res).toMatchObject({ persons: 1500, templates: 1500, cursor: await t.store.changes.latest() });
    const progress = lines.filter((l) => l.msg === 'loading templates into the vector index');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[progress.length - 1]).toMatchObject({ total: 1500 });
    // Templates never reach the log.
    expect(JSON.stringify(lines)).not.toMatch(/"embedding"|\[-?\d\.\d+,/);

    expect(index.graphsPending).toBe(true);
    const g0 = index.searchPaths().graph;
    expect(index.search(client.id, centres[7], { mode: 'ACCURATE', k: 1 })[0].person).toBe(ids[7]);
    expect(index.search(client.id, centres[8], { mode: 'FAST', k: 1 })[0].person).toBe(ids[8]);
    expect(index.searchPaths().graph).toBe(g0); // FAST was exact: no graph yet

    await buildGraphsInBackground(index, log);
    expect(index.graphsPending).toBe(false);
    expect(lines.some((l) => l.msg === 'search graphs built; FAST searches use them')).toBe(true);
    expect(index.search(client.id, centres[9], { mode: 'FAST', k: 1 })[0].person).toBe(ids[9]);
    expect(index.searchPaths().graph).toBeGreaterThan(g0);
    index.close();
  });
});
