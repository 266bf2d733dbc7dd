// The database out of reach, seen from the API: clear 503s with Retry-After, nothing half-written, and the same
// process answering again once the database is back. PostgreSQL only (SQLite is a file in the process).
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp, createLogger } from '../../src/app.js';
import { defaultConfig } from '../../src/config.js';
import { issueToken } from '../../src/domain/tokens.js';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { openPgStore, type PgStore } from '../../src/store/postgres/store.js';
import { newEngine, newIndex } from '../support/parts.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/postgres.js';
import { tcpProxy } from '../support/tcpProxy.js';
import { tempDir } from '../store/helpers.js';

describePostgres('database unreachable', () => {
  let db: TestDatabase;
  let proxy: Awaited<ReturnType<typeof tcpProxy>>;
  let store: PgStore;
  let engine: WorkerFaceEngine;
  let app: FastifyInstance;
  let token: string;
  const dir = tempDir();

  beforeAll(async () => {
    db = await createTestDatabase('unreachable');
    proxy = await tcpProxy(new URL(db.url));
    const url = new URL(db.url);
    url.host = `127.0.0.1:${proxy.port}`;
    store = await openPgStore({ connectionString: url.toString(), poolSize: 2, connectTimeoutMs: 1000 });
    engine = newEngine();
    await engine.ready();
    const config = defaultConfig({ dataDir: dir.dir, logLevel: 'silent', databaseUrl: url.toString() });
    app = await buildApp({ config, store, engine, index: newIndex(engine.dim), logger: createLogger(config) });
    await app.ready();
    token = (await issueToken(store, { clientName: 'acme' })).token;
  });

  afterAll(async () => {
    await app?.close();
    await engine?.close();
    await store?.close();
    await proxy?.close();
    await db?.drop();
    dir.cleanup();
  });

  const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object, headers: { authorization: `Bearer ${token}` } });

  it('answers 503 service_unavailable with Retry-After while the database is out of reach, then recovers', async () => {
    expect((await get('/v2/face-recognition/collections')).statusCode).toBe(200);
    proxy.down();

    const list = await get('/v2/face-recognition/collections');
    expect(list.statusCode).toBe(503);
    expect(list.json()).toMatchObject({ code: 'ERROR', message: 'service_unavailable' });
    expect(Number(list.headers['retry-after'])).toBeGreaterThan(0);
    const created = await post('/v2/face-recognition/collections', { name: 'lost' });
    expect(created.statusCode).toBe(503);
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({ store: false });

    proxy.up();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await get('/v2/face-recognition/collections')).statusCode;
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(200);
    // Nothing of the refused write landed; new writes do.
    expect((await get('/v2/face-recognition/collections')).json().data).toEqual([]);
    expect((await post('/v2/face-recognition/collections', { name: 'kept' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});
