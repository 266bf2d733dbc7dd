// The engine measured the way clients meet it: a real server process (compiled, as `npm start` runs it) on loopback,
// images POSTed as base64 JSON to /v2/face-recognition/detect (every face: box, landmarks, template, thumbnail).
// Shared by `bench engine` (per-image latency and stages over HTTP) and `bench load` (clients sweep).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { issueToken } from '../src/domain/tokens.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import { type ServerProcess, startServer } from '../test/support/server.js';

export interface BenchServer {
  server: ServerProcess;
  tokens: string[];
  /** Milliseconds from spawning the process to the first answered detect request (models loaded, one photo done). */
  firstAnswerMs: number;
  stop(): Promise<void>;
}

/** Starts the built server with `clients` tokens; rate limits off (they are not what is measured). */
export async function startBenchServer(opts: { workers?: number; clients: number; firstImage: string; env?: Record<string, string> }): Promise<BenchServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'facegate-bench-'));
  const store = openSqliteStore({ dataDir });
  const tokens: string[] = [];
  for (let c = 0; c < opts.clients; c++) tokens.push((await issueToken(store, { clientName: `bench-${c}` })).token);
  await store.close();
  const t0 = performance.now();
  const server = await startServer({
    dataDir,
    built: true,
    env: { ENGINE_WORKERS: String(opts.workers ?? os.availableParallelism()), RATE_LIMIT_MAX: '0', ...opts.env },
  });
  // Until the first answer, not just /health: that is what a client waiting on a fresh server sees.
  for (;;) {
    const r = await detect(server.base, tokens[0], opts.firstImage);
    if (r.status === 200) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  const firstAnswerMs = performance.now() - t0;
  return {
    server,
    tokens,
    firstAnswerMs,
    async stop() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** One detect request; its wall time on the client and its status. */
export async function detect(base: string, token: string, imageBase64: string): Promise<{ ms: number; status: number; faces: number }> {
  const t0 = performance.now();
  const r = await fetch(`${base}/v2/face-recognition/detect`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ image: imageBase64 }),
  });
  const json = (await r.json().catch(() => null)) as { data?: unknown[] } | null;
  return { ms: performance.now() - t0, status: r.status, faces: json?.data?.length ?? 0 };
}

/** The engine's per-stage seconds and image count so far, from /metrics. */
export async function engineStageTotals(base: string): Promise<{ seconds: Record<string, number>; images: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const seconds: Record<string, number> = {};
  for (const m of text.matchAll(/^facegate_engine_stage_seconds_total\{stage="(\w+)"\} ([\d.e+-]+)$/gm)) seconds[m[1]] = Number(m[2]);
  const images = Number(/^facegate_engine_images_total ([\d.e+-]+)$/m.exec(text)?.[1] ?? 0);
  return { seconds, images };
}

/** Milliseconds per image per stage between two readings of engineStageTotals. */
export function stagesBetween(a: { seconds: Record<string, number>; images: number }, b: { seconds: Record<string, number>; images: number }): Record<string, number> {
  const n = Math.max(1, b.images - a.images);
  return Object.fromEntries(Object.keys(b.seconds).map((k) => [k, Math.round(((b.seconds[k] - (a.seconds[k] ?? 0)) * 1000 * 10) / n) / 10]));
}
