// What a liveness session's capture credential may do over HTTP: the browser holds it (the person in front of the
// camera controls the browser), so it is good for one session's frames and status and nothing else. Routes opt in
// with `config: { captureCredential: true }` and a `session_id` parameter; every other /v2 route answers 403 to it.
// Cross-origin: the capture component runs on the relying party's page, so exactly those routes answer CORS
// (preflight and response), for the session's `allowed_origin` when it has one, and never with cookies.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticateCapture, CAPTURE_TOKEN_PREFIX } from '../domain/livenessSessions.js';
import type { LivenessSessionRepo } from '../domain/livenessSessionRepo.js';
import { ApiError } from './errors.js';

export const isCaptureBearer = (bearer: string): boolean => bearer.startsWith(CAPTURE_TOKEN_PREFIX);

const forbidden = (message: string, hint: string) => new ApiError(403, 'FORBIDDEN', message, undefined, {}, undefined, hint);

/** The part of the auth hook for a capture credential: sets the request's tenant and session, or throws 401/403. */
export async function authenticateCaptureRequest(req: FastifyRequest, repo: LivenessSessionRepo, bearer: string, now: Date): Promise<void> {
  const res = await authenticateCapture(repo, bearer, now);
  if (res === 'invalid' || res === 'expired') {
    const hint = res === 'expired' ? 'this capture credential expired with its liveness session; the relying party creates a new session' : 'this capture credential is not known to this server';
    throw new ApiError(401, 'UNAUTHORIZED', 'Authentication required', undefined, {}, undefined, hint);
  }
  const { session } = res;
  req.client = session.client;
  req.tokenId = `capture:${session.id}`;
  req.captureSession = session.id;
  req.log = req.log.child({ client: session.client, token: req.tokenId });
  const own = (req.params as { session_id?: string } | undefined)?.session_id === session.id;
  if (!req.routeOptions.config?.captureCredential || !own) {
    throw forbidden(
      'capture_credential_scope: a capture credential may only post frames to its own liveness session and read it',
      'use the client token on your backend for everything else; the browser gets only the capture credential',
    );
  }
  const origin = req.headers.origin;
  if (session.allowedOrigin !== null && origin !== undefined && origin !== session.allowedOrigin) {
    throw forbidden('capture_credential_origin: this liveness session is bound to another web origin', `the session was created with allowed_origin ${session.allowedOrigin}`);
  }
}

const ALLOWED_HEADERS = 'authorization, content-type';

function allowOrigin(req: FastifyRequest, reply: FastifyReply): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  // The origin is echoed (not `*`) so that a bound session's answer names its own origin; no credentials (cookies).
  reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
}

/**
 * CORS for the capture routes only: the preflight (answered before authentication, which a preflight never
 * carries) and the response headers of a request made with a capture credential. `paths` are the capture routes'
 * URLs as Fastify writes them.
 */
export function installCaptureCors(app: FastifyInstance, paths: { url: string; methods: string }[]): void {
  for (const { url, methods } of paths) {
    app.options(url, { schema: { hide: true } }, async (req, reply) => {
      allowOrigin(req, reply);
      return reply
        .header('access-control-allow-methods', methods)
        .header('access-control-allow-headers', ALLOWED_HEADERS)
        .header('access-control-max-age', '600')
        .code(204)
        .send();
    });
  }
  app.addHook('onSend', async (req, reply) => {
    const bearer = /^Bearer[ \t]+(\S+)/i.exec(req.headers.authorization ?? '')?.[1];
    if (req.routeOptions.config?.captureCredential && bearer && isCaptureBearer(bearer)) allowOrigin(req, reply);
  });
}
