// Liveness sessions an end user cannot weaken (issue 18 item 4), through the whole HTTP stack on the real engine and
// SQLite store. Each test is one threat: the browser's credential widening its powers, a request lowering the
// server's floors, a session consumed below the floor or long after it succeeded, session frames skipping the
// tenant's engine queue. Sessions that SUCCEEDED with a chosen score are written through the store (as a session
// created before an operator raised the floor would be), with a real face as their reference frame.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import type { FaceEngine } from '../../src/face/types.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { newEngine, newIndex } from '../support/parts.js';
import { faceBase64, faceJpeg, noFaceJpeg } from '../support/photos.js';

const SESSIONS = '/v2/face-recognition/liveness/sessions';

describe('liveness sessions an end user cannot weaken', () => {
  let engine: WorkerFaceEngine;
  let t: TestApp;
  let token: string;
  let clientId: string;
  let clock = Date.now();
  const tenants: (string | undefined)[] = [];

  beforeAll(async () => {
    engine = newEngine();
    await engine.ready();
    // The engine, watched: which tenant's queue each analysis went through.
    const spy: FaceEngine = Object.create(engine);
    spy.analyze = (images, opts) => {
      tenants.push(opts?.tenant);
      return engine.analyze(images, opts);
    };
    t = await startTestApp({ engine: spy, index: newIndex(engine.dim), now: () => new Date(clock) });
    ({ token, clientId } = await t.token('acme'));
  });
  afterAll(async () => {
    await t?.close();
    await engine?.close();
  });

  const create = (body: Record<string, unknown> = {}) => t.request('POST', SESSIONS, { token, body });
  const frame = async (ms: number) => ({ image: await faceBase64('s1c'), timestamp_ms: ms });

  /** A SUCCEEDED session written through the store, with a real face as its reference frame. */
  async function succeededSession(score: number, opts: { validFor?: number; image?: Buffer } = {}): Promise<string> {
    const repo = t.store.livenessSessions;
    const id = Math.random().toString(16).slice(2).padEnd(24, '0').slice(0, 24);
    const now = new Date(clock);
    await repo.create({
      id,
      client: clientId,
      steps: ['turn_right', 'smile'],
      nonce: 'n'.repeat(32),
      minScore: 0,
      maxAttempts: 1,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 180_000).toISOString(),
      captureTokenHash: null,
      validFor: opts.validFor ?? 300,
    });
    await repo.addFrames(clientId, id, [{ attempt: 0, seq: 0, timestampMs: 0, analysis: { faces: 1 }, embedding: null, image: opts.image ?? (await faceJpeg('s6a')) }]);
    const [f] = await repo.listFrames(clientId, id, { attempt: 0 });
    await repo.transition(clientId, id, 'succeed', { result: { steps: [], score, reference: f.id, audit: [] } }, now.toISOString());
    await repo.pruneFrames(clientId, id, [{ id: f.id, role: 'reference' }]);
    return id;
  }

  it('the capture credential posts frames to its own session and reads it, and does nothing else', async () => {
    const a = (await create({ steps: ['turn_right', 'smile'] })).body.data;
    const b = (await create({ steps: ['turn_left', 'blink'] })).body.data;
    expect(a.capture_token).toMatch(/^fgls_[A-Za-z0-9_-]{43}$/);
    const cap = a.capture_token as string;
    const post = await t.request('POST', `${SESSIONS}/${a.session_id}/frames`, { token: cap, body: { frames: [await frame(0)] } });
    expect(post.status, JSON.stringify(post.body)).toBe(200);
    expect(post.body.data).toMatchObject({ session_id: a.session_id, status: 'IN_PROGRESS', frames_received: 1 });
    expect(post.body.data.capture_token).toBeUndefined();
    const read = await t.request('GET', `${SESSIONS}/${a.session_id}`, { token: cap });
    expect(read.status).toBe(200);
    // Everything else is refused: another session, a new session, the tenant's persons and collections.
    const refused = [
      await t.request('GET', `${SESSIONS}/${b.session_id}`, { token: cap }),
      await t.request('POST', `${SESSIONS}/${b.session_id}/frames`, { token: cap, body: { frames: [await frame(0)] } }),
      await t.request('POST', SESSIONS, { token: cap, body: { steps: ['turn_right'], min_score: 0 } }),
      await t.request('GET', '/v2/face-recognition/persons', { token: cap }),
      await t.request('DELETE', '/v2/face-recognition/persons/0123456789abcdef01234567', { token: cap }),
      await t.request('GET', '/v2/face-recognition/collections', { token: cap }),
      await t.request('POST', '/v2/face-recognition/persons', { token: cap, body: { name: 'X', liveness_session_id: a.session_id } }),
    ];
    for (const r of refused) {
      expect(r.status, JSON.stringify(r.body)).toBe(403);
      expect(r.body.code).toBe('FORBIDDEN');
    }
    expect((await t.request('GET', '/v2/face-recognition/no-such-route', { token: cap })).status).toBe(404);
  });

  it('the capture credential is stored hashed and dies with its session', async () => {
    const s = (await create({ steps: ['turn_right', 'smile'], expires_in: 30 })).body.data;
    const files = await Promise.all(['facegate.db', 'facegate.db-wal'].map((f) => readFile(path.join(t.dataDir, f)).catch(() => Buffer.alloc(0))));
    for (const bytes of files) expect(bytes.includes(Buffer.from(s.capture_token))).toBe(false);
    clock += 31_000;
    try {
      const r = await t.request('GET', `${SESSIONS}/${s.session_id}`, { token: s.capture_token });
      expect(r.status).toBe(401);
    } finally {
      clock -= 31_000;
    }
  });

  it('a request cannot lower the server floors: the score, the number of steps, a head movement', async () => {
    for (const body of [{ min_score: 0 }, { steps: ['turn_right'] }, { steps: ['smile', 'blink'] }]) {
      const r = await create(body);
      expect(r.status, JSON.stringify(body)).toBe(409);
      expect(r.body.message, JSON.stringify(r.body)).toMatch(/floor|at least|head/);
    }
    // Above the floors: fine, and the default challenge always holds a head movement.
    expect((await create({ min_score: 0.9, steps: ['smile', 'turn_left'] })).status).toBe(200);
    for (let i = 0; i < 8; i++) {
      const steps: string[] = (await create()).body.data.steps;
      expect(steps.some((s) => /^(turn|look)_/.test(s)), steps.join()).toBe(true);
    }
  });

  it('a succeeded session whose score is under the floor enrols nobody', async () => {
    const id = await succeededSession(0.01);
    const r = await t.request('POST', '/v2/face-recognition/persons', { token, body: { name: 'Replay', liveness_session_id: id } });
    expect(r.status, r.body.message).toBe(409);
    expect(r.body.message).toMatch(/^liveness_session_failed/);
    const col = (await t.request('POST', '/v2/face-recognition/collections', { token, body: { name: 'Floor' } })).body.data;
    const live = await t.request('POST', '/v2/face-recognition/persons/search-live-face', {
      token,
      body: { name: 'Replay', gender: 'M', date_of_birth: '1990-01-01', collection_id: col._id, liveness_min_score: 0, min_score: 0.8, search_mode: 'FAST', liveness_session_id: await succeededSession(0.01) },
    });
    expect(live.status, live.body.message).toBe(409);
    expect((await t.request('GET', '/v2/face-recognition/persons', { token })).body.data).toHaveLength(0);
  });

  it('a succeeded session is usable once, and only within its validity after success', async () => {
    const late = await succeededSession(0.9, { validFor: 60 });
    clock += 61_000;
    try {
      const r = await t.request('POST', '/v2/face-recognition/persons', { token, body: { name: 'Late', liveness_session_id: late } });
      expect(r.status, r.body.message).toBe(409);
      expect(r.body.message).toMatch(/^liveness_session_expired/);
    } finally {
      clock -= 61_000;
    }
    const fresh = await succeededSession(0.9, { validFor: 60 });
    const ok = await t.request('POST', '/v2/face-recognition/persons', { token, body: { name: 'Fresh', liveness_session_id: fresh } });
    expect(ok.status, ok.body.message).toBe(200);
    const again = await t.request('POST', '/v2/face-recognition/persons', { token, body: { name: 'Again', liveness_session_id: fresh } });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/^liveness_session_used/);
  });

  it('an enrolment the engine refuses does not use the session up', async () => {
    const id = await succeededSession(0.9, { image: await noFaceJpeg() });
    const r = await t.request('POST', '/v2/face-recognition/persons', { token, body: { name: 'Nobody', liveness_session_id: id } });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.body.message).not.toMatch(/^liveness_session/);
    expect((await t.request('GET', `${SESSIONS}/${id}`, { token })).body.data.consumed).toBe(false);
  });

  it("a tenant's own floors (LIVENESS_SESSION_TENANT_FLOORS) raise the server's for that tenant only", async () => {
    const strictApp = await startTestApp({ engine, index: newIndex(engine.dim), config: { livenessSessionTenantFloors: { bank: { minScore: 0.6, minSteps: 3 } } } });
    try {
      const bank = (await strictApp.token('bank')).token;
      const gym = (await strictApp.token('gym')).token;
      const make = (tok: string, body: object) => strictApp.request('POST', SESSIONS, { token: tok, body });
      expect((await make(bank, { min_score: 0.5, steps: ['turn_left', 'smile', 'blink'] })).body.message).toMatch(/at least 0.6/);
      expect((await make(bank, { min_score: 0.7, steps: ['turn_left', 'smile'] })).body.message).toMatch(/at least 3 steps/);
      const ok = await make(bank, {});
      expect(ok.status).toBe(200);
      expect(ok.body.data.min_score).toBe(0.6);
      expect(ok.body.data.steps.length).toBeGreaterThanOrEqual(3);
      expect((await make(gym, { min_score: 0.5, steps: ['turn_left', 'smile'] })).status).toBe(200);
    } finally {
      await strictApp.close();
    }
  });

  it('the relying party sets the validity after success; the server caps it', async () => {
    const s = await create({ valid_for: 120 });
    expect(s.status, JSON.stringify(s.body)).toBe(200);
    expect(s.body.data.valid_for).toBe(120);
    expect((await create({ valid_for: 86_400 })).status).toBe(409);
  });

  it("session frames go through the tenant's engine queue", async () => {
    const s = (await create({ steps: ['turn_right', 'smile'] })).body.data;
    tenants.length = 0;
    const r = await t.request('POST', `${SESSIONS}/${s.session_id}/frames`, { token: s.capture_token ?? token, body: { frames: [await frame(0)] } });
    expect(r.status).toBe(200);
    expect(tenants).toEqual([clientId]);
  });
});
