import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  STATIC_TOKEN_LABEL,
  authenticate,
  bearerFromHeader,
  ensureStaticToken,
  generateTokenSecret,
  getOrCreateClient,
  hashToken,
  issueToken,
  parseTtl,
} from '../../src/domain/tokens.js';
import { openPgStore } from '../../src/store/postgres/store.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/domain/ports.js';
import { createTestDatabase, noteSkipped, skipPostgres, type TestDatabase } from '../support/postgres.js';
import { openTemp } from './helpers.js';

let sqliteStore: SqliteStore;
let cleanup: () => Promise<void>;
beforeEach(() => ({ store: sqliteStore, cleanup } = openTemp()));
afterEach(async () => cleanup());
if (skipPostgres) noteSkipped();

describe('parseTtl', () => {
  it('reads seconds to weeks', () => {
    expect(parseTtl('30d')).toBe(30 * 86_400_000);
    expect(parseTtl('12h')).toBe(12 * 3_600_000);
    expect(parseTtl('15m')).toBe(15 * 60_000);
    expect(parseTtl('90s')).toBe(90_000);
    expect(parseTtl('2w')).toBe(14 * 86_400_000);
  });
  it.each(['', '30', 'd', '0d', '-1d', '1.5h', '30 days', '1y', '999999999w'])('rejects %j', (ttl) => {
    expect(() => parseTtl(ttl)).toThrow(RangeError);
  });
});

