// Bearer authentication for every /v2 route: 401 for a missing, unknown or revoked token, 403 for an expired one.
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { authenticate, bearerFromHeader } from '../domain/tokens.js';
import type { Store } from '../store/types.js';
import { tokenExpired, unauthorized } from './errors.js';

export function authHook(store: Pick<Store, 'tokens' | 'clients'>): onRequestHookHandler {
  return async function requireToken(req: FastifyRequest) {
    const bearer = bearerFromHeader(req.headers.authorization);
    if (!bearer) throw unauthorized();
    const res = await authenticate(store, bearer);
    if (res === 'expired') throw tokenExpired();
    if (typeof res === 'string') throw unauthorized();
    req.client = res.client.id;
    req.tokenId = res.token.id;
    // Every later log line of the request says whose it was (ids only, never the secret).
    req.log = req.log.child({ client: res.client.id, token: res.token.id });
  };
}
