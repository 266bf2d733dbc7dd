// `external_id` on face persons (beyond Verifik): set at enrolment and update, unique per client, searchable with
// GET /persons?external_id=, and returned by search answers. Real engine, real SQLite file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { newEngine, newIndex } from '../support/parts.js';
import { faceBase64 } from '../support/photos.js';

let engine: WorkerFaceEngine;
let t: TestApp;
let acme: string;
let globex: string;
const PERSONS = '/v2/face-recognition/persons';

beforeAll(async () => {
  engine = newEngine();
  await engine.ready();
  t = await startTestApp({ engine, index: newIndex(engine.dim) });
  acme = (await t.token('acme')).token;
  globex = (await t.token('globex')).token;
});

afterAll(async () => {
  await t?.close();
  await engine?.close();
});

describe('external_id', () => {
  let janeId: string;

  it('is set at enrolment, trimmed, and shown on the person', async () => {
    const r = await t.request('POST', PERSONS, { token: acme, body: { name: 'Jane', external_id: '  EMP-001 ', images: [await faceBase64('s1a')] } });
    expect(r.status).toBe(200);
    expect(r.body.data.external_id).toBe('EMP-001');
    janeId = r.body.data._id;
    const plain = await t.request('POST', PERSONS, { token: acme, body: { name: 'No id', images: [await faceBase64('s4a')] } });
    expect(plain.body.data.external_id).toBeNull();
  });

  it('is unique per client: a second person with it is a 409 and nothing is written; another client may use it', async () => {
    const before = (await t.request('GET', PERSONS, { token: acme })).body.pagination.total;
    const r = await t.request('POST', PERSONS, { token: acme, body: { name: 'Other', external_id: 'EMP-001', images: [await faceBase64('s5a')] } });
    expect(r.status).toBe(409);
    expect(r.body.message).toMatch(/external_id_taken/);
    expect((await t.request('GET', PERSONS, { token: acme })).body.pagination.total).toBe(before);
    const g = await t.request('POST', PERSONS, { token: globex, body: { name: 'Globex Jane', external_id: 'EMP-001', images: [await faceBase64('s5a')] } });
    expect(g.status).toBe(200);
  });

  it('finds the person by it, within the client only', async () => {
    const r = await t.request('GET', `${PERSONS}?external_id=EMP-001`, { token: acme });
    expect(r.status).toBe(200);
    expect(r.body.pagination.total).toBe(1);
    expect(r.body.data.map((p: { _id: string }) => p._id)).toEqual([janeId]);
    const none = await t.request('GET', `${PERSONS}?external_id=EMP-404`, { token: acme });
    expect(none.body.data).toEqual([]);
  });

  it('is changed and cleared by an update; taking another person\'s is a 409', async () => {
    const other = await t.request('POST', PERSONS, { token: acme, body: { name: 'Sam', external_id: 'EMP-002', images: [await faceBase64('s6a')] } });
    expect(other.status).toBe(200);
    const clash = await t.request('PUT', `${PERSONS}/${janeId}`, { token: acme, body: { external_id: 'EMP-002' } });
    expect(clash.status).toBe(409);
    const same = await t.request('PUT', `${PERSONS}/${janeId}`, { token: acme, body: { external_id: 'EMP-001', notes: 'kept' } });
    expect(same.status).toBe(200);
    const moved = await t.request('PUT', `${PERSONS}/${janeId}`, { token: acme, body: { external_id: 'EMP-100' } });
    expect(moved.body.data.external_id).toBe('EMP-100');
    const cleared = await t.request('PUT', `${PERSONS}/${janeId}`, { token: acme, body: { external_id: null } });
    expect(cleared.body.data.external_id).toBeNull();
    const back = await t.request('PUT', `${PERSONS}/${janeId}`, { token: acme, body: { external_id: 'EMP-001' } });
    expect(back.body.data.external_id).toBe('EMP-001');
  });

  it('is returned by search answers', async () => {
    const r = await t.request('POST', '/v2/face-recognition/search', {
      token: acme,
      body: { images: [await faceBase64('s1a')], min_score: 0.8, search_mode: 'ACCURATE' },
    });
    expect(r.status).toBe(200);
    expect(r.body.data[0]).toMatchObject({ id: janeId, external_id: 'EMP-001' });
  });

  it('refuses a blank one as the other invalid fields are refused (409 MissingParameter, Verifik\'s code)', async () => {
    const r = await t.request('POST', PERSONS, { token: acme, body: { name: 'Blank', external_id: '   ', images: [await faceBase64('s6b')] } });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ code: 'MissingParameter' });
  });
});
