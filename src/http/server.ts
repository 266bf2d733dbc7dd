// The Fastify application: cross-cutting concerns (ids, logs, validation, errors, metrics, docs) and the route
// plugins, one per resource file in ./routes, all registered here.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync, type FastifyReply } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { DomainDeps } from '../domain/deps.js';
import { authHook } from './auth.js';
import { installCaptureCors } from './captureCredential.js';
import { installConsole } from './console/index.js';
import type { RouteContext } from './context.js';
import { installAudit } from './audit.js';
import { installRequestBinding } from './envelope.js';
import { installErrorHandling } from './errors.js';
import { installMetrics } from './metrics.js';
import { installRateLimit } from './rateLimit.js';
import { captureRoutes } from './routes/capture.js';
import { collectionRoutes } from './routes/collections.js';
import { compareRoutes } from './routes/compare.js';
import { detectRoutes } from './routes/detect.js';
import { enrolLiveRoutes } from './routes/enrolLive.js';
import { facePersonRoutes } from './routes/facePersons.js';
import { liveFlowRoutes } from './routes/liveFlows.js';
import { livenessRoutes } from './routes/liveness.js';
import { livenessSessionRoutes } from './routes/livenessSessions.js';
import { personRoutes } from './routes/persons.js';
import { searchRoutes } from './routes/search.js';
import { systemRoutes } from './routes/system.js';
import type { ResponseSigner } from './signing.js';
import { installValidation } from './validation.js';

/** Every authenticated resource, mounted under /v2. Add a resource by adding its plugin here. */
export const V2_ROUTES: FastifyPluginAsync<RouteContext>[] = [
  collectionRoutes,
  facePersonRoutes,
  searchRoutes,
  enrolLiveRoutes,
  compareRoutes,
  livenessRoutes,
  detectRoutes,
  liveFlowRoutes,
  personRoutes,
  livenessSessionRoutes,
];

/** The routes a liveness session's capture credential may call (from the relying party's page: CORS). */
const CAPTURE_CREDENTIAL_ROUTES = [
  { url: '/v2/face-recognition/liveness/sessions/:session_id', methods: 'GET' },
  { url: '/v2/face-recognition/liveness/sessions/:session_id/frames', methods: 'POST' },
];

export interface HttpServerOptions {
  config: Config;
  deps: DomainDeps;
  signer: ResponseSigner;
  logger: Logger;
}

function trustHops(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

/** Facegate's version, from the package.json above this file (src/ under tsx, dist/src/ when built). */
function packageVersion(): string {
  const require = createRequire(import.meta.url);
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = require(path.join(dir, 'package.json')) as { name?: string; version?: string };
      if (pkg.name === 'facegate') return pkg.version ?? '0.0.0';
    } catch {
      // not here; look one level up
    }
    dir = path.dirname(dir);
  }
  return '0.0.0';
}

export async function createHttpServer({ config, deps, signer, logger }: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    // A number of hops: the addresses of that many proxies (nearest first) are skipped, no further.
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    // The request id is always the server's own: it names the audit record and the signed answer, so a caller
    // must not be able to choose it (nor reuse one). The caller's x-request-id is kept beside it (callerRequestId).
    genReqId: () => randomUUID(),
    // maxParamLength above the ids' own limit (128), so a long id is a 409 naming the field, not a bare 414.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    // URLs the router refuses before any route runs (found by the fuzzer): the API's envelope, and never the path
    // echoed back (it may hold a name), instead of Fastify's own body.
    frameworkErrors: (err, _req, reply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      void (reply as unknown as FastifyReply)
        .code(tooLong ? 414 : 400)
        .send(
          tooLong
            ? { message: 'uri_too_long: a path parameter is over 256 characters', code: 'URI_TOO_LONG' }
            : { message: 'bad_url: the path is not valid percent-encoded UTF-8', code: 'BAD_REQUEST' },
        );
    },
  });
  // Bodies are JSON only: a text/plain body gets the same 415 as any other that is not JSON.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('client', '');
  app.decorateRequest('tokenId', '');
  app.decorateRequest('viaConsole', false);
  app.decorateRequest('captureSession', null);
  app.decorateRequest('callerRequestId', '');
  app.addHook('onRequest', async (req) => {
    const h = req.headers['x-request-id'];
    // Kept when it is a plain token (it goes into logs, the audit record and the signed claims).
    if (typeof h === 'string' && REQUEST_ID_RE.test(h)) {
      req.callerRequestId = h;
      req.log = req.log.child({ callerRequestId: h });
    }
  });
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  installValidation(app);
  installRequestBinding(app);
  installErrorHandling(app, { livenessDetails: config.livenessDetails });
  installAudit(app, deps.store);
  const registry = installMetrics(app, { engine: deps.engine, index: deps.index });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Facegate',
        version: packageVersion(),
        description:
          'Self-hosted face-identity API, compatible with Verifik\'s face-recognition API. Successful answers are `{id, data, signature}`; errors are `{message, code}`. See docs/api.md for the contract decisions.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, metrics: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN' } } },
      tags: [
        { name: 'Collections' },
        { name: 'Face persons' },
        { name: 'Search', description: '1:N search, de-duplicating enrolment, verify, compare, liveness, detect.' },
        { name: 'Persons' },
        { name: 'Liveness sessions', description: 'Challenge-response liveness: the person performs random head movements in front of the camera.' },
        { name: 'System' },
      ],
    },
    // The console's own routes (its sign-in and page assets) serve the console, not integrators: not in the public document.
    transform: ({ schema, url }) => ({ schema: url === '/console' || url.startsWith('/console/') ? { ...schema, hide: true } : schema, url }),
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // No call to the public validator badge service: nothing leaves the machine.
    uiConfig: { validatorUrl: null } as Record<string, unknown>,
  });

  await app.register(systemRoutes, { store: deps.store, engine: deps.engine, registry, signer, metricsToken: config.metricsToken });
  await app.register(captureRoutes);
  // Before the /v2 scope's authentication: a CORS preflight carries no credential.
  installCaptureCors(app, CAPTURE_CREDENTIAL_ROUTES);

  // The operator console (/console); /v2 also accepts its session cookie in place of a bearer token.
  const consoleUi = await installConsole(app, { store: deps.store });

  const ctx: RouteContext = { deps, signer, config };
  await app.register(
    async (v2) => {
      v2.addHook('onRequest', consoleUi.v2Auth(authHook(deps.store, () => deps.now?.() ?? new Date())));
      await installRateLimit(v2, config);
      v2.addHook('onRoute', (route) => {
        route.schema = { ...route.schema, security: [{ bearer: [] }] } as typeof route.schema;
      });
      for (const routes of V2_ROUTES) await v2.register(routes, ctx);
    },
    { prefix: '/v2' },
  );
  return app;
}
