// Cross-cutting behaviour: authentication, envelope and signature, errors of the HTTP layer, health, metrics, docs.
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { compactVerify, createLocalJWKSet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/http/canonical.js';
import { loadOrCreateSigner, requestDigest, SIGNING_KEY_FILE } from '../../src/http/signing.js';
import { ensureStaticToken, hashToken } from '../../src/domain/tokens.js';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { newEngine, newIndex } from '../support/parts.js';
import { faceBase64 } from '../support/photos.js';

let engine: WorkerFaceEngine;
let t: TestApp;
let token: string;
const METRICS_TOKEN = 'metrics-scrape-secret-0123456789';
const logLines: string[] = [];

beforeAll(async () => {
  engine = newEngine();
  await engine.ready();
  t = await startTestApp({ engine, index: newIndex(engine.dim), logLines, config: { bodyLimit: 64 * 1024, metricsToken: METRICS_TOKEN } });
  ({ token } = await t.token('acme'));
});

afterAll(async () => {
  await t?.close();
  await engine?.close();
});

const COLLECTIONS = '/v2/face-recognition/collections';
const require = createRequire(import.meta.url);

describe('authentication', () => {
  it('401 without a token, with a malformed header, or with an unknown token: Verifik\'s answer plus a hint saying what was wrong', async () => {
    const { tokenId } = await t.token('hinted');
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /^no Authorization header; send "Authorization: Bearer <token>"$/],
      [{ authorization: 'Basic abc' }, /uses the "Basic" scheme; send "Authorization: Bearer <token>"/],
      [{ authorization: `jwt ${token}` }, /uses the "jwt" scheme; send "Authorization: Bearer <token>"/],
      [{ authorization: token }, /a value without a scheme; send "Authorization: Bearer <token>"/],
      [{ authorization: 'Bearer' }, /says "Bearer" but holds no token/],
      [{ authorization: 'Bearer fg_not-a-real-token' }, /not known to this server: check it was issued on the DATA_DIR the server uses/],
      [{ authorization: `Bearer ${tokenId}` }, /looks like a token id .* not a token: send the secret/],
    ];
    for (const [headers, hint] of cases) {
      const r = await t.request('GET', COLLECTIONS, { headers });
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ message: 'Authentication required', code: 'UNAUTHORIZED' });
      expect(Object.keys(r.body).sort()).toEqual(['code', 'hint', 'message']);
      expect(r.body.hint).toMatch(hint);
      expect(r.body.hint).not.toContain(token); // the secret is never echoed back
    }
  });

  it('401 once a token is revoked', async () => {
    const { token: tk, tokenId } = await t.token('revokee');
    expect((await t.request('GET', COLLECTIONS, { token: tk })).status).toBe(200);
    expect(await t.store.tokens.revoke(tokenId)).toBe(true);
    const r = await t.request('GET', COLLECTIONS, { token: tk });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ message: 'Authentication required', code: 'UNAUTHORIZED' });
    expect(r.body.hint).toMatch(/revoked/);
  });

  it('403 token_expired once a token is past its expiry', async () => {
    const { clientId } = await t.token('expiree');
    const secret = 'fg_expired-secret-for-tests-0123456789abcdef';
    await t.store.tokens.create({ client: clientId, hash: hashToken(secret), label: 'test', expiresAt: new Date(Date.now() - 1000).toISOString() });
    const r = await t.request('GET', COLLECTIONS, { token: secret });
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ message: 'token_expired', code: 'FORBIDDEN' });
    expect(r.body.hint).toMatch(/tokens create/);
  });

  it('accepts the static API_TOKEN for its default client', async () => {
    const secret = 'static-api-token-of-at-least-32-chars!';
    await ensureStaticToken(t.store, 'default', secret);
    const r = await t.request('POST', COLLECTIONS, { token: secret, body: { name: 'from API_TOKEN' } });
    expect(r.status).toBe(200);
    const def = await t.store.clients.getByName('default');
    expect(r.body.data.client).toBe(def!.id);
  });

  it('never writes the bearer token, images or query strings into the log', async () => {
    await t.request('GET', '/v2/face-recognition/persons/nope', { token });
    await t.request('GET', '/v2/face-recognition/persons?name=Jane%20Doe', { token });
    await t.request('POST', '/v2/face-recognition/persons', { token, body: { name: 'x', images: ['QUJDRA=='], foo: 1 } });
    const log = logLines.join('\n');
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toContain(token);
    expect(log).not.toContain('QUJDRA==');
    // "Bearer" appears only in the hints' description of the expected header, never followed by a real value.
    expect(log).not.toMatch(/bearer\s+[^<\s]/i);
    expect(log).not.toContain('Jane');
    expect(log).toContain('"url":"/v2/face-recognition/persons"');
  });
});

