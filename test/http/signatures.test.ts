// Signed answers are bound to their request: the JWS covers id, dateTime, client, route, a digest of the whole
// request (method, path with query, body), the images' digests and data, so a signed result verifies for the request it answered and for nothing else (docs/signatures.md).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { compactVerify, createLocalJWKSet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswerVerificationError, loadOrCreateSigner, requestDigest, rotateSigningKey, verifyAnswer, type SignedAnswer } from '../../src/http/signing.js';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { repoRoot, startTestApp, type TestApp } from '../support/harness.js';
import { faceJpeg } from '../support/photos.js';
import { newEngine, newIndex } from '../support/parts.js';

let engine: WorkerFaceEngine;
let t: TestApp;
let acme: { token: string; clientId: string };
let globex: { token: string; clientId: string };
let personId: string;
let probe: Buffer;
let other: Buffer;

const VERIFY = '/v2/face-recognition/verify';
const SEARCH = '/v2/face-recognition/search-active-user';

beforeAll(async () => {
  engine = newEngine();
  await engine.ready();
  t = await startTestApp({ engine, index: newIndex(engine.dim), config: { maxImageBytes: 2 * 1024 * 1024 } });
  acme = await t.token('acme');
  globex = await t.token('globex');
  probe = await faceJpeg('s3a');
  other = await faceJpeg('s6b');
  const p = await t.request('POST', '/v2/face-recognition/persons', { token: acme.token, body: { name: 'Signed', images: [(await faceJpeg('s1c')).toString('base64')] } });
  personId = p.body.data._id;
});

afterAll(async () => {
  await t?.close();
  await engine?.close();
});

const jwks = async () => (await t.request('GET', '/.well-known/jwks.json')).body;

const verifyBody = (image: Buffer, minScore = 0.8) => ({ id: personId, images: [image.toString('base64')], min_score: minScore });

