// `npm start`: locks DATA_DIR against a second server, opens the store in it, loads the face engine, rebuilds the
// vector index (reusing the graphs saved at the last shutdown when the store is unchanged), listens; shuts down
// cleanly on SIGINT/SIGTERM (in-flight requests finish, the graphs are saved, then the engine and the store close).
// package.json's start script `exec`s node, so the SIGTERM npm forwards reaches this process, not a shell.
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import { buildApp, buildGraphsInBackground, createLogger, rebuildIndex, saveIndexSnapshot, startBackgroundReindex, startIndexFollower } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { ensureStaticToken } from './domain/tokens.js';
import { createFaceEngine } from './face/index.js';
import type { FaceEngine } from './face/types.js';
import { createFaceIndex } from './index/index.js';
import { checkPortFree, portError, PortUnavailableError } from './portCheck.js';
import { DataDirLockedError, lockDataDir } from './store/serverLock.js';
import { openStore } from './store/open.js';
import type { Logger } from 'pino';

/** Signals closer together than this are one request to stop (see shutdown()). */
const SAME_SIGNAL_MS = 1000;

async function start(config: Config, log: Logger): Promise<void> {
  await mkdir(config.dataDir, { recursive: true });
  // Before anything slow: a second server on the same SQLite data refuses in a second, not after loading the
  // models. With PostgreSQL (DATABASE_URL) N instances share the database on purpose, so there is no lock.
  const lock = config.databaseUrl ? null : lockDataDir(config.dataDir);
  // Likewise a port already taken (it could still be taken in the seconds before listen(): checked again there).
  await checkPortFree(config.host, config.port);
  const store = await openStore(config);
  log.info(store.backend === 'sqlite' ? { backend: store.backend, dataDir: config.dataDir } : { backend: store.backend }, 'store open');

  if (config.apiToken) {
    const res = await ensureStaticToken(store, config.apiTokenClient, config.apiToken);
    if (res.status === 'revoked') log.warn({ client: config.apiTokenClient }, 'API_TOKEN was revoked with the CLI and stays revoked; set a new API_TOKEN');
    else log.info({ client: config.apiTokenClient, status: res.status }, 'API_TOKEN accepted for client');
    if (res.weak) log.warn('API_TOKEN is shorter than 32 characters: fine on a laptop, too weak for a server on a network');
  }

  const engine: FaceEngine = createFaceEngine({ workers: config.engineWorkers, threads: config.engineThreads, queueLimit: config.engineQueue, tenantQueueLimit: config.engineQueuePerClient });
  // Large templates stay resident as int8; their float32 copy for the exact re-rank lives in an unlinked file in
  // DATA_DIR (docs/index.md).
  const index = createFaceIndex({ dim: engine.dim, floatVectorsDir: path.join(config.dataDir, 'index-vectors') });

  // Both take a while and are independent: load the models while the index fills.
  const engineStarted = Date.now();
  const engineReady = engine.ready().then(() => log.info({ workers: config.engineWorkers, modelVersion: engine.modelVersion, ms: Date.now() - engineStarted }, 'face engine ready'));
  const t0 = Date.now();
  // The ANN graphs saved at the last clean shutdown, reused if nothing was written since (docs/index.md).
  const snapshotDir = path.join(config.dataDir, 'index-snapshot');
  // Graphs are built after the load (in the background, once listening): searches are exact until then.
  const rebuilt = await rebuildIndex(store, index, engine.modelVersion, { snapshotDir, deferGraphs: true, log });
  log.info({ ...rebuilt, ms: Date.now() - t0 }, 'vector index loaded; ACCURATE searches answer from now on');
  // Several instances on one database: other instances' writes reach this index through the change feed.
  const follower = await startIndexFollower(store, index, engine.modelVersion, rebuilt.cursor, log);
  await engineReady;

  const app = await buildApp({ config, store, engine, index, logger: log, follower });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    throw portError(err, config.host, config.port);
  }
  announce(app.server.address(), config.host);
  // A graph still being built at shutdown is simply not saved (the snapshot holds only finished graphs).
  void buildGraphsInBackground(index, log);
  // A database written with an earlier recognition model: its persons become searchable as they are re-embedded.
  let reindex: ReturnType<typeof startBackgroundReindex> | undefined;
  const stale = await store.templates.countStale(engine.modelVersion);
  if (stale > 0) {
    if (config.reindexOnStart) reindex = startBackgroundReindex(store, engine, index, log);
    else log.warn({ stale }, 'templates of an earlier model version are not searchable: run `npm run cli -- reindex` or set REINDEX_ON_START=true');
  }

  let stoppingSince: number | null = null;
  const shutdown = async (signal: string) => {
    if (stoppingSince !== null) {
      // Ctrl-C under `npm start` arrives twice: from the terminal, and forwarded by npm a moment later. Only a
      // signal sent well after the first means "stop now, don't wait".
      if (Date.now() - stoppingSince < SAME_SIGNAL_MS) return;
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stoppingSince = Date.now();
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took longer than 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    try {
      await app.close();
      await follower?.stop();
      await reindex?.stop();
      try {
        const t1 = Date.now();
        const saved = await saveIndexSnapshot(store, index, snapshotDir);
        log.info({ tenants: saved.tenants, templates: saved.templates, bytes: saved.bytes, ms: Date.now() - t1 }, 'vector index graphs saved for the next start');
      } catch (err) {
        log.warn({ err }, 'could not save the vector index graphs; the next start rebuilds them');
      }
      await engine.close();
      await store.close();
      lock?.release();
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

/** One line for the person at the terminal, whatever the log format: where the API, its docs and the console are. */
function announce(address: ReturnType<Server['address']>, host: string): void {
  const port = typeof address === 'object' && address ? address.port : Number(address);
  // 0.0.0.0 and :: listen everywhere; a browser on this machine reaches them at 127.0.0.1.
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const base = `http://${shown}:${port}`;
  process.stderr.write(`facegate: listening on ${base} (${host}:${port}); API docs at ${base}/docs, operator console at ${base}/console\n`);
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
  if (err instanceof DataDirLockedError || err instanceof PortUnavailableError) {
    // Said to a person at a terminal as well as to the log: this is an operator's mistake, not a crash.
    log.fatal(err instanceof DataDirLockedError ? { dataDir: err.dataDir, holder: err.holder } : { host: err.host, port: err.port }, err.message);
    console.error(`facegate: ${err.message}`);
    process.exit(1);
  }
  log.fatal({ err }, 'could not start');
  process.exit(1);
});
