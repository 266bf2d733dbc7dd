// Bearer authentication for every /v2 route: 401 for a missing, unknown or revoked token, 403 for an expired one.
// The 401 keeps Verifik's code and message; its `hint` says what was wrong with the header, since "Authentication
// required" alone does not tell a caller whether the header, the scheme or the token is at fault.
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { authenticate, bearerFromHeader } from '../domain/tokens.js';
import type { Store } from '../domain/ports.js';
import { tokenExpired, unauthorized } from './errors.js';

export const EXPECTED_HEADER = 'Authorization: Bearer <token>';

/** Why a header that yields no bearer token is wrong (never echoes the token itself). */
export function headerHint(header: string | undefined): string {
  if (header === undefined || header.trim() === '') return `no Authorization header; send "${EXPECTED_HEADER}"`;
  const parts = header.trim().split(/\s+/);
  if (parts.length === 1 && /^bearer$/i.test(parts[0])) return `the Authorization header says "Bearer" but holds no token; send "${EXPECTED_HEADER}"`;
  if (parts.length === 1) return `the Authorization header holds a value without a scheme; send "${EXPECTED_HEADER}"`;
  if (parts.length > 2) return `the Authorization header has more than two parts; send "${EXPECTED_HEADER}"`;
  // The scheme is a fixed word (Basic, JWT, Token…), never a secret, so it may be named.
  const scheme = parts[0].slice(0, 20).replace(/[^A-Za-z0-9_-]/g, '?');
  return `the Authorization header uses the "${scheme}" scheme; send "${EXPECTED_HEADER}"`;
}

const TOKEN_ID_RE = /^[0-9a-f]{24}$/;

function tokenHint(bearer: string, res: 'invalid' | 'revoked'): string {
  if (res === 'revoked') return 'this token was revoked; issue a new one with `npm run cli -- tokens create --client NAME`';
  if (TOKEN_ID_RE.test(bearer)) return 'this looks like a token id (as `tokens list` shows it), not a token: send the secret `tokens create` printed';
  return 'this token is not known to this server: check it was issued on the DATA_DIR the server uses (`npm run cli -- tokens list`)';
}

export function authHook(store: Pick<Store, 'tokens' | 'clients'>): onRequestHookHandler {
  return async function requireToken(req: FastifyRequest) {
    const bearer = bearerFromHeader(req.headers.authorization);
    if (!bearer) throw unauthorized(headerHint(req.headers.authorization));
    const res = await authenticate(store, bearer);
    if (res === 'expired') throw tokenExpired();
    if (typeof res === 'string') throw unauthorized(tokenHint(bearer, res));
    req.client = res.client.id;
    req.tokenId = res.token.id;
    // Every later log line of the request says whose it was (ids only, never the secret).
    req.log = req.log.child({ client: res.client.id, token: res.token.id });
  };
}
