// /openapi.json against the running routes: every status a route documents is one it answers, and every status it
// answers is documented. Routes declare their failures once (errorResponses() in src/http/schemas.ts); this file
// triggers them through the whole HTTP stack on the real engine and SQLite: generic mistakes on every /v2 route
// (no token, an expired token, invalid input, a body too large, a body that is not JSON), and per route a request
// naming something unknown (404), an image that is not raw base64 (412) and a photo without a face (422).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { MATCH_DEFAULTS } from '../../src/domain/thresholds.js';
import { hashToken } from '../../src/domain/tokens.js';
import { startTestApp, type Res, type TestApp } from '../support/harness.js';
import { faceBase64, noFaceJpeg } from '../support/photos.js';
import { newEngine, newIndex } from '../support/parts.js';

const BODY_LIMIT = 256 * 1024;
const UNKNOWN_ID = '0123456789abcdef01234567';

let engine: WorkerFaceEngine;
let t: TestApp;
let token: string;
let expired: string;
let doc: any;
let face: string;
let noFace: string;
const ids = { collection: '', facePerson: '', person: '', session: '' };

beforeAll(async () => {
  engine = newEngine();
  await engine.ready();
  t = await startTestApp({ engine, index: newIndex(engine.dim), config: { bodyLimit: BODY_LIMIT } });
  let clientId: string;
  ({ token, clientId } = await t.token('acme'));
  expired = 'fg_expired-secret-for-openapi-tests-0123456789';
  await t.store.tokens.create({ client: clientId, hash: hashToken(expired), label: 'expired', expiresAt: new Date(Date.now() - 1000).toISOString() });
  face = await faceBase64('s1a');
  noFace = (await noFaceJpeg()).toString('base64');
  ids.collection = (await t.request('POST', '/v2/face-recognition/collections', { token, body: { name: 'c' } })).body.data._id;
  ids.facePerson = (await t.request('POST', '/v2/face-recognition/persons', { token, body: { name: 'p', images: [face] } })).body.data._id;
  ids.person = (await t.request('POST', '/v2/persons', { token, body: { firstName: 'a', lastName: 'b' } })).body.data.id;
  ids.session = (await t.request('POST', '/v2/face-recognition/liveness/sessions', { token, body: { steps: ['turn_left', 'smile'] } })).body.data.session_id;
  doc = (await t.request('GET', '/openapi.json')).body;
});

afterAll(async () => {
  await t?.close();
  await engine?.close();
});

interface Route {
  key: string;
  method: string;
  path: string;
  documented: number[];
  hasBody: boolean;
  hasQuery: boolean;
}

function routes(): Route[] {
  const out: Route[] = [];
  for (const [p, ops] of Object.entries<any>(doc.paths)) {
    if (!p.startsWith('/v2/')) continue;
    for (const [method, op] of Object.entries<any>(ops)) {
      // Path parameters all read as {id} here, whatever the route names them.
      const path = p.replace(/\{[^}]+\}/g, '{id}');
      out.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        documented: Object.keys(op.responses).map(Number).filter((s) => s !== 200).sort((a, b) => a - b),
        hasBody: op.requestBody !== undefined,
        hasQuery: (op.parameters ?? []).some((x: any) => x.in === 'query'),
      });
    }
  }
  return out;
}

