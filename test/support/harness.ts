// Test harness: the real Fastify app on a real SQLite file in a temporary DATA_DIR, with tokens for as many
// clients (tenants) as a test needs. Requests go through app.inject (the whole HTTP stack, no socket).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp, createLogger } from '../../src/app.js';
import { defaultConfig, type Config } from '../../src/config.js';
import { issueToken } from '../../src/domain/tokens.js';
import type { FaceEngine } from '../../src/face/types.js';
import type { FaceIndex } from '../../src/index/types.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/store.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// FACEGATE_SHARED_FACES: for a checkout that is not beside ../shared (a git worktree elsewhere).
export const sharedFaces = path.resolve(process.env.FACEGATE_SHARED_FACES ?? path.join(repoRoot, '../shared/faces'));

/** face-api's demo photos (always installed): sample1.jpg … sample6.jpg. */
export function samplePhotoPath(n: number): string {
  return path.join(repoRoot, 'node_modules/@vladmandic/face-api/demo', `sample${n}.jpg`);
}

export async function photoBase64(file: string): Promise<string> {
  return (await readFile(file)).toString('base64');
}

export interface Res {
  status: number;
  headers: Record<string, unknown>;
  body: any;
  text: string;
}

export interface TestApp {
  app: FastifyInstance;
  store: SqliteStore;
  index: FaceIndex;
  engine: FaceEngine;
  config: Config;
  dataDir: string;
  /** A fresh token for client `name` (created on first use). */
  token(name: string, opts?: { ttl?: string }): Promise<{ token: string; tokenId: string; clientId: string }>;
  request(method: InjectOptions['method'], url: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<Res>;
  close(): Promise<void>;
}

export async function startTestApp(opts: {
  engine: FaceEngine;
  index: FaceIndex;
  config?: Partial<Config>;
  now?: () => Date;
  /** Log lines, when a test wants to inspect them. */
  logLines?: string[];
}): Promise<TestApp> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'facegate-http-'));
  const config = defaultConfig({ dataDir, logLevel: 'error', ...opts.config });
  const store = openSqliteStore({ dataDir });
  // The server's own logger (redaction and serializers included), writing into logLines when a test reads them.
  const logger = opts.logLines
    ? createLogger({ logLevel: 'debug' }, { write: (line: string) => void opts.logLines!.push(line) })
    : createLogger(config);
  const app = await buildApp({ config, store, engine: opts.engine, index: opts.index, logger, now: opts.now });
  await app.ready();

  return {
    app,
    store,
    index: opts.index,
    engine: opts.engine,
    config,
    dataDir,
    async token(name, o = {}) {
      const t = await issueToken(store, { clientName: name, ttl: o.ttl });
      return { token: t.token, tokenId: t.record.id, clientId: t.client.id };
    },
    async request(method, url, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      const res = await app.inject({
        method,
        url,
        headers,
        ...(o.body === undefined ? {} : typeof o.body === 'string' ? { payload: o.body } : { payload: o.body as object }),
      });
      let body: unknown = undefined;
      try {
        body = res.json();
      } catch {
        body = undefined;
      }
      return { status: res.statusCode, headers: res.headers, body, text: res.body };
    },
    async close() {
      await app.close();
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
