// /v2/face-recognition/collections
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { newEngine, newIndex } from '../support/parts.js';

let engine: WorkerFaceEngine;
let t: TestApp;
let acme: string;
let globex: string;

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

const URL = '/v2/face-recognition/collections';
const create = (token: string, body: unknown) => t.request('POST', URL, { token, body });

describe('collections', () => {
  it('creates a collection with an ObjectId-like _id, a uuid code and the client', async () => {
    const r = await create(acme, { name: ' Staff ', description: 'Badge holders' });
    expect(r.status).toBe(200);
    const c = r.body.data;
    expect(Object.keys(c).sort()).toEqual(['_id', 'client', 'code', 'createdAt', 'description', 'name', 'updatedAt']);
    expect(c._id).toMatch(/^[0-9a-f]{24}$/);
    expect(c.code).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(c.name).toBe('Staff');
    expect(c.description).toBe('Badge holders');
    expect(c.createdAt).toBe(c.updatedAt);
    const noDesc = await create(acme, { name: 'No description' });
    expect(noDesc.body.data.description).toBe('');
  });

  it('retrieves, updates and deletes by _id or by code', async () => {
    const c = (await create(acme, { name: 'Visitors' })).body.data;
    for (const key of [c._id, c.code]) {
      const got = await t.request('GET', `${URL}/${key}`, { token: acme });
      expect(got.status).toBe(200);
      expect(got.body.data).toEqual(c);
    }
    const upd = await t.request('PUT', `${URL}/${c.code}`, { token: acme, body: { description: 'Day passes' } });
    expect(upd.status).toBe(200);
    expect(upd.body.data).toMatchObject({ _id: c._id, name: 'Visitors', description: 'Day passes' });
    expect(Date.parse(upd.body.data.updatedAt)).toBeGreaterThanOrEqual(Date.parse(c.updatedAt));
    const del = await t.request('DELETE', `${URL}/${c.code}`, { token: acme });
    expect(del.status).toBe(200);
    expect(del.body.data).toEqual({ _id: c._id, deleted: true });
    for (const key of [c._id, c.code]) expect((await t.request('GET', `${URL}/${key}`, { token: acme })).status).toBe(404);
    expect((await t.request('DELETE', `${URL}/${c._id}`, { token: acme })).status).toBe(404);
  });

  it('lists with pagination and a name filter', async () => {
    const { token } = await t.token('lister');
    for (const name of ['Alpha team', 'Beta team', 'Gamma', 'Delta team', 'Epsilon']) await create(token, { name });
    const p1 = await t.request('GET', `${URL}?page=1&limit=2`, { token });
    expect(p1.status).toBe(200);
    expect(p1.body.data).toHaveLength(2);
    expect(p1.body.pagination).toEqual({ page: 1, limit: 2, total: 5, pages: 3 });
    const p3 = await t.request('GET', `${URL}?page=3&limit=2`, { token });
    expect(p3.body.data).toHaveLength(1);
    const all = [...p1.body.data, ...(await t.request('GET', `${URL}?page=2&limit=2`, { token })).body.data, ...p3.body.data];
    expect(new Set(all.map((c: { _id: string }) => c._id)).size).toBe(5);
    const teams = await t.request('GET', `${URL}?name=team`, { token });
    expect(teams.body.data.map((c: { name: string }) => c.name).sort()).toEqual(['Alpha team', 'Beta team', 'Delta team']);
    expect(teams.body.pagination.total).toBe(3);
  });

  it('answers validation failures with 409 MissingParameter naming the field', async () => {
    const cases: [unknown, string][] = [
      [{}, '"name" is required'],
      [{ name: '' }, '"name" is not allowed to be empty'],
      [{ name: 5 }, '"name" must be a string'],
      [{ name: 'x', colour: 'red' }, '"colour" is not allowed'],
      [{ name: 'x', description: 'd'.repeat(2001) }, '"description" length must be less than or equal to 2000 characters long'],
    ];
    for (const [body, message] of cases) {
      const r = await create(acme, body);
      expect(r.status, JSON.stringify(body)).toBe(409);
      expect(r.body).toMatchObject({ message, code: 'MissingParameter', field: message.split('"')[1] });
    }
    const q = await t.request('GET', `${URL}?limit=101`, { token: acme });
    expect(q.body).toEqual({ message: '"limit" must be less than or equal to 100', code: 'MissingParameter', field: 'limit' });
    const q2 = await t.request('GET', `${URL}?page=0`, { token: acme });
    expect(q2.body).toEqual({ message: '"page" must be greater than or equal to 1', code: 'MissingParameter', field: 'page' });
    const q3 = await t.request('GET', `${URL}?sort=name`, { token: acme });
    expect(q3.body).toEqual({ message: '"sort" is not allowed', code: 'MissingParameter', field: 'sort', hint: 'fields allowed in the query string: page, limit, name' });
    const u = await t.request('PUT', `${URL}/whatever`, { token: acme, body: { code: 'mine' } });
    expect(u.body).toEqual({ message: '"code" is not allowed', code: 'MissingParameter', field: 'code', hint: 'fields allowed in the body: name, description, people' });
  });

  it('keeps tenants apart: another client can neither see nor change a collection', async () => {
    const c = (await create(acme, { name: 'Acme only' })).body.data;
    for (const key of [c._id, c.code]) {
      const get = await t.request('GET', `${URL}/${key}`, { token: globex });
      expect(get.status).toBe(404);
      expect(get.body).toEqual({ message: 'not_found', code: 'NOT_FOUND' });
      expect((await t.request('PUT', `${URL}/${key}`, { token: globex, body: { name: 'pwned' } })).status).toBe(404);
      expect((await t.request('DELETE', `${URL}/${key}`, { token: globex })).status).toBe(404);
    }
    const list = await t.request('GET', `${URL}?limit=100`, { token: globex });
    expect(list.body.data.some((x: { _id: string }) => x._id === c._id)).toBe(false);
    // Untouched for its owner.
    expect((await t.request('GET', `${URL}/${c._id}`, { token: acme })).body.data.name).toBe('Acme only');
    // A missing id reads exactly like a foreign one.
    const missing = await t.request('GET', `${URL}/ffffffffffffffffffffffff`, { token: globex });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ message: 'not_found', code: 'NOT_FOUND' });
  });
});