/** A request that would succeed, per route (ids of records made in beforeAll); variants below break one thing. */
type Sample = { id?: string; body?: Record<string, unknown>; query?: string };
const SAMPLES: Record<string, () => Sample> = {
  'POST /v2/face-recognition/collections': () => ({ body: { name: 'x' } }),
  'GET /v2/face-recognition/collections': () => ({}),
  'GET /v2/face-recognition/collections/{id}': () => ({ id: ids.collection }),
  'PUT /v2/face-recognition/collections/{id}': () => ({ id: ids.collection, body: { name: 'y' } }),
  'DELETE /v2/face-recognition/collections/{id}': () => ({ id: ids.collection }),
  'POST /v2/face-recognition/persons': () => ({ body: { name: 'n', images: [face], collections: [ids.collection] } }),
  'GET /v2/face-recognition/persons': () => ({ query: `collection=${ids.collection}` }),
  'GET /v2/face-recognition/persons/{id}': () => ({ id: ids.facePerson }),
  'PUT /v2/face-recognition/persons/{id}': () => ({ id: ids.facePerson, body: { images: [face] } }),
  'DELETE /v2/face-recognition/persons/{id}': () => ({ id: ids.facePerson }),
  'POST /v2/face-recognition/search-active-user': () => ({ body: { image: face, os: 'DESKTOP', min_score: 0.8, search_mode: 'FAST', collection_id: ids.collection } }),
  'POST /v2/face-recognition/persons/search-live-face': () => ({
    body: { name: 'n', images: [face], gender: 'F', date_of_birth: '1990-01-15', collection_id: ids.collection, liveness_min_score: 0.5, min_score: 0.8, search_mode: 'FAST' },
  }),
  'POST /v2/face-recognition/search': () => ({ body: { images: [face], collection_id: ids.collection } }),
  'POST /v2/face-recognition/verify': () => ({ body: { id: ids.facePerson, images: [face] } }),
  'POST /v2/face-recognition/compare': () => ({ body: { probe: [face], gallery: [face] } }),
  'POST /v2/face-recognition/liveness': () => ({ body: { os: 'DESKTOP', image: face } }),
  'POST /v2/face-recognition/detect': () => ({ body: { image: face, min_score: 0.8, collection_id: ids.collection } }),
  'POST /v2/face-recognition/compare-live': () => ({ body: { probe: face, gallery: [face], os: 'DESKTOP', search_mode: 'ACCURATE', liveness_min_score: 0.6 } }),
  'POST /v2/face-recognition/compare-with-liveness': () => ({ body: { probe: face, gallery: [face], search_mode: 'FAST' } }),
  'POST /v2/face-recognition/search/crops': () => ({ body: { images: [face], min_score: 0.8, search_mode: 'FAST', collection_id: ids.collection } }),
  'POST /v2/face-recognition/search-live-face': () => ({
    body: { image: face, os: 'DESKTOP', liveness_min_score: 0.5, min_score: 0.8, search_mode: 'FAST', collection_id: ids.collection },
  }),
  'POST /v2/persons': () => ({ body: { firstName: 'a', lastName: 'b', biometricData: { faceImage: face } } }),
  'POST /v2/persons/liveness': () => ({ body: { firstName: 'a', lastName: 'b', biometricData: { faceImage: face } } }),
  'GET /v2/persons': () => ({}),
  'GET /v2/persons/{id}': () => ({ id: ids.person }),
  'PUT /v2/persons/{id}': () => ({ id: ids.person, body: { biometricData: { faceImage: face } } }),
  'DELETE /v2/persons/{id}': () => ({ id: ids.person }),
  'POST /v2/face-recognition/liveness/sessions': () => ({ body: { steps: ['turn_left', 'smile'] } }),
  'GET /v2/face-recognition/liveness/sessions/{id}': () => ({ id: ids.session }),
  'POST /v2/face-recognition/liveness/sessions/{id}/frames': () => ({ id: ids.session, body: { frames: [{ image: face, timestamp_ms: 0 }] } }),
};

/** The sample with whatever names a record replaced by an unknown one: the id in the path, or a collection. */
function unknownReference(s: Sample): Sample | null {
  if (s.id !== undefined) return { ...s, id: UNKNOWN_ID };
  if (s.query?.startsWith('collection=')) return { ...s, query: 'collection=nope' };
  const b = s.body ?? {};
  if ('collections' in b) return { ...s, body: { ...b, collections: ['nope'] } };
  if ('collection_id' in b) return { ...s, body: { ...b, collection_id: 'nope' } };
  if ('id' in b) return { ...s, body: { ...b, id: UNKNOWN_ID } };
  return null;
}

