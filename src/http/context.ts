// What every route plugin receives as its options (registered from src/http/server.ts).
import type { Config } from '../config.js';
import type { DomainDeps } from '../domain/deps.js';
import type { ResponseSigner } from './signing.js';

export interface RouteContext {
  deps: DomainDeps;
  signer: ResponseSigner;
  config: Config;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated client (tenant) id; set by the auth hook on every /v2 route. */
    client: string;
    /** Id (never the secret) of the token the request came with (or the console session was opened with). */
    tokenId: string;
    /** True when the request came with a console session cookie instead of a bearer token. */
    viaConsole: boolean;
    /** The caller's own `x-request-id` when it is a plain token ('' otherwise); `id` is always the server's. */
    callerRequestId: string;
    /** The liveness session whose capture credential the request came with (null for a client token or cookie). */
    captureSession: string | null;
  }
  interface FastifyContextConfig {
    /** The route accepts a liveness session's capture credential, for that session's own `session_id` only. */
    captureCredential?: boolean;
  }
}
