// API tokens: issuing, authenticating, and the static API_TOKEN of the default client.
//
// Only SHA-256(secret) is stored. A slow password hash (bcrypt, scrypt, argon2) exists to make guessing
// low-entropy human passwords expensive; our issued secrets are 256 random bits, so guessing one from its hash is
// already 2^256 work and a fast hash loses nothing. A fast, deterministic hash also makes the lookup one indexed
// equality (no per-token salt to try) on every request. The one human-chosen secret, API_TOKEN, lives in the
// server's environment anyway; ensureStaticToken() reports when it looks weak.
import { createHash, randomBytes } from 'node:crypto';
import type { Client, Repos, Store, TokenRecord } from './ports.js';
import { cliEvent } from './audit.js';
import { ConflictError } from './errors.js';

export const TOKEN_PREFIX = 'fg_';
/** Label marking the token that mirrors the API_TOKEN environment variable. */
export const STATIC_TOKEN_LABEL = 'static:API_TOKEN';
/** Longest Authorization bearer we bother hashing; anything longer is simply invalid. */
const MAX_BEARER_LENGTH = 4096;
const CLIENT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export type AuthResult = { client: Client; token: TokenRecord } | 'invalid' | 'expired' | 'revoked';

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** `fg_` + 32 random bytes in base64url (43 chars): 256 bits of entropy. */
export function generateTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

const TTL_UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const MAX_TTL_MS = 100 * 365 * 86_400_000;

/** Parses `30d`, `12h`, `15m`, `90s`, `2w` into milliseconds. Throws RangeError with a readable message. */
export function parseTtl(ttl: string): number {
  const m = /^(\d{1,9})([smhdw])$/.exec(ttl.trim());
  if (!m) throw new RangeError(`invalid TTL "${ttl}": use a positive number followed by s, m, h, d or w (e.g. 30d, 12h, 15m)`);
  const ms = Number(m[1]) * TTL_UNITS_MS[m[2]];
  if (ms <= 0) throw new RangeError(`invalid TTL "${ttl}": must be greater than zero`);
  if (ms > MAX_TTL_MS) throw new RangeError(`invalid TTL "${ttl}": longer than 100 years (leave the TTL out for a token that never expires)`);
  return ms;
}

