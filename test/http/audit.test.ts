// The audit trail and "one enrolment, one person", through the whole HTTP stack on the real engine and SQLite.
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { pruneAudit } from '../../src/domain/audit.js';
import { issueToken, revokeToken } from '../../src/domain/tokens.js';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { DB_FILE_NAME } from '../../src/store/sqlite/store.js';
import type { AuditEvent } from '../../src/domain/ports.js';
import { verifyAnswer } from '../../src/http/signing.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { faceBase64, noFaceJpeg } from '../support/photos.js';
import { newEngine, newIndex } from '../support/parts.js';

let engine: WorkerFaceEngine;
let t: TestApp;
let acme: { token: string; tokenId: string; clientId: string };
let collection: string;

const PERSONS = '/v2/face-recognition/persons';
const LIVE = '/v2/face-recognition/persons/search-live-face';

beforeAll(async () => {
  engine = newEngine();
  await engine.ready();
  t = await startTestApp({ engine, index: newIndex(engine.dim), config: { maxImageBytes: 2 * 1024 * 1024 } });
  acme = await t.token('acme');
  collection = (await t.request('POST', '/v2/face-recognition/collections', { token: acme.token, body: { name: 'Staff' } })).body.data._id;
});

afterAll(async () => {
  await t?.close();
  await engine?.close();
});

function rawDb(readonly = true): Database.Database {
  return new Database(path.join(t.dataDir, DB_FILE_NAME), { readonly });
}

