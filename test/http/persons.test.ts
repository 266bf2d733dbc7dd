// /v2/persons and /v2/persons/liveness (generic person records), on the real face engine and a real SQLite file.
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { DB_FILE_NAME } from '../../src/store/sqlite/store.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { faceBase64, groupJpeg, noFaceJpeg } from '../support/photos.js';
import { newEngine, newIndex } from '../support/parts.js';

const TTL_MS = 60 * 60 * 1000;
let engine: WorkerFaceEngine;
let t: TestApp;
let acme: { token: string; clientId: string };
let globex: { token: string; clientId: string };
/** The app's clock: tests move it forward to age verifications. */
let offsetMs = 0;

const PERSONS = '/v2/persons';

beforeAll(async () => {
  engine = newEngine();
  await engine.ready();
  t = await startTestApp({
    engine,
    index: newIndex(engine.dim),
    config: { personVerificationTtlMs: TTL_MS },
    now: () => new Date(Date.now() + offsetMs),
  });
  acme = await t.token('acme');
  globex = await t.token('globex');
});

afterAll(async () => {
  await t?.close();
  await engine?.close();
});

function templatesOf(personId: string): number {
  const db = new Database(path.join(t.dataDir, DB_FILE_NAME), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM face_templates WHERE person_record_id = ?').get(personId) as { n: number }).n;
  } finally {
    db.close();
  }
}

/** A person record with every optional field empty (for writing straight through the store). */
function blank(client: string) {
  return {
    client,
    firstName: null,
    lastName: null,
    email: null,
    phone: null,
    dateOfBirth: null,
    documentType: null,
    documentNumber: null,
    livenessScore: null,
    verificationStatus: 'pending' as const,
  };
}

const details = {
  firstName: 'John',
  lastName: 'Doe',
  email: 'John.Doe@Example.com',
  phone: '+1234567890',
  dateOfBirth: '1990-01-15',
  documentType: 'passport',
  documentNumber: '123456789',
};

describe('create', () => {
  it('creates a pending person with the spec object (id person_…)', async () => {
    const r = await t.request('POST', PERSONS, { token: acme.token, body: details });
    expect(r.status).toBe(200);
    const p = r.body.data;
    expect(p.id).toMatch(/^person_[0-9a-f]{24}$/);
    expect(p).toMatchObject({ ...details, email: 'john.doe@example.com', verificationStatus: 'pending', client: acme.clientId });
    expect(p.biometricData).toEqual({ faceEnrolled: false });
    expect(Object.keys(p).sort()).toEqual(
      [
        'biometricData',
        'client',
        'createdAt',
        'dateOfBirth',
        'documentNumber',
        'documentType',
        'email',
        'firstName',
        'id',
        'lastName',
        'phone',
        'updatedAt',
        'verificationStatus',
      ].sort(),
    );
  });

  it('enrols a template from biometricData.faceImage and never echoes the image', async () => {
    const img = await faceBase64('s6a');
    const r = await t.request('POST', PERSONS, { token: acme.token, body: { firstName: 'Face', lastName: 'Owner', biometricData: { faceImage: img } } });
    expect(r.status).toBe(200);
    expect(r.body.data.biometricData).toEqual({ faceEnrolled: true });
    expect(r.body.data.verificationStatus).toBe('pending');
    expect(r.text).not.toContain(img.slice(0, 200));
    expect(templatesOf(r.body.data.id)).toBe(1);
    const got = await t.request('GET', `${PERSONS}/${r.body.data.id}`, { token: acme.token });
    expect(got.text).not.toContain(img.slice(0, 200));
    expect(got.body.data.biometricData.faceEnrolled).toBe(true);
  });

  it('validates fields with 409 MissingParameter naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ lastName: 'Doe' }, '"firstName" is required'],
      [{ ...details, email: 'not-an-email' }, '"email" must be a valid email'],
      [{ ...details, phone: 'call me' }, '"phone" must be a phone number: digits, spaces and ( ) . -, with an optional leading +'],
      [{ ...details, dateOfBirth: '1990-13-01' }, '"dateOfBirth" must be a valid date'],
      [{ ...details, verificationStatus: 'verified' }, '"verificationStatus" is not allowed'],
      [{ ...details, biometricData: { fingerprint: 'abc' } }, '"biometricData.fingerprint" is not allowed'],
      [{ ...details, biometricData: { faceImage: 12 } }, '"biometricData.faceImage" must be a string'],
    ];
    for (const [body, message] of cases) {
      const r = await t.request('POST', PERSONS, { token: acme.token, body });
      expect(r.status, message).toBe(409);
      expect(r.body, message).toMatchObject({ message, code: 'MissingParameter', field: message.split('"')[1] });
    }
  });

  it('412 for a data: URL and 422 for a face image without exactly one face; nothing stored', async () => {
    const before = (await t.request('GET', `${PERSONS}?limit=100`, { token: acme.token })).body.pagination.total;
    const dataUrl = await t.request('POST', PERSONS, {
      token: acme.token,
      body: { ...details, biometricData: { faceImage: `data:image/jpeg;base64,${await faceBase64('s1a')}` } },
    });
    expect(dataUrl.status).toBe(412);
    expect(dataUrl.body).toMatchObject({ message: 'only_images_in_base64', code: 'ERROR', field: 'biometricData.faceImage' });
    expect(dataUrl.body.hint).toMatch(/remove the prefix/);
    const none = await t.request('POST', PERSONS, { token: acme.token, body: { ...details, biometricData: { faceImage: (await noFaceJpeg()).toString('base64') } } });
    expect(none.status).toBe(422);
    expect(none.body).toMatchObject({ code: 'NO_FACE', field: 'biometricData.faceImage' });
    const many = await t.request('POST', '/v2/persons/liveness', {
      token: acme.token,
      body: { ...details, biometricData: { faceImage: (await groupJpeg()).toString('base64') } },
    });
    expect(many.status).toBe(422);
    expect(many.body).toMatchObject({ code: 'MULTIPLE_FACES', field: 'biometricData.faceImage' });
    expect((await t.request('GET', `${PERSONS}?limit=100`, { token: acme.token })).body.pagination.total).toBe(before);
  });
});

