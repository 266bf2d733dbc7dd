// The console's server side over HTTP (no browser): the built page and its headers, sign-in/sign-out, the session
// cookie on /v2 (CSRF, Origin, revocation, expiry, tenants), on the real app and a real SQLite file.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildConsole, type ConsoleBuild } from '../../console/build.js';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { loadConfig } from '../../src/config.js';
import { SessionsFullError, SessionStore } from '../../src/http/console/sessions.js';
import { startTestApp, type Res, type TestApp } from '../support/harness.js';
import { faceBase64 } from '../support/photos.js';
import { newEngine, newIndex } from '../support/parts.js';

let engine: WorkerFaceEngine;
let t: TestApp;
let built: ConsoleBuild;
const logLines: string[] = [];

const COLLECTIONS = '/v2/face-recognition/collections';
const PERSONS = '/v2/face-recognition/persons';
// Over plain http the browser keeps a Secure (__Host-) cookie only on a loopback host, as the server listens by default.
const HOST = 'localhost';
/** Each sign-in of these tests comes from its own address, so the per-address sign-in throttle stays out of the way. */
let nextAddress = 1;

beforeAll(async () => {
  built = await buildConsole();
  engine = newEngine();
  await engine.ready();
  t = await startTestApp({ engine, index: newIndex(engine.dim), logLines });
});

afterAll(async () => {
  await t?.close();
  await engine?.close();
});

interface Session {
  cookie: string;
  csrf: string;
  res: Res;
}

async function signInFrom(app: TestApp, token: string, remoteAddress: string, headers: Record<string, string> = {}): Promise<Res> {
  const res = await app.app.inject({ method: 'POST', url: '/console/api/session', payload: { token }, remoteAddress, headers: { host: HOST, origin: `http://${HOST}`, ...headers } });
  let body: any;
  try {
    body = res.json();
  } catch {
    body = undefined;
  }
  return { status: res.statusCode, headers: res.headers, body, text: res.body };
}

async function signIn(token: string, app: TestApp = t): Promise<Session> {
  const res = await signInFrom(app, token, `10.0.${nextAddress >> 8}.${nextAddress++ & 255}`);
  expect(res.status, res.text).toBe(200);
  const setCookie = String(res.headers['set-cookie']);
  return { cookie: setCookie.split(';')[0], csrf: res.body.csrfToken, res };
}

function asSession(s: Session, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, extra: Record<string, string> = {}) {
  const headers: Record<string, string> = { host: HOST, cookie: s.cookie, ...extra };
  if (method !== 'GET' && !('x-csrf-token' in extra)) headers['x-csrf-token'] = s.csrf;
  return t.request(method, url, { body, headers });
}