async function verifyMatch(image: Buffer): Promise<SignedAnswer<{ match: { id: string } | null; score: number }>> {
  const r = await t.request('POST', VERIFY, { token: acme.token, body: verifyBody(image) });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

describe('a signed answer verifies for its own request', () => {
  it('verify: id, dateTime, client, route, subject, probe digest and data all check out', async () => {
    const answer = await verifyMatch(probe);
    expect(answer.data.match).toMatchObject({ id: personId });
    const request = { method: 'POST', path: VERIFY, body: verifyBody(probe) };
    const claims = await verifyAnswer(answer, { jwks: await jwks(), client: acme.clientId, route: `POST ${VERIFY}`, request, images: [probe], subject: personId, maxAgeMs: 60_000 });
    expect(claims.probes).toEqual([{ field: 'images[0]', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
  });

  it('a search, with base64 line breaks in the image: the digest is of the bytes, not of the text', async () => {
    const wrapped = probe.toString('base64').replace(/.{76}/g, '$&\n');
    const body = { image: wrapped, os: 'DESKTOP', min_score: 0.8, search_mode: 'FAST' };
    const r = await t.request('POST', SEARCH, { token: acme.token, body });
    expect(r.status).toBe(200);
    expect(r.body.data[0].id).toBe(personId);
    // The relying party may hash the image it sent unwrapped: the digest is of the bytes either way.
    const request = { method: 'POST', path: SEARCH, body: { ...body, image: probe.toString('base64') } };
    await verifyAnswer(r.body, { jwks: await jwks(), client: acme.clientId, route: `POST ${SEARCH}`, request, images: [probe] });
  });
});

describe('the answer is bound to every parameter of the request', () => {
  it('a search: "no match" at min_score 1.0 does not verify as the answer to the same search at 0.8', async () => {
    const body = { image: probe.toString('base64'), os: 'DESKTOP', min_score: 1, search_mode: 'ACCURATE' };
    const r = await t.request('POST', SEARCH, { token: acme.token, body });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const expected = { jwks: await jwks(), client: acme.clientId, route: `POST ${SEARCH}`, images: [probe] };
    await verifyAnswer(r.body, { ...expected, request: { method: 'POST', path: SEARCH, body } });
    for (const changed of [{ min_score: 0.8 }, { search_mode: 'FAST' }, { collection_id: 'another' }, { os: 'IOS' }]) {
      await expect(verifyAnswer(r.body, { ...expected, request: { method: 'POST', path: SEARCH, body: { ...body, ...changed } } })).rejects.toThrow(/request differs/);
    }
  });

  it('a defaulted field: the digest is of the body as sent, before the server fills in defaults', async () => {
    const path = '/v2/face-recognition/liveness/sessions';
    const body = { steps: ['turn_left', 'smile'] }; // expiry and max_attempts are filled in by the schema's defaults
    const r = await t.request('POST', path, { token: acme.token, body });
    expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
    await verifyAnswer(r.body, { jwks: await jwks(), client: acme.clientId, route: `POST ${path}`, request: { method: 'POST', path, body } });
  });

  it('a list: an empty page for ?name=zzz does not verify as the whole list', async () => {
    const path = '/v2/face-recognition/persons?name=zzz&page=1';
    const r = await t.request('GET', path, { token: acme.token });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const expected = { jwks: await jwks(), client: acme.clientId, route: 'GET /v2/face-recognition/persons' };
    await verifyAnswer(r.body, { ...expected, request: { method: 'GET', path } });
    await expect(verifyAnswer(r.body, { ...expected, request: { method: 'GET', path: '/v2/face-recognition/persons' } })).rejects.toThrow(/request differs/);
    await expect(verifyAnswer(r.body, { ...expected, request: { method: 'GET', path: '/v2/face-recognition/persons?name=zzz&page=2' } })).rejects.toThrow(/request differs/);
  });

  it('the hook is central: a liveness-session frame list is bound by its nested images too', async () => {
    const a = requestDigest({ method: 'POST', path: '/x', body: { frames: [{ image: probe.toString('base64') }] } });
    const b = requestDigest({ method: 'POST', path: '/x', body: { frames: [{ image: other.toString('base64') }] } });
    expect(a).not.toBe(b);
  });
});

describe('altering any bound field fails verification', () => {
  let answer: SignedAnswer<{ match: { id: string } | null; score: number }>;
  let keys: Awaited<ReturnType<typeof jwks>>;
  const good = () => ({ jwks: keys, client: acme.clientId, route: `POST ${VERIFY}`, request: { method: 'POST', path: VERIFY, body: verifyBody(probe) }, images: [probe], subject: personId });
  beforeAll(async () => {
    answer = await verifyMatch(probe);
    keys = await jwks();
    await verifyAnswer(answer, good());
  });

  const cases: [string, () => [SignedAnswer<{ match: { id: string } | null; score: number }>, ReturnType<typeof good>], RegExp][] = [
    ['data (match withdrawn)', () => [{ ...answer, data: { ...answer.data, match: null } }, good()], /data differs/],
    ['data (score)', () => [{ ...answer, data: { ...answer.data, score: 0.99 } }, good()], /data differs/],
    ['id (presented as the answer to another request)', () => [{ ...answer, id: 'another-request' }, good()], /id differs/],
    ['dateTime (made to look fresh)', () => [{ ...answer, signature: { ...answer.signature, dateTime: new Date(Date.now() + 3_600_000).toISOString() } }, good()], /dateTime differs/],
    ['client (another tenant)', () => [answer, { ...good(), client: globex.clientId }], /client differs/],
    ['route (a verify presented as a compare)', () => [answer, { ...good(), route: 'POST /v2/face-recognition/compare' }], /route differs/],
    ['subject (the answer about one person presented for another)', () => [answer, { ...good(), subject: '0123456789abcdef01234567' }], /subject differs/],
    ['probe (another photo)', () => [answer, { ...good(), images: [other] }], /probes differs/],
    ['probe (no photo)', () => [answer, { ...good(), images: [] }], /probes differs/],
    ['request (another min_score)', () => [answer, { ...good(), request: { method: 'POST', path: VERIFY, body: verifyBody(probe, 0.99) } }], /request differs/],
    ['request (a query string added)', () => [answer, { ...good(), request: { method: 'POST', path: `${VERIFY}?x=1`, body: verifyBody(probe) } }], /request differs/],
  ];
  for (const [what, make, message] of cases) {
    it(what, async () => {
      const [a, expected] = make();
      await expect(verifyAnswer(a, expected)).rejects.toThrow(message);
    });
  }

  it('the signed payload itself, re-encoded with any change', async () => {
    const [h, p, s] = answer.signature.jws!.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    for (const change of [{ client: globex.clientId }, { route: 'POST /v2/x' }, { id: 'x' }, { probes: [] }, { request: '0'.repeat(64) }]) {
      const forged = Buffer.from(JSON.stringify({ ...claims, ...change })).toString('base64url');
      const err = await verifyAnswer({ ...answer, signature: { ...answer.signature, jws: `${h}.${forged}.${s}` } }, good()).catch((e) => e);
      expect(err).toBeInstanceOf(AnswerVerificationError);
      expect(err.message).toMatch(/signature does not verify/);
    }
  });

  it('an answer older than the relying party accepts', async () => {
    await expect(verifyAnswer(answer, { ...good(), maxAgeMs: 1000, now: new Date(Date.now() + 10_000) })).rejects.toThrow(/older than/);
  });
});

describe('key rotation', () => {
  it('a rotated key signs with a new kid; the old public key stays published so old answers keep verifying', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'facegate-keys-'));
    try {
      const first = await loadOrCreateSigner(dir);
      const claims = { id: 'r1', dateTime: new Date().toISOString(), client: 'c', route: 'POST /v2/x', request: requestDigest({ method: 'POST', path: '/v2/x' }), data: { ok: true } };
      const oldAnswer = { id: 'r1', data: { ok: true }, signature: { dateTime: claims.dateTime, jws: await first.sign(claims) } };
      const r = await rotateSigningKey(dir);
      expect(r.retired).toBe(first.kid);
      const second = await loadOrCreateSigner(dir);
      expect(second.kid).toBe(r.current);
      expect(second.kid).not.toBe(first.kid);
      expect(second.jwks().keys.map((k) => k.kid)).toEqual([second.kid, first.kid]);
      expect(second.jwks().keys.every((k) => k.d === undefined)).toBe(true);
      const expected = { jwks: second.jwks(), client: 'c', route: 'POST /v2/x', request: { method: 'POST', path: '/v2/x' } };
      await verifyAnswer(oldAnswer, expected);
      const newAnswer = { ...oldAnswer, signature: { ...oldAnswer.signature, jws: await second.sign(claims) } };
      await verifyAnswer(newAnswer, expected);
      expect(JSON.parse(Buffer.from(newAnswer.signature.jws.split('.')[0], 'base64url').toString()).kid).toBe(second.kid);
      // A second rotation keeps both older keys.
      await rotateSigningKey(dir);
      expect((await loadOrCreateSigner(dir)).jwks().keys.map((k) => k.kid).slice(1)).toEqual([second.kid, first.kid]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("docs/signatures.md's worked example and verifier", () => {
  const doc = readFileSync(path.join(repoRoot, 'docs/signatures.md'), 'utf8');
  const blocks = (lang: string) => [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
  const [body, , , answer, jwksDoc] = blocks('json').map((b) => JSON.parse(b));
  const photos = [Buffer.from('example image bytes')];
  const person = '6650c1f0e1d2c3b4a5968778';
  const client = '6650c0a1b2c3d4e5f6a7b8c9';

  /** Runs the page's own JavaScript verifier (imports become parameters, the clock is the example's). */
  async function docVerifier(a: unknown, b: unknown): Promise<boolean> {
    const code = blocks('js')[0]
      .replace(/^import .*$/gm, '')
      .replace('Date.now()', 'Date.parse("2026-12-01T16:21:00.000Z")');
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor;
    const run = new AsyncFunction('createHash', 'compactVerify', 'createLocalJWKSet', 'answer', 'jwks', 'body', 'photos', 'myClientId', 'personId', `${code}\nreturn ok;`);
    return run(createHash, compactVerify, createLocalJWKSet, a, jwksDoc, b, photos, client, person);
  }

  it('the example verifies with verifyAnswer() and with the page\'s own verifier', async () => {
    await verifyAnswer(answer, { jwks: jwksDoc, client, route: `POST ${VERIFY}`, request: { method: 'POST', path: VERIFY, body }, images: photos, subject: person });
    expect(await docVerifier(answer, body)).toBe(true);
  });

  it("the page's verifier refuses the example for another min_score or another answer", async () => {
    expect(await docVerifier(answer, { ...body, min_score: 0.5 })).toBe(false);
    expect(await docVerifier({ ...answer, data: { ...answer.data, score: 0.9 } }, body)).toBe(false);
  });
});