describe('liveness', () => {
  it('sets livenessScore and verified/failed by liveness_min_score; a failed capture enrols no face', async () => {
    const img = await faceBase64('s6b');
    const lenient = await t.request('POST', '/v2/persons/liveness', {
      token: acme.token,
      body: { firstName: 'Live', lastName: 'One', biometricData: { faceImage: img, livenessDetection: true }, liveness_min_score: 0.5 },
    });
    expect(lenient.status).toBe(200);
    const score = lenient.body.data.biometricData.livenessScore;
    expect(score).toBeGreaterThanOrEqual(0);
    expect(score).toBeLessThanOrEqual(1);
    expect(lenient.body.data.verificationStatus).toBe(score >= 0.5 ? 'verified' : 'failed');
    expect(templatesOf(lenient.body.data.id)).toBe(score >= 0.5 ? 1 : 0);

    const strict = await t.request('POST', '/v2/persons/liveness', {
      token: acme.token,
      body: { firstName: 'Live', lastName: 'Two', biometricData: { faceImage: img }, liveness_min_score: 1 },
    });
    expect(strict.status).toBe(200);
    const strictScore = strict.body.data.biometricData.livenessScore;
    expect(strict.body.data.verificationStatus).toBe(strictScore >= 1 ? 'verified' : 'failed');
    if (strictScore < 1) {
      expect(strict.body.data.biometricData.faceEnrolled).toBe(false);
      expect(templatesOf(strict.body.data.id)).toBe(0);
    }
  });

  it('POST /v2/persons with livenessDetection: true runs the same flow', async () => {
    const r = await t.request('POST', PERSONS, {
      token: acme.token,
      body: { firstName: 'Flag', lastName: 'Set', biometricData: { faceImage: await faceBase64('s6c'), livenessDetection: true } },
    });
    expect(r.status).toBe(200);
    expect(typeof r.body.data.biometricData.livenessScore).toBe('number');
    expect(['verified', 'failed']).toContain(r.body.data.verificationStatus);
  });

  it('requires a face image and a liveness_min_score within 0.5-1', async () => {
    const noImage = await t.request('POST', '/v2/persons/liveness', { token: acme.token, body: { firstName: 'A', lastName: 'B', biometricData: {} } });
    expect(noImage.body).toEqual({ message: '"biometricData.faceImage" is required', code: 'MissingParameter', field: 'biometricData.faceImage' });
    const low = await t.request('POST', '/v2/persons/liveness', {
      token: acme.token,
      body: { firstName: 'A', lastName: 'B', biometricData: { faceImage: await faceBase64('s1a') }, liveness_min_score: 0.2 },
    });
    expect(low.body).toEqual({ message: '"liveness_min_score" must be greater than or equal to 0.5', code: 'MissingParameter', field: 'liveness_min_score' });
  });

  it('reports a verification older than PERSON_VERIFICATION_TTL as expired', async () => {
    const { token, clientId } = await t.token('expiry');
    // Written through the store so the test does not depend on how live the engine finds a photo.
    const verified = await t.store.persons.create({ ...blank(clientId), firstName: 'Old', lastName: 'Check', livenessScore: 0.9, verificationStatus: 'verified' });
    const failed = await t.store.persons.create({ ...blank(clientId), firstName: 'Bad', lastName: 'Check', livenessScore: 0.1, verificationStatus: 'failed' });
    const pending = await t.store.persons.create({ ...blank(clientId), firstName: 'Never', lastName: 'Verified' });
    const status = async (id: string) => (await t.request('GET', `${PERSONS}/${id}`, { token })).body.data.verificationStatus;
    expect(await status(verified.id)).toBe('verified');
    try {
      offsetMs = TTL_MS - 60_000;
      expect(await status(verified.id)).toBe('verified');
      offsetMs = TTL_MS + 60_000;
      expect(await status(verified.id)).toBe('expired');
      // Nothing was verified, so nothing expires.
      expect(await status(failed.id)).toBe('failed');
      expect(await status(pending.id)).toBe('pending');
      const list = await t.request('GET', PERSONS, { token });
      expect(list.body.data.find((p: { id: string }) => p.id === verified.id).verificationStatus).toBe('expired');
    } finally {
      offsetMs = 0;
    }
  });
});

