// Console authentication: a tenant's bearer token is exchanged once for an httpOnly, SameSite=Strict session cookie
// (the page never holds the token), and /v2 accepts that cookie in place of `Authorization: Bearer`, so the console
// sees exactly what the token's tenant sees through the API. State-changing requests made with the cookie must carry
// the session's CSRF token in a header and, when the browser sends one, a same-origin Origin.
//
// The cookie is `__Host-` prefixed: a browser keeps it only if it is Secure, Path=/ and has no Domain, so no
// sibling subdomain or plain-http page can plant or overwrite it. Browsers accept Secure cookies over HTTPS and from
// http://localhost / 127.0.0.1 (a potentially trustworthy origin: Chromium and Firefox), which is how the server
// listens by default; sign-in over plain http to any other host is refused, since the browser would drop the cookie.
// Sign-in is throttled per address and per token (a guessing run or a flood of sign-ins with one token gets 429).
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { authenticate, hashToken } from '../../domain/tokens.js';
import type { Store } from '../../domain/ports.js';
import { ApiError, tokenExpired, unauthorized } from '../errors.js';
import { errorResponses } from '../schemas.js';
import { csrfMatches, SessionsFullError, type ConsoleSession, type SessionStore } from './sessions.js';

export const SESSION_COOKIE = '__Host-facegate_session';
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const csrfFailed = () =>
  new ApiError(403, 'FORBIDDEN', `csrf_check_failed: send the ${CSRF_HEADER} header the console session gave you`);
const crossOrigin = () => new ApiError(403, 'FORBIDDEN', 'cross_origin_request: the console only accepts requests from its own origin');
const insecureOrigin = () =>
  new ApiError(403, 'FORBIDDEN', 'insecure_origin: the console signs in over HTTPS, or over http only on this machine (localhost, 127.0.0.1)', undefined, {}, undefined,
    'put a TLS proxy in front of the server (with TRUST_PROXY) or open the console at http://localhost');

/** Where a browser keeps a Secure (`__Host-`) cookie: HTTPS, or a loopback host (potentially trustworthy). */
function secureContext(req: FastifyRequest): boolean {
  if (req.protocol === 'https') return true;
  const host = req.hostname.toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(host) || host === '[::1]' || host === '::1';
}

/** One throttle of sign-in attempts: `check` says whether this attempt may go on, and for how long it may not. */
export type SignInThrottle = (req: FastifyRequest, token: string) => Promise<{ allowed: boolean; retryAfterS: number }>;

const tooManySignIns = (seconds: number) =>
  new ApiError(429, 'TOO_MANY_REQUESTS', `rate_limited: too many console sign-in attempts; retry in ${seconds} s`, undefined, { 'retry-after': String(seconds) });

/** A browser's Origin header, when present, must name this server (the host the request was sent to). */
function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  return origin === `${req.protocol}://${req.host}`;
}

type Repos = Pick<Store, 'tokens' | 'clients'>;

/**
 * The session behind the request's cookie, re-checked against its token: a token revoked or expired since
 * sign-in closes the session (and the request fails like a bearer request with that token would).
 */
async function liveSession(req: FastifyRequest, store: Repos, sessions: SessionStore): Promise<ConsoleSession | null> {
  const id = req.cookies[SESSION_COOKIE];
  const session = sessions.get(id);
  if (!session) return null;
  const token = await store.tokens.findByHash(session.tokenHash);
  if (!token || token.revokedAt !== null) {
    sessions.close(session.id);
    throw unauthorized();
  }
  if (token.expiresAt !== null && Date.parse(token.expiresAt) <= Date.now()) {
    sessions.close(session.id);
    throw tokenExpired();
  }
  return session;
}

function checkStateChange(req: FastifyRequest, session: ConsoleSession): void {
  if (SAFE_METHODS.has(req.method)) return;
  if (!sameOrigin(req)) throw crossOrigin();
  if (!csrfMatches(session, req.headers[CSRF_HEADER])) throw csrfFailed();
}

/**
 * The /v2 authentication hook: a bearer token when the request has an Authorization header (the API as before),
 * else the console's session cookie. Without either, the bearer hook answers 401 as it always has.
 */
