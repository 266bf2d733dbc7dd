// Fair sharing: the engine pool serves tenants' queues in turn, a tenant's own queue is bounded, and tokens are
// rate-limited (429 + Retry-After). Real engine (one worker, so the queue is what decides), real SQLite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { faceBase64, faceJpeg } from '../support/photos.js';
import { newEngine, newIndex } from '../support/parts.js';

let engine: WorkerFaceEngine;

beforeAll(async () => {
  engine = newEngine({ queueLimit: 6, tenantQueueLimit: 3 });
  await engine.ready();
});

afterAll(async () => {
  await engine?.close();
});

describe('engine pool: round-robin across tenants', () => {
  it('a tenant arriving behind another tenant\'s backlog is served next, not last', async () => {
    const img = await faceJpeg('s6a');
    const done: string[] = [];
    const run = (tenant: string, n: number) => engine.analyze([img], { tenant }).then(() => done.push(`${tenant}${n}`));
    const jobs = [run('a', 1), run('a', 2), run('a', 3), run('a', 4)];
    // a1 is running, a2-a4 wait (a's own limit is 3); b1 arrives last.
    await expect(engine.analyze([img], { tenant: 'a' })).rejects.toMatchObject({ name: 'EngineBusyError' });
    expect(engine.queuedByTenant()).toEqual(new Map([['a', 3]]));
    jobs.push(run('b', 1));
    await Promise.all(jobs);
    // FIFO would give a1 a2 a3 a4 b1.
    expect(done).toEqual(['a1', 'a2', 'b1', 'a3', 'a4']);
  });
});

describe('two tenants under load over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ engine, index: newIndex(engine.dim), config: { rateLimitMax: 0 } });
  });
  afterAll(async () => t?.close());

  it('a flooding tenant gets 503 engine_busy for its excess, while the other tenant\'s requests all succeed', async () => {
    const busy = await t.token('busy');
    const quiet = await t.token('quiet');
    const image = await faceBase64('s5a');
    const detect = (token: string) => t.request('POST', '/v2/face-recognition/detect', { token, body: { image } });
    const flood = Array.from({ length: 24 }, () => detect(busy.token));
    // The quiet tenant sends one request at a time, four in a row, while the flood is queued.
    const quietStatuses: number[] = [];
    const quietRun = (async () => {
      for (let i = 0; i < 4; i++) quietStatuses.push((await detect(quiet.token)).status);
    })();
    const floodAnswers = await Promise.all(flood);
    await quietRun;
    const floodStatuses = floodAnswers.map((r) => r.status);
    expect(quietStatuses).toEqual([200, 200, 200, 200]);
    expect(floodStatuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(floodStatuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    const refused = floodAnswers.find((r) => r.status === 503)!;
    expect(refused.body).toEqual({ message: 'engine_busy', code: 'ERROR' });
    expect(refused.headers['retry-after']).toBe('1');
  });
});

describe('per-token rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ engine, index: newIndex(engine.dim), config: { rateLimitMax: 3, rateLimitWindowMs: 60_000 } });
  });
  afterAll(async () => t?.close());

  it('answers 429 with Retry-After in the {message, code} envelope past the limit, per token', async () => {
    const a = await t.token('limited');
    const b = await t.token('other');
    const list = (token: string) => t.request('GET', '/v2/face-recognition/collections', { token });
    for (let i = 0; i < 3; i++) expect((await list(a.token)).status).toBe(200);
    const over = await list(a.token);
    expect(over.status).toBe(429);
    expect(over.body.code).toBe('TOO_MANY_REQUESTS');
    expect(over.body.message).toMatch(/^rate_limited: more than 3 requests in 60 s; retry in \d+ s$/);
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Another token (another tenant) is not affected, and an unauthenticated request is still a 401.
    expect((await list(b.token)).status).toBe(200);
    expect((await t.request('GET', '/v2/face-recognition/collections')).status).toBe(401);
    // Operational routes are not limited.
    expect((await t.request('GET', '/health')).status).toBe(200);
  });
});
