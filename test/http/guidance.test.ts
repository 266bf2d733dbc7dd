// Errors that say what to do (the expected format, the allowed fields, the field at fault), the server log's
// account of every 4xx without personal data, and answers that agree across routes: on the real engine and SQLite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { faceBase64 } from '../support/photos.js';
import { newEngine, newIndex } from '../support/parts.js';

let engine: WorkerFaceEngine;
let t: TestApp;
let token: string;
const logLines: string[] = [];

const FACE_PERSONS = '/v2/face-recognition/persons';

beforeAll(async () => {
  engine = newEngine();
  await engine.ready();
  t = await startTestApp({ engine, index: newIndex(engine.dim), logLines });
  ({ token } = await t.token('acme'));
});

afterAll(async () => {
  await t?.close();
  await engine?.close();
});

const DATE_MESSAGE = 'must be a date in the format YYYY-MM-DD';

describe('errors that say what to do', () => {
  it('a bad date of birth names the format, whichever check catches it', async () => {
    const image = await faceBase64('s1a');
    for (const dob of ['15/01/1990', '1990-1-5', '1990-01-15 at noon', 'January 15th, 1990']) {
      const r = await t.request('POST', FACE_PERSONS, { token, body: { name: 'Jane Doe', date_of_birth: dob, images: [image] } });
      expect(r.status, dob).toBe(409);
      expect(r.body, dob).toMatchObject({ code: 'MissingParameter', field: 'date_of_birth' });
      expect(r.body.message, dob).toContain(`"date_of_birth" ${DATE_MESSAGE}`);
    }
    const person = await t.request('POST', '/v2/persons', { token, body: { firstName: 'Jane', lastName: 'Doe', dateOfBirth: '01-15-1990' } });
    expect(person.status).toBe(409);
    expect(person.body.message).toContain(`"dateOfBirth" ${DATE_MESSAGE}`);
    const phone = await t.request('POST', '/v2/persons', { token, body: { firstName: 'Jane', lastName: 'Doe', phone: 'call me' } });
    expect(phone.body.message).toBe('"phone" must be a phone number: digits, spaces and ( ) . -, with an optional leading +');
  });

  it('too many images: the limit, and the setting that changes it', async () => {
    const image = await faceBase64('s1a');
    const r = await t.request('POST', FACE_PERSONS, { token, body: { name: 'Many', images: Array(t.config.maxImages + 1).fill(image) } });
    expect(r.status).toBe(409);
    expect(r.body).toEqual({
      message: `"images" must contain less than or equal to ${t.config.maxImages} items`,
      code: 'MissingParameter',
      field: 'images',
      hint: `at most ${t.config.maxImages} images per request; the server's MAX_IMAGES setting changes it`,
    });
  });

  it('an unknown field lists the allowed ones, in the body, nested, and in the query string', async () => {
    const body = await t.request('POST', '/v2/face-recognition/collections', { token, body: { name: 'Staff', colour: 'blue' } });
    expect(body.status).toBe(409);
    expect(body.body).toEqual({ message: '"colour" is not allowed', code: 'MissingParameter', field: 'colour', hint: 'fields allowed in the body: name, description' });
    const nested = await t.request('POST', '/v2/persons', { token, body: { firstName: 'J', lastName: 'D', biometricData: { face: 'x' } } });
    expect(nested.body).toMatchObject({ field: 'biometricData.face', hint: 'fields allowed in biometricData: faceImage, livenessDetection' });
    const query = await t.request('GET', '/v2/face-recognition/collections?colour=blue', { token });
    expect(query.body).toMatchObject({ field: 'colour', hint: 'fields allowed in the query string: page, limit, name' });
  });

  it('every 4xx reason goes to the log at info, naming fields and limits but never names or images', async () => {
    logLines.length = 0;
    const image = await faceBase64('s1a');
    await t.request('POST', FACE_PERSONS, { token, body: { name: 'Jane Doe', date_of_birth: '15/01/1990', images: [image] } });
    await t.request('POST', FACE_PERSONS, { token, body: { name: 'Jane Doe', images: [`data:image/jpeg;base64,${image}`] } });
    await t.request('GET', '/v2/face-recognition/collections', { headers: { authorization: 'jwt abc.def.ghi' } });
    await t.request('GET', '/v2/nothing-here', { token });
    const rejected = logLines.map((l) => JSON.parse(l)).filter((l) => typeof l.msg === 'string' && l.msg.startsWith('request rejected'));
    expect(rejected.map((l) => [l.level, l.status, l.field])).toEqual([
      [30, 409, 'date_of_birth'],
      [30, 412, 'images[0]'],
      [30, 401, undefined],
      [30, 404, undefined],
    ]);
    expect(rejected[1].hint).toMatch(/remove the prefix/);
    expect(rejected[2].hint).toMatch(/"jwt" scheme/);
    const log = logLines.join('\n');
    expect(log).not.toContain('Jane');
    expect(log).not.toContain('15/01/1990');
    expect(log).not.toContain(image.slice(0, 40));
    expect(log).not.toContain('abc.def.ghi');
  });
});

describe('answers that agree across routes', () => {
  it('an unknown collection_id on search-active-user is reported as collection_id', async () => {
    const r = await t.request('POST', '/v2/face-recognition/search-active-user', {
      token,
      body: { image: await faceBase64('s1a'), os: 'DESKTOP', min_score: 0.8, search_mode: 'FAST', collection_id: 'no-such-collection' },
    });
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ message: 'collection_not_found: "collection_id" does not name a collection of this client', code: 'NOT_FOUND', field: 'collection_id' });
  });

  it('replacing a person\'s images moves updatedAt', async () => {
    const created = await t.request('POST', FACE_PERSONS, { token, body: { name: 'Re Enrolled', images: [await faceBase64('s4a')] } });
    expect(created.status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
    const put = await t.request('PUT', `${FACE_PERSONS}/${created.body.data._id}`, { token, body: { images: [await faceBase64('s5a')] } });
    expect(put.status).toBe(200);
    expect(Date.parse(put.body.data.updatedAt)).toBeGreaterThan(Date.parse(created.body.data.updatedAt));
    expect(put.body.data.createdAt).toBe(created.body.data.createdAt);
    const got = await t.request('GET', `${FACE_PERSONS}/${created.body.data._id}`, { token });
    expect(got.body.data.updatedAt).toBe(put.body.data.updatedAt);
  });

  it('the liveness score of one photo is the same 4-decimal number on /face-recognition/liveness and /v2/persons', async () => {
    const image = await faceBase64('s6a');
    const live = await t.request('POST', '/v2/face-recognition/liveness', { token, body: { os: 'DESKTOP', image, liveness_min_score: 0.5 } });
    expect(live.status).toBe(200);
    const person = await t.request('POST', '/v2/persons/liveness', { token, body: { firstName: 'Live', lastName: 'Ness', biometricData: { faceImage: image } } });
    expect(person.status).toBe(200);
    const a = live.body.data.liveness_score as number;
    const b = person.body.data.biometricData.livenessScore as number;
    expect(b).toBe(a);
    expect(Math.round(b * 1e4) / 1e4).toBe(b);
    const listed = await t.request('GET', `/v2/persons/${person.body.data.id}`, { token });
    expect(listed.body.data.biometricData.livenessScore).toBe(a);
  });
});
