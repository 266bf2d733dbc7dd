// The liveness-session repository on a real SQLite file: tenant scoping, conditional updates (single use), frame
// pruning and expiry, and survival across a reopen.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/store.js';
import type { Client, NewLivenessSession } from '../../src/store/types.js';
import { embedding, openTemp } from './helpers.js';

let t: ReturnType<typeof openTemp>;
let store: SqliteStore;
let a: Client, b: Client;

beforeEach(async () => {
  t = openTemp();
  store = t.store;
  a = await store.clients.create('a');
  b = await store.clients.create('b');
});
afterEach(async () => t.cleanup());

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

describe('liveness sessions', () => {
  it('are scoped to their tenant and survive a reopen', async () => {
    const s = await store.livenessSessions.create(session(a.id, 'a'.repeat(24)));
    expect(s).toMatchObject({ status: 'CREATED', steps: ['turn_left', 'smile'], failedAttempts: 0, result: null, consumedAt: null });
    expect(await store.livenessSessions.get(b.id, s.id)).toBeNull();
    expect(await store.livenessSessions.update(b.id, s.id, { status: 'FAILED' }, ['CREATED'])).toBeNull();
    await store.close();
    store = openSqliteStore({ dataDir: t.dir });
    t.store = store;
    expect(await store.livenessSessions.get(a.id, s.id)).toEqual(s);
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
    expect(frames[2].image).toEqual(new Uint8Array([2, 1, 2]));
    expect(await store.livenessSessions.listFrames(b.id, s.id)).toEqual([]);
    await store.livenessSessions.pruneFrames(a.id, s.id, [{ id: frames[1].id, role: 'reference' }]);
    const kept = await store.livenessSessions.listFrames(a.id, s.id, { roles: true });
    expect(kept.map((f) => [f.seq, f.role])).toEqual([[1, 'reference']]);
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
