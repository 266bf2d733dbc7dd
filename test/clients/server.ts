// A real Facegate server on a port (the real app, engine and SQLite store), for the clients' tests: they talk to it
// over HTTP exactly as a relying party would.
import type { AddressInfo } from 'node:net';
import type { Config } from '../../src/config.js';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { newIndex } from '../support/parts.js';

export interface ListeningApp extends TestApp {
  base: string;
}

export async function listeningApp(engine: WorkerFaceEngine, config: Partial<Config> = {}): Promise<ListeningApp> {
  const t = await startTestApp({ engine, index: newIndex(engine.dim), config });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  return { ...t, base: `http://127.0.0.1:${port}` };
}
