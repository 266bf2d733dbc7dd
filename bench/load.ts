// `npm run bench -- load [--seconds 60] [--clients 8] [--warmup 10] [--workers N] [--built]`: mixed traffic against a
// real server process on loopback. Each client is its own tenant (own token) and loops over enrolments, searches
// (FAST and ACCURATE), reads and deletions for the set time. Prints JSON: per-route p50/p99 latency and status
// counts, 5xx / 503 / 429 / connection-error totals, and the server's RSS (idle, after warm-up, at the end).
// Targets: 0 5xx, 0 connection errors, search p99 <= 4 x p50, RSS at the end <= 1.25 x after warm-up.
//
// `npm run bench -- load --sweep [1,2,4,8] [--sweep-seconds 20] [--workers N] [--threads T] [--baseline DIR]`: the
// engine under concurrent clients instead: the built server, each client POSTing the engine benchmark's photos to
// /v2/face-recognition/detect in a closed loop; per client count, images/s and p50/p99 latency, RSS at the end.
// With --baseline DIR (another checkout, e.g. a `git worktree` of the previous release, built with `npm run
// build`), the same sweep against that tree's server in the same run, and the ratios.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { issueToken } from '../src/domain/tokens.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import { FACE_NAMES, faceBase64 } from '../test/support/photos.js';
import { startServer } from '../test/support/server.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    clients: { type: 'string', default: '8' },
    warmup: { type: 'string' },
    workers: { type: 'string' },
    built: { type: 'boolean', default: false },
    sweep: { type: 'string' },
    'sweep-seconds': { type: 'string', default: '20' },
    threads: { type: 'string' },
    baseline: { type: 'string' },
  },
});
if (values.sweep !== undefined) {
  await import('./load-sweep.js').then((m) =>
    m.main({
      levels: (values.sweep || '1,2,4,8').split(',').map(Number),
      seconds: Number(values['sweep-seconds']),
      workers: values.workers ? Number(values.workers) : undefined,
      threads: values.threads ? Number(values.threads) : undefined,
      baseline: values.baseline,
    }),
  );
  process.exit(0);
}
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const warmupS = values.warmup !== undefined ? Number(values.warmup) : Math.min(30, Math.max(5, Math.round(seconds / 10)));
if (!(seconds > 0) || !(clients > 0) || !(warmupS >= 0) || warmupS >= seconds) {
  console.error('usage: npm run bench -- load [--seconds 60] [--clients 8] [--warmup S] [--workers N] [--built]');
  process.exit(2);
}

type Route = 'enrol' | 'search_fast' | 'search_accurate' | 'read' | 'delete';
const ROUTES: Route[] = ['enrol', 'search_fast', 'search_accurate', 'read', 'delete'];
/** Mix per client: cumulative weights. */
const MIX: [Route, number][] = [
  ['enrol', 0.15],
  ['search_fast', 0.4],
  ['search_accurate', 0.6],
  ['read', 0.85],
  ['delete', 1],
];

interface RouteStats {
  latencies: number[];
  statuses: Record<string, number>;
}
const stats = new Map<Route, RouteStats>(ROUTES.map((r) => [r, { latencies: [], statuses: {} }]));
let connectionErrors = 0;
const connectionErrorSamples: string[] = [];
let measuring = false;

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'facegate-load-'));
// Tokens first, straight into the store the server will open.
const store = openSqliteStore({ dataDir });
const tokens: string[] = [];
for (let c = 0; c < clients; c++) tokens.push((await issueToken(store, { clientName: `load-${c}` })).token);
await store.close();

const images = await Promise.all(FACE_NAMES.map((f) => faceBase64(f)));
const env: Record<string, string> = {};
if (values.workers) env.ENGINE_WORKERS = values.workers;
else env.ENGINE_WORKERS = String(os.availableParallelism());
const server = await startServer({ dataDir, env, built: values.built });
const rssIdle = server.rss();

