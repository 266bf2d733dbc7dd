// Unauthenticated operational routes: readiness, metrics, the signing key, the OpenAPI document.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { FaceEngine } from '../../face/types.js';
import type { Store } from '../../store/types.js';
import type { ResponseSigner } from '../signing.js';

export interface SystemRouteOptions {
  store: Pick<Store, 'healthy'>;
  engine: Pick<FaceEngine, 'isReady' | 'modelVersion'>;
  registry: Registry;
  signer: ResponseSigner;
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

export const systemRoutes: FastifyPluginAsync<SystemRouteOptions> = async (app, { store, engine, registry, signer }) => {
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

  app.get('/metrics', { schema: { tags, summary: 'Prometheus metrics' } }, async (_req, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  app.get(
    '/.well-known/jwks.json',
    { schema: { tags, summary: 'Public key of the response signatures (signature.jws)', response: { 200: Jwks } } },
    async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(signer.jwks()),
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
};
