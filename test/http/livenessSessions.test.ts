// Liveness sessions through the whole HTTP stack on the real engine, index and SQLite store: the challenge's
// lifecycle (random steps, expiry, tenant scoping, retry budget, single use), and, with ../shared/faces, a live
// webcam capture passing the steps it performs, the same capture failing a challenge in another order, a phone
// replay failing, and the sessions used by the enrolment flows. Frames are subsampled: the engine is slow here.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactVerify, createLocalJWKSet } from 'jose';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { sharedFaces, startTestApp, type TestApp } from '../support/harness.js';
import { newEngine, newIndex } from '../support/parts.js';
import { faceBase64, groupJpeg } from '../support/photos.js';

const SESSIONS = '/v2/face-recognition/liveness/sessions';
const VIDEO = path.join(sharedFaces, 'video');
const haveVideo = existsSync(path.join(VIDEO, 'real-frames')) && existsSync(path.join(VIDEO, 'fake-frames'));

/** Frames of a capture (10 fps) with their capture times. */
async function frames(kind: 'real' | 'fake', numbers: number[]) {
  return Promise.all(
    numbers.map(async (n) => ({
      image: (await readFile(path.join(VIDEO, `${kind}-frames`, `${String(n).padStart(4, '0')}.jpg`))).toString('base64'),
      timestamp_ms: n * 100,
    })),
  );
}

// The live capture: neutral (1-5), the person turns to their right (19-23) and back (27), smiles (49-55).
const LIVE_TURN_RIGHT_SMILE = [1, 3, 5, 19, 21, 27, 49, 55];

