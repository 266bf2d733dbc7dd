// `npm run fuzz`: every route of the OpenAPI document fuzzed against a real server process (src/main.ts, SQLite in a
// temporary DATA_DIR) until at least --requests requests (default 10,000) have been sent, with every mutation of
// every route (test/fuzz/openapiFuzz.ts), seed after seed. Prints the figures as JSON (requests, routes, statuses,
// 5xx count, failures, the server's RSS before and after) and exits 1 on any failure or if the server died.
// Run it with `nice`: docs/fuzz.md has the figures of the last run.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { fuzzContext, seed, storedCounter } from '../test/fuzz/harness.js';
import { routesOf, runFuzz, type FuzzReport, type FuzzRequest } from '../test/fuzz/openapiFuzz.js';
import { startServer } from '../test/support/server.js';
import { faceJpeg } from '../test/support/photos.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '10000' }, seed: { type: 'string', default: '1' } } });
const target = Number(values.requests);
const TOKEN = 'fuzz-run-token-0123456789abcdef';
const MAX_IMAGE_BYTES = 256 * 1024;

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'facegate-fuzz-'));
const server = await startServer({ dataDir, env: { API_TOKEN: TOKEN, RATE_LIMIT_MAX: '0', MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES), LOG_LEVEL: 'warn' }, timeoutMs: 600_000 });
let exitCode = 0;
try {
  const send = async (r: FuzzRequest) => {
    const res = await fetch(`${server.base}${r.url}`, { method: r.method, headers: r.headers, body: r.payload });
    return { status: res.status, text: await res.text() };
  };
  const face = await faceJpeg('s4a');
  const seeded = await seed(send, TOKEN, face.toString('base64'));
  const plain = (await sharp({ create: { width: 64, height: 64, channels: 3, background: '#888' } }).jpeg().toBuffer()).toString('base64');
  const doc = JSON.parse((await send({ method: 'GET', url: '/openapi.json', headers: {} })).text);
  const routes = routesOf(doc).sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
  const counter = storedCounter(dataDir);
  const rssBefore = server.rss();
  const t0 = Date.now();
  const total: FuzzReport = { requests: 0, routes: routes.length, byStatus: {}, failures: [] };
  let round = 0;
  try {
    while (total.requests < target) {
      // Odd rounds send the real face as the valid image (the engine runs: enrolments, searches), even rounds a
      // faceless one (everything up to the engine, fast). Each round re-seeds what the DELETEs removed.
      const image = round % 2 === 1 ? face.toString('base64') : plain;
      const ids = round === 0 ? seeded : await seed(send, TOKEN, face.toString('base64'));
      const r = await runFuzz(routes, fuzzContext(TOKEN, ids, face, image, MAX_IMAGE_BYTES), { seed: Number(values.seed) + round, send, stored: counter.read });
      total.requests += r.requests;
      for (const [s, n] of Object.entries(r.byStatus)) total.byStatus[s] = (total.byStatus[s] ?? 0) + n;
      total.failures.push(...r.failures);
      round++;
      process.stderr.write(`round ${round}: ${total.requests} requests, ${total.failures.length} failures\n`);
    }
  } finally {
    counter.close();
  }
  const health = await send({ method: 'GET', url: '/health', headers: {} });
  const rssAfter = server.rss();
  const fivexx = Object.entries(total.byStatus).filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + c, 0);
  const figures = {
    requests: total.requests,
    routes: total.routes,
    rounds: round,
    seconds: Math.round((Date.now() - t0) / 1000),
    byStatus: total.byStatus,
    fivexx,
    failures: total.failures.slice(0, 50),
    failureCount: total.failures.length,
    alive: health.status === 200 && server.child.exitCode === null,
    rssBeforeMB: rssBefore && Math.round(rssBefore / 1048576),
    rssAfterMB: rssAfter && Math.round(rssAfter / 1048576),
  };
  console.log(JSON.stringify(figures, null, 2));
  if (fivexx > 0 || total.failures.length > 0 || !figures.alive) exitCode = 1;
} finally {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