async function call(route: Route, token: string, method: string, url: string, body?: unknown): Promise<any> {
  const t0 = performance.now();
  let status: number;
  let json: any = null;
  try {
    const r = await fetch(`${server.base}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    status = r.status;
    json = await r.json().catch(() => null);
  } catch (err) {
    connectionErrors++;
    if (connectionErrorSamples.length < 5) connectionErrorSamples.push(String((err as Error).cause ?? err));
    return null;
  }
  const ms = performance.now() - t0;
  if (measuring) {
    const s = stats.get(route)!;
    s.latencies.push(ms);
    s.statuses[status] = (s.statuses[status] ?? 0) + 1;
  } else {
    // Errors count during warm-up too.
    if (status >= 500 || status === 429) stats.get(route)!.statuses[`warmup_${status}`] = (stats.get(route)!.statuses[`warmup_${status}`] ?? 0) + 1;
  }
  return status === 200 ? json : null;
}

const deadline = Date.now() + seconds * 1000;
let seq = 0;

async function client(c: number): Promise<void> {
  const token = tokens[c];
  const mine: string[] = [];
  let collection: string | undefined;
  const col = await call('read', token, 'POST', '/v2/face-recognition/collections', { name: `load ${c}` });
  collection = col?.data?._id;
  const pick = () => images[(c * 7 + seq++) % images.length];
  while (Date.now() < deadline) {
    const u = Math.random();
    let route = MIX.find(([, w]) => u < w)![0];
    if (route === 'delete' && mine.length <= 3) route = 'enrol';
    if ((route === 'read') && mine.length === 0) route = 'enrol';
    switch (route) {
      case 'enrol': {
        const r = await call(route, token, 'POST', '/v2/face-recognition/persons', { name: `Load ${c}`, images: [pick()], collections: collection ? [collection] : [] });
        if (r?.data?._id) mine.push(r.data._id);
        break;
      }
      case 'search_fast':
      case 'search_accurate':
        await call(route, token, 'POST', '/v2/face-recognition/search-active-user', {
          image: pick(),
          os: 'DESKTOP',
          min_score: 0.8,
          search_mode: route === 'search_fast' ? 'FAST' : 'ACCURATE',
          collection_id: collection,
        });
        break;
      case 'read':
        if (Math.random() < 0.5) await call(route, token, 'GET', `/v2/face-recognition/persons/${mine[Math.floor(Math.random() * mine.length)]}`);
        else await call(route, token, 'GET', '/v2/face-recognition/persons?limit=20');
        break;
      case 'delete': {
        const [id] = mine.splice(Math.floor(Math.random() * mine.length), 1);
        await call(route, token, 'DELETE', `/v2/face-recognition/persons/${id}`);
        break;
      }
    }
  }
}

const rssSamples: { t: number; rss: number | null }[] = [];
const started = Date.now();
const sampler = setInterval(() => rssSamples.push({ t: (Date.now() - started) / 1000, rss: server.rss() }), 1000);
let rssAfterWarmup: number | null = null;
const warm = setTimeout(() => {
  rssAfterWarmup = server.rss();
  measuring = true;
}, warmupS * 1000);
await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
clearTimeout(warm);
clearInterval(sampler);
const rssEnd = server.rss();
const serverOutput = server.output();
await server.stop();
await rm(dataDir, { recursive: true, force: true });

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] * 10) / 10;
};
const routes: Record<string, unknown> = {};
let fiveHundreds = 0;
let busy = 0;
let limited = 0;
for (const [route, s] of stats) {
  for (const [code, n] of Object.entries(s.statuses)) {
    const status = Number(code.replace('warmup_', ''));
    if (status >= 500) fiveHundreds += n;
    if (status === 503) busy += n;
    if (status === 429) limited += n;
  }
  routes[route] = { requests: s.latencies.length, p50_ms: pct(s.latencies, 50), p99_ms: pct(s.latencies, 99), max_ms: pct(s.latencies, 100), statuses: s.statuses };
}
const ratio = (route: Route) => {
  const s = stats.get(route)!.latencies;
  const p50 = pct(s, 50);
  const p99 = pct(s, 99);
  return p50 && p99 ? Math.round((p99 / p50) * 100) / 100 : null;
};
const mb = (b: number | null) => (b === null ? null : Math.round(b / 1048576));
const maxRss = Math.max(...rssSamples.map((s) => s.rss ?? 0));
const result = {
  bench: 'load',
  seconds,
  warmup_seconds: warmupS,
  clients,
  engine_workers: Number(env.ENGINE_WORKERS),
  cpus: os.availableParallelism(),
  server: values.built ? 'node dist/src/main.js' : 'node --import tsx src/main.ts',
  measured_requests: [...stats.values()].reduce((n, s) => n + s.latencies.length, 0),
  throughput_rps: Math.round(([...stats.values()].reduce((n, s) => n + s.latencies.length, 0) / (seconds - warmupS)) * 10) / 10,
  routes,
  errors: { status_5xx: fiveHundreds, status_503: busy, status_429: limited, connection_errors: connectionErrors, connection_error_samples: connectionErrorSamples },
  rss_mb: { idle: mb(rssIdle), after_warmup: mb(rssAfterWarmup), end: mb(rssEnd), max: mb(maxRss), end_over_warmup: rssAfterWarmup && rssEnd ? Math.round((rssEnd / rssAfterWarmup) * 1000) / 1000 : null },
  search_p99_over_p50: { fast: ratio('search_fast'), accurate: ratio('search_accurate') },
  targets: {
    no_5xx: fiveHundreds === 0,
    no_connection_errors: connectionErrors === 0,
    search_p99_le_4x_p50: [ratio('search_fast'), ratio('search_accurate')].every((r) => r !== null && r <= 4),
    rss_end_le_1_25x_warmup: rssAfterWarmup !== null && rssEnd !== null && rssEnd <= 1.25 * rssAfterWarmup,
  },
  /** Seconds since the clients started -> RSS in MB, about 20 samples. */
  rss_timeline_mb: Object.fromEntries(rssSamples.filter((_, i) => i % Math.max(1, Math.round(rssSamples.length / 20)) === 0).map((s) => [Math.round(s.t), mb(s.rss)])),
};
if (fiveHundreds > 0) (result as Record<string, unknown>).server_log_tail = serverOutput.slice(-2000);
console.log(JSON.stringify(result, null, 2));