describe('read, update, delete', () => {
  it('lists with pagination', async () => {
    const { token } = await t.token('many');
    for (let i = 0; i < 3; i++) await t.request('POST', PERSONS, { token, body: { firstName: `P${i}`, lastName: 'X' } });
    const r = await t.request('GET', `${PERSONS}?page=2&limit=2`, { token });
    expect(r.status).toBe(200);
    expect(r.body.data).toHaveLength(1);
    expect(r.body.pagination).toEqual({ page: 2, limit: 2, total: 3, pages: 2 });
  });

  it('updates partially, clears with null, and a new face resets the verification', async () => {
    const stored = await t.store.persons.create({ ...blank(acme.clientId), ...details, livenessScore: 0.93, verificationStatus: 'verified' });
    const created = (await t.request('GET', `${PERSONS}/${stored.id}`, { token: acme.token })).body.data;
    expect(created.verificationStatus).toBe('verified');
    const r = await t.request('PUT', `${PERSONS}/${created.id}`, { token: acme.token, body: { phone: null, documentNumber: 'X-1' } });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ id: created.id, firstName: 'John', phone: null, documentNumber: 'X-1', verificationStatus: created.verificationStatus });
    const face = await t.request('PUT', `${PERSONS}/${created.id}`, { token: acme.token, body: { biometricData: { faceImage: await faceBase64('s4a') } } });
    expect(face.status).toBe(200);
    expect(face.body.data.verificationStatus).toBe('pending');
    expect(face.body.data.biometricData).toEqual({ faceEnrolled: true });
    expect(face.body.data.biometricData.livenessScore).toBeUndefined();
    expect(templatesOf(created.id)).toBe(1);
    const bad = await t.request('PUT', `${PERSONS}/${created.id}`, { token: acme.token, body: { livenessScore: 1 } });
    expect(bad.body).toMatchObject({ message: '"livenessScore" is not allowed', code: 'MissingParameter' });
  });

  it('deletes the record and its template', async () => {
    const created = (await t.request('POST', PERSONS, { token: acme.token, body: { ...details, biometricData: { faceImage: await faceBase64('s3a') } } })).body.data;
    expect(templatesOf(created.id)).toBe(1);
    const r = await t.request('DELETE', `${PERSONS}/${created.id}`, { token: acme.token });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ id: created.id, deleted: true });
    expect(templatesOf(created.id)).toBe(0);
    expect((await t.request('GET', `${PERSONS}/${created.id}`, { token: acme.token })).status).toBe(404);
    expect((await t.request('DELETE', `${PERSONS}/${created.id}`, { token: acme.token })).status).toBe(404);
  });

  it('keeps tenants apart', async () => {
    const created = (await t.request('POST', PERSONS, { token: acme.token, body: details })).body.data;
    const g = globex.token;
    expect((await t.request('GET', `${PERSONS}/${created.id}`, { token: g })).body).toEqual({ message: 'not_found', code: 'NOT_FOUND' });
    expect((await t.request('GET', `${PERSONS}?limit=100`, { token: g })).body.data.map((p: { id: string }) => p.id)).not.toContain(created.id);
    expect((await t.request('PUT', `${PERSONS}/${created.id}`, { token: g, body: { firstName: 'Mallory' } })).status).toBe(404);
    expect((await t.request('DELETE', `${PERSONS}/${created.id}`, { token: g })).status).toBe(404);
    expect((await t.request('GET', `${PERSONS}/${created.id}`, { token: acme.token })).body.data).toEqual(created);
  });
});
