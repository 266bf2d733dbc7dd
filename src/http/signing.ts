// Response signing: an Ed25519 compact JWS over the canonical JSON of each answer bound to its request (request id,
// time, client, route, image digests and `data`: SignedClaims), so a relying party can prove a result came from this
// server for that request (docs/signatures.md). The key pair is generated on first start and kept in DATA_DIR
// (0600); its public half, and those of keys retired by `keys rotate`, are served at /.well-known/jwks.json.
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, compactVerify, CompactSign, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { SigningKeyRecord, SigningKeyRepo } from '../domain/ports.js';
import { canonicalJson } from './canonical.js';

export const SIGNING_KEY_FILE = 'signing-key.json';
/** Public halves of retired keys, still published so answers signed before a rotation keep verifying. */
export const RETIRED_KEYS_FILE = 'signing-keys-retired.json';

/** What an answer's JWS signs. */
export interface SignedClaims<T = unknown> {
  /** The request id: the envelope's `id`. */
  id: string;
  /** The envelope's `signature.dateTime`. */
  dateTime: string;
  /** The client (tenant) id the request was authenticated as. */
  client: string | null;
  /** `METHOD /path` of the request, without its query string. */
  route: string;
  /**
   * sha-256 (hex) of the canonical JSON of `{method, path, body}`: the method, the path with its query string as
   * sent, and the JSON body with every image replaced by `sha256:<hex of its bytes>` (requestDigest()). Binds the
   * answer to every parameter of the request (min_score, collection_id, search_mode, filters, paging).
   */
  request: string;
  /** The caller's own `x-request-id`, when it sent a plain one (the signed `id` is always the server's). */
  callerRequestId?: string;
  /** The person a 1:1 verify compared against (its body `id`). */
  subject?: string;
  /** sha-256 of the bytes of each image sent, by request field. */
  probes?: { field: string; sha256: string }[];
  data: T;
}

export interface ResponseSigner {
  readonly kid: string;
  /** Compact JWS (header.payload.signature) whose payload is the canonical JSON of `claims`. */
  sign(claims: SignedClaims): Promise<string>;
  /** `{ keys: [current, …retired] }` public JWKs for /.well-known/jwks.json. */
  jwks(): { keys: JWK[] };
}

function publicOf(jwk: JWK, kid: string): JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg: 'EdDSA', use: 'sig' };
}

async function signerFromJwk(privateJwk: JWK, retired: JWK[] = []): Promise<ResponseSigner> {
  const key = await importJWK(privateJwk, 'EdDSA');
  const { d: _private, ...publicJwk } = privateJwk;
  const kid = privateJwk.kid ?? (await calculateJwkThumbprint(publicJwk));
  const published = publicOf(publicJwk, kid);
  const keys = [published, ...retired.filter((k) => k.kid !== kid)];
  const encoder = new TextEncoder();
  return {
    kid,
    async sign(claims: SignedClaims) {
      return new CompactSign(encoder.encode(canonicalJson(claims))).setProtectedHeader({ alg: 'EdDSA', kid }).sign(key);
    },
    jwks: () => ({ keys }),
  };
}

/** A signer with a fresh key that lives only in memory (tests, or callers that do not need a stable key). */
export async function createEphemeralSigner(): Promise<ResponseSigner> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  return signerFromJwk({ ...jwk, kid: await calculateJwkThumbprint({ kty: jwk.kty!, crv: jwk.crv!, x: jwk.x! }) });
}

/** Loads `DATA_DIR/signing-key.json`, creating it (mode 0600) on first start. */
export async function loadOrCreateSigner(dataDir: string): Promise<ResponseSigner> {
  const file = path.join(dataDir, SIGNING_KEY_FILE);
  let text: string | null = null;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== null) {
    const jwk = JSON.parse(text) as JWK;
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d || !jwk.x) throw new Error(`${file} is not an Ed25519 private JWK`);
    return signerFromJwk(jwk, await readRetired(dataDir));
  }
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint({ kty: jwk.kty!, crv: jwk.crv!, x: jwk.x! });
  const stored: JWK = { ...jwk, kid, alg: 'EdDSA' };
  await mkdir(dataDir, { recursive: true });
  try {
    // 'wx': if another process created it first, use theirs rather than overwrite it.
    await writeFile(file, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateSigner(dataDir);
    throw err;
  }
  await chmod(file, 0o600);
  return signerFromJwk(stored, await readRetired(dataDir));
}

