// A real server process (src/main.ts under tsx, or dist/src/main.js when built) on a DATA_DIR of the caller's, for
// tests and benchmarks that need what only a process has: a port, its own memory, and a death by SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  base: string;
  /** stdout + stderr so far (JSON log lines), for failure messages. */
  output(): string;
  /** Resident set size of the whole process (main thread and engine workers), in bytes; Linux only. */
  rss(): number | null;
  /** SIGKILL: no shutdown hook runs, nothing is flushed or saved. */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<number | null>;
}

/** A TCP port free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Starts the server and resolves once /health answers 200. */
export async function startServer(opts: { dataDir: string; env?: Record<string, string>; built?: boolean; timeoutMs?: number }): Promise<ServerProcess> {
  const port = await freePort();
  const built = opts.built ?? false;
  const entry = built ? path.join(repoRoot, 'dist/src/main.js') : path.join(repoRoot, 'src/main.ts');
  if (built && !existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first`);
  const args = built ? [entry] : ['--import', 'tsx', entry];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn', ENGINE_WORKERS: '1', ...opts.env, DATA_DIR: opts.dataDir, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited during start-up:\n${out}`);
    try {
      const r = await fetch(`${base}/health`);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server not healthy after ${opts.timeoutMs ?? 120_000} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    pid: child.pid!,
    port,
    base,
    output: () => out,
    rss() {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        return m ? Number(m[1]) * 1024 : null;
      } catch {
        return null;
      }
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
