// Operational routes: readiness, the signing key, the OpenAPI document (open), and metrics (opt-in, behind their own
// bearer token: they count every tenant's traffic and templates).
import { createHash, timingSafeEqual } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { FaceEngine } from '../../face/types.js';
import type { Store } from '../../domain/ports.js';
import { bearerFromHeader } from '../../domain/tokens.js';
import { ApiError } from '../errors.js';
import { errorResponses } from '../schemas.js';
import type { ResponseSigner } from '../signing.js';

export interface SystemRouteOptions {
  store: Pick<Store, 'healthy'>;
  engine: Pick<FaceEngine, 'isReady' | 'modelVersion'>;
  registry: Registry;
  signer: ResponseSigner;
  /** METRICS_TOKEN; null: /metrics is off. */
  metricsToken: string | null;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time: the comparison does not reveal how much of the token a guess got right. */
function metricsAuthorised(header: string | undefined, token: string): boolean {
  const bearer = bearerFromHeader(header);
  return bearer !== null && timingSafeEqual(sha256(bearer), sha256(token));
}

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  store: Type.Boolean(),
  engine: Type.Boolean(),
});

const Jwks = Type.Object({
  keys: Type.Array(
    Type.Object({ kty: Type.String(), crv: Type.String(), x: Type.String(), kid: Type.String(), alg: Type.String(), use: Type.String() }),
  ),
});

const tags = ['System'];

export const systemRoutes: FastifyPluginAsync<SystemRouteOptions> = async (app, { store, engine, registry, signer, metricsToken }) => {
  app.get(
    '/health',
    {
      schema: {
        tags,
        summary: 'Readiness',
        description: '200 when the store answers and the face engine has loaded its models; 503 otherwise.',
        response: { 200: Health, 503: Health },
      },
    },
    async (_req, reply) => {
      const storeOk = await store.healthy().catch(() => false);
      const engineOk = engine.isReady();
      const ok = storeOk && engineOk;
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', store: storeOk, engine: engineOk });
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags,
        summary: 'Prometheus metrics',
        description: 'Off (404) unless METRICS_TOKEN is set; then only `Authorization: Bearer <METRICS_TOKEN>` is answered (401 otherwise). API tokens do not open it.',
        security: [{ metrics: [] }],
        response: errorResponses('metrics'),
      },
    },
    async (req, reply) => {
      if (metricsToken === null) throw new ApiError(404, 'NOT_FOUND', 'metrics_disabled: set METRICS_TOKEN to serve /metrics (docs/deploy.md)');
      if (!metricsAuthorised(req.headers.authorization, metricsToken)) {
        throw new ApiError(401, 'UNAUTHORIZED', 'Authentication required', undefined, { 'www-authenticate': 'Bearer realm="metrics"' }, undefined, 'send "Authorization: Bearer <METRICS_TOKEN>"');
      }
      return reply.header('cache-control', 'no-store').type(registry.contentType).send(await registry.metrics());
    },
  );

  app.get(
    '/.well-known/jwks.json',
    { schema: { tags, summary: 'Public key of the response signatures (signature.jws)', response: { 200: Jwks } } },
    async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(signer.jwks()),
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
};