describe('the page', () => {
  it('is served at /console with a strict CSP and no inline script', async () => {
    const res = await t.request('GET', '/console');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers['x-frame-options']).toBe('DENY');
    // Every <script> has a src on this origin; nothing is loaded from elsewhere.
    const scripts = [...res.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBe(1);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/src="\/console\/assets\//);
      expect(body.trim()).toBe('');
    }
    expect(res.text).not.toMatch(/https?:\/\//);
  });

  it('serves the hashed assets compressed, immutable, under the same CSP', async () => {
    const res = await t.request('GET', `/console/assets/${built.js}`, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('br');
    expect(res.headers['cache-control']).toMatch(/immutable/);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    const raw = await t.request('GET', `/console/assets/${built.js}`);
    expect(raw.text).toBe(await readFile(path.join(built.dir, 'assets', built.js), 'utf8'));
    expect((await t.request('GET', '/console/assets/nope.js')).status).toBe(404);
  });
});

describe('sign-in', () => {
  it('exchanges a token for an httpOnly, SameSite=Strict cookie with an expiry; the token is not echoed or logged', async () => {
    const acme = await t.token('acme');
    logLines.length = 0;
    const s = await signIn(acme.token);
    const cookie = String(s.res.headers['set-cookie']);
    expect(cookie).toMatch(/^__Host-facegate_session=[A-Za-z0-9_-]{43};/);
    // What the __Host- prefix requires of it: Secure, Path=/, no Domain.
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).not.toMatch(/Domain=/i);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).toMatch(/Expires=/);
    expect(s.res.headers['cache-control']).toBe('no-store');
    expect(s.res.body).toEqual({ client: 'acme', expiresAt: expect.any(String), csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const hours = (Date.parse(s.res.body.expiresAt) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(7.9);
    expect(hours).toBeLessThanOrEqual(8);
    expect(s.res.text).not.toContain(acme.token);
    expect(logLines.join('\n')).not.toContain(acme.token);
    expect(logLines.join('\n')).not.toContain(s.cookie.split('=')[1]);

    const me = await asSession(s, 'GET', '/console/api/session');
    expect(me.status).toBe(200);
    expect(me.body.client).toBe('acme');
    expect(me.body.csrfToken).toBe(s.csrf);
  });

  it('before anyone signs in, asking for the session is answered 204 (sign in), not an error the browser logs', async () => {
    const r = await t.request('GET', '/console/api/session', { headers: { host: HOST } });
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
  });

  it('refuses an unknown token (401), an expired one (403) and a sign-in posted from another origin (403)', async () => {
    const bad = await t.request('POST', '/console/api/session', { body: { token: 'fg_nope' } });
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({ message: 'Authentication required', code: 'UNAUTHORIZED' });
    expect(bad.headers['set-cookie']).toBeUndefined();
    const acme = await t.token('acme');
    const foreign = await t.request('POST', '/console/api/session', { body: { token: acme.token }, headers: { host: HOST, origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers['set-cookie']).toBeUndefined();
    const missing = await t.request('POST', '/console/api/session', { body: {} });
    expect(missing.status).toBe(409);
  });

  it('a session lasts no longer than its token', async () => {
    const short = await t.token('acme', { ttl: '1h' });
    const s = await signIn(short.token);
    const hours = (Date.parse(s.res.body.expiresAt) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(0.95);
    expect(hours).toBeLessThanOrEqual(1);
  });
});

describe('the API with the session cookie', () => {
  it('reads and writes as the token would; answers are not cached', async () => {
    const acme = await t.token('acme');
    const s = await signIn(acme.token);
    const created = await asSession(s, 'POST', COLLECTIONS, { name: 'Front desk' });
    expect(created.status).toBe(200);
    expect(created.headers['cache-control']).toBe('no-store');
    const list = await asSession(s, 'GET', `${COLLECTIONS}?name=front`);
    expect(list.status).toBe(200);
    expect(list.headers['cache-control']).toBe('no-store');
    expect(list.body.data.map((c: { _id: string }) => c._id)).toContain(created.body.data._id);
    // The same data through the bearer token.
    const viaToken = await t.request('GET', `${COLLECTIONS}/${created.body.data._id}`, { token: acme.token });
    expect(viaToken.status).toBe(200);
  });

  it('refuses state changes without the CSRF header, with a wrong one, or from another origin', async () => {
    const acme = await t.token('acme');
    const s = await signIn(acme.token);
    const none = await t.request('POST', COLLECTIONS, { body: { name: 'x' }, headers: { host: HOST, cookie: s.cookie } });
    expect(none.status).toBe(403);
    expect(none.body.message).toMatch(/^csrf_check_failed/);
    const wrong = await asSession(s, 'POST', COLLECTIONS, { name: 'x' }, { 'x-csrf-token': s.csrf.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) });
    expect(wrong.status).toBe(403);
    const other = await asSession(s, 'DELETE', `${COLLECTIONS}/000000000000000000000000`, undefined, { origin: 'https://evil.example' });
    expect(other.status).toBe(403);
    expect(other.body.message).toMatch(/^cross_origin_request/);
    const sameOrigin = await asSession(s, 'POST', COLLECTIONS, { name: 'Same origin' }, { origin: `http://${HOST}` });
    expect(sameOrigin.status).toBe(200);
    // Reads need no CSRF token.
    expect((await asSession(s, 'GET', COLLECTIONS)).status).toBe(200);
  });

  it('sees exactly its own tenant: another tenant\'s person is not found, its list is empty', async () => {
    const acme = await t.token('acme');
    const globex = await t.token('globex');
    const person = await t.request('POST', PERSONS, { token: acme.token, body: { name: 'Ana Acme', images: [await faceBase64('s4a')] } });
    expect(person.status).toBe(200);
    const g = await signIn(globex.token);
    expect((await asSession(g, 'GET', `${PERSONS}/${person.body.data._id}`)).status).toBe(404);
    expect((await asSession(g, 'DELETE', `${PERSONS}/${person.body.data._id}`)).status).toBe(404);
    const list = await asSession(g, 'GET', PERSONS);
    expect(list.body.data).toEqual([]);
    const a = await signIn(acme.token);
    const mine = await asSession(a, 'GET', `${PERSONS}/${person.body.data._id}`);
    expect(mine.status).toBe(200);
    expect(mine.body.data.thumbnails.length).toBe(1);
    expect(mine.headers['cache-control']).toBe('no-store');
  });

  it('a bearer header wins over the cookie (API clients behave as before)', async () => {
    const acme = await t.token('acme');
    const globex = await t.token('globex');
    const s = await signIn(acme.token);
    const res = await t.request('GET', '/console/api/session', { headers: { host: HOST, cookie: s.cookie } });
    expect(res.body.client).toBe('acme');
    const asGlobex = await t.request('POST', COLLECTIONS, { token: globex.token, body: { name: 'G' }, headers: { cookie: s.cookie } });
    expect(asGlobex.status).toBe(200);
    const g = await t.request('GET', `${COLLECTIONS}/${asGlobex.body.data._id}`, { token: globex.token });
    expect(g.status).toBe(200);
    expect((await asSession(s, 'GET', `${COLLECTIONS}/${asGlobex.body.data._id}`)).status).toBe(404);
  });
});

describe('the end of a session', () => {
  it('revoking the token ends the session at once', async () => {
    const acme = await t.token('acme');
    const s = await signIn(acme.token);
    expect((await asSession(s, 'GET', COLLECTIONS)).status).toBe(200);
    expect(await t.store.tokens.revoke(acme.tokenId)).toBe(true);
    const after = await asSession(s, 'GET', COLLECTIONS);
    expect(after.status).toBe(401);
    const me = await asSession(s, 'GET', '/console/api/session');
    expect(me.status).toBe(204); // no session: sign in (an answer, not an error)
    expect(String(me.headers['set-cookie'])).toMatch(/__Host-facegate_session=;/);
  });

  it('an expired token ends the session (403 token_expired, then 401)', async () => {
    // The clock stands still until the test moves it past the token's expiry: on a loaded machine the sign-in alone
    // may take longer than a real 2 s token lives (only Date is faked; timers and I/O run as usual).
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const short = await t.token('acme', { ttl: '2s' });
      const s = await signIn(short.token);
      expect((await asSession(s, 'GET', COLLECTIONS)).status).toBe(200);
      vi.setSystemTime(Date.now() + 2100);
      const res = await asSession(s, 'GET', COLLECTIONS);
      // The cookie's session expired with its token (its expiry is capped by the token's): 401; had it outlived
      // the token, the re-check would answer 403 token_expired. Either way the session no longer works.
      expect([401, 403]).toContain(res.status);
      expect((await asSession(s, 'GET', '/console/api/session')).status).toBe(204);
    } finally {
      vi.useRealTimers();
    }
  });

  it('sign-out needs the CSRF token, forgets the session and clears the cookie', async () => {
    const acme = await t.token('acme');
    const s = await signIn(acme.token);
    const forged = await t.request('DELETE', '/console/api/session', { headers: { host: HOST, cookie: s.cookie } });
    expect(forged.status).toBe(403);
    expect((await asSession(s, 'GET', COLLECTIONS)).status).toBe(200);
    const out = await asSession(s, 'DELETE', '/console/api/session');
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/__Host-facegate_session=;.*Expires=Thu, 01 Jan 1970/);
    expect((await asSession(s, 'GET', COLLECTIONS)).status).toBe(401);
    // The token itself still works: signing out of the console revokes nothing.
    expect((await t.request('GET', COLLECTIONS, { token: acme.token })).status).toBe(200);
  });
});

describe('sign-in is throttled, sessions are bounded', () => {
  it('a guessing run from one address gets 429 with Retry-After after 10 tries, a valid token included; other addresses go on', async () => {
    const acme = await t.token('acme');
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await signInFrom(t, `fg_guess_${i}`, '198.51.100.1')).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);
    const blocked = await signInFrom(t, acme.token, '198.51.100.1');
    expect(blocked.status).toBe(429);
    expect(blocked.body.code).toBe('TOO_MANY_REQUESTS');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await signInFrom(t, acme.token, '198.51.100.2')).status).toBe(200);
  });

  it('one token signing in from many addresses gets 429 after 5 sign-ins a minute', async () => {
    const acme = await t.token('acme');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await signInFrom(t, acme.token, `203.0.113.${i + 1}`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  });

  it('signing in again with a token ends the session it opened before', async () => {
    const acme = await t.token('acme');
    const first = await signIn(acme.token);
    expect((await asSession(first, 'GET', COLLECTIONS)).status).toBe(200);
    const second = await signIn(acme.token);
    expect((await asSession(second, 'GET', COLLECTIONS)).status).toBe(200);
    expect((await asSession(first, 'GET', COLLECTIONS)).status).toBe(401);
  });

  it('over plain http to a host other than this machine, sign-in is refused: the browser would drop the Secure cookie', async () => {
    const acme = await t.token('acme');
    const res = await signInFrom(t, acme.token, '10.9.9.9', { host: 'facegate.example', origin: 'http://facegate.example' });
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/^insecure_origin/);
    expect(res.headers['set-cookie']).toBeUndefined();
    // Behind a TLS proxy (trusted), the same host signs in.
    const proxied = await startTestApp({ engine, index: newIndex(engine.dim), config: { trustProxy: 1 } });
    try {
      const token = (await proxied.token('acme')).token;
      const ok = await signInFrom(proxied, token, '10.9.9.9', { host: 'facegate.example', origin: 'https://facegate.example', 'x-forwarded-proto': 'https', 'x-forwarded-for': '192.0.2.1' });
      expect(ok.status, ok.text).toBe(200);
    } finally {
      await proxied.close();
    }
  });
});

