// The JavaScript client (clients/js) against a real server over HTTP: every route of the server's OpenAPI document
// has a method, answers come back typed and verifiable, refusals come back as FacegateError with the server's code,
// and 429s are retried after the server's own Retry-After.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FacegateClient, FacegateError, ROUTES, SignatureError, verifyAnswer, toBase64, fileToBase64 } from '../../clients/js/src/index.js';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { samplePhotoPath } from '../support/harness.js';
import { newEngine } from '../support/parts.js';
import { faceJpeg } from '../support/photos.js';
import { listeningApp, type ListeningApp } from './server.js';

let engine: WorkerFaceEngine;
let srv: ListeningApp;
let client: FacegateClient;
let clientId: string;

beforeAll(async () => {
  engine = newEngine();
  await engine.ready();
  srv = await listeningApp(engine);
  const t = await srv.token('js-client');
  clientId = t.clientId;
  client = new FacegateClient({ baseUrl: srv.base, token: t.token });
});

afterAll(async () => {
  await srv?.close();
  await engine?.close();
});

describe('the route table', () => {
  it('names every route of the OpenAPI document that a relying party calls, and nothing else', async () => {
    const doc = (await (await fetch(`${srv.base}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const served = new Set<string>();
    for (const [p, ops] of Object.entries(doc.paths)) {
      if (!p.startsWith('/v2/') && p !== '/.well-known/jwks.json' && p !== '/health') continue;
      for (const m of Object.keys(ops)) served.add(`${m.toUpperCase()} ${p}`);
    }
    const known = new Set(Object.values(ROUTES).map(([m, p]) => `${m} ${p}`));
    expect([...served].filter((r) => !known.has(r)), 'routes the client lacks').toEqual([]);
    expect([...known].filter((r) => !served.has(r)), 'routes the client names that the server has not').toEqual([]);
  });
});

describe('calls', () => {
  it('enrols, searches and verifies; the signed answers verify against the request that was sent', async () => {
    const col = await client.createCollection({ name: 'Staff' });
    expect(col.data._id).toMatch(/\w+/);
    const photo = await toBase64(await faceJpeg('s1a'));
    const person = await client.createPerson({ name: 'Ada', images: [photo], collections: [col.data._id] });
    expect(person.data.name).toBe('Ada');

    const found = await client.searchActiveUser({ image: await toBase64(await faceJpeg('s1a')), os: 'DESKTOP', min_score: 0.7, search_mode: 'FAST', collection_id: col.data._id });
    const jwks = await client.jwks();
    await verifyAnswer(found, { jwks, client: clientId });

    const verified = await client.verify({ id: person.data._id, images: [photo] });
    const claims = await verifyAnswer(verified, { jwks, client: clientId });
    expect(claims.route).toBe('POST /v2/face-recognition/verify');

    // The same signed answer presented for another request, another client or altered data fails, naming why.
    const asOther = { ...verified, request: { ...verified.request, body: { ...(verified.request.body as object), min_score: 0.2 } } };
    await expect(verifyAnswer(asOther, { jwks })).rejects.toMatchObject({ name: 'SignatureError', reason: 'request' });
    await expect(verifyAnswer(verified, { jwks, client: 'someone-else' })).rejects.toBeInstanceOf(SignatureError);
    await expect(verifyAnswer({ ...verified, data: { ...verified.data, score: 0.123 } }, { jwks })).rejects.toMatchObject({ reason: 'data' });
    await expect(verifyAnswer(verified, { jwks, maxAgeMs: 1000, now: new Date(Date.now() + 60_000) })).rejects.toMatchObject({ reason: 'freshness' });
  });

  it('pages, filters and reads with query parameters bound into the signature', async () => {
    const list = await client.listPersons({ name: 'Ada', limit: 5 });
    expect(list.request.path).toBe('/v2/face-recognition/persons?name=Ada&limit=5');
    await verifyAnswer(list, { jwks: await client.jwks(), client: clientId });
    expect(list.data.map((p) => p.name)).toEqual(['Ada']);
  });

  it('reads an image file from disk', async () => {
    const b64 = await fileToBase64(samplePhotoPath(1));
    const faces = await client.detect({ image: b64 });
    expect(faces.data.length).toBeGreaterThan(1);
  });
});

describe('errors', () => {
  it('raises FacegateError with the status, code and hint of the server', async () => {
    const e = await client.getPerson('0123456789abcdef01234567').catch((x) => x);
    expect(e).toBeInstanceOf(FacegateError);
    expect(e.status).toBe(404);
    expect(e.code).toMatch(/\w/);
    expect(e.requestId).toBeTruthy();

    const missing = await client.call('verify', { body: { images: ['aGVsbG8='] } as never }).catch((x) => x);
    expect(missing).toMatchObject({ status: 409, code: 'MissingParameter' });

    const noToken = await new FacegateClient({ baseUrl: srv.base, token: 'fg_wrong' }).listCollections().catch((x) => x);
    expect(noToken).toMatchObject({ status: 401 });
    expect(noToken.hint).toBeTruthy();
  });
});

describe('retries', () => {
  let limited: ListeningApp;
  let token: string;
  beforeAll(async () => {
    // The real rate limiter, two requests a second: the third waits for the server's Retry-After.
    limited = await listeningApp(engine, { rateLimitMax: 2, rateLimitWindowMs: 1000 });
    ({ token } = await limited.token('busy'));
  });
  afterAll(async () => limited?.close());

  it('waits out 429s as the server asks and then succeeds', async () => {
    const c = new FacegateClient({ baseUrl: limited.base, token, retries: 4 });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await c.listCollections());
    expect(answers).toHaveLength(5);
  });

  it('with retries off, hands the 429 over with its Retry-After', async () => {
    const c = new FacegateClient({ baseUrl: limited.base, token, retries: 0 });
    let err: FacegateError | undefined;
    for (let i = 0; i < 6 && !err; i++) err = await c.listCollections().then(() => undefined, (x) => x);
    expect(err).toBeInstanceOf(FacegateError);
    expect(err!.status).toBe(429);
    expect(err!.retryAfter).toBeGreaterThanOrEqual(0);
  });
});
