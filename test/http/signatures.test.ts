// Signed answers are bound to their request: the JWS covers id, dateTime, client, route, the images' digests and
// data, so a signed result verifies for the request it answered and for nothing else (docs/signatures.md).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswerVerificationError, loadOrCreateSigner, rotateSigningKey, verifyAnswer, type SignedAnswer } from '../../src/http/signing.js';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { startTestApp, type TestApp } from '../support/harness.js';
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

async function verifyMatch(image: Buffer): Promise<SignedAnswer<{ match: { id: string } | null; score: number }>> {
  const r = await t.request('POST', VERIFY, { token: acme.token, body: { id: personId, images: [image.toString('base64')], min_score: 0.8 } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

describe('a signed answer verifies for its own request', () => {
  it('verify: id, dateTime, client, route, subject, probe digest and data all check out', async () => {
    const answer = await verifyMatch(probe);
    expect(answer.data.match).toMatchObject({ id: personId });
    const claims = await verifyAnswer(answer, { jwks: await jwks(), client: acme.clientId, route: `POST ${VERIFY}`, images: [probe], subject: personId, maxAgeMs: 60_000 });
    expect(claims.probes).toEqual([{ field: 'images[0]', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
  });

  it('a search, with base64 line breaks in the image: the digest is of the bytes, not of the text', async () => {
    const wrapped = probe.toString('base64').replace(/.{76}/g, '$&\n');
    const r = await t.request('POST', SEARCH, { token: acme.token, body: { image: wrapped, os: 'DESKTOP', min_score: 0.8, search_mode: 'FAST' } });
    expect(r.status).toBe(200);
    expect(r.body.data[0].id).toBe(personId);
    await verifyAnswer(r.body, { jwks: await jwks(), client: acme.clientId, route: `POST ${SEARCH}`, images: [probe] });
  });
});

describe('altering any bound field fails verification', () => {
  let answer: SignedAnswer<{ match: { id: string } | null; score: number }>;
  let keys: Awaited<ReturnType<typeof jwks>>;
  const good = () => ({ jwks: keys, client: acme.clientId, route: `POST ${VERIFY}`, images: [probe], subject: personId });
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
    for (const change of [{ client: globex.clientId }, { route: 'POST /v2/x' }, { id: 'x' }, { probes: [] }]) {
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
      const claims = { id: 'r1', dateTime: new Date().toISOString(), client: 'c', route: 'POST /v2/x', data: { ok: true } };
      const oldAnswer = { id: 'r1', data: { ok: true }, signature: { dateTime: claims.dateTime, jws: await first.sign(claims) } };
      const r = await rotateSigningKey(dir);
      expect(r.retired).toBe(first.kid);
      const second = await loadOrCreateSigner(dir);
      expect(second.kid).toBe(r.current);
      expect(second.kid).not.toBe(first.kid);
      expect(second.jwks().keys.map((k) => k.kid)).toEqual([second.kid, first.kid]);
      expect(second.jwks().keys.every((k) => k.d === undefined)).toBe(true);
      const expected = { jwks: second.jwks(), client: 'c', route: 'POST /v2/x' };
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
