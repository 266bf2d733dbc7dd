// Every route fuzzed from the OpenAPI document (test/fuzz/openapiFuzz.ts), bounded for `npm test`: a fixed seed and
// a sample of each route's mutations, in-process. `npm run fuzz` (scripts/fuzz.ts) sends the full set, 10,000+
// requests, to a real server process; its figures are in docs/fuzz.md.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { newEngine, newIndex } from '../support/parts.js';
import { faceJpeg } from '../support/photos.js';
import { fuzzContext, seed, storedCounter } from './harness.js';
import { routesOf, runFuzz, type FuzzRequest } from './openapiFuzz.js';

let engine: WorkerFaceEngine;
let t: TestApp;

beforeAll(async () => {
  engine = newEngine();
  await engine.ready();
  t = await startTestApp({ engine, index: newIndex(engine.dim), config: { maxImageBytes: 256 * 1024, rateLimitMax: 0 } });
});

afterAll(async () => {
  await t?.close();
  await engine?.close();
});

async function send(r: FuzzRequest) {
  const res = await t.app.inject({ method: r.method as 'GET', url: r.url, headers: r.headers, ...(r.payload === undefined ? {} : { payload: r.payload }) });
  return { status: res.statusCode, text: res.body };
}

describe('every route, fuzzed from the OpenAPI document', () => {
  it('answers odd and invalid requests with a documented 4xx in the envelope, never a 5xx, and stores nothing it refused', async () => {
    const { token } = await t.token('fuzz');
    const face = await faceJpeg('s4a');
    const seeded = await seed(send, token, face.toString('base64'));
    // The valid requests carry a small photo without a face: every route is exercised up to the engine, cheaply.
    const plain = (await sharp({ create: { width: 64, height: 64, channels: 3, background: '#888' } }).jpeg().toBuffer()).toString('base64');
    const doc = JSON.parse((await send({ method: 'GET', url: '/openapi.json', headers: {} })).text);
    // Destructive routes last, so the others find the seeded records.
    const routes = routesOf(doc).sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
    expect(routes.length).toBeGreaterThan(25);
    const counter = storedCounter(t.dataDir);
    const rssBefore = process.memoryUsage().rss;
    try {
      const report = await runFuzz(routes, fuzzContext(token, seeded, face, plain, t.config.maxImageBytes), { seed: 20261207, perRoute: 30, send, stored: counter.read });
      const rssAfter = process.memoryUsage().rss;
      expect(report.failures, JSON.stringify(report.failures, null, 1)).toEqual([]);
      expect(report.requests).toBeGreaterThan(800);
      expect(Object.keys(report.byStatus).filter((s) => Number(s) >= 500)).toEqual([]);
      // Bounded: no request's body, image or answer is kept (a leak of 1 MB strings would show in hundreds of MB).
      expect(rssAfter - rssBefore).toBeLessThan(400 * 1024 * 1024);
    } finally {
      counter.close();
    }
    // Still answering.
    expect((await send({ method: 'GET', url: '/health', headers: {} })).status).toBe(200);
  }, 240_000);
});