export function sessionOrBearer(store: Repos, sessions: SessionStore, bearer: onRequestHookHandler): onRequestHookHandler {
  return async function requireSessionOrToken(this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
    if (req.headers.authorization === undefined && req.cookies[SESSION_COOKIE] !== undefined) {
      const session = await liveSession(req, store, sessions);
      if (session) {
        checkStateChange(req, session);
        req.client = session.client;
        // The token the session was opened with acts: the audit trail and the rate limit know it by its id.
        req.tokenId = session.tokenId;
        req.viaConsole = true;
        req.log = req.log.child({ client: session.client, token: session.tokenId, session: 'console' });
        // Answers hold names and face thumbnails: no browser or proxy cache keeps them.
        reply.header('cache-control', 'no-store');
        return;
      }
    }
    return (bearer as (this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) => Promise<void>).call(this, req, reply);
  } as onRequestHookHandler;
}

const SignInBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false });
const SessionInfo = Type.Object({
  client: Type.String({ description: 'Name of the tenant the session acts for.' }),
  expiresAt: Type.String(),
  csrfToken: Type.String({ description: `Send it back in the ${CSRF_HEADER} header on every POST, PUT and DELETE.` }),
});

function info(s: ConsoleSession) {
  return { client: s.clientName, expiresAt: new Date(s.expiresAt).toISOString(), csrfToken: s.csrf };
}

function setCookie(req: FastifyRequest, reply: FastifyReply, s: ConsoleSession): void {
  reply.setCookie(SESSION_COOKIE, s.id, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    // Browsers drop Secure cookies on plain http, which is how the server listens on 127.0.0.1; behind TLS it is set.
    // Required by the __Host- prefix; browsers keep it over HTTPS and on localhost (secureContext()).
    secure: true,
    expires: new Date(s.expiresAt),
  });
}

function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'strict' });
}

/** POST/GET/DELETE /console/api/session: sign in, who am I (and the CSRF token), sign out. */
export async function sessionRoutes(app: FastifyInstance, { store, sessions, throttles }: { store: Repos; sessions: SessionStore; throttles: SignInThrottle[] }) {
  const tags = ['Console'];
  app.post<{ Body: Static<typeof SignInBody> }>(
    '/console/api/session',
    {
      schema: {
        tags,
        summary: 'Console sign-in',
        description: 'Exchanges a bearer token for an httpOnly session cookie (SameSite=Strict) that /v2 routes accept.',
        body: SignInBody,
        response: { 200: SessionInfo, ...errorResponses('signIn', 'input', 'body') },
      },
    },
    async (req, reply) => {
      if (!sameOrigin(req)) throw crossOrigin();
      if (!secureContext(req)) throw insecureOrigin();
      const token = req.body.token.trim();
      // Every throttle counts the attempt (per address, per token), before the token is even looked up.
      const verdicts = await Promise.all(throttles.map((th) => th(req, token)));
      const refused = verdicts.filter((v) => !v.allowed);
      if (refused.length > 0) throw tooManySignIns(Math.max(...refused.map((v) => v.retryAfterS)));
      const res = await authenticate(store, token);
      if (res === 'expired') throw tokenExpired();
      if (typeof res === 'string') throw unauthorized();
      let session: ConsoleSession;
      try {
        session = sessions.open({
          client: res.client.id,
          clientName: res.client.name,
          tokenHash: res.token.hash,
          tokenId: res.token.id,
          tokenExpiresAt: res.token.expiresAt,
        });
      } catch (err) {
        if (err instanceof SessionsFullError) throw new ApiError(503, 'SERVICE_UNAVAILABLE', err.message, undefined, { 'retry-after': '60' });
        throw err;
      }
      req.log.info({ client: res.client.id, token: res.token.id }, 'console sign-in');
      setCookie(req, reply, session);
      reply.header('cache-control', 'no-store');
      return info(session);
    },
  );

  app.get('/console/api/session', { schema: { tags, summary: 'Console session', response: { 200: SessionInfo, ...errorResponses('session') } } }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    // A cookie that no longer opens a session (signed out, expired, token revoked, server restarted) is removed.
    const forget = () => req.cookies[SESSION_COOKIE] !== undefined && clearSessionCookie(reply);
    const session = await liveSession(req, store, sessions).catch((err: unknown) => {
      forget();
      throw err;
    });
    if (!session) {
      forget();
      throw unauthorized();
    }
    return info(session);
  });

  app.delete('/console/api/session', { schema: { tags, summary: 'Console sign-out', response: { 204: Type.Null(), ...errorResponses('session') } } }, async (req, reply) => {
    const session = sessions.get(req.cookies[SESSION_COOKIE]);
    if (session) {
      if (!sameOrigin(req)) throw crossOrigin();
      if (!csrfMatches(session, req.headers[CSRF_HEADER])) throw csrfFailed();
      sessions.close(session.id);
    }
    clearSessionCookie(reply);
    return reply.code(204).send();
  });
}