describe('console requests are rate-limited per token, not per address', () => {
  it("one tenant's console use does not spend another's bucket behind the same address; rotating X-Forwarded-For does not escape it", async () => {
    const app = await startTestApp({ engine, index: newIndex(engine.dim), config: { rateLimitMax: 3, trustProxy: loadConfig({ TRUST_PROXY: 'true' }).trustProxy } });
    try {
      const a = await signIn((await app.token('acme')).token, app);
      const b = await signIn((await app.token('globex')).token, app);
      const get = (s: Session, i: number) =>
        app.app.inject({ method: 'GET', url: COLLECTIONS, remoteAddress: '10.0.0.1', headers: { host: HOST, cookie: s.cookie, 'x-forwarded-for': `192.0.2.${i}, 198.51.100.9` } });
      const aStatuses: number[] = [];
      for (let i = 0; i < 5; i++) aStatuses.push((await get(a, i)).statusCode);
      expect(aStatuses).toEqual([200, 200, 200, 429, 429]);
      expect((await get(b, 99)).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('the session store', () => {
  const open = (store: SessionStore, client: string, n: number) =>
    store.open({ client, clientName: client, tokenHash: `${client}-hash-${n}`, tokenId: `${client}-${n}`, tokenExpiresAt: null });

  it("caps sessions per tenant (that tenant's oldest ends) and never evicts another tenant's", () => {
    const store = new SessionStore({ ttlMs: 3_600_000, max: 6, maxPerClient: 2 });
    const b = open(store, 'globex', 1);
    const a1 = open(store, 'acme', 1);
    const a2 = open(store, 'acme', 2);
    const a3 = open(store, 'acme', 3);
    expect(store.get(a1.id)).toBeNull();
    expect(store.get(a2.id)).not.toBeNull();
    expect(store.get(a3.id)).not.toBeNull();
    expect(store.get(b.id)).not.toBeNull();
    // A flood of sign-ins by one tenant ends only that tenant's own sessions.
    for (let i = 4; i < 1000; i++) open(store, 'acme', i);
    expect(store.countFor('acme')).toBe(2);
    expect(store.get(b.id)).not.toBeNull();
  });

  it('when every slot is taken, sign-in is refused instead of signing anyone out', () => {
    const store = new SessionStore({ ttlMs: 3_600_000, max: 3, maxPerClient: 2 });
    const kept = [open(store, 'a', 1), open(store, 'b', 1), open(store, 'c', 1)];
    expect(() => open(store, 'd', 1)).toThrow(SessionsFullError);
    for (const s of kept) expect(store.get(s.id)).not.toBeNull();
  });
});