/** The sample with every image replaced by `image`; null when it has none. */
function withImages(s: Sample, image: string): Sample | null {
  let found = false;
  const swap = (v: unknown): unknown => {
    if (v === face) {
      found = true;
      return image;
    }
    if (Array.isArray(v)) return v.map(swap);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, swap(x)]));
    return v;
  };
  const body = swap(s.body) as Record<string, unknown> | undefined;
  return found ? { ...s, body } : null;
}

function send(r: Route, s: Sample, opts: { token?: string; raw?: { payload: string; type: string } } = {}): Promise<Res> {
  const url = r.path.replace('{id}', encodeURIComponent(s.id ?? UNKNOWN_ID)) + (s.query ? `?${s.query}` : '');
  if (opts.raw) return t.request(r.method as never, url, { token: opts.token, body: opts.raw.payload, headers: { 'content-type': opts.raw.type } });
  return t.request(r.method as never, url, { token: opts.token, body: s.body });
}

describe('/openapi.json and the routes agree', () => {
  it('documents every /v2 route that has a sample here, and nothing else', () => {
    expect(routes().map((r) => r.key).sort()).toEqual(Object.keys(SAMPLES).sort());
  });

  it('min_score is optional where it has a default, the default is the thresholds table\'s, and the document is the schema the server validates with', async () => {
    for (const [p, field, point] of [
      ['/v2/face-recognition/search', 'min_score', MATCH_DEFAULTS.search],
      ['/v2/face-recognition/verify', 'min_score', MATCH_DEFAULTS.verify],
      ['/v2/face-recognition/compare', 'compare_min_score', MATCH_DEFAULTS.compare],
      ['/v2/face-recognition/compare-live', 'compare_min_score', MATCH_DEFAULTS.compareLive],
    ] as const) {
      const schema = doc.paths[p].post.requestBody.content['application/json'].schema;
      expect(schema.properties[field].default).toBe(point.minScore);
      expect(schema.properties[field].description).toContain(String(point.minScore));
      expect(schema.required ?? []).not.toContain(field);
    }
    // 1:1 and 1:N decisions have different operating points.
    expect(MATCH_DEFAULTS.compare.minScore).toBeLessThan(MATCH_DEFAULTS.search.minScore);
    for (const p of ['/v2/face-recognition/liveness', '/v2/face-recognition/compare-with-liveness']) {
      expect(doc.paths[p].post.requestBody.content['application/json'].schema.properties.liveness_min_score.default).toBe(t.config.livenessMinScore);
    }
    // Required on search-active-user (no default there), and the server agrees.
    expect(doc.paths['/v2/face-recognition/search-active-user'].post.requestBody.content['application/json'].schema.required).toContain('min_score');
    const r = await t.request('POST', '/v2/face-recognition/search-active-user', { token, body: { image: face, os: 'DESKTOP', search_mode: 'FAST' } });
    expect(r.body.message).toBe('"min_score" is required');
    const search = await t.request('POST', '/v2/face-recognition/search', { token, body: { images: [face] } });
    expect(search.status).toBe(200);
  });

  it('every route answers the generic mistakes it documents, and only those', async () => {
    const problems: string[] = [];
    for (const r of routes()) {
      const docd = new Set(r.documented);
      const s: Sample = { ...SAMPLES[r.key](), id: UNKNOWN_ID };
      const check = (what: string, res: Res, expected: number | null) => {
        // expected: the status this mistake must get; null when the route may ignore it (e.g. a GET's body).
        if (expected !== null && res.status !== expected) problems.push(`${r.key}: ${what} answered ${res.status}, not ${expected}`);
        if (res.status !== 200 && !docd.has(res.status)) problems.push(`${r.key}: ${what} answered ${res.status}, which is not documented`);
      };
      check('no token', await send(r, s), 401);
      check('an expired token', await send(r, s, { token: expired }), 403);
      const invalid: Sample = r.hasBody ? { ...s, body: { __unknown: 1 } } : r.hasQuery ? { ...s, query: '__unknown=1' } : { ...s, id: 'x'.repeat(200) };
      check('invalid input', await send(r, invalid, { token }), 409);
      const readsBody = r.method !== 'GET';
      check('a body that is not JSON', await send(r, s, { token, raw: { payload: 'name=x', type: 'text/plain' } }), readsBody ? 415 : null);
      check('a body over BODY_LIMIT', await send(r, s, { token, raw: { payload: JSON.stringify({ x: 'a'.repeat(BODY_LIMIT) }), type: 'application/json' } }), readsBody ? 413 : null);
      for (const status of [401, 403, 409, 500]) if (!docd.has(status)) problems.push(`${r.key}: ${status} is not documented`);
      if (docd.has(413) !== readsBody || docd.has(415) !== readsBody) problems.push(`${r.key}: 413/415 documented ${docd.has(413)}/${docd.has(415)}, reads a body: ${readsBody}`);
    }
    expect(problems).toEqual([]);
  });

  it('every route answers 404, 412 and 422 exactly where it documents them; 503 is documented where the engine runs', async () => {
    const problems: string[] = [];
    for (const r of routes()) {
      const docd = new Set(r.documented);
      const sample = SAMPLES[r.key]();
      const tried = new Map<number, number>(); // documented status -> status answered by its trigger
      // /v2/persons/liveness refers to another record only through a liveness session it uses up.
      const missing = r.key === 'POST /v2/persons/liveness' ? { body: { firstName: 'a', lastName: 'b', liveness_session_id: UNKNOWN_ID } } : unknownReference(sample);
      if (missing) tried.set(404, (await send(r, missing, { token })).status);
      const dataUrl = withImages(sample, `data:image/jpeg;base64,${face}`);
      if (dataUrl) tried.set(412, (await send(r, dataUrl, { token })).status);
      const faceless = withImages(sample, noFace);
      if (faceless) {
        const res = await send(r, faceless, { token });
        tried.set(422, res.status);
        if (res.status !== 422 && res.status !== 200) problems.push(`${r.key}: a photo without a face answered ${res.status}`);
      }
      for (const status of [404, 412, 422]) {
        const answered = tried.get(status);
        if (docd.has(status) && answered !== status) problems.push(`${r.key}: documents ${status}, its trigger answered ${answered ?? 'nothing (no trigger)'}`);
        if (!docd.has(status) && answered === status) problems.push(`${r.key}: answers ${status}, which is not documented`);
      }
      // The engine's queue limit (503) cannot be filled cheaply here; it applies exactly to the routes with images.
      if (docd.has(503) !== (dataUrl !== null)) problems.push(`${r.key}: 503 documented ${docd.has(503)}, analyses images: ${dataUrl !== null}`);
    }
    expect(problems).toEqual([]);
  });
});