export function assertClientName(name: string): void {
  if (!CLIENT_NAME_RE.test(name)) {
    throw new RangeError(`invalid client name "${name}": 1-64 characters, letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
}

/** Returns the client called `name`, creating it if missing (safe against a concurrent creator in another process). */
export async function getOrCreateClient(store: Store, name: string): Promise<Client> {
  assertClientName(name);
  const existing = await store.clients.getByName(name);
  if (existing) return existing;
  try {
    return await store.transaction(async (tx) => (await tx.clients.getByName(name)) ?? tx.clients.create(name));
  } catch (e) {
    // Another server (PostgreSQL) created it between our read and our insert: it exists now, use it.
    const created = e instanceof ConflictError ? await store.clients.getByName(name) : null;
    if (created) return created;
    throw e;
  }
}

export interface IssuedToken {
  /** The secret: shown once, never stored. */
  token: string;
  record: TokenRecord;
  client: Client;
}

export async function issueToken(
  store: Store,
  opts: { clientName: string; ttl?: string; label?: string; now?: Date },
): Promise<IssuedToken> {
  const ttlMs = opts.ttl === undefined ? null : parseTtl(opts.ttl);
  const now = opts.now ?? new Date();
  const client = await getOrCreateClient(store, opts.clientName);
  const token = generateTokenSecret();
  // The token and its audit record land together.
  const record = await store.transaction(async (tx) => {
    const rec = await tx.tokens.create({
      client: client.id,
      hash: hashToken(token),
      label: opts.label ?? null,
      expiresAt: ttlMs === null ? null : new Date(now.getTime() + ttlMs).toISOString(),
    });
    await tx.audit.append(cliEvent('cli tokens create', 'token.create', { client: client.id, subject: rec.id, details: { expires_at: rec.expiresAt } }));
    return rec;
  });
  return { token, record, client };
}

/** Revokes a token at once, with its audit record; false when no such unrevoked token exists. */
export async function revokeToken(store: Store, id: string, via = 'cli tokens revoke'): Promise<boolean> {
  return store.transaction(async (tx) => {
    const rec = (await tx.tokens.list()).find((t) => t.id === id);
    if (!rec || !(await tx.tokens.revoke(id))) return false;
    await tx.audit.append(cliEvent(via, 'token.revoke', { client: rec.client, subject: id }));
    return true;
  });
}

/**
 * Checks a bearer secret. The lookup is by hash, so response time does not depend on how close a guess is to a
 * real secret (the attacker cannot steer SHA-256 prefixes); all failures do the same work up to the lookup.
 */
export async function authenticate(repos: Pick<Repos, 'tokens' | 'clients'>, bearer: string, now: Date = new Date()): Promise<AuthResult> {
  if (typeof bearer !== 'string' || bearer.length === 0 || bearer.length > MAX_BEARER_LENGTH) return 'invalid';
  const record = await repos.tokens.findByHash(hashToken(bearer));
  if (!record) return 'invalid';
  if (record.revokedAt !== null) return 'revoked';
  if (record.expiresAt !== null && Date.parse(record.expiresAt) <= now.getTime()) return 'expired';
  const client = await repos.clients.get(record.client);
  if (!client) return 'invalid';
  return { client, token: record };
}

/** Parses an `Authorization` header value; null unless it is `Bearer <secret>`. */
export function bearerFromHeader(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m ? m[1] : null;
}

export interface StaticTokenResult {
  client: Client;
  tokenId: string;
  /** created: first start or a changed API_TOKEN (older static tokens revoked); unchanged: already in place;
   *  revoked: an operator revoked this exact secret, which stays revoked (pick a new API_TOKEN). */
  status: 'created' | 'unchanged' | 'revoked';
  /** True for secrets under 32 characters: fine for a laptop, not for a server facing a network. */
  weak: boolean;
}

/**
 * Makes `Authorization: Bearer <secret>` valid for client `clientName` (created if missing). Idempotent across
 * restarts; a different secret replaces (revokes) the client's previous static token. A revoked static token is
 * not brought back behind the operator's back.
 */
export async function ensureStaticToken(store: Store, clientName: string, secret: string): Promise<StaticTokenResult> {
  if (secret.trim() !== secret || secret.length === 0 || secret.length > MAX_BEARER_LENGTH || /\s/.test(secret)) {
    throw new RangeError('API_TOKEN must be 1-4096 characters without whitespace');
  }
  const weak = secret.length < 32;
  const client = await getOrCreateClient(store, clientName);
  const hash = hashToken(secret);
  try {
    return await writeStaticToken(store, client, hash, weak);
  } catch (e) {
    // Several servers starting at once on one database (PostgreSQL) with the same API_TOKEN: one of them inserted
    // it between our read and our insert. Once more, and the token is found.
    if (e instanceof ConflictError) return writeStaticToken(store, client, hash, weak);
    throw e;
  }
}

function writeStaticToken(store: Store, client: Client, hash: string, weak: boolean): Promise<StaticTokenResult> {
  return store.transaction(async (tx) => {
    const existing = await tx.tokens.findByHash(hash);
    if (existing && existing.client !== client.id) {
      throw new Error(`API_TOKEN is already a token of another client (token ${existing.id}); choose another secret`);
    }
    if (existing?.revokedAt) return { client, tokenId: existing.id, status: 'revoked' as const, weak };
    for (const t of await tx.tokens.list(client.id)) {
      if (t.label === STATIC_TOKEN_LABEL && t.revokedAt === null && t.id !== existing?.id) {
        await tx.tokens.revoke(t.id);
        await tx.audit.append(cliEvent('startup API_TOKEN', 'token.revoke', { client: client.id, subject: t.id }));
      }
    }
    if (existing) return { client, tokenId: existing.id, status: 'unchanged' as const, weak };
    const rec = await tx.tokens.create({ client: client.id, hash, label: STATIC_TOKEN_LABEL, expiresAt: null });
    await tx.audit.append(cliEvent('startup API_TOKEN', 'token.create', { client: client.id, subject: rec.id }));
    return { client, tokenId: rec.id, status: 'created' as const, weak };
  });
}
