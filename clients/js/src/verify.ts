// verifyAnswer(): the verification rule of the server's docs/signatures.md, for answers this client received. The
// JWS must verify against the server's JWKS, and what it signs must be this answer (id, dateTime, data) to the
// request this client sent (route, and the request digest over method, path with query and body, images as their
// SHA-256), for the expected client, recently enough.
import { createHash } from 'node:crypto';
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { SignatureError } from './errors.js';
import type { Answer, SentRequest } from './http.js';

/** Request fields (at any depth) whose strings are images: the digest holds their bytes' SHA-256 instead. */
const IMAGE_KEYS = new Set(['image', 'images', 'probe', 'gallery', 'faceImage']);

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** RFC 8785 canonical JSON for the values JSON bodies and answers hold (sorted keys, ECMAScript numbers). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function withDigests(v: unknown, image = false): unknown {
  if (typeof v === 'string') return image ? `sha256:${sha256(Buffer.from(v.replace(/\s+/g, ''), 'base64'))}` : v;
  if (Array.isArray(v)) return v.map((x) => withDigests(x, image));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withDigests(x, IMAGE_KEYS.has(k))]));
  return v;
}

/** The `request` claim the server signs for a request: SHA-256 of canonical `{body, method, path}`. */
export function requestDigest(r: SentRequest): string {
  // What the server parsed is what JSON.stringify sent (undefined fields dropped), not the object in memory.
  const body = r.body === undefined ? null : withDigests(JSON.parse(JSON.stringify(r.body)));
  return sha256(canonicalJson({ body, method: r.method.toUpperCase(), path: r.path }));
}

export interface VerifyOptions {
  /** The server's public keys (`client.jwks()`, fetched over TLS from the server you trust, or pinned). */
  jwks: JSONWebKeySet;
  /** Your client (tenant) id: an answer made for another tenant fails. Checked when given. */
  client?: string;
  /** How old an answer may be. Default 5 minutes. */
  maxAgeMs?: number;
  now?: Date;
}

export interface VerifiedClaims {
  id: string;
  dateTime: string;
  client: string | null;
  route: string;
  request: string;
  subject?: string;
  data: unknown;
}

/** Throws SignatureError (its `reason` names the failed check) unless the answer is the server's to this request. */
export async function verifyAnswer<T>(answer: Answer<T>, opts: VerifyOptions): Promise<VerifiedClaims> {
  const jws = answer.signature?.jws;
  if (!jws) throw new SignatureError('signature', 'the answer carries no JWS');
  let claims: VerifiedClaims;
  try {
    const { payload } = await compactVerify(jws, createLocalJWKSet(opts.jwks));
    claims = JSON.parse(new TextDecoder().decode(payload)) as VerifiedClaims;
  } catch (e) {
    throw new SignatureError('signature', `the JWS does not verify against the JWKS (${(e as Error).message})`);
  }
  const sent = answer.request;
  if (!sent) throw new SignatureError('request', 'the answer does not say which request it answers');
  if (claims.id !== answer.id) throw new SignatureError('id', 'the signed id is not the answer id');
  if (claims.dateTime !== answer.signature.dateTime) throw new SignatureError('dateTime', 'the signed time is not the answer time');
  if (canonicalJson(claims.data) !== canonicalJson(answer.data)) throw new SignatureError('data', 'the signed data is not the answer data');
  const route = `${sent.method.toUpperCase()} ${sent.path.split('?')[0]}`;
  if (claims.route !== route) throw new SignatureError('route', `signed for ${claims.route}, not ${route}`);
  if (claims.request !== requestDigest(sent)) throw new SignatureError('request', 'signed for another request (method, path, query or body differ)');
  if (opts.client !== undefined && claims.client !== opts.client) throw new SignatureError('client', 'signed for another client');
  const age = (opts.now ?? new Date()).getTime() - Date.parse(claims.dateTime);
  if (!(age <= (opts.maxAgeMs ?? 5 * 60_000))) throw new SignatureError('freshness', `the answer is ${Math.round(age / 1000)} s old`);
  return claims;
}