describe('/docs: what an integrator reads and tries', () => {
  /** Every schema in the request bodies, nested ones included (base64 strings are `format: byte` there). */
  function* schemas(node: unknown): Generator<Record<string, any>> {
    if (!node || typeof node !== 'object') return;
    if (!Array.isArray(node)) yield node as Record<string, any>;
    for (const v of Object.values(node)) yield* schemas(v);
  }

  it('every image field\'s example is a real face, which "Try it out" can send as it is', async () => {
    const examples = new Set<string>();
    let fields = 0;
    for (const ops of Object.values<any>(doc.paths)) {
      for (const op of Object.values<any>(ops)) {
        for (const s of schemas(op.requestBody)) {
          if (s.type === 'string' && s.format === 'byte') {
            fields++;
            expect(s.examples?.[0], JSON.stringify(s).slice(0, 200)).toMatch(/^\/9j\//); // a JPEG, not "string"
            examples.add(s.examples[0]);
          }
        }
      }
    }
    expect(fields).toBeGreaterThan(20);
    expect(examples.size).toBe(1);
    const [face] = examples;
    const r = await t.request('POST', '/v2/face-recognition/detect', { token, body: { image: face } });
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(200);
    expect(r.body.data).toHaveLength(1);
  });

  it('leaves the console\'s internal routes out of the public document', () => {
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/console'))).toEqual([]);
    expect((doc.tags ?? []).map((tag: { name: string }) => tag.name)).not.toContain('Console');
  });
});