async function readRetired(dataDir: string): Promise<JWK[]> {
  try {
    return (JSON.parse(await readFile(path.join(dataDir, RETIRED_KEYS_FILE), 'utf8')) as { keys: JWK[] }).keys;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Replaces the signing key (`npm run cli -- keys rotate`; a running server picks it up at its next start). The old
 * key's public half stays in the JWKS, so answers it signed keep verifying; its private half is destroyed.
 */
export async function rotateSigningKey(dataDir: string): Promise<{ retired: string | null; current: string }> {
  const file = path.join(dataDir, SIGNING_KEY_FILE);
  let old: ResponseSigner | null = null;
  try {
    await readFile(file);
    old = await loadOrCreateSigner(dataDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (old) {
    const keys = old.jwks().keys; // current first, then those retired before
    const tmp = path.join(dataDir, `${RETIRED_KEYS_FILE}.tmp`);
    await writeFile(tmp, JSON.stringify({ keys }, null, 2) + '\n', { mode: 0o644 });
    await rename(tmp, path.join(dataDir, RETIRED_KEYS_FILE));
    // Overwritten before unlinking, so the private key does not linger in the file's old blocks (best effort).
    await writeFile(file, '\0'.repeat(256));
    await rm(file, { force: true });
  }
  const next = await loadOrCreateSigner(dataDir);
  return { retired: old?.kid ?? null, current: next.kid };
}

// ---- Keys shared by every instance on one database ----
// N instances behind a proxy must sign with one key and publish one JWKS, whichever instance answered. The key set
// lives in the store (signing_keys): the current key (retiredAt null) and retired ones, still published until the
// answers they signed have expired (retention). A rotation is a compare-and-set on the current kid, so two
// instances rotating at once make one new key, not two; every instance re-reads the set every few seconds and
// signs with the new key from then on, while the old one stays in the JWKS.

// A key's `privateJwk` is "null" for a retired key whose private half was destroyed (imported from DATA_DIR's files).
type StoredSigningKey = SigningKeyRecord;
type SigningKeyStore = SigningKeyRepo;

/** How long a retired key stays published by default: answers older than a year are not expected to verify. */
export const DEFAULT_KEY_RETENTION_MS = 365 * 24 * 3600_000;

export interface SharedSigner extends ResponseSigner {
  /** Re-reads the key set (done every `refreshMs` on its own). */
  refresh(): Promise<void>;
  /** Stops the periodic refresh. */
  close(): void;
}

async function newStoredKey(now: Date): Promise<StoredSigningKey> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint({ kty: jwk.kty!, crv: jwk.crv!, x: jwk.x! });
  return storedFrom({ ...jwk, kid, alg: 'EdDSA' }, now);
}

function storedFrom(privateJwk: JWK, now: Date): StoredSigningKey {
  const kid = privateJwk.kid!;
  return {
    kid,
    alg: 'EdDSA',
    privateJwk: JSON.stringify(privateJwk),
    publicJwk: JSON.stringify(publicOf(privateJwk, kid)),
    createdAt: now.toISOString(),
    retiredAt: null,
  };
}

/**
 * Puts DATA_DIR's key files (a server that ran on its own before) into the empty store, oldest retired key first,
 * so answers it signed keep verifying and it keeps its kid. False when there is no file (or another instance won).
 */
async function importKeyFiles(keys: SigningKeyStore, dataDir: string, now: Date): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path.join(dataDir, SIGNING_KEY_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const current = JSON.parse(text) as JWK;
  if (current.kty !== 'OKP' || current.crv !== 'Ed25519' || !current.d || !current.x) throw new Error(`${SIGNING_KEY_FILE} is not an Ed25519 private JWK`);
  const kid = current.kid ?? (await calculateJwkThumbprint({ kty: current.kty, crv: current.crv, x: current.x }));
  const retired = (await readRetired(dataDir)).filter((k) => k.kid && k.kid !== kid).reverse();
  const chain: StoredSigningKey[] = [
    ...retired.map((k) => ({ kid: k.kid!, alg: 'EdDSA' as const, privateJwk: 'null', publicJwk: JSON.stringify(k), createdAt: now.toISOString(), retiredAt: null })),
    storedFrom({ ...current, kid, alg: 'EdDSA' }, now),
  ];
  let previous: string | null = null;
  for (const k of chain) {
    if (!(await keys.rotate(k, previous))) return false;
    previous = k.kid;
  }
  return true;
}

/**
 * The signer of an instance sharing its database with others: signs with the store's current key (creating one, or
 * importing `dataDir`'s key files, when the store has none) and publishes every key not retired for longer than
 * `retentionMs`.
 */
export async function loadSharedSigner(
  keys: SigningKeyStore,
  opts: { dataDir?: string; refreshMs?: number; retentionMs?: number; now?: () => Date } = {},
): Promise<SharedSigner> {
  const now = opts.now ?? (() => new Date());
  const retentionMs = opts.retentionMs ?? DEFAULT_KEY_RETENTION_MS;
  let records = await keys.list();
  if (!records.some((r) => r.retiredAt === null)) {
    const imported = opts.dataDir ? await importKeyFiles(keys, opts.dataDir, now()) : false;
    if (!imported) await keys.rotate(await newStoredKey(now()), null); // false: another instance made one first
    records = await keys.list();
  }
  // Another instance may be half-way through importing its key files (retired keys first, without private halves).
  for (let i = 0; i < 50 && records.find((r) => r.retiredAt === null)?.privateJwk === 'null'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    records = await keys.list();
  }
  let state = await signingState(records, retentionMs, now());
  const encoder = new TextEncoder();
  const signer: SharedSigner = {
    get kid() {
      return state.kid;
    },
    async sign(claims: SignedClaims) {
      const { kid, key } = state;
      return new CompactSign(encoder.encode(canonicalJson(claims))).setProtectedHeader({ alg: 'EdDSA', kid }).sign(key);
    },
    jwks: () => ({ keys: state.published }),
    async refresh() {
      state = await signingState(await keys.list(), retentionMs, now(), state);
    },
    close() {
      clearInterval(timer);
    },
  };
  // A failed refresh (database briefly unreachable) keeps signing with the key known so far.
  const timer = setInterval(() => void signer.refresh().catch(() => undefined), opts.refreshMs ?? 10_000);
  timer.unref();
  return signer;
}

interface SigningState {
  kid: string;
  key: CryptoKey | Uint8Array;
  published: JWK[];
}

async function signingState(records: StoredSigningKey[], retentionMs: number, now: Date, previous?: SigningState): Promise<SigningState> {
  const current = records.find((r) => r.retiredAt === null);
  if (!current) {
    if (previous) return previous;
    throw new Error('the store holds no current signing key');
  }
  const key = previous?.kid === current.kid ? previous.key : await importJWK(JSON.parse(current.privateJwk) as JWK, 'EdDSA');
  const cutoff = now.getTime() - retentionMs;
  const published = [current, ...records.filter((r) => r.retiredAt !== null && Date.parse(r.retiredAt) >= cutoff)].map((r) => JSON.parse(r.publicJwk) as JWK);
  return { kid: current.kid, key, published };
}

/**
 * Rotates the shared key (`npm run cli -- keys rotate` on a shared database): a new current key; the old one is
 * retired but stays published for `retentionMs`, and keys retired before that are deleted. Running instances sign
 * with the new key within their refresh interval (10 s), no restart needed.
 */
export async function rotateSharedKey(keys: SigningKeyStore, opts: { retentionMs?: number; now?: () => Date } = {}): Promise<{ retired: string | null; current: string }> {
  const now = opts.now ?? (() => new Date());
  for (;;) {
    const current = (await keys.list()).find((r) => r.retiredAt === null)?.kid ?? null;
    const next = await newStoredKey(now());
    if (await keys.rotate(next, current)) {
      await keys.pruneRetired(new Date(now().getTime() - (opts.retentionMs ?? DEFAULT_KEY_RETENTION_MS)).toISOString());
      return { retired: current, current: next.kid };
    }
  }
}

/** sha-256 (hex) of an image's bytes, as `probes[].sha256` lists it. */
export function imageDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Request fields (at any depth) whose strings are images: the request digest holds their bytes' sha-256 instead. */
export const IMAGE_KEYS: ReadonlySet<string> = new Set(['image', 'images', 'probe', 'gallery', 'faceImage']);

/** Deeper bodies are refused before they are digested (no schema nests anywhere near this). */
export const MAX_BODY_DEPTH = 32;

export class BodyTooDeepError extends Error {
  override readonly name = 'BodyTooDeepError';
}

/** The body as the request digest covers it: image strings replaced by `sha256:<hex of the decoded bytes>`. */
export function bodyForDigest(value: unknown, imageField = false, depth = 0): unknown {
  if (depth > MAX_BODY_DEPTH) throw new BodyTooDeepError(`the body is nested deeper than ${MAX_BODY_DEPTH} levels`);
  // The bytes the engine decodes: base64 with any whitespace removed (images.ts accepts nothing else).
  if (typeof value === 'string') return imageField ? `sha256:${imageDigest(Buffer.from(value.replace(/\s+/g, ''), 'base64'))}` : value;
  if (Array.isArray(value)) return value.map((v) => bodyForDigest(v, imageField, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = bodyForDigest(v, IMAGE_KEYS.has(k), depth + 1);
    return out;
  }
  return value;
}

/**
 * The `request` claim: sha-256 (hex) of the canonical JSON of `{body, method, path}`, where `path` is the path with
 * its query string exactly as sent (`/v2/persons?page=1&name=zzz`), and `body` the parsed JSON body (null when there
 * is none) with images replaced by their digests (bodyForDigest). A relying party computes it from what it sent.
 */
export function requestDigest(r: { method: string; path: string; body?: unknown }): string {
  const body = r.body === undefined ? null : bodyForDigest(r.body);
  return createHash('sha256').update(canonicalJson({ method: r.method.toUpperCase(), path: r.path, body })).digest('hex');
}

/** An answer as a relying party received it. */
export interface SignedAnswer<T = unknown> {
  id: string;
  data: T;
  signature: { dateTime: string; jws?: string };
}

export class AnswerVerificationError extends Error {
  override readonly name = 'AnswerVerificationError';
}

/**
 * The verification rule of docs/signatures.md, as code: the JWS verifies against the JWKS, and what it signs is
 * this answer (its id, dateTime and data) to the request the relying party expects (client, route, the digest of
 * the whole request, the images it sent, and for a verify the person). Throws AnswerVerificationError naming the first thing that differs.
 */
export async function verifyAnswer<T>(
  answer: SignedAnswer<T>,
  expected: {
    jwks: { keys: JWK[] };
    client: string;
    route: string;
    /** The request it sent: method, path with query string, JSON body (images as sent, base64). */
    request: { method: string; path: string; body?: unknown };
    images?: Uint8Array[];
    subject?: string;
    maxAgeMs?: number;
    now?: Date;
  },
): Promise<SignedClaims<T>> {
  if (!answer.signature?.jws) throw new AnswerVerificationError('no signature');
  let claims: SignedClaims<T>;
  try {
    const { payload } = await compactVerify(answer.signature.jws, createLocalJWKSet(expected.jwks));
    claims = JSON.parse(new TextDecoder().decode(payload)) as SignedClaims<T>;
  } catch (err) {
    throw new AnswerVerificationError(`signature does not verify: ${(err as Error).message}`);
  }
  const differs = (what: string) => new AnswerVerificationError(`${what} differs from what was signed`);
  if (claims.id !== answer.id) throw differs('id');
  if (claims.dateTime !== answer.signature.dateTime) throw differs('dateTime');
  if (canonicalJson(claims.data) !== canonicalJson(answer.data)) throw differs('data');
  if (claims.client !== expected.client) throw differs('client');
  if (claims.route !== expected.route) throw differs('route');
  if ((claims.subject ?? undefined) !== expected.subject) throw differs('subject');
  if (claims.request !== requestDigest(expected.request)) throw differs('request');
  const sent = (expected.images ?? []).map(imageDigest);
  const signed = (claims.probes ?? []).map((p) => p.sha256);
  if (sent.length !== signed.length || sent.some((d, i) => d !== signed[i])) throw differs('probes');
  if (expected.maxAgeMs !== undefined) {
    const age = (expected.now ?? new Date()).getTime() - Date.parse(claims.dateTime);
    if (!(age <= expected.maxAgeMs)) throw new AnswerVerificationError(`answer is older than ${expected.maxAgeMs} ms`);
  }
  return claims;
}
