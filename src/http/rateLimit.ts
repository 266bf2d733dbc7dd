// Per-token rate limits on every /v2 route (@fastify/rate-limit, in-process store): a tenant's runaway script is
// answered 429 with Retry-After in the API's {message, code} envelope instead of eating everyone's engine time.
// Runs after authentication (route-level hooks follow the scope's auth hook), so the key is the token id.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { ApiError } from './errors.js';

export async function installRateLimit(scope: FastifyInstance, config: Pick<Config, 'rateLimitMax' | 'rateLimitWindowMs'>): Promise<void> {
  if (config.rateLimitMax <= 0) return;
  await scope.register(rateLimit, {
    max: config.rateLimitMax,
    timeWindow: config.rateLimitWindowMs,
    // Ids only: the secret never becomes a map key.
    keyGenerator: (req: FastifyRequest) => (req.tokenId ? `token:${req.tokenId}` : `ip:${req.ip}`),
    errorResponseBuilder: (_req, ctx) => {
      const seconds = Math.max(1, Math.ceil(ctx.ttl / 1000));
      return new ApiError(429, 'TOO_MANY_REQUESTS', `rate_limited: more than ${ctx.max} requests in ${Math.round(config.rateLimitWindowMs / 1000)} s; retry in ${seconds} s`, undefined, {
        'retry-after': String(seconds),
      });
    },
  });
}
