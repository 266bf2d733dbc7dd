// The operator console's server side: its static files at /console, its session routes, and the /v2 hook that
// accepts a console session cookie. Registered by src/http/server.ts.
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { Store } from '../../store/types.js';
import { sessionOrBearer, sessionRoutes } from './auth.js';
import { SessionStore } from './sessions.js';
import { consoleStaticRoutes } from './static.js';

/** How long a console sign-in lasts (never beyond its token's own expiry). */
export const CONSOLE_SESSION_TTL_MS = 8 * 3_600_000;

export interface ConsoleOptions {
  store: Pick<Store, 'tokens' | 'clients'>;
  /** The built console; defaults to dist/console under the package root. */
  dir?: string;
  sessionTtlMs?: number;
}

/** Installs the console; returns the /v2 authentication hook (session cookie or bearer token). */
export async function installConsole(app: FastifyInstance, opts: ConsoleOptions): Promise<{ v2Auth(bearer: onRequestHookHandler): onRequestHookHandler }> {
  const sessions = new SessionStore({ ttlMs: opts.sessionTtlMs ?? CONSOLE_SESSION_TTL_MS });
  await app.register(fastifyCookie);
  await app.register(async (scope) => {
    await sessionRoutes(scope, { store: opts.store, sessions });
    await consoleStaticRoutes(scope, { dir: opts.dir });
  });
  return { v2Auth: (bearer) => sessionOrBearer(opts.store, sessions, bearer) };
}