function count(table: string): number {
  const db = rawDb();
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** The events of the requests sent with this x-request-id (the caller's label; the record's `request` is the server's). */
async function events(callerRequestId: string): Promise<AuditEvent[]> {
  return (await t.store.audit.list({ since: '1970-01-01T00:00:00.000Z', limit: 100_000 })).filter((e) => e.callerRequest === callerRequestId);
}

describe('one enrolment, one person', () => {
  it('409 DIFFERENT_PERSON naming the odd image, and nothing written, when two images show two people', async () => {
    const persons = count('face_persons');
    const templates = count('face_templates');
    const r = await t.request('POST', PERSONS, { token: acme.token, body: { name: 'Two people', images: [await faceBase64('s6a'), await faceBase64('s6b')] } });
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('DIFFERENT_PERSON');
    expect(r.body.field).toBe('images[1]');
    expect(r.body.message).toMatch(/^different_person: "images\[1\]" does not show the same person as "images\[0\]" \(score [\d.]+ < 0\.5\)$/);
    expect(r.body.details.score).toBeLessThan(0.5);
    expect(count('face_persons')).toBe(persons);
    expect(count('face_templates')).toBe(templates);
  });

  it('names the one image that disagrees with the others, wherever it sits', async () => {
    // s1c and s3a are the same woman (engine score 0.95); s6d is someone else.
    const r = await t.request('POST', PERSONS, {
      token: acme.token,
      body: { name: 'Odd first', images: [await faceBase64('s6d'), await faceBase64('s1c'), await faceBase64('s3a')] },
    });
    expect(r.status).toBe(409);
    expect(r.body.field).toBe('images[0]');
  });

  it('accepts two different photos of one person', async () => {
    const r = await t.request('POST', PERSONS, { token: acme.token, body: { name: 'Same woman', images: [await faceBase64('s1c'), await faceBase64('s3a')] } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data.thumbnails).toHaveLength(2);
  });

  it('re-enrolment (PUT images) is held to the same rule and leaves the old faces in place', async () => {
    const p = (await t.request('POST', PERSONS, { token: acme.token, body: { name: 'Keeper', images: [await faceBase64('s5a')] } })).body.data;
    const r = await t.request('PUT', `${PERSONS}/${p._id}`, { token: acme.token, body: { name: 'Renamed', images: [await faceBase64('s4a'), await faceBase64('s6c')] } });
    expect(r.status).toBe(409);
    expect(r.body.field).toBe('images[1]');
    const after = (await t.request('GET', `${PERSONS}/${p._id}`, { token: acme.token })).body.data;
    expect(after.name).toBe('Keeper');
    expect(after.thumbnails).toEqual(p.thumbnails);
  });

  it('search-live-face refuses a capture of two people the same way, before its liveness verdict', async () => {
    const persons = count('face_persons');
    const r = await t.request('POST', LIVE, {
      token: acme.token,
      body: {
        name: 'Jane Doe',
        images: [await faceBase64('s1b'), await faceBase64('s6b')],
        gender: 'F',
        date_of_birth: '1990-01-15',
        collection_id: collection,
        liveness_min_score: 0.5,
        min_score: 0.8,
        search_mode: 'FAST',
      },
    });
    expect(r.status).toBe(409);
    // Named as two people, not reported as a weak liveness score.
    expect(r.body.code).toBe('DIFFERENT_PERSON');
    expect(r.body.field).toBe('images[1]');
    expect(count('face_persons')).toBe(persons);
  });
});

describe('audit trail', () => {
  it('records enrolment, search with the ids returned, and erasure, with client, token, request id, route and outcome', async () => {
    const enrol = await t.request('POST', PERSONS, {
      token: acme.token,
      body: { name: 'Audited Person', images: [await faceBase64('s6d')], collections: [collection] },
      headers: { 'x-request-id': 'audit-enrol-1' },
    });
    expect(enrol.status).toBe(200);
    const id = enrol.body.data._id;
    const [e1] = await events('audit-enrol-1');
    expect(e1).toMatchObject({
      client: acme.clientId,
      token: acme.tokenId,
      via: 'api',
      request: enrol.body.id,
      callerRequest: 'audit-enrol-1',
      route: 'POST /v2/face-recognition/persons',
      action: 'face_person.enrol',
      outcome: 'ok',
      status: 200,
      subject: id,
    });
    expect(Date.parse(e1.at)).toBeGreaterThan(Date.now() - 60_000);

    const search = await t.request('POST', '/v2/face-recognition/search-active-user', {
      token: acme.token,
      body: { image: await faceBase64('s6d'), os: 'DESKTOP', min_score: 0.8, search_mode: 'ACCURATE', collection_id: collection },
      headers: { 'x-request-id': 'audit-search-1' },
    });
    expect(search.body.data[0].id).toBe(id);
    const [e2] = await events('audit-search-1');
    expect(e2.action).toBe('search');
    expect(e2.details).toEqual({ results: search.body.data.map((h: { id: string; score: number }) => ({ id: h.id, score: h.score })) });

    const del = await t.request('DELETE', `${PERSONS}/${id}`, { token: acme.token, headers: { 'x-request-id': 'audit-erase-1' } });
    expect(del.status).toBe(200);
    const [e3] = await events('audit-erase-1');
    expect(e3).toMatchObject({ action: 'face_person.erase', outcome: 'ok', subject: id });
    // The fact of the erasure stays, and still names nobody: the enrolment's record survives, ids only.
    expect((await events('audit-enrol-1'))[0].subject).toBe(id);
  });

  it('records refusals (a 404) and liveness verdicts, not bad tokens, and never names, images or templates', async () => {
    const none = await t.request('DELETE', `${PERSONS}/000000000000000000000000`, { token: acme.token, headers: { 'x-request-id': 'audit-404' } });
    expect(none.status).toBe(404);
    expect((await events('audit-404'))[0]).toMatchObject({ action: 'face_person.erase', outcome: 'rejected', status: 404, details: { code: 'NOT_FOUND' } });
    // A bad token is not recorded: a flood of them must not become a flood of audit writes (the request log has it).
    const anon = await t.request('POST', PERSONS, { headers: { 'x-request-id': 'audit-401', authorization: 'Bearer fg_nope' }, body: { name: 'x', images: [] } });
    expect(anon.status).toBe(401);
    expect(await events('audit-401')).toEqual([]);

    const live = await t.request('POST', '/v2/face-recognition/liveness', { token: acme.token, body: { os: 'DESKTOP', image: await faceBase64('s5a') }, headers: { 'x-request-id': 'audit-live' } });
    expect(live.status).toBe(200);
    expect((await events('audit-live'))[0].details).toEqual({
      liveness: { score: live.body.data.liveness_score, min_score: live.body.data.min_score, passed: live.body.data.passed },
    });

    // Liveness sessions by name, with the session id and its verdict so far (a frame with no face fails the attempt).
    const session = await t.request('POST', '/v2/face-recognition/liveness/sessions', { token: acme.token, body: { steps: ['turn_left'], max_attempts: 1 }, headers: { 'x-request-id': 'audit-session' } });
    const sid = session.body.data.session_id;
    expect((await events('audit-session'))[0]).toMatchObject({ action: 'liveness_session.create', subject: sid, details: { liveness_session: { status: 'CREATED' } } });
    const framed = await t.request('POST', `/v2/face-recognition/liveness/sessions/${sid}/frames`, {
      token: acme.token,
      body: { frames: [{ image: (await noFaceJpeg()).toString('base64'), timestamp_ms: 0 }] },
      headers: { 'x-request-id': 'audit-frames' },
    });
    expect((await events('audit-frames'))[0]).toMatchObject({ action: 'liveness_session.frames', subject: sid, details: { liveness_session: { status: framed.body.data.status } } });

    // Verify and the searches answer the matched person (name, thumbnails): the trail keeps ids and scores only.
    const woman = (await t.request('POST', PERSONS, { token: acme.token, body: { name: 'Verified Woman', images: [await faceBase64('s1c')], collections: [collection] } })).body.data._id;
    const probe = await faceBase64('s3a');
    const verified = await t.request('POST', '/v2/face-recognition/verify', { token: acme.token, body: { id: woman, images: [probe] }, headers: { 'x-request-id': 'audit-verify' } });
    expect(verified.body.data.match.name).toBe('Verified Woman');
    expect((await events('audit-verify'))[0]).toMatchObject({ action: 'verify', subject: woman, details: { match: true, score: verified.body.data.score } });
    const searched = await t.request('POST', '/v2/face-recognition/search-live-face', {
      token: acme.token,
      body: { image: probe, os: 'DESKTOP', liveness_min_score: 0.5, min_score: 0.8, search_mode: 'FAST' },
      headers: { 'x-request-id': 'audit-search-live' },
    });
    expect(searched.status, JSON.stringify(searched.body)).toBe(200);
    expect((await events('audit-search-live'))[0]).toMatchObject({
      action: 'search_live',
      details: { results: searched.body.data.persons.map((h: { id: string; score: number }) => ({ id: h.id, score: h.score })), liveness: { passed: true } },
    });
    expect(searched.body.data.persons.map((h: { id: string }) => h.id)).toContain(woman);

    const db = rawDb();
    const dump = JSON.stringify(db.prepare('SELECT * FROM audit_events').all());
    db.close();
    expect(dump).not.toContain('Verified Woman');
    expect(dump).not.toContain('Audited Person');
    expect(dump).not.toContain('Same woman');
    expect(dump).not.toContain('/9j/'); // base64 JPEG
    expect(dump).not.toContain('thumbnails');
  });

  it('records token creation and revocation', async () => {
    const issued = await issueToken(t.store, { clientName: 'tokens-audit' });
    expect(await revokeToken(t.store, issued.record.id)).toBe(true);
    const all = await t.store.audit.list({ since: '1970-01-01', limit: 100_000 });
    const mine = all.filter((e) => e.subject === issued.record.id);
    expect(mine.map((e) => [e.action, e.route, e.client, e.via])).toEqual([
      ['token.create', 'cli tokens create', issued.client.id, 'operator'],
      ['token.revoke', 'cli tokens revoke', issued.client.id, 'operator'],
    ]);
  });

  it('is append-only: UPDATE and DELETE are refused by the database itself; only retention removes old rows', async () => {
    const old = await t.store.audit.append({ at: '2020-01-01T00:00:00.000Z', client: null, token: null, via: 'operator', request: 'old', route: 'test', action: 'test', outcome: 'ok', status: null, subject: null, details: null });
    const db = rawDb(false);
    try {
      expect(() => db.prepare("UPDATE audit_events SET outcome = 'failed'").run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM audit_events').run()).toThrow(/append-only/);
      expect(() => db.prepare('UPDATE audit_retention SET cutoff = ?').run(new Date().toISOString())).toThrow(/never to within a day/);
      expect(() => db.prepare('DELETE FROM audit_retention').run()).toThrow();
    } finally {
      db.close();
    }
    const before = count('audit_events');
    expect(await pruneAudit(t.store, 365)).toBe(1);
    expect(count('audit_events')).toBe(before - 1);
    expect((await t.store.audit.list({ since: '1970-01-01', limit: 10 })).some((e) => e.seq === old.seq)).toBe(false);
    await expect(pruneAudit(t.store, 0)).rejects.toThrow(RangeError);
  });

  it('`audit export --since` prints JSON lines from that date on', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const code = await runCli(['audit', 'export', '--since', since], { env: { DATA_DIR: t.dataDir }, out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(code, err.join('\n')).toBe(0);
    const rows = out.map((l) => JSON.parse(l) as AuditEvent);
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.every((r) => r.at >= since)).toBe(true);
    expect(rows.map((r) => r.seq)).toEqual([...rows.map((r) => r.seq)].sort((a, b) => a - b));
    expect(rows.some((r) => r.callerRequest === 'audit-erase-1')).toBe(true);
    const bad = await runCli(['audit', 'export', '--since', 'yesterday'], { env: { DATA_DIR: t.dataDir }, out: () => {}, err: () => {} });
    expect(bad).toBe(2);
  });
});

describe('audit gaps closed', () => {
  it("a console action is recorded with the session's token and via console, not as an operator's (null token)", async () => {
    const token = await t.token('acme');
    const signIn = await t.app.inject({ method: 'POST', url: '/console/api/session', payload: { token: token.token }, headers: { host: 'localhost', origin: 'http://localhost' } });
    expect(signIn.statusCode).toBe(200);
    const cookie = String(signIn.headers['set-cookie']).split(';')[0];
    const created = await t.request('POST', PERSONS, {
      body: { name: 'Console Enrolled', images: [await faceBase64('s1b')] },
      headers: { host: 'localhost', cookie, 'x-csrf-token': signIn.json().csrfToken, 'x-request-id': 'audit-console-enrol' },
    });
    expect(created.status, created.text).toBe(200);
    const [e] = await events('audit-console-enrol');
    expect(e).toMatchObject({ client: token.clientId, token: token.tokenId, via: 'console', action: 'face_person.enrol', subject: created.body.data._id });
  });

  it('/detect with min_score is recorded as an identification (search) with every candidate of every face', async () => {
    const woman = (await t.request('POST', PERSONS, { token: acme.token, body: { name: 'Detected Woman', images: [await faceBase64('s1c')] } })).body.data._id;
    const r = await t.request('POST', '/v2/face-recognition/detect', {
      token: acme.token,
      body: { image: await faceBase64('s3a'), min_score: 0.8 },
      headers: { 'x-request-id': 'audit-detect-identify' },
    });
    expect(r.status, r.text).toBe(200);
    const found = r.body.data[0].persons.map((p: { id: string }) => p.id);
    expect(found).toContain(woman);
    const [e] = await events('audit-detect-identify');
    expect(e.action).toBe('search');
    expect(e.route).toBe('POST /v2/face-recognition/detect');
    expect(e.details!.faces).toBe(r.body.data.length);
    expect((e.details!.results as { face: number; id: string }[]).map((h) => h.id)).toEqual(found);
    expect(e.details!.results).toContainEqual({ face: 0, id: woman, score: expect.any(Number) });
    // Without min_score a detect identifies nobody: recorded as a detect.
    await t.request('POST', '/v2/face-recognition/detect', { token: acme.token, body: { image: await faceBase64('s3a') }, headers: { 'x-request-id': 'audit-detect-only' } });
    expect((await events('audit-detect-only'))[0]).toMatchObject({ action: 'detect', details: { faces: 1 } });
  });

  it("a caller-chosen x-request-id is kept apart: the answer's id, the signed id and the record's request are the server's", async () => {
    const body = { name: 'Chosen id' };
    const r = await t.request('POST', '/v2/face-recognition/collections', { token: acme.token, body, headers: { 'x-request-id': 'audit-erase-1' } });
    expect(r.status).toBe(200);
    expect(r.body.id).not.toBe('audit-erase-1');
    expect(r.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers['x-request-id']).toBe(r.body.id);
    const jwks = (await t.request('GET', '/.well-known/jwks.json')).body;
    const claims = await verifyAnswer(r.body, { jwks, client: acme.clientId, route: 'POST /v2/face-recognition/collections', request: { method: 'POST', path: '/v2/face-recognition/collections', body } });
    expect(claims.id).toBe(r.body.id);
    expect(claims.callerRequestId).toBe('audit-erase-1');
    // The earlier erasure's record is not shadowed by a second request reusing its id.
    const all = await t.store.audit.list({ since: '1970-01-01', limit: 100_000 });
    expect(all.filter((e) => e.request === r.body.id).map((e) => e.action)).toEqual(['collection.create']);
    expect(new Set(all.map((e) => e.request).filter(Boolean)).size).toBe(all.filter((e) => e.request).length);
  });

  it('`audit report` answers a regulator: who searched for or enrolled this person, when, from which token', async () => {
    const regulated = await t.token('regulated-tenant');
    const enrol = await t.request('POST', PERSONS, { token: regulated.token, body: { name: 'Subject Person', images: [await faceBase64('s4a')] } });
    const person = enrol.body.data._id;
    const search = await t.request('POST', '/v2/face-recognition/search-active-user', { token: regulated.token, body: { image: await faceBase64('s4a'), os: 'DESKTOP', min_score: 0.8, search_mode: 'ACCURATE' } });
    expect(search.status, search.text).toBe(200);
    await t.request('DELETE', `${PERSONS}/${person}`, { token: regulated.token });
    const out: string[] = [];
    const err: string[] = [];
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const code = await runCli(['audit', 'report', '--since', since, '--person', person], { env: { DATA_DIR: t.dataDir }, out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(code, err.join('\n')).toBe(0);
    const [header, ...lines] = out;
    expect(header).toBe('seq,at,tenant,client,token,tokenLabel,via,action,outcome,status,persons,route,request,callerRequest');
    const rows = lines.map((l) => Object.fromEntries(header.split(',').map((h, i) => [h, l.split(',')[i]])));
    expect(rows.map((r) => r.action)).toEqual(['face_person.enrol', 'search', 'face_person.erase']);
    for (const r of rows) {
      expect(r).toMatchObject({ tenant: 'regulated-tenant', client: regulated.clientId, token: regulated.tokenId, via: 'api', outcome: 'ok' });
      expect(r.persons.split(' ')).toContain(person);
      expect(Date.parse(r.at)).toBeGreaterThan(Date.now() - 60_000);
    }
    // Ids only: the report names tenants and tokens, never the person.
    expect(out.join('\n')).not.toContain('Subject Person');
    const bad = await runCli(['audit', 'report', '--since', since, '--format', 'xml'], { env: { DATA_DIR: t.dataDir }, out: () => {}, err: () => {} });
    expect(bad).toBe(2);
  });
});
