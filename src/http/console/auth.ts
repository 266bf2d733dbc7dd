// Console authentication: a tenant's bearer token is exchanged once for an httpOnly, SameSite=Strict session cookie
// (the page never holds the token), and /v2 accepts that cookie in place of `Authorization: Bearer`, so the console
// sees exactly what the token's tenant sees through the API. State-changing requests made with the cookie must carry
// the session's CSRF token in a header and, when the browser sends one, a same-origin Origin.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { authenticate, hashToken } from '../../domain/tokens.js';
import type { Store } from '../../store/types.js';
import { ApiError, tokenExpired, unauthorized } from '../errors.js';
import { csrfMatches, type ConsoleSession, type SessionStore } from './sessions.js';

export const SESSION_COOKIE = 'facegate_session';
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const csrfFailed = () =>
  new ApiError(403, 'FORBIDDEN', `csrf_check_failed: send the ${CSRF_HEADER} header the console session gave you`);
const crossOrigin = () => new ApiError(403, 'FORBIDDEN', 'cross_origin_request: the console only accepts requests from its own origin');

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
        req.log = req.log.child({ client: session.client, session: 'console' });
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
    secure: req.protocol === 'https',
    expires: new Date(s.expiresAt),
  });
}

/** POST/GET/DELETE /console/api/session: sign in, who am I (and the CSRF token), sign out. */
export async function sessionRoutes(app: FastifyInstance, { store, sessions }: { store: Repos; sessions: SessionStore }) {
  const tags = ['Console'];
  app.post<{ Body: Static<typeof SignInBody> }>(
    '/console/api/session',
    {
      schema: {
        tags,
        summary: 'Console sign-in',
        description: 'Exchanges a bearer token for an httpOnly session cookie (SameSite=Strict) that /v2 routes accept.',
        body: SignInBody,
        response: { 200: SessionInfo },
      },
    },
    async (req, reply) => {
      if (!sameOrigin(req)) throw crossOrigin();
      const res = await authenticate(store, req.body.token.trim());
      if (res === 'expired') throw tokenExpired();
      if (typeof res === 'string') throw unauthorized();
      const session = sessions.open({
        client: res.client.id,
        clientName: res.client.name,
        tokenHash: res.token.hash,
        tokenExpiresAt: res.token.expiresAt,
      });
      req.log.info({ client: res.client.id, token: res.token.id }, 'console sign-in');
      setCookie(req, reply, session);
      reply.header('cache-control', 'no-store');
      return info(session);
    },
  );

  // No live session is an answer, not an error (204): the console asks on every load, before anyone signs in.
  app.get('/console/api/session', { schema: { tags, summary: 'Console session', response: { 200: SessionInfo, 204: Type.Null({ description: 'No session: sign in.' }) } } }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    // A cookie that no longer opens a session (signed out, expired, token revoked, server restarted) is removed.
    const forget = () => req.cookies[SESSION_COOKIE] !== undefined && reply.clearCookie(SESSION_COOKIE, { path: '/' });
    const session = await liveSession(req, store, sessions).catch((err: unknown) => {
      forget();
      throw err;
    });
    if (!session) {
      forget();
      return reply.code(204).send();
    }
    return info(session);
  });

  app.delete('/console/api/session', { schema: { tags, summary: 'Console sign-out' } }, async (req, reply) => {
    const session = sessions.get(req.cookies[SESSION_COOKIE]);
    if (session) {
      if (!sameOrigin(req)) throw crossOrigin();
      if (!csrfMatches(session, req.headers[CSRF_HEADER])) throw csrfFailed();
      sessions.close(session.id);
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });
}
