// Compatibility with Verifik's face-recognition API: every route driven with the request of its documentation
// example (test/compat/fixtures.ts), the answer checked field by field against the shape the page shows, and the
// errors Verifik documents (missing parameter, image not in base64, no token, duplicate, liveness) answered with
// Verifik's exact message and code. One app and one engine for the whole file: the engine is the slow part.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { samplePhotoPath, startTestApp, type Res, type TestApp } from '../support/harness.js';
import { newEngine, newIndex } from '../support/parts.js';
import { faceBase64, faceJpeg, noFaceJpeg } from '../support/photos.js';
import { CREATE_WITH_LIVENESS, FIXTURES, REMOVALS, type Ctx, type Fixture } from './fixtures.js';
import { envelopeShape, errorShape, shapeErrors } from './shape.js';

let engine: WorkerFaceEngine;
let t: TestApp;
let token: string;
const ctx = {} as Ctx;

/** `tok` null: no Authorization header. */
function call(f: Fixture, tok: string | null = token, body = f.body?.(ctx)): Promise<Res> {
  return t.request(f.method, f.path(ctx), { token: tok ?? undefined, body });
}

/** A 200 whose envelope and `data` have the page's shape. */
function expectShape(r: Res, f: { page: string; data: Parameters<typeof envelopeShape>[0] }) {
  expect(r.status, `${f.page}: ${JSON.stringify(r.body).slice(0, 300)}`).toBe(200);
  expect(shapeErrors(r.body, envelopeShape(f.data), 'answer'), f.page).toEqual([]);
}

beforeAll(async () => {
  engine = newEngine();
  await engine.ready();
  t = await startTestApp({ engine, index: newIndex(engine.dim) });
  ({ token } = await t.token('compat'));
  // The woman of s1c and s3a: enrolled from s1c and its mirror image, searched with s3a (another photo of her).
  const s1c = await faceJpeg('s1c');
  ctx.enrolment = [s1c.toString('base64'), (await sharp(s1c).flop().jpeg().toBuffer()).toString('base64')];
  ctx.probe = await faceBase64('s3a');
  ctx.live = ctx.enrolment[0];
  // A tight 120×120 crop inside her face box in the original photo (what a crop pipeline sends).
  ctx.crop = (await sharp(await readFile(samplePhotoPath(3))).extract({ left: 1086, top: 286, width: 200, height: 200 }).resize(120, 120).jpeg().toBuffer()).toString('base64');
  ctx.stranger = await faceBase64('s6a');
});

afterAll(async () => {
  await t?.close();
  await engine?.close();
});

