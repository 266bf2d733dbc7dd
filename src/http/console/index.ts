// The operator console's server side: its static files at /console, its session routes, and the /v2 hook that
// accepts a console session cookie. Registered by src/http/server.ts.
import fastifyCookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { hashToken } from '../../domain/tokens.js';
import type { Store } from '../../domain/ports.js';
import { sessionOrBearer, sessionRoutes, type SignInThrottle } from './auth.js';
import { SessionStore } from './sessions.js';
import { consoleStaticRoutes } from './static.js';

/** How long a console sign-in lasts (never beyond its token's own expiry). */
export const CONSOLE_SESSION_TTL_MS = 8 * 3_600_000;

export interface ConsoleOptions {
  store: Pick<Store, 'tokens' | 'clients'>;
  /** The built console; defaults to dist/console under the package root. */
  dir?: string;
  sessionTtlMs?: number;
  /** Sign-in attempts per address, and per token, in `signInWindowMs`. */
  signInsPerAddress?: number;
  signInsPerToken?: number;
  signInWindowMs?: number;
  maxSessionsPerClient?: number;
}

/** Defaults: a person retyping a token is never slowed; a guessing run gets 10 tries a minute from one address. */
export const SIGN_INS_PER_ADDRESS = 10;
export const SIGN_INS_PER_TOKEN = 5;
export const SIGN_IN_WINDOW_MS = 60_000;


/** Installs the console; returns the /v2 authentication hook (session cookie or bearer token). */
export async function installConsole(app: FastifyInstance, opts: ConsoleOptions): Promise<{ v2Auth(bearer: onRequestHookHandler): onRequestHookHandler }> {
  const sessions = new SessionStore({ ttlMs: opts.sessionTtlMs ?? CONSOLE_SESSION_TTL_MS, maxPerClient: opts.maxSessionsPerClient });
  await app.register(fastifyCookie);
  await app.register(async (scope) => {
    // @fastify/rate-limit's in-process store (bounded LRU) counts the attempts; nothing is throttled globally here.
    await scope.register(rateLimit, { global: false });
    const windowMs = opts.signInWindowMs ?? SIGN_IN_WINDOW_MS;
    const throttle = (max: number, key: (req: FastifyRequest, token: string) => string): SignInThrottle => {
      const tokens = new WeakMap<FastifyRequest, string>();
      const limiter = scope.createRateLimit({ max, timeWindow: windowMs, keyGenerator: (req: FastifyRequest) => key(req, tokens.get(req) ?? '') });
      return async (req, token) => {
        tokens.set(req, token);
        const r = await limiter(req);
        // isAllowed only means "on the allow list"; isExceeded says whether this attempt went over the limit.
        return r.isAllowed || !r.isExceeded ? { allowed: true, retryAfterS: 0 } : { allowed: false, retryAfterS: Math.max(1, r.ttlInSeconds) };
      };
    };
    const throttles = [
      throttle(opts.signInsPerAddress ?? SIGN_INS_PER_ADDRESS, (req) => `signin-address:${req.ip}`),
      // The token's hash (what the tokens table stores), never the token, is the key.
      throttle(opts.signInsPerToken ?? SIGN_INS_PER_TOKEN, (_req, token) => `signin-token:${hashToken(token)}`),
    ];
    await sessionRoutes(scope, { store: opts.store, sessions, throttles });
    await consoleStaticRoutes(scope, { dir: opts.dir });
  });
  return { v2Auth: (bearer) => sessionOrBearer(opts.store, sessions, bearer) };
}
