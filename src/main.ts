// `npm start`: opens the store in DATA_DIR, loads the face engine, rebuilds the vector index (reusing the graphs
// saved at the last shutdown when the store is unchanged), listens; shuts down cleanly on SIGINT/SIGTERM (in-flight
// requests finish, the graphs are saved, then the engine and the store close).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { buildApp, createLogger, rebuildIndex, saveIndexSnapshot } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { ensureStaticToken } from './domain/tokens.js';
import { createFaceEngine } from './face/index.js';
import type { FaceEngine } from './face/types.js';
import { createFaceIndex } from './index/index.js';
import { openSqliteStore } from './store/sqlite.js';
import type { Logger } from 'pino';

async function start(config: Config, log: Logger): Promise<void> {
  await mkdir(config.dataDir, { recursive: true });
  const store = openSqliteStore({ dataDir: config.dataDir });
  log.info({ dataDir: config.dataDir }, 'store open');

  if (config.apiToken) {
    const res = await ensureStaticToken(store, config.apiTokenClient, config.apiToken);
    if (res.status === 'revoked') log.warn({ client: config.apiTokenClient }, 'API_TOKEN was revoked with the CLI and stays revoked; set a new API_TOKEN');
    else log.info({ client: config.apiTokenClient, status: res.status }, 'API_TOKEN accepted for client');
    if (res.weak) log.warn('API_TOKEN is shorter than 32 characters: fine on a laptop, too weak for a server on a network');
  }

  const engine: FaceEngine = createFaceEngine({ workers: config.engineWorkers, queueLimit: config.engineQueue });
  // Large templates stay resident as int8; their float32 copy for the exact re-rank lives in an unlinked file in
  // DATA_DIR (docs/index.md).
  const index = createFaceIndex({ dim: engine.dim, floatVectorsDir: path.join(config.dataDir, 'index-vectors') });

  // Both take a while and are independent: load the models while the index fills.
  const engineStarted = Date.now();
  const engineReady = engine.ready().then(() => log.info({ workers: config.engineWorkers, modelVersion: engine.modelVersion, ms: Date.now() - engineStarted }, 'face engine ready'));
  const t0 = Date.now();
  // The ANN graphs saved at the last clean shutdown, reused if nothing was written since (docs/index.md).
  const snapshotDir = path.join(config.dataDir, 'index-snapshot');
  const rebuilt = await rebuildIndex(store, index, engine.modelVersion, { snapshotDir });
  log.info({ ...rebuilt, ms: Date.now() - t0 }, 'vector index rebuilt');
  if (rebuilt.skipped > 0) log.warn({ skipped: rebuilt.skipped }, 'templates of another model version are not searchable; re-enrol those persons');
  await engineReady;

  const app = await buildApp({ config, store, engine, index, logger: log });
  await app.listen({ port: config.port, host: config.host });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took longer than 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    try {
      await app.close();
      try {
        const t1 = Date.now();
        const saved = await saveIndexSnapshot(store, index, snapshotDir);
        log.info({ tenants: saved.tenants, templates: saved.templates, bytes: saved.bytes, ms: Date.now() - t1 }, 'vector index graphs saved for the next start');
      } catch (err) {
        log.warn({ err }, 'could not save the vector index graphs; the next start rebuilds them');
      }
      await engine.close();
      await store.close();
      log.info('stopped');
      log.flush?.();
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'error while shutting down');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
const log = createLogger(config);
start(config, log).catch((err) => {
  log.fatal({ err }, 'could not start');
  process.exit(1);
});