describe("Verifik's documented requests get answers of the documented shape", () => {
  // In order: the collection and the person come first, as an integration would create them.
  it('create a collection', async () => {
    const r = await call(FIXTURES['create a collection']);
    expectShape(r, FIXTURES['create a collection']);
    ctx.collection = r.body.data;
  });

  it('create a person', async () => {
    const r = await call(FIXTURES['create a person']);
    expectShape(r, FIXTURES['create a person']);
    // `collections` named by code; the answer carries the `_id`.
    expect(r.body.data.collections).toEqual([ctx.collection._id]);
    expect(r.body.data.thumbnails).toHaveLength(2);
    ctx.person = r.body.data._id;
  });

  for (const name of Object.keys(FIXTURES).filter((n) => !['create a collection', 'create a person', 'update a person', 'update a collection'].includes(n))) {
    it(name, async () => {
      const f = FIXTURES[name];
      const r = await call(f);
      expectShape(r, f);
    });
  }

  it('update a person, update a collection', async () => {
    expectShape(await call(FIXTURES['update a person']), FIXTURES['update a person']);
    expectShape(await call(FIXTURES['update a collection']), FIXTURES['update a collection']);
  });

  it('the searches find the enrolled woman first, with her thumbnails', async () => {
    for (const name of ['search 1:N (active user)', 'search 1:N', 'search 1:N on crops', 'search 1:N, a low threshold']) {
      const r = await call(FIXTURES[name]);
      expect(r.body.data[0].id, name).toBe(ctx.person);
    }
    const live = await call(FIXTURES['search 1:N with liveness']);
    expect(live.body.data.persons[0]).toMatchObject({ id: ctx.person, name: 'Lucía Vega' });
    const detected = await call(FIXTURES['detect faces and search them']);
    expect(detected.body.data[0].persons[0].id).toBe(ctx.person);
    const verify = await call(FIXTURES['verify a face']);
    expect(verify.body.data.match).toMatchObject({ id: ctx.person, collections: [ctx.collection._id] });
    expect(verify.body.data.match.score).toBeGreaterThanOrEqual(0.75);
  });

  it('search/crops frames a tight crop before the detector: it finds her at least as surely as /search on the same crop', async () => {
    // Inside her face box in the original photo, 112 px: what a crop pipeline sends.
    const tight = (await sharp(await readFile(samplePhotoPath(3))).extract({ left: 1096, top: 296, width: 180, height: 180 }).resize(112, 112).jpeg().toBuffer()).toString('base64');
    const body = { images: [tight], min_score: 0.5, search_mode: 'ACCURATE', collection_id: ctx.collection._id };
    const plain = await t.request('POST', '/v2/face-recognition/search', { token, body });
    const crops = await t.request('POST', '/v2/face-recognition/search/crops', { token, body });
    expect(crops.status, JSON.stringify(crops.body)).toBe(200);
    expect(crops.body.data[0].id).toBe(ctx.person);
    expect(plain.body.data[0].id).toBe(ctx.person);
    expect(crops.body.data[0].score).toBeGreaterThanOrEqual(plain.body.data[0].score);
  });

  it('verify answers match: null below min_score, and a person outside collection_id is not found', async () => {
    const f = FIXTURES['verify a face'];
    const miss = await call(f, token, { ...f.body!(ctx), images: [ctx.stranger] });
    expect(miss.status).toBe(200);
    expect(miss.body.data.match).toBeNull();
    expect(miss.body.data.score).toBeLessThan(0.75);
    const other = (await t.request('POST', '/v2/face-recognition/collections', { token, body: { name: 'Elsewhere' } })).body.data;
    const outside = await call(f, token, { ...f.body!(ctx), collection_id: other._id });
    expect(outside.status).toBe(404);
    expect(outside.body).toMatchObject({ message: 'not_found', code: 'NOT_FOUND' });
  });

  it('compare-with-liveness withholds the liveness verdict when the comparison fails; compare-live always gives it', async () => {
    const f = FIXTURES['compare, then liveness'];
    const failed = await call(f, token, { ...f.body!(ctx), gallery: [ctx.stranger], compare_min_score: 0.8 });
    expect(failed.status).toBe(200);
    expect(failed.body.data.comparison.score).toBeLessThan(0.8);
    expect(failed.body.data.liveness).toBeNull();
    const live = await call(FIXTURES['compare 1:1, live'], token, { ...FIXTURES['compare 1:1, live'].body!(ctx), gallery: [ctx.stranger] });
    expect(live.body.data.score).toBeLessThan(0.85);
    expect(live.body.data.liveness.passed).toBe(live.body.data.liveness.liveness_score > 0.6);
  });

  it('liveness passes strictly above min_score, as Verifik says', async () => {
    const f = FIXTURES.liveness;
    const first = await call(f);
    const score = first.body.data.liveness_score;
    expect(first.body.data.passed).toBe(score > 0.7);
    if (score < 0.5) throw new Error(`the probe's liveness score ${score} is below the lowest allowed threshold: pick another photo`);
    const tie = await call(f, token, { ...f.body!(ctx), liveness_min_score: score });
    expect(tie.body.data).toMatchObject({ liveness_score: score, min_score: score, passed: false });
  });

  it('create a person with liveness answers the page\'s person; the same face again is 409:duplicated_person', async () => {
    const col = (await t.request('POST', '/v2/face-recognition/collections', { token, body: { name: 'Sign-ups' } })).body.data._id;
    // A photo the passive liveness check passes at the page's 0.6 (s6c scores 0.51: docs/liveness.md).
    const image = await faceBase64('s1a');
    const body = CREATE_WITH_LIVENESS.body(ctx, col, image);
    const first = await t.request('POST', '/v2/face-recognition/persons/search-live-face', { token, body });
    expectShape(first, CREATE_WITH_LIVENESS);
    const again = await t.request('POST', '/v2/face-recognition/persons/search-live-face', { token, body });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ message: '409:duplicated_person', code: 'ERROR' });
    expect(again.body.details.id).toBe(first.body.data._id);
  });
});