describe('envelope and signature', () => {
  it("wraps data as {id, data, signature}; the id is the server's, never the caller's x-request-id", async () => {
    const r = await t.request('POST', COLLECTIONS, { token, body: { name: 'Signed' }, headers: { 'x-request-id': 'req-123' } });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['data', 'id', 'signature']);
    expect(r.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers['x-request-id']).toBe(r.body.id);
    expect(r.body.signature.message).toBe('Certified by Facegate');
    expect(Number.isNaN(Date.parse(r.body.signature.dateTime))).toBe(false);
  });

  it('ignores a request id that is not a plain token', async () => {
    const r = await t.request('GET', COLLECTIONS, { token, headers: { 'x-request-id': 'evil\u0007 id with spaces' } });
    expect(r.body.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('signs data, bound to its request, with an Ed25519 JWS that verifies against /.well-known/jwks.json', async () => {
    const r = await t.request('POST', COLLECTIONS, { token, body: { name: 'Verify me', description: 'ü ñ "quoted"' } });
    const jwks = (await t.request('GET', '/.well-known/jwks.json')).body;
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(jwks.keys[0].d).toBeUndefined();
    const { payload, protectedHeader } = await compactVerify(r.body.signature.jws, createLocalJWKSet(jwks));
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: jwks.keys[0].kid });
    const text = new TextDecoder().decode(payload);
    const claims = JSON.parse(text);
    expect(text).toBe(canonicalJson(claims));
    const request = requestDigest({ method: 'POST', path: COLLECTIONS, body: { name: 'Verify me', description: 'ü ñ "quoted"' } });
    expect(claims).toEqual({ id: r.body.id, dateTime: r.body.signature.dateTime, client: r.body.data.client, route: `POST ${COLLECTIONS}`, request, data: r.body.data });
  });

  it('list answers sign the page of data too', async () => {
    const r = await t.request('GET', `${COLLECTIONS}?limit=2`, { token });
    const jwks = (await t.request('GET', '/.well-known/jwks.json')).body;
    const { payload } = await compactVerify(r.body.signature.jws, createLocalJWKSet(jwks));
    expect(JSON.parse(new TextDecoder().decode(payload)).data).toEqual(r.body.data);
  });

  it('a tampered answer fails verification', async () => {
    const r = await t.request('POST', COLLECTIONS, { token, body: { name: 'Tamper' } });
    const [h, p, s] = r.body.signature.jws.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = Buffer.from(canonicalJson({ ...claims, data: { ...claims.data, name: 'Forged' } })).toString('base64url');
    const jwks = (await t.request('GET', '/.well-known/jwks.json')).body;
    await expect(compactVerify(`${h}.${forged}.${s}`, createLocalJWKSet(jwks))).rejects.toThrow();
    expect(p).not.toBe(forged);
  });

  it('keeps the key in DATA_DIR with mode 0600 and reuses it on the next start', async () => {
    const file = path.join(t.dataDir, SIGNING_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateSigner(t.dataDir);
    expect(again.kid).toBe((await t.request('GET', '/.well-known/jwks.json')).body.keys[0].kid);
  });
});

describe('HTTP-level errors', () => {
  it('409 MissingParameter for malformed JSON', async () => {
    const r = await t.request('POST', COLLECTIONS, { token, body: '{"name":', headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(409);
    expect(r.body).toEqual({ message: '"body" must be valid JSON', code: 'MissingParameter', field: 'body' });
  });

  it('409 MissingParameter when the body is missing', async () => {
    const r = await t.request('POST', COLLECTIONS, { token });
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('MissingParameter');
    expect(r.body.message).toContain('"body"');
  });

  it('415 for a body that is not JSON', async () => {
    const r = await t.request('POST', COLLECTIONS, { token, body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(r.status).toBe(415);
    expect(r.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('413 for a body over BODY_LIMIT', async () => {
    const r = await t.request('POST', '/v2/face-recognition/persons', { token, body: { name: 'big', images: ['A'.repeat(100 * 1024)] } });
    expect(r.status).toBe(413);
    expect(r.body).toEqual({
      message: 'payload_too_large',
      code: 'PAYLOAD_TOO_LARGE',
      hint: "the request body is over the limit of 64 KB; the server's BODY_LIMIT setting changes it",
    });
  });

  it('404 with the error shape for an unknown route', async () => {
    const r = await t.request('GET', '/v2/no-such-thing', { token });
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ message: 'route_not_found', code: 'NOT_FOUND' });
  });
});

describe('operations', () => {
  it('/health is 200 when the store and the engine are ready', async () => {
    const r = await t.request('GET', '/health');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok', store: true, engine: true });
  });

  it('/health is 503 while the engine is still loading, and when the store is closed', async () => {
    const loading = newEngine();
    expect(loading.isReady()).toBe(false);
    const other = await startTestApp({ engine: loading, index: newIndex(loading.dim) });
    try {
      const r = await other.request('GET', '/health');
      expect(r.status).toBe(503);
      expect(r.body).toEqual({ status: 'unavailable', store: true, engine: false });
      await loading.ready();
      expect((await other.request('GET', '/health')).status).toBe(200);
      await other.store.close();
      const closed = await other.request('GET', '/health');
      expect(closed.status).toBe(503);
      expect(closed.body.store).toBe(false);
    } finally {
      await other.close();
      await loading.close();
    }
  });

  it('/metrics answers only its own bearer token: not anonymously, not to an API token', async () => {
    const anon = await t.request('GET', '/metrics');
    expect(anon.status).toBe(401);
    expect(anon.body.code).toBe('UNAUTHORIZED');
    expect(anon.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    expect(anon.text).not.toContain('facegate_');
    expect((await t.request('GET', '/metrics', { token })).status).toBe(401);
    expect((await t.request('GET', '/metrics', { token: METRICS_TOKEN.slice(0, -1) + 'x' })).status).toBe(401);
    expect((await t.request('GET', '/metrics', { token: METRICS_TOKEN })).status).toBe(200);
  });

  it('/metrics is off (404) unless METRICS_TOKEN is set', async () => {
    const other = await startTestApp({ engine, index: newIndex(engine.dim) });
    try {
      const r = await other.request('GET', '/metrics');
      expect(r.status).toBe(404);
      expect(r.body.message).toMatch(/METRICS_TOKEN/);
      expect(r.text).not.toContain('facegate_');
    } finally {
      await other.close();
    }
  });

  it('/metrics exposes request counts by route and status, latency, index size and engine state', async () => {
    await t.request('GET', COLLECTIONS, { token });
    await t.request('GET', COLLECTIONS);
    const r = await t.request('GET', '/metrics', { token: METRICS_TOKEN });
    expect(r.status).toBe(200);
    expect(String(r.headers['content-type'])).toContain('text/plain');
    expect(r.text).toMatch(/facegate_http_requests_total\{method="GET",route="\/v2\/face-recognition\/collections",status="200"\} \d+/);
    expect(r.text).toMatch(/facegate_http_requests_total\{method="GET",route="\/v2\/face-recognition\/collections",status="401"\} \d+/);
    expect(r.text).toContain('facegate_http_request_duration_seconds_bucket');
    expect(r.text).toMatch(/facegate_index_templates \d+/);
    // No graph build runs in this app: FAST is not on its exact fallback.
    expect(r.text).toMatch(/facegate_index_graphs_pending 0/);
    expect(r.text).toMatch(/facegate_index_graph_build_ratio 1/);
    expect(r.text).toMatch(/facegate_engine_ready 1/);
    expect(r.text).toMatch(/facegate_engine_queue_depth \d+/);
    // Route patterns only: ids in URLs never become label values.
    await t.request('GET', `${COLLECTIONS}/0123456789abcdef01234567`, { token });
    expect((await t.request('GET', '/metrics', { token: METRICS_TOKEN })).text).toContain('route="/v2/face-recognition/collections/:id"');
  });

  it('/metrics tells where the engine spends its time, stage by stage', async () => {
    const image = await faceBase64('s1a');
    expect((await t.request('POST', '/v2/face-recognition/detect', { token, body: { image } })).status).toBe(200);
    const text = (await t.request('GET', '/metrics', { token: METRICS_TOKEN })).text;
    expect(Number(/^facegate_engine_images_total (\S+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    // A photo with a face went through every stage of the detect route: each took some time.
    for (const stage of ['decode', 'detect', 'landmarks', 'align', 'embed', 'quality', 'thumbnail']) {
      const seconds = Number(new RegExp(`^facegate_engine_stage_seconds_total\\{stage="${stage}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
      expect(seconds, stage).toBeGreaterThan(0);
    }
  });

  it('/openapi.json is an OpenAPI 3.1 document listing every route with bearer security', async () => {
    const r = await t.request('GET', '/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    expect(r.body.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    const paths = r.body.paths;
    const expected: Record<string, string[]> = {
      '/v2/face-recognition/collections': ['post', 'get'],
      '/v2/face-recognition/collections/{id}': ['get', 'put', 'delete'],
      '/v2/face-recognition/persons': ['post', 'get'],
      '/v2/face-recognition/persons/{id}': ['get', 'put', 'delete'],
      '/v2/persons': ['post', 'get'],
      '/v2/persons/liveness': ['post'],
      '/v2/persons/{id}': ['get', 'put', 'delete'],
      '/v2/face-recognition/liveness/sessions': ['post'],
      '/v2/face-recognition/liveness/sessions/{session_id}': ['get'],
      '/v2/face-recognition/liveness/sessions/{session_id}/frames': ['post'],
      '/health': ['get'],
      '/metrics': ['get'],
      '/.well-known/jwks.json': ['get'],
    };
    for (const [p, methods] of Object.entries(expected)) {
      for (const m of methods) expect(paths[p]?.[m], `${m.toUpperCase()} ${p}`).toBeDefined();
    }
    expect(paths['/v2/face-recognition/persons'].post.security).toEqual([{ bearer: [] }]);
    expect(paths['/health'].get.security).toBeUndefined();
    const body = paths['/v2/face-recognition/persons'].post.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(expect.arrayContaining(['name']));
    // `images`, or instead a liveness session whose reference frame is enrolled (exactly one: checked by the route).
    expect(Object.keys(body.properties)).toEqual(expect.arrayContaining(['images', 'liveness_session_id']));
    expect(body.additionalProperties).toBe(false);
  });

  it('/docs serves Swagger UI from the package, with nothing fetched from the internet', async () => {
    const html = await t.request('GET', '/docs/');
    expect(html.status).toBe(200);
    expect(html.text).toContain('swagger-ui');
    expect(html.text).not.toMatch(/(src|href)="https?:\/\//);
    const bundle = await t.request('GET', '/docs/static/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    const init = await t.request('GET', '/docs/static/swagger-initializer.js');
    expect(init.text).toContain('"validatorUrl":null');
  });
});

describe('dependencies pinned for Node 20 (package.json overrides)', () => {
  // content-disposition 3 and cookie 2 declare Node >= 22; the CommonJS versions pinned instead must still do
  // what @fastify/static (under /docs) and light-my-request (under app.inject) call them for.
  it('@fastify/static gets a working content-disposition', () => {
    const fromStatic = createRequire(require.resolve('@fastify/static'));
    // Its package.json is not exported: read it beside the entry point (dist/index.js).
    const pkgFile = path.join(path.dirname(fromStatic.resolve('content-disposition')), '..', 'package.json');
    expect(JSON.parse(readFileSync(pkgFile, 'utf8')).engines.node).toBe('>=18');
    const { create } = fromStatic('content-disposition') as { create: (name: string) => string };
    expect(create('face report.pdf')).toBe('attachment; filename="face report.pdf"');
  });

  it('light-my-request gets a working cookie', async () => {
    const fromInject = createRequire(require.resolve('light-my-request'));
    expect((fromInject('cookie/package.json') as { engines: { node: string } }).engines.node).toBe('>=18');
    const inject = fromInject('light-my-request') as typeof import('light-my-request');
    const res = await inject((req, res) => res.end(req.headers.cookie), { url: '/', cookies: { session: 'a b' } });
    expect(res.body).toBe('session=a%20b');
  });
});
