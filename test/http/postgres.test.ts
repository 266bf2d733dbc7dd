// The whole API on the PostgreSQL store: enrol, search, move between collections, erase, with the real engine and
// index, two tenants. The store contract suite covers each repository; this covers the use cases above them.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp, createLogger, rebuildIndex } from '../../src/app.js';
import { defaultConfig } from '../../src/config.js';
import { issueToken } from '../../src/domain/tokens.js';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/domain/ports.js';
import { tempDir } from '../store/helpers.js';
import { newEngine, newIndex } from '../support/parts.js';
import { faceBase64 } from '../support/photos.js';
import { describePostgres, useTestDatabase } from '../support/postgres.js';

describePostgres('the API on PostgreSQL', () => {
  const db = useTestDatabase('api');
  const dir = tempDir('facegate-pg-api-');
  let store: Store;
  let engine: WorkerFaceEngine;
  let app: FastifyInstance;
  let acme: string;
  let globex: string;

  beforeAll(async () => {
    const config = defaultConfig({ dataDir: dir.dir, logLevel: 'silent', databaseUrl: db.url() });
    store = await openStore(config);
    engine = newEngine();
    await engine.ready();
    app = await buildApp({ config, store, engine, index: newIndex(engine.dim), logger: createLogger(config) });
    await app.ready();
    acme = (await issueToken(store, { clientName: 'acme' })).token;
    globex = (await issueToken(store, { clientName: 'globex' })).token;
  });

  afterAll(async () => {
    await app?.close();
    await engine?.close();
    await store?.close();
    dir.cleanup();
  });

  const call = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token: string, body?: unknown) => {
    const r = await app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { payload: body as object }) });
    return { status: r.statusCode, body: r.json() };
  };
  const search = async (token: string, extra: Record<string, unknown> = {}) =>
    call('POST', '/v2/face-recognition/search-active-user', token, { image: await faceBase64('s3a'), os: 'DESKTOP', min_score: 0.8, search_mode: 'ACCURATE', ...extra });

  it('enrols, finds, moves, erases; another tenant sees none of it; a fresh index rebuilds from the database', async () => {
    const a = (await call('POST', '/v2/face-recognition/collections', acme, { name: 'A' })).body.data;
    const b = (await call('POST', '/v2/face-recognition/collections', acme, { name: 'B' })).body.data;
    const enrolled = await call('POST', '/v2/face-recognition/persons', acme, {
      name: 'Ana',
      date_of_birth: '1990-05-01',
      images: [await faceBase64('s1c')],
      collections: [a.code],
    });
    expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(200);
    const ana = enrolled.body.data;
    expect(ana).toMatchObject({ name: 'Ana', date_of_birth: '1990-05-01', collections: [a._id] });
    expect(ana._id).toMatch(/^[0-9a-f]{24}$/);

    const found = await search(acme, { collection_id: a._id });
    expect(found.body.data.map((d: { id: string }) => d.id)).toEqual([ana._id]);
    expect((await search(globex)).body.data).toEqual([]);
    expect((await call('GET', `/v2/face-recognition/persons/${ana._id}`, globex)).status).toBe(404);

    // A fresh index built from the database alone finds her too (what another instance would do at start-up).
    const fresh = newIndex(engine.dim);
    const rebuilt = await rebuildIndex(store, fresh, engine.modelVersion);
    expect(rebuilt).toMatchObject({ persons: 1, templates: 1, skipped: 0 });

    const moved = await call('PUT', `/v2/face-recognition/persons/${ana._id}`, acme, { collections: [b._id] });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect((await search(acme, { collection_id: a._id })).body.data).toEqual([]);
    expect((await search(acme, { collection_id: b.code })).body.data).toHaveLength(1);

    expect((await call('DELETE', `/v2/face-recognition/persons/${ana._id}`, acme)).status).toBe(200);
    expect((await search(acme)).body.data).toEqual([]);
    const feed = await store.changes.since(0, 100);
    expect(feed.filter((c) => c.person === ana._id).length).toBeGreaterThanOrEqual(3);
    expect(await store.templates.countIndexEntries()).toBe(0);
  });
});