describe("Verifik's collection membership by `people`", () => {
  it('PUT /collections/{id} with people: those listed join, the others leave and stay enrolled', async () => {
    const members = (await t.request('POST', '/v2/face-recognition/collections', { token, body: { name: 'Members' } })).body.data;
    const listed = async () => (await t.request('GET', `/v2/face-recognition/persons?collection=${members._id}`, { token })).body.data.map((p: { _id: string }) => p._id);
    // The page sends person objects; only their _id (or id) counts.
    const put = await t.request('PUT', `/v2/face-recognition/collections/${members._id}`, { token, body: { name: 'Members', people: [{ _id: ctx.person, name: 'Lucía Vega' }] } });
    expect(shapeErrors(put.body, envelopeShape({ _id: { literal: members._id }, name: { literal: 'Members' } }), 'answer')).toEqual([]);
    expect(await listed()).toEqual([ctx.person]);
    expect((await call(FIXTURES['search 1:N'], token, { ...FIXTURES['search 1:N'].body!(ctx), collection_id: members.code })).body.data[0].id).toBe(ctx.person);
    await t.request('PUT', `/v2/face-recognition/collections/${members._id}`, { token, body: { people: [] } });
    expect(await listed()).toEqual([]);
    expect((await call(FIXTURES['search 1:N'], token, { ...FIXTURES['search 1:N'].body!(ctx), collection_id: members.code })).body.data).toEqual([]);
    const person = (await t.request('GET', `/v2/face-recognition/persons/${ctx.person}`, { token })).body.data;
    expect(person.collections).toEqual([ctx.collection._id]);
    const unknown = await t.request('PUT', `/v2/face-recognition/collections/${members._id}`, { token, body: { people: [{ id: '0123456789abcdef01234567' }] } });
    expect(unknown.status).toBe(404);
  });
});

describe("Verifik's documented removals", () => {
  it('?collection= takes a person out of that collection only; a plain delete erases it; a collection goes', async () => {
    const spareCollection = (await t.request('POST', '/v2/face-recognition/collections', { token, body: { name: 'Night shift' } })).body.data._id;
    const sparePerson = (
      await t.request('POST', '/v2/face-recognition/persons', { token, body: { name: 'Iker Sola', images: [ctx.stranger], collections: [ctx.collection._id, spareCollection] } })
    ).body.data._id;
    ctx.spare = { person: sparePerson, collection: spareCollection };
    const go = (name: string) => t.request(REMOVALS[name].method, REMOVALS[name].path(ctx), { token });

    const detached = await go('delete a person from one collection (?collection=)');
    expectShape(detached, REMOVALS['delete a person from one collection (?collection=)']);
    expect(detached.body.data).toEqual({ _id: sparePerson, deleted: false, collections: [ctx.collection._id] });
    expect((await t.request('GET', `/v2/face-recognition/persons/${sparePerson}`, { token })).body.data.collections).toEqual([ctx.collection._id]);
    // Out of its last collection, the person is erased.
    const last = await t.request('DELETE', `/v2/face-recognition/persons/${sparePerson}?collection=${ctx.collection.code}`, { token });
    expect(last.body.data).toEqual({ _id: sparePerson, deleted: true });
    expect((await t.request('GET', `/v2/face-recognition/persons/${sparePerson}`, { token })).status).toBe(404);

    const erased = await go('delete a person');
    expectShape(erased, REMOVALS['delete a person']);
    expect((await t.request('GET', `/v2/face-recognition/persons/${ctx.person}`, { token })).status).toBe(404);
    const gone = await go('delete a collection');
    expectShape(gone, REMOVALS['delete a collection']);
    expect((await t.request('GET', `/v2/face-recognition/collections/${spareCollection}`, { token })).status).toBe(404);
  });
});

