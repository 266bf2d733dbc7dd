// Keyset paging of GET /v2/face-recognition/persons (`after`): pages follow each other without gaps or repeats,
// under filters, and a cursor that names no person of the tenant is a 404. Persons are written straight to the
// real store (no photos needed to page through names).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { newEngine, newIndex } from '../support/parts.js';

let engine: WorkerFaceEngine;
let t: TestApp;
let acme: { token: string; clientId: string };
let globex: { token: string; clientId: string };
let staffId: string;
const ids: string[] = [];

const PERSONS = '/v2/face-recognition/persons';

beforeAll(async () => {
  engine = newEngine();
  // Closed at the end of a short file: a worker still loading its models when close() terminates it dies in
  // native code (Napi::Error) and takes the test process with it.
  await engine.ready();
  t = await startTestApp({ engine, index: newIndex(engine.dim) });
  acme = await t.token('acme');
  globex = await t.token('globex');
  const staff = await t.store.collections.create({ client: acme.clientId, name: 'Staff', description: '' });
  staffId = staff.id;
  for (let i = 0; i < 23; i++) {
    const p = await t.store.facePersons.create({
      client: acme.clientId,
      name: i % 2 ? `Odd ${i}` : `Even ${i}`,
      gender: null,
      dateOfBirth: null,
      nationality: null,
      notes: null,
      collections: i % 3 === 0 ? [staffId] : [],
    });
    ids.push(p.id);
  }
});

afterAll(async () => {
  await t?.close();
  await engine?.close();
});

async function walk(filter: string): Promise<string[]> {
  const seen: string[] = [];
  let after: string | undefined;
  for (let guard = 0; guard < 50; guard++) {
    const res = await t.request('GET', `${PERSONS}?limit=5${filter}${after ? `&after=${after}` : ''}`, { token: acme.token });
    expect(res.status).toBe(200);
    const page = res.body.data.map((p: { _id: string }) => p._id);
    seen.push(...page);
    if (page.length < 5) break;
    after = page[page.length - 1];
  }
  return seen;
}

describe('keyset paging', () => {
  it('walks every person once, newest first', async () => {
    expect(await walk('')).toEqual([...ids].reverse());
  });

  it('walks a collection and a name filter the same way, with the filter\'s total', async () => {
    expect(await walk(`&collection=${staffId}`)).toEqual(ids.filter((_, i) => i % 3 === 0).reverse());
    expect(await walk('&name=odd')).toEqual(ids.filter((_, i) => i % 2 === 1).reverse());
    const res = await t.request('GET', `${PERSONS}?limit=5&name=odd&after=${ids[21]}`, { token: acme.token });
    expect(res.body.pagination.total).toBe(11);
    expect(res.body.data.map((p: { _id: string }) => p._id)).toEqual([ids[19], ids[17], ids[15], ids[13], ids[11]]);
  });

  it('a cursor of another tenant or of nobody is a 404', async () => {
    const res = await t.request('GET', `${PERSONS}?after=${ids[3]}`, { token: globex.token });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('NOT_FOUND');
    expect((await t.request('GET', `${PERSONS}?after=ffffffffffffffffffffffff`, { token: acme.token })).status).toBe(404);
  });
});