describe('secrets', () => {
  it('are fg_ + 43 base64url chars, all different; only the SHA-256 is kept', () => {
    const s = new Set(Array.from({ length: 200 }, generateTokenSecret));
    expect(s.size).toBe(200);
    for (const t of s) expect(t).toMatch(/^fg_[A-Za-z0-9_-]{43}$/);
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('never reach the database file', async () => {
    const store = sqliteStore;
    const { token } = await issueToken(store, { clientName: 'acme' });
    await store.close();
    for (const f of [store.file, `${store.file}-wal`]) {
      let buf: Buffer;
      try {
        buf = readFileSync(f);
      } catch {
        continue;
      }
      expect(buf.includes(token)).toBe(false);
      expect(buf.includes(token.slice(3))).toBe(false);
    }
    ({ store: sqliteStore, cleanup } = openTemp());
  });
});

// What follows runs on both backends.
describe.each([
  { backend: 'sqlite', skip: false },
  { backend: 'postgres', skip: skipPostgres },
])('tokens on $backend', ({ backend, skip }) => {
  describe.skipIf(skip)(skip ? 'skipped: no PostgreSQL (see test/support/postgres.ts)' : 'runs', () => {
    let store: Store;
    let db: TestDatabase | undefined;
    beforeEach(async () => {
      if (backend === 'sqlite') {
        store = sqliteStore;
        return;
      }
      db = await createTestDatabase('tokens');
      store = await openPgStore({ connectionString: db.url, poolSize: 4 });
    });
    afterEach(async () => {
      if (backend === 'postgres') {
        await store?.close();
        await db?.drop();
      }
    });

    describe('issue and authenticate', () => {
      it('accepts the issued token for its client and nothing else', async () => {
        const issued = await issueToken(store, { clientName: 'acme', label: 'ci' });
        expect(issued.record).toMatchObject({ label: 'ci', expiresAt: null, hash: hashToken(issued.token) });
        const ok = await authenticate(store, issued.token);
        expect(ok).toMatchObject({ client: { name: 'acme', id: issued.client.id }, token: { id: issued.record.id } });
        expect(await authenticate(store, `${issued.token}x`)).toBe('invalid');
        expect(await authenticate(store, issued.token.slice(0, -1))).toBe('invalid');
        expect(await authenticate(store, generateTokenSecret())).toBe('invalid');
        expect(await authenticate(store, '')).toBe('invalid');
        expect(await authenticate(store, 'x'.repeat(5000))).toBe('invalid');
      });

      it('reuses an existing client and keeps clients apart', async () => {
        const t1 = await issueToken(store, { clientName: 'acme' });
        const t2 = await issueToken(store, { clientName: 'acme' });
        const t3 = await issueToken(store, { clientName: 'globex' });
        expect(t2.client.id).toBe(t1.client.id);
        expect(t3.client.id).not.toBe(t1.client.id);
        expect(((await authenticate(store, t3.token)) as { client: { name: string } }).client.name).toBe('globex');
        expect((await store.clients.list()).map((c) => c.name)).toEqual(['acme', 'globex']);
      });

      it('expires tokens at their TTL', async () => {
        const t0 = new Date('2030-01-01T00:00:00.000Z');
        const issued = await issueToken(store, { clientName: 'acme', ttl: '15m', now: t0 });
        expect(issued.record.expiresAt).toBe('2030-01-01T00:15:00.000Z');
        expect(typeof (await authenticate(store, issued.token, new Date('2030-01-01T00:14:59.999Z')))).toBe('object');
        expect(await authenticate(store, issued.token, new Date('2030-01-01T00:15:00.000Z'))).toBe('expired');
      });

      it('rejects a revoked token at once, revocation winning over expiry', async () => {
        const issued = await issueToken(store, { clientName: 'acme', ttl: '1h', now: new Date('2000-01-01T00:00:00Z') });
        expect(await authenticate(store, issued.token, new Date('2000-01-01T00:00:01Z'))).not.toBeTypeOf('string');
        expect(await store.tokens.revoke(issued.record.id)).toBe(true);
        expect(await authenticate(store, issued.token, new Date('2000-01-01T00:00:01Z'))).toBe('revoked');
        expect(await authenticate(store, issued.token)).toBe('revoked');
      });

      it('checks client names and TTLs before writing anything', async () => {
        await expect(issueToken(store, { clientName: 'bad name' })).rejects.toThrow(RangeError);
        await expect(issueToken(store, { clientName: '' })).rejects.toThrow(RangeError);
        await expect(issueToken(store, { clientName: 'acme', ttl: '3x' })).rejects.toThrow(RangeError);
        expect(await store.clients.list()).toEqual([]);
      });

      it('creates a client once under concurrent callers', async () => {
        // Warm connections first, so the callers really overlap instead of queueing for new connections.
        await Promise.all(Array.from({ length: 4 }, () => store.clients.list()));
        const got = await Promise.all(Array.from({ length: 5 }, () => getOrCreateClient(store, 'same')));
        expect(new Set(got.map((c) => c.id)).size).toBe(1);
      });
    });

    describe('bearerFromHeader', () => {
      it('takes only a Bearer credential', () => {
        expect(bearerFromHeader('Bearer abc')).toBe('abc');
        expect(bearerFromHeader('bearer   abc ')).toBe('abc');
        expect(bearerFromHeader('Basic abc')).toBeNull();
        expect(bearerFromHeader('Bearer a b')).toBeNull();
        expect(bearerFromHeader('Bearer ')).toBeNull();
        expect(bearerFromHeader(undefined)).toBeNull();
      });
    });

    describe('ensureStaticToken (API_TOKEN)', () => {
      const SECRET = 'a-long-enough-static-secret-0123456789';

      it('makes the secret valid for the default client, idempotently', async () => {
        const r1 = await ensureStaticToken(store, 'default', SECRET);
        expect(r1).toMatchObject({ status: 'created', weak: false, client: { name: 'default' } });
        const r2 = await ensureStaticToken(store, 'default', SECRET);
        expect(r2).toMatchObject({ status: 'unchanged', tokenId: r1.tokenId });
        expect(await store.tokens.list()).toHaveLength(1);
        expect(await authenticate(store, SECRET)).toMatchObject({ client: { name: 'default' } });
      });

      it('replaces the previous static token when API_TOKEN changes, leaving CLI tokens alone', async () => {
        const cliToken = await issueToken(store, { clientName: 'default' });
        const r1 = await ensureStaticToken(store, 'default', SECRET);
        const r2 = await ensureStaticToken(store, 'default', `${SECRET}-rotated`);
        expect(r2.status).toBe('created');
        expect(r2.tokenId).not.toBe(r1.tokenId);
        expect(await authenticate(store, SECRET)).toBe('revoked');
        expect(await authenticate(store, `${SECRET}-rotated`)).toMatchObject({ client: { name: 'default' } });
        expect(await authenticate(store, cliToken.token)).toMatchObject({ client: { name: 'default' } });
        const statics = (await store.tokens.list()).filter((t) => t.label === STATIC_TOKEN_LABEL);
        expect(statics.map((t) => t.revokedAt === null)).toEqual([false, true]);
      });

      it('keeps an operator revocation: the same secret is not revived on restart', async () => {
        const r1 = await ensureStaticToken(store, 'default', SECRET);
        await store.tokens.revoke(r1.tokenId);
        expect(await ensureStaticToken(store, 'default', SECRET)).toMatchObject({ status: 'revoked', tokenId: r1.tokenId });
        expect(await authenticate(store, SECRET)).toBe('revoked');
      });

      it('flags short secrets and refuses blank or spaced ones', async () => {
        expect((await ensureStaticToken(store, 'default', 'dev')).weak).toBe(true);
        for (const bad of ['', ' x', 'a b', 'x\n']) await expect(ensureStaticToken(store, 'default', bad)).rejects.toThrow(RangeError);
      });

      it('gives servers starting at once with the same API_TOKEN one token', async () => {
        await Promise.all(Array.from({ length: 4 }, () => store.clients.list()));
        const results = await Promise.all(Array.from({ length: 5 }, () => ensureStaticToken(store, 'default', SECRET)));
        expect(new Set(results.map((r) => r.tokenId)).size).toBe(1);
        expect(results.filter((r) => r.status === 'created')).toHaveLength(1);
        expect(await store.tokens.list()).toHaveLength(1);
      });

      it('refuses a secret that is already another client’s token', async () => {
        await ensureStaticToken(store, 'one', SECRET);
        await expect(ensureStaticToken(store, 'two', SECRET)).rejects.toThrow(/another client/);
      });
    });
  });
});
