// Frame posts to one liveness session, taken by two instances at once (one process, two instances: each its own
// store connection pool and its own copy of the domain module, so nothing in memory is shared, as between two
// processes). A's post is slow to write its frames (its transaction stays open 2 s), and B's post reaches the store
// meanwhile: B must wait for A's commit, then number its frames after A's and judge all six together. Without the
// transaction-scoped advisory lock B would count the frames before A's were committed, number its own from the
// same count, and the attempt would read as frames going back in time.
import os from 'node:os';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { DomainDeps } from '../../src/domain/deps.js';
import type { FaceEngine } from '../../src/face/types.js';
import { createFaceIndex } from '../../src/index/index.js';
import { openStore } from '../../src/store/open.js';
import type { Repos, Store } from '../../src/domain/ports.js';
import { newEngine } from '../support/parts.js';
import { faceJpeg } from '../support/photos.js';
import { describePostgres, useTestDatabase } from '../support/postgres.js';

type SessionsModule = typeof import('../../src/domain/livenessSessions.js');

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** The store, whose transactions wait 2 s before writing a session's frames. */
function slowFrameWrites(store: Store): Store {
  const slow: Store = Object.create(store);
  slow.transaction = (fn) =>
    store.transaction((tx) => {
      const frames: Repos['livenessSessions'] = Object.create(tx.livenessSessions);
      frames.addFrames = async (...args) => {
        await sleep(2000);
        return tx.livenessSessions.addFrames(...args);
      };
      return fn({ ...tx, livenessSessions: frames });
    });
  return slow;
}

describePostgres('liveness-session frame posts across instances', () => {
  const db = useTestDatabase('session_frames');
  let engine: FaceEngine & { close(): Promise<void> };
  const stores: Store[] = [];
  const instances: { deps: DomainDeps; sessions: SessionsModule }[] = [];

  beforeAll(async () => {
    engine = newEngine();
    await engine.ready();
    // B's engine answers a little late (its post reaches the store after A's has started writing)…
    const late: FaceEngine = Object.create(engine);
    late.analyze = async (images, opts) => {
      const r = await engine.analyze(images, opts);
      await sleep(300);
      return r;
    };
    for (const [i, e] of [engine, late].entries()) {
      const opened = await openStore({ databaseUrl: db.url(), dataDir: os.tmpdir() });
      stores.push(opened);
      // …and A's transaction writes its frames 2 s late, holding the transaction open.
      const store = i === 0 ? slowFrameWrites(opened) : opened;
      vi.resetModules(); // a fresh copy of the domain module per instance, as in another process
      const sessions = (await import('../../src/domain/livenessSessions.js')) as SessionsModule;
      const deps: DomainDeps = { store, engine: e, index: createFaceIndex({ dim: engine.dim }), settings: { personVerificationTtlMs: 3600_000, livenessMinScore: 0.5 } };
      instances.push({ deps, sessions });
    }
  }, 120_000);
  afterAll(async () => {
    for (const s of stores) await s.close();
    await engine?.close();
  });

  it('two instances posting at once: the later post numbers its frames after the earlier one, and the attempt holds all six in order', async () => {
    const [a, b] = instances;
    const client = await a.deps.store.clients.create('frames');
    const created = await a.sessions.createSession(a.deps, client.id, { steps: ['turn_right', 'smile'] });
    const id = created.session.id;
    const image = { field: 'image', bytes: new Uint8Array(await faceJpeg('s1c')) };
    const batch = (from: number) => [0, 1, 2].map((k) => ({ image, timestampMs: from + k * 60 }));
    const [ra, rb] = await Promise.all([a.sessions.postFrames(a.deps, client.id, id, batch(0)), b.sessions.postFrames(b.deps, client.id, id, batch(180))]);
    expect(ra.framesReceived).toBe(3);
    expect({ status: rb.session.status, frames: rb.framesReceived, failure: (rb.result as { failure?: unknown } | null)?.failure }).toEqual({
      status: 'IN_PROGRESS',
      frames: 6,
      failure: undefined,
    });
    const frames = await a.deps.store.livenessSessions.listFrames(client.id, id, { attempt: 0 });
    expect(frames.map((f) => [f.seq, f.timestampMs])).toEqual([0, 60, 120, 180, 240, 300].map((ms, seq) => [seq, ms]));
  }, 60_000);
});
