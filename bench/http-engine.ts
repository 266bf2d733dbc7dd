// The engine measured the way clients meet it: a real server process (compiled, as `npm start` runs it) on loopback,
// images POSTed as base64 JSON to /v2/face-recognition/detect (every face: box, landmarks, template, thumbnail).
// Shared by `bench engine` (per-image latency and stages over HTTP) and `bench load` (clients sweep).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { issueToken } from '../src/domain/tokens.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import { freePort } from '../test/support/server.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** Compiles `root`'s src/ to dist/ (what `npm start` runs). */
export function build(root = repoRoot): void {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
}

/** The benchmark photos: face-api's demo samples, plus ../shared/faces highres/ and groups/ when present. */
export function benchPhotos(): { files: string[]; sets: string[] } {
  const demo = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
  const files = [1, 2, 3, 4, 5, 6].map((i) => path.join(demo, `sample${i}.jpg`));
  const faces = path.resolve(repoRoot, '../shared/faces');
  if (!existsSync(faces)) return { files, sets: ['face-api demo 1-6'] };
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(jpe?g|png|webp)$/i.test(name)) files.push(p);
    }
  };
  walk(path.join(faces, 'highres'));
  walk(path.join(faces, 'groups'));
  return { files, sets: ['face-api demo 1-6', 'shared/faces highres', 'shared/faces groups'] };
}

export const photoBase64 = (file: string) => readFileSync(file).toString('base64');

export interface ServerProcess {
  child: ChildProcess;
  base: string;
  rssMb(): number | null;
}

export interface BenchServer {
  server: ServerProcess;
  tokens: string[];
  /** Milliseconds from spawning the process to the first answered detect request (models loaded, one photo done). */
  firstAnswerMs: number;
  stop(): Promise<void>;
}

/**
 * Starts the built server of `root` (default: this tree; another checkout's built tree to compare against) with
 * `clients` tokens; rate limits off (they are not what is measured).
 */
export async function startBenchServer(opts: { root?: string; workers?: number; clients: number; firstImage: string; env?: Record<string, string> }): Promise<BenchServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'facegate-bench-'));
  const store = openSqliteStore({ dataDir });
  const tokens: string[] = [];
  for (let c = 0; c < opts.clients; c++) tokens.push((await issueToken(store, { clientName: `bench-${c}` })).token);
  await store.close();
  const root = opts.root ?? repoRoot;
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [path.join(root, 'dist/src/main.js')], {
    cwd: root,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      ENGINE_WORKERS: String(opts.workers ?? os.availableParallelism()),
      RATE_LIMIT_MAX: '0',
      ...opts.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const server: ServerProcess = {
    child,
    base: `http://127.0.0.1:${port}`,
    rssMb() {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        return m ? Math.round(Number(m[1]) / 1024) : null;
      } catch {
        return null;
      }
    },
  };
  // Until the first answer, not just /health: that is what a client waiting on a fresh server sees.
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server in ${root} exited during start-up`);
    const r = await detect(server.base, tokens[0], opts.firstImage).catch(() => null);
    if (r?.status === 200) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  const firstAnswerMs = performance.now() - t0;
  return {
    server,
    tokens,
    firstAnswerMs,
    async stop() {
      const exited = new Promise((res) => child.once('exit', res));
      child.kill('SIGTERM');
      await exited;
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
  // Servers from before the stage metrics have none: their stages read as empty.
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

export interface SweepLevel {
  clients: number;
  requests: number;
  images_per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
}

/**
 * Closed-loop clients (each sends its next photo as soon as the last is answered, each its own tenant) for
 * `seconds` at each level of `levels` after `warmupS` seconds of the same load; photos taken round-robin.
 */
export async function sweep(server: BenchServer, photos: string[], levels: number[], seconds: number, warmupS: number): Promise<SweepLevel[]> {
  const out: SweepLevel[] = [];
  let next = 0;
  for (const clients of levels) {
    const ms: number[] = [];
    let errors = 0;
    const start = performance.now();
    const warmEnd = start + warmupS * 1000;
    const end = warmEnd + seconds * 1000;
    let counted = 0;
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        while (performance.now() < end) {
          const t0 = performance.now();
          const r = await detect(server.server.base, server.tokens[c % server.tokens.length], photos[next++ % photos.length]).catch(() => null);
          const t1 = performance.now();
          if (t0 < warmEnd || t1 > end) continue;
          counted++;
          if (r?.status === 200) ms.push(r.ms);
          else errors++;
        }
      }),
    );
    const s = ms.sort((a, b) => a - b);
    const pct = (p: number) => Math.round(s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN);
    out.push({ clients, requests: counted, images_per_s: Math.round((ms.length / seconds) * 100) / 100, p50_ms: pct(50), p99_ms: pct(99), errors });
  }
  return out;
}