describe("Verifik's documented errors, with Verifik's message and code", () => {
  /** Every fixture that sends an image, with the name of one field its page marks required. */
  const REQUIRED: [string, string][] = [
    ['search 1:N (active user)', 'os'],
    ['search 1:N', 'images'],
    ['search 1:N on crops', 'min_score'],
    ['search 1:N with liveness', 'liveness_min_score'],
    ['verify a face', 'id'],
    ['compare 1:1', 'gallery'],
    ['compare 1:1, live', 'os'],
    ['compare, then liveness', 'search_mode'],
    ['liveness', 'image'],
    ['detect faces', 'image'],
    ['create a person', 'name'],
  ];

  it('a missing parameter: 409 {"message": "\\"field\\" is required", "code": "MissingParameter"}', async () => {
    for (const [name, field] of REQUIRED) {
      const f = FIXTURES[name];
      const { [field]: _, ...body } = f.body!(ctx);
      const r = await call(f, token, body);
      expect(r.status, name).toBe(409);
      expect(shapeErrors(r.body, errorShape, 'error')).toEqual([]);
      expect({ name, message: r.body.message, code: r.body.code }).toEqual({ name, message: `"${field}" is required`, code: 'MissingParameter' });
    }
  });

  it('an image that is not raw base64 (a data: URL, a URL, a few characters): 412 {"message": "only_images_in_base64", "code": "ERROR"}', async () => {
    const swap = (v: unknown, to: string): unknown =>
      Array.isArray(v) ? v.map((x) => swap(x, to)) : typeof v === 'string' && v.length > 1000 ? to : v;
    for (const [name] of REQUIRED) {
      const f = FIXTURES[name];
      // A data: URL, an https URL (Verifik fetches those; Facegate fetches nothing), a few characters.
      for (const bad of [`data:image/jpeg;base64,${ctx.probe}`, 'https://images.example.com/faces/probe.jpg', 'aGVsbG8=']) {
        const body = Object.fromEntries(Object.entries(f.body!(ctx)).map(([k, v]) => [k, swap(v, bad)]));
        const r = await call(f, token, body);
        expect({ name, status: r.status, message: r.body.message, code: r.body.code }).toEqual({ name, status: 412, message: 'only_images_in_base64', code: 'ERROR' });
      }
    }
  });

  it('no token: 401 {"message": "Authentication required", "code": "UNAUTHORIZED"}', async () => {
    for (const f of Object.values(FIXTURES)) {
      const r = await call(f, null);
      expect({ path: f.path(ctx), status: r.status, message: r.body.message, code: r.body.code }).toEqual({
        path: f.path(ctx),
        status: 401,
        message: 'Authentication required',
        code: 'UNAUTHORIZED',
      });
    }
  });

  it('a liveness check that fails: 409, code ERROR, message liveness_failed (search with liveness)', async () => {
    const f = FIXTURES['search 1:N with liveness'];
    const r = await call(f, token, { ...f.body!(ctx), liveness_min_score: 1 });
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('ERROR');
    expect(r.body.message).toMatch(/^liveness_failed/);
  });

  it('no face in the photo (Verifik documents no answer): 422 NO_FACE naming the field', async () => {
    const noFace = (await noFaceJpeg()).toString('base64');
    const f = FIXTURES['search 1:N (active user)'];
    const r = await call(f, token, { ...f.body!(ctx), image: noFace });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ code: 'NO_FACE', field: 'image' });
    expect(r.body.message).toMatch(/^no_face_detected/);
  });
});
