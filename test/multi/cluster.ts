// Several real server processes on one PostgreSQL database (each with its own DATA_DIR and port), for the
// multi-instance tests: what only separate processes show (separate indexes, a SIGKILL, two event loops racing).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, type ServerProcess } from '../support/server.js';

export const TOKEN = 'multi-instance-test-token-0123456789abcdef';
export const API = '/v2/face-recognition';

export interface Instance {
  name: string;
  dataDir: string;
  server: ServerProcess;
}

export interface Cluster {
  instances: Instance[];
  /** Starts (or restarts, after kill/stop) instance `i` on its own DATA_DIR. */
  start(i: number): Promise<Instance>;
  close(): Promise<void>;
}

/** What the instances' /metrics answers (the scrape token of a Prometheus deployment). */
export const METRICS_TOKEN = 'cluster-metrics-scrape-token';

/** `n` instances on `databaseUrl`, started one after another (each migrates, then the next finds it done). */
export async function startCluster(databaseUrl: string, n: number, env: Record<string, string> = {}): Promise<Cluster> {
  const dirs: string[] = [];
  for (let i = 0; i < n; i++) dirs.push(await mkdtemp(path.join(os.tmpdir(), `facegate-multi-${i}-`)));
  const instances: Instance[] = [];
  const cluster: Cluster = {
    instances,
    async start(i) {
      const server = await startServer({
        dataDir: dirs[i],
        env: { DATABASE_URL: databaseUrl, API_TOKEN: TOKEN, METRICS_TOKEN, RATE_LIMIT_MAX: '0', ENGINE_QUEUE: '256', ENGINE_QUEUE_PER_CLIENT: '256', LOG_LEVEL: 'info', ...env },
      });
      instances[i] = { name: String.fromCharCode(65 + i), dataDir: dirs[i], server };
      return instances[i];
    },
    async close() {
      for (const inst of instances) await inst?.server.kill().catch(() => undefined);
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    },
  };
  for (let i = 0; i < n; i++) await cluster.start(i);
  return cluster;
}

export async function call(base: string, method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(`${base}${url}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}

/** Person ids a search for `image` returns on `base` (ACCURATE: exact, whatever the graph state). */
export async function foundIds(base: string, image: string, extra: Record<string, unknown> = {}): Promise<Set<string>> {
  const r = await call(base, 'POST', `${API}/search`, { images: [image], min_score: 0.8, search_mode: 'ACCURATE', max_results: 100, ...extra });
  if (r.status !== 200) throw new Error(`search answered ${r.status} ${JSON.stringify(r.body)}`);
  return new Set((r.body.data as { id: string }[]).map((h) => h.id));
}

/**
 * Searches on `base` until `done(ids)` holds; returns when, after `since`, the search that first saw it was sent and
 * answered. The index is queried between the two (after the probe's face analysis), so `answeredMs` bounds the
 * propagation from above, engine time included.
 */
export async function waitUntilSearch(
  base: string,
  image: string,
  done: (ids: Set<string>) => boolean,
  since: number,
  timeoutMs = 60_000,
): Promise<{ sentMs: number; answeredMs: number; searches: number }> {
  for (let searches = 1; ; searches++) {
    const sent = Date.now();
    const ids = await foundIds(base, image);
    if (done(ids)) return { sentMs: sent - since, answeredMs: Date.now() - since, searches };
    if (Date.now() - since > timeoutMs) throw new Error(`not seen on ${base} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Templates held by the instance's index (its /metrics gauge): no engine work, so it can be polled finely. */
export async function indexTemplates(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const m = /^facegate_index_templates(?:\{[^}]*\})? (\d+)/m.exec(text);
  if (!m) throw new Error('facegate_index_templates missing from /metrics');
  return Number(m[1]);
}

/** Polls the index size every 5 ms until `want(size)`; returns the milliseconds since `since`. */
export async function waitUntilIndexSize(base: string, want: (n: number) => boolean, since: number, timeoutMs = 60_000): Promise<number> {
  for (;;) {
    if (want(await indexTemplates(base))) return Date.now() - since;
    if (Date.now() - since > timeoutMs) throw new Error(`index size on ${base} not as expected within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
