// The biometric flows (search, de-duplicating enrolment, verify, compare, liveness, detect) through the whole HTTP stack, on the real engine, index and SQLite store.
// Photos: faces cut from face-api's demo pictures (always installed), where s1c and s3a are the same woman and
// every other pair is a different person.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MATCH_DEFAULTS } from '../../src/domain/thresholds.js';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { samplePhotoPath, startTestApp, type TestApp } from '../support/harness.js';
import { newEngine, newIndex } from '../support/parts.js';
import { faceBase64, groupJpeg, noFaceJpeg } from '../support/photos.js';

const PERSONS = '/v2/face-recognition/persons';
const ACTIVE = '/v2/face-recognition/search-active-user';
const LIVE = '/v2/face-recognition/persons/search-live-face';

describe('biometric flows', () => {
  let engine: WorkerFaceEngine;
  let t: TestApp;
  let token: string;
  let other: string;
  let colA: { _id: string; code: string };
  let colB: { _id: string; code: string };

  beforeAll(async () => {
    engine = newEngine();
    await engine.ready();
    t = await startTestApp({ engine, index: newIndex(engine.dim) });
    ({ token } = await t.token('acme'));
    ({ token: other } = await t.token('globex'));
    colA = (await t.request('POST', '/v2/face-recognition/collections', { token, body: { name: 'A' } })).body.data;
    colB = (await t.request('POST', '/v2/face-recognition/collections', { token, body: { name: 'B' } })).body.data;
  });

  afterAll(async () => {
    await t?.close();
    await engine?.close();
  });

  async function enrol(name: string, faces: Parameters<typeof faceBase64>[0][], collections: string[], tok = token): Promise<string> {
    const images = await Promise.all(faces.map(faceBase64));
    const r = await t.request('POST', PERSONS, { token: tok, body: { name, images, collections } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.data._id;
  }

  async function activeSearch(face: Parameters<typeof faceBase64>[0], extra: Record<string, unknown> = {}, tok = token) {
    return t.request('POST', ACTIVE, {
      token: tok,
      body: { image: await faceBase64(face), os: 'DESKTOP', min_score: 0.8, search_mode: 'ACCURATE', ...extra },
    });
  }

  it('search-active-user finds the same woman from another photo, FAST and ACCURATE agree, others stay below min_score', async () => {
    const woman = await enrol('Woman', ['s1c'], [colA._id]);
    await enrol('Man', ['s6a'], [colA._id]);
    await enrol('Other', ['s4a'], [colB._id]);
    for (const search_mode of ['ACCURATE', 'FAST']) {
      const r = await activeSearch('s3a', { search_mode });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.data).toHaveLength(1);
      expect(r.body.data[0].id).toBe(woman);
      expect(r.body.data[0].score).toBeGreaterThanOrEqual(0.8);
      expect(r.body.data[0].score).toBeLessThanOrEqual(1);
      expect(r.body.signature.jws).toBeTypeOf('string');
    }
    // At a lower threshold more people may appear, always best first and never below it.
    const low = await activeSearch('s3a', { min_score: 0.5 });
    const scores = low.body.data.map((d: { score: number }) => d.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(Math.min(...scores)).toBeGreaterThanOrEqual(0.5);
    expect(low.body.data[0].id).toBe(woman);
  });

  it('collection_id scopes the search (by _id or code); another client sees nothing', async () => {
    expect((await activeSearch('s3a', { collection_id: colA.code })).body.data).toHaveLength(1);
    expect((await activeSearch('s3a', { collection_id: colB._id })).body.data).toEqual([]);
    expect((await activeSearch('s3a', {}, other)).body.data).toEqual([]);
    // Another client's collection id is unknown to this one.
    const foreign = await activeSearch('s3a', { collection_id: colA._id }, other);
    expect(foreign.status).toBe(404);
  });

  it('validates like the spec: os required, min_score in 0.5–1, search_mode FAST|ACCURATE, unknown fields', async () => {
    const image = await faceBase64('s3a');
    const cases: [Record<string, unknown>, string][] = [
      [{ image, min_score: 0.8, search_mode: 'FAST' }, '"os" is required'],
      [{ image, os: 'DESKTOP', min_score: 0.3, search_mode: 'FAST' }, '"min_score"'],
      [{ image, os: 'DESKTOP', min_score: 0.8, search_mode: 'SLOW' }, '"search_mode"'],
      [{ image, os: 'WINDOWS', min_score: 0.8, search_mode: 'FAST' }, '"os"'],
      [{ image, os: 'DESKTOP', min_score: 0.8, search_mode: 'FAST', extra: 1 }, '"extra"'],
    ];
    for (const [body, text] of cases) {
      const r = await t.request('POST', ACTIVE, { token, body });
      expect(r.status, JSON.stringify(r.body)).toBe(409);
      expect(r.body.code).toBe('MissingParameter');
      expect(r.body.message).toContain(text);
    }
    const dataUrl = await t.request('POST', ACTIVE, { token, body: { image: `data:image/jpeg;base64,${image}`, os: 'IOS', min_score: 0.8, search_mode: 'FAST' } });
    expect(dataUrl.status).toBe(412);
    expect(dataUrl.body.message).toBe('only_images_in_base64');
    expect((await t.request('POST', ACTIVE, { body: { image, os: 'IOS', min_score: 0.8, search_mode: 'FAST' } })).status).toBe(401);
  });

  it('a probe without a face is a 422; with several faces the subject is used and a warning says which', async () => {
    const none = await t.request('POST', ACTIVE, {
      token,
      body: { image: (await noFaceJpeg()).toString('base64'), os: 'ANDROID', min_score: 0.8, search_mode: 'FAST' },
    });
    expect(none.status).toBe(422);
    expect(none.body).toMatchObject({ code: 'NO_FACE', field: 'image' });
    const group = await t.request('POST', ACTIVE, {
      token,
      body: { image: (await groupJpeg()).toString('base64'), os: 'ANDROID', min_score: 0.8, search_mode: 'FAST' },
    });
    expect(group.status).toBe(200);
    expect(group.body.warnings[0]).toMatchObject({ field: 'image' });
    expect(group.body.warnings[0].faces_detected).toBeGreaterThan(1);
    // The face used is the first /detect answers, and the warning gives its box.
    const detected = await t.request('POST', '/v2/face-recognition/detect', { token, body: { image: (await groupJpeg()).toString('base64') } });
    expect(group.body.warnings[0].face_used).toEqual(detected.body.data[0].box);
  });

  it('search returns names, scores and thumbnails; verify and compare decide same vs different', async () => {
    const s = await t.request('POST', '/v2/face-recognition/search', {
      token,
      body: { images: [await faceBase64('s3a')], min_score: 0.8, search_mode: 'FAST', collection_id: colA._id, max_results: 5 },
    });
    expect(s.status, JSON.stringify(s.body)).toBe(200);
    expect(s.body.data).toHaveLength(1);
    expect(s.body.data[0]).toMatchObject({ name: 'Woman' });
    expect(s.body.data[0].thumbnails).toHaveLength(1);
    const woman = s.body.data[0].id;

    const yes = await t.request('POST', '/v2/face-recognition/verify', { token, body: { id: woman, images: [await faceBase64('s3a')], min_score: 0.8 } });
    expect(yes.status).toBe(200);
    expect(yes.body.data.match).toMatchObject({ id: woman, name: 'Woman', score: yes.body.data.score });
    const no = await t.request('POST', '/v2/face-recognition/verify', { token, body: { id: woman, images: [await faceBase64('s6b')], min_score: 0.8 } });
    expect(no.body.data.match).toBeNull();
    expect(no.body.data.score).toBeLessThan(0.8);
    // Another client cannot verify against this person: it does not exist for them.
    expect((await t.request('POST', '/v2/face-recognition/verify', { token: other, body: { id: woman, images: [await faceBase64('s3a')] } })).status).toBe(404);

    const same = await t.request('POST', '/v2/face-recognition/compare', { token, body: { probe: [await faceBase64('s1c')], gallery: [await faceBase64('s3a')] } });
    expect(same.status).toBe(200);
    expect(same.body.data).toMatchObject({ passed: true, min_score: MATCH_DEFAULTS.compare.minScore });
    const diff = await t.request('POST', '/v2/face-recognition/compare', {
      token,
      body: { probe: [await faceBase64('s1c')], gallery: [await faceBase64('s6b'), await faceBase64('s5a')], compare_min_score: 0.6 },
    });
    expect(diff.body.data.passed).toBe(false);
  });

  it('deletes and re-enrolments are visible to the very next search', async () => {
    const id = await enrol('Temp', ['s5a'], [colB._id]);
    expect((await activeSearch('s5a', { collection_id: colB._id })).body.data[0].id).toBe(id);
    // Re-enrol with another person's face: the old face no longer finds it, the new one does.
    const put = await t.request('PUT', `${PERSONS}/${id}`, { token, body: { images: [await faceBase64('s6d')] } });
    expect(put.status).toBe(200);
    expect((await activeSearch('s5a', { collection_id: colB._id })).body.data).toEqual([]);
    expect((await activeSearch('s6d', { collection_id: colB._id, search_mode: 'FAST' })).body.data[0].id).toBe(id);
    expect((await t.request('DELETE', `${PERSONS}/${id}`, { token })).status).toBe(200);
    expect((await activeSearch('s6d', { collection_id: colB._id })).body.data).toEqual([]);
  });

  it('detect lists every face with box, score and quality; landmarks and attributes on request', async () => {
    const r = await t.request('POST', '/v2/face-recognition/detect', {
      token,
      body: { image: (await groupJpeg()).toString('base64'), return_landmarks: true, return_attributes: true },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const faces = r.body.data;
    expect(faces.length).toBeGreaterThanOrEqual(3);
    for (const f of faces) {
      expect(Object.keys(f.landmarks).sort()).toEqual(['left_eye', 'left_mouth', 'nose', 'right_eye', 'right_mouth']);
      // Left of right on the image, the eyes above the mouth, every point inside the face's box.
      expect(f.landmarks.left_eye[0]).toBeLessThan(f.landmarks.right_eye[0]);
      expect(f.landmarks.left_mouth[0]).toBeLessThan(f.landmarks.right_mouth[0]);
      expect(f.landmarks.left_eye[1]).toBeLessThan(f.landmarks.left_mouth[1]);
      expect(f.landmarks.right_eye[1]).toBeLessThan(f.landmarks.right_mouth[1]);
      for (const [x, y] of Object.values(f.landmarks) as [number, number][]) {
        expect(x).toBeGreaterThanOrEqual(f.box.left);
        expect(x).toBeLessThanOrEqual(f.box.right);
        expect(y).toBeGreaterThanOrEqual(f.box.top);
        expect(y).toBeLessThanOrEqual(f.box.bottom);
      }
      expect(f.detection_score).toBeGreaterThan(0.3);
      expect(f.box.right - f.box.left).toBeGreaterThan(10);
      expect(f.box.right).toBeLessThanOrEqual(r.body.image.width + 1);
      expect(f.quality.sharpness).toBeGreaterThanOrEqual(0);
    }
    // Largest first.
    const areas = faces.map((f: { box: { top: number; left: number; right: number; bottom: number } }) => (f.box.right - f.box.left) * (f.box.bottom - f.box.top));
    expect(areas).toEqual([...areas].sort((a, b) => b - a));
    const plain = await t.request('POST', '/v2/face-recognition/detect', { token, body: { image: (await noFaceJpeg()).toString('base64') } });
    expect(plain.status).toBe(200);
    expect(plain.body.data).toEqual([]);
  });

  it('liveness answers a score in [0, 1], sub-scores only with LIVENESS_DETAILS; image or images is required', async () => {
    const r = await t.request('POST', '/v2/face-recognition/liveness', { token, body: { os: 'IOS', image: await faceBase64('s6c') } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data.liveness_score).toBeGreaterThanOrEqual(0);
    expect(r.body.data.liveness_score).toBeLessThanOrEqual(1);
    expect(r.body.data.min_score).toBe(0.6);
    expect(r.body.data.passed).toBe(r.body.data.liveness_score > 0.6);
    expect(r.body.data.signals).toBeUndefined();
    const detailed = await startTestApp({ engine, index: newIndex(engine.dim), config: { livenessDetails: true } });
    try {
      const { token: tk } = await detailed.token('acme');
      const d = await detailed.request('POST', '/v2/face-recognition/liveness', { token: tk, body: { os: 'IOS', image: await faceBase64('s6c') } });
      expect(Object.keys(d.body.data.signals)).toContain('model');
    } finally {
      await detailed.close();
    }
    const missing = await t.request('POST', '/v2/face-recognition/liveness', { token, body: { os: 'IOS' } });
    expect(missing.status).toBe(409);
    expect(missing.body.message).toBe('"image" is required');
  });

  it('a face cut tight from its photo gives no liveness evidence: no pass at any threshold, and the answer says why', async () => {
    // s6c's face box in face-api's demo sample6.jpg, nothing around it: the anti-spoofing network has no context.
    const tight = (await sharp(samplePhotoPath(6)).extract({ left: 1147, top: 357, width: 229, height: 229 }).jpeg().toBuffer()).toString('base64');
    const r = await t.request('POST', '/v2/face-recognition/liveness', { token, body: { os: 'IOS', image: tight, liveness_min_score: 0.5 } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data).toMatchObject({ liveness_score: 0, min_score: 0.5, passed: false, reason: 'no_context' });
    // The same capture in a liveness-gated flow is refused, naming the reason.
    const live = await t.request('POST', '/v2/face-recognition/search-live-face', {
      token,
      body: { image: tight, os: 'IOS', liveness_min_score: 0.5, min_score: 0.8, search_mode: 'FAST' },
    });
    expect(live.status).toBe(409);
    expect(live.body.message).toMatch(/^liveness_failed: no usable liveness evidence \(no_context\)/);
    expect(live.body.details).toMatchObject({ liveness_score: 0, reason: 'no_context' });
  });

  describe('search-live-face', () => {
    async function liveFace(face: Parameters<typeof faceBase64>[0], collection_id: string, extra: Record<string, unknown> = {}) {
      return t.request('POST', LIVE, {
        token,
        body: {
          name: 'Jane 42 Doe',
          images: [await faceBase64(face)],
          gender: 'F',
          date_of_birth: '1990-01-15',
          collection_id,
          // The lowest the spec allows: these tests are about de-duplication, liveness has its own.
          liveness_min_score: 0.5,
          min_score: 0.8,
          search_mode: 'FAST',
          ...extra,
        },
      });
    }

    it('validates the spec fields before any engine work', async () => {
      const r = await liveFace('s6c', colA._id, { gender: undefined });
      expect(r.status).toBe(409);
      expect(r.body.message).toBe('"gender" is required');
      const bad = await liveFace('s6c', colA._id, { liveness_min_score: 1.2 });
      expect(bad.body.code).toBe('MissingParameter');
      const col = await liveFace('s6c', 'nope');
      expect(col.status).toBe(404);
    });

    it('enrols once, refuses the same face again in that collection with 409 duplicated_person, accepts it in another', async () => {
      const fresh = await t.request('POST', '/v2/face-recognition/collections', { token, body: { name: 'live' } });
      const col = fresh.body.data._id;
      const first = await liveFace('s1b', col);
      if (first.status === 409 && String(first.body.message).includes('liveness_failed')) {
        // The photo is a still crop of a demo picture: say so rather than hide it.
        throw new Error(`the liveness check rejected a real photo: ${first.body.message}`);
      }
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      expect(first.body.data.name).toBe('Jane Doe');
      expect(first.body.data.collections).toEqual([col]);
      const again = await liveFace('s1b', col);
      expect(again.status).toBe(409);
      expect(again.body.message).toBe('409:duplicated_person');
      expect(again.body.details.id).toBe(first.body.data._id);
      expect(again.body.details.score).toBeGreaterThanOrEqual(0.8);
      const elsewhere = await liveFace('s1b', colB._id);
      expect(elsewhere.status).toBe(200);
    });

    it('concurrent enrolments of one face in one collection: exactly one wins', async () => {
      const fresh = await t.request('POST', '/v2/face-recognition/collections', { token, body: { name: 'race' } });
      const col = fresh.body.data._id;
      const answers = await Promise.all([1, 2, 3].map(() => liveFace('s1c', col))); // a face the passive check passes
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses, JSON.stringify(answers.map((a) => a.body.message))).toEqual([200, 409, 409]);
      for (const a of answers.filter((x) => x.status === 409)) expect(a.body.message).toBe('409:duplicated_person');
      const list = await t.request('GET', `${PERSONS}?collection=${col}`, { token });
      expect(list.body.data).toHaveLength(1);
    });

    it('a liveness score below liveness_min_score is a 409 liveness_failed without sub-scores, and nothing is enrolled', async () => {
      const fresh = await t.request('POST', '/v2/face-recognition/collections', { token, body: { name: 'strict' } });
      const col = fresh.body.data._id;
      // 1.0 is unreachable for a probability-like fused score.
      const r = await liveFace('s5a', col, { liveness_min_score: 1 });
      expect(r.status).toBe(409);
      expect(r.body.message).toMatch(/^liveness_failed: score [0-9.]+ <= 1$/);
      expect(r.body.details.min_score).toBe(1);
      expect(r.body.details.signals).toBeUndefined();
      // What to do about it: better light, several frames, a session.
      expect(r.body.hint).toMatch(/bright light.*two or more frames.*liveness session/);
      const list = await t.request('GET', `${PERSONS}?collection=${col}`, { token });
      expect(list.body.data).toEqual([]);
    });
  });
});