describe('liveness sessions', () => {
  let engine: WorkerFaceEngine;
  let t: TestApp;
  let token: string;
  let other: string;
  let clock = Date.now();

  beforeAll(async () => {
    engine = newEngine();
    await engine.ready();
    // One-step challenges for the webcam captures below (each performs one move): the operator's floor, lowered here.
    t = await startTestApp({ engine, index: newIndex(engine.dim), now: () => new Date(clock), config: { livenessSessionMinSteps: 1 } });
    ({ token } = await t.token('acme'));
    ({ token: other } = await t.token('globex'));
  });
  afterAll(async () => {
    await t?.close();
    await engine?.close();
  });

  const create = (body: Record<string, unknown> = {}, tok = token) => t.request('POST', SESSIONS, { token: tok, body });
  const post = (id: string, body: unknown, tok = token) => t.request('POST', `${SESSIONS}/${id}/frames`, { token: tok, body });
  const get = (id: string, tok = token) => t.request('GET', `${SESSIONS}/${id}`, { token: tok });

  it('creates a random ordered challenge of 2-4 distinct steps, with a nonce and a 3-minute expiry', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await create();
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const d = r.body.data;
      expect(d.status).toBe('CREATED');
      expect(d.steps.length).toBeGreaterThanOrEqual(2);
      expect(d.steps.length).toBeLessThanOrEqual(4);
      expect(new Set(d.steps).size).toBe(d.steps.length);
      for (const s of d.steps) expect(['turn_left', 'turn_right', 'look_up', 'look_down', 'smile', 'blink']).toContain(s);
      expect(d.nonce).toMatch(/^[0-9a-f]{32}$/);
      expect(Date.parse(d.expires_at) - Date.parse(d.created_at)).toBe(180_000);
      expect(d.attempts_left).toBe(3);
      seen.add(d.steps.join());
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('refuses an expiry beyond 10 minutes and an unknown step', async () => {
    expect((await create({ expires_in: 601 })).status).toBe(409);
    expect((await create({ steps: ['jump'] })).status).toBe(409);
    expect((await create({ expires_in: 600, steps: ['blink', 'turn_left'] })).status).toBe(200);
  });

  it('is invisible to another tenant, and an unknown id is a 404', async () => {
    const id = (await create()).body.data.session_id;
    expect((await get(id, other)).status).toBe(404);
    expect((await post(id, { frames: [{ image: await faceBase64('s1c'), timestamp_ms: 0 }] }, other)).status).toBe(404);
    expect((await get('0'.repeat(24))).status).toBe(404);
    expect((await get(id)).status).toBe(200);
  });

  it('expires: status EXPIRED, frames refused with 409, and a flow gets a 409 that says so', async () => {
    const id = (await create({ expires_in: 10 })).body.data.session_id;
    clock += 11_000;
    try {
      expect((await get(id)).body.data.status).toBe('EXPIRED');
      const r = await post(id, { frames: [{ image: await faceBase64('s1c'), timestamp_ms: 0 }] });
      expect(r.status).toBe(409);
      expect(r.body.message).toMatch(/^liveness_session_expired/);
      const e = await t.request('POST', '/v2/face-recognition/persons', { token, body: { name: 'X', liveness_session_id: id } });
      expect(e.status).toBe(409);
      expect(e.body.message).toMatch(/^liveness_session_expired/);
    } finally {
      clock -= 11_000;
    }
  });

  it('a frame with two faces fails the attempt; with the budget spent the session is FAILED, and flows refuse it', async () => {
    const id = (await create({ steps: ['turn_left', 'smile'], max_attempts: 1 })).body.data.session_id;
    const r = await post(id, { frames: [{ image: (await groupJpeg()).toString('base64'), timestamp_ms: 0 }] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data).toMatchObject({ status: 'FAILED', attempts_left: 0, failure: { reason: 'multiple_faces' } });
    expect((await post(id, { frames: [{ image: await faceBase64('s1c'), timestamp_ms: 100 }] })).body.message).toMatch(/^liveness_session_failed/);
    const e = await t.request('POST', '/v2/persons/liveness', { token, body: { firstName: 'A', lastName: 'B', liveness_session_id: id } });
    expect(e.status).toBe(409);
    expect(e.body.message).toMatch(/^liveness_session_failed/);
  });

  it('with budget left a failed attempt restarts the challenge; a session not finished is refused by the flows', async () => {
    const id = (await create({ steps: ['turn_left', 'smile'], max_attempts: 2 })).body.data.session_id;
    const r = await post(id, { frames: [{ image: (await groupJpeg()).toString('base64'), timestamp_ms: 0 }] });
    expect(r.body.data).toMatchObject({ status: 'IN_PROGRESS', attempts_left: 1, frames_received: 0, failure: { reason: 'multiple_faces' } });
    const e = await t.request('POST', '/v2/face-recognition/persons', { token, body: { name: 'X', liveness_session_id: id } });
    expect(e.status).toBe(409);
    expect(e.body.message).toMatch(/^liveness_session_not_finished/);
  });

  it('asks for exactly one of images and liveness_session_id', async () => {
    const both = await t.request('POST', '/v2/face-recognition/persons', { token, body: { name: 'X', images: [await faceBase64('s1c')], liveness_session_id: 'x' } });
    expect(both.status).toBe(409);
    const none = await t.request('POST', '/v2/face-recognition/persons', { token, body: { name: 'X' } });
    expect(none.status).toBe(409);
    expect(none.body.message).toBe('"images" is required');
  });

  describe.skipIf(!haveVideo)('with the webcam captures of ../shared/faces/video (skipped: ../shared/faces/video is missing)', () => {
    it('a live capture passes the steps it performs, in two calls; the signed verdict carries a reference image', async () => {
      const id = (await create({ steps: ['turn_right', 'smile'], min_score: 0.02 })).body.data.session_id;
      const all = await frames('real', LIVE_TURN_RIGHT_SMILE);
      clock += 6_000; // the capture took as long as its timestamps say (frames may not span more than the session's age)
      const first = await post(id, { frames: all.slice(0, 4) });
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      expect(first.body.data.status).toBe('IN_PROGRESS');
      const second = await post(id, { frames: all.slice(4) });
      expect(second.body.data, JSON.stringify({ ...second.body.data, reference_image: undefined, audit_images: undefined })).toMatchObject({
        status: 'SUCCEEDED',
        results: [{ step: 'turn_right', passed: true }, { step: 'smile', passed: true }],
      });
      const r = await get(id);
      expect(r.body.data.score).toBeGreaterThanOrEqual(0.02);
      expect(Buffer.from(r.body.data.reference_image, 'base64').subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
      expect(r.body.data.audit_images.map((a: { step: string }) => a.step)).toEqual(['turn_right', 'smile']);
      const jwks = createLocalJWKSet((await t.request('GET', '/.well-known/jwks.json')).body);
      const { payload } = await compactVerify(r.body.signature.jws, jwks);
      expect(JSON.parse(new TextDecoder().decode(payload)).data.status).toBe('SUCCEEDED'); // the claims bind the verdict to this request

      // Used once: search-live-face enrols the reference frame, a second use is refused.
      const col = (await t.request('POST', '/v2/face-recognition/collections', { token, body: { name: 'Live' } })).body.data;
      const body = {
        name: 'Live Person', gender: 'M', date_of_birth: '1990-01-01', collection_id: col._id,
        liveness_min_score: 0.5, min_score: 0.8, search_mode: 'ACCURATE', liveness_session_id: id,
      };
      const live = await t.request('POST', '/v2/face-recognition/persons/search-live-face', { token, body });
      expect(live.status, JSON.stringify(live.body)).toBe(200);
      expect(live.body.data.thumbnails).toHaveLength(1);
      const again = await t.request('POST', '/v2/face-recognition/persons/search-live-face', { token, body });
      expect(again.status).toBe(409);
      expect(again.body.message).toMatch(/^liveness_session_used/);
      expect((await get(id)).body.data.consumed).toBe(true);
      expect((await t.request('POST', '/v2/face-recognition/persons/search-live-face', { token: other, body })).status).toBe(404);
    });

    it('the same live frames fail a challenge asking for the moves in another order', async () => {
      const id = (await create({ steps: ['smile', 'turn_right'], max_attempts: 1, min_score: 0.02 })).body.data.session_id;
      const r = await post(id, { frames: await frames('real', LIVE_TURN_RIGHT_SMILE.slice(0, 5)) });
      expect(r.body.data).toMatchObject({ status: 'FAILED', failure: { reason: 'wrong_order' } });
    });

    it('frames whose timestamps do not increase fail', async () => {
      const id = (await create({ steps: ['turn_right', 'smile'], max_attempts: 1 })).body.data.session_id;
      const f = await frames('real', [1, 3]);
      f[1].timestamp_ms = f[0].timestamp_ms;
      expect((await post(id, { frames: f })).body.data).toMatchObject({ status: 'FAILED', failure: { reason: 'bad_timestamps' } });
    });

    it('a phone replay of the same person performing the moves fails', async () => {
      const id = (await create({ steps: ['turn_right'], max_attempts: 1, min_score: 0.02 })).body.data.session_id;
      clock += 10_000;
      // neutral, turn to the right, back: the challenge is performed, the frames are those of a screen
      const r = await post(id, { frames: await frames('fake', [1, 5, 9, 25, 29, 43]) });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.data.status, JSON.stringify(r.body.data)).toBe('FAILED');
      expect(r.body.data.results).toEqual([{ step: 'turn_right', passed: true }]);
      // Stopped by what a screen gives away: its frames' passive liveness, or frames that do not read as one
      // camera's stream (the replay's neutral frames disagree more than a live camera's do).
      expect(['passive_liveness', 'not_a_stream']).toContain(r.body.data.failure.reason);
      if (r.body.data.failure.reason === 'passive_liveness') expect(r.body.data.score).toBeLessThan(0.5);
    });
  });
});
