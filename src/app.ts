// Composition root: wires the store, the face engine and the vector index into the HTTP application. Everything is
// injected, so tests build the real app around a temporary SQLite file.
import { rm } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import { scheduleAuditRetention } from './domain/audit.js';
import type { DomainDeps } from './domain/deps.js';
import { IndexFollower } from './domain/indexFollower.js';
import { refreshIndexedPerson, reindexTemplates, type ReindexResult } from './domain/reindex.js';
import type { FaceEngine } from './face/types.js';
import { createHttpServer } from './http/server.js';
import { loadOrCreateSigner, loadSharedSigner, type ResponseSigner } from './http/signing.js';
import type { TenantedIndex } from './index/index.js';
import type { FaceIndex, SnapshotInfo } from './index/types.js';
import type { Store } from './domain/ports.js';

export interface AppOptions {
  config: Config;
  store: Store;
  engine: FaceEngine;
  index: FaceIndex;
  logger?: Logger;
  /** Defaults to the key pair kept in `config.dataDir` (created on first start). */
  signer?: ResponseSigner;
  /** Clock for verification expiry. */
  now?: () => Date;
  /** The change-feed follower of an instance sharing its database (startIndexFollower). */
  follower?: IndexFollower | null;
}

/** Never log secrets: the bearer token, and (belt and braces) anything that looks like an image or template. */
export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.authorization',
  '*.images',
  '*.image',
  '*.faceImage',
  '*.embedding',
];

/** How a request appears in logs: the path without its query string (list filters can hold people's names). */
function requestForLog(req: { method?: string; url?: string; ip?: string }) {
  return { method: req.method, url: req.url?.split('?')[0], remoteAddress: req.ip };
}

/** The server's logger: JSON lines on stdout (or `destination`), secrets redacted. */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  const options = { level: config.logLevel, redact: { paths: LOG_REDACT, censor: '[redacted]' }, serializers: { req: requestForLog } };
  return destination ? pino(options, destination) : pino(options);
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { config, store, engine, index } = opts;
  const deps: DomainDeps = {
    store,
    engine,
    index,
    settings: {
      personVerificationTtlMs: config.personVerificationTtlMs,
      livenessMinScore: config.livenessMinScore,
      samePersonMinScore: config.samePersonMinScore,
    },
    now: opts.now,
    follower: opts.follower ?? undefined,
  };
  // Instances sharing a database share its signing keys (one JWKS whichever instance answers); one instance on its
  // own keeps its key in DATA_DIR.
  const sharedSigner = !opts.signer && store.backend === 'postgres' ? await loadSharedSigner(store.signingKeys, { dataDir: config.dataDir }) : null;
  const signer = opts.signer ?? sharedSigner ?? (await loadOrCreateSigner(config.dataDir));
  const logger = opts.logger ?? createLogger(config);
  const app = await createHttpServer({ config, deps, signer, logger });
  const stopRetention = scheduleAuditRetention(store, config.auditRetentionDays, {
    onPruned: (n) => n > 0 && logger.info({ events: n, retentionDays: config.auditRetentionDays }, 'audit events past retention pruned'),
    onError: (err) => logger.error({ err }, 'could not prune the audit trail'),
  });
  app.addHook('onClose', async () => {
    stopRetention();
    sharedSigner?.close();
  });
  return app;
}

export interface RebuildResult {
  persons: number;
  templates: number;
  /** Templates of another model version: not searchable until their persons are re-enrolled. */
  skipped: number;
  /** True when the ANN graphs came from a snapshot instead of being built. */
  restored: boolean;
  /**
   * The store's change-feed position read before streaming: the index reflects every change up to it, and a
   * follower started from it catches up with writes made during the load.
   */
  cursor: number;
}

/**
 * Loads every stored face person into the index; templates of another model version are skipped (re-enrol them).
 * With `snapshotDir`, graphs saved there by saveIndexSnapshot() are reused when the store has not changed since
 * (a 1 M-face graph takes minutes to build, seconds to load), and the snapshot is then deleted: it holds int8
 * copies of templates, which must not outlive a person erased while the server runs.
 * With `deferGraphs` (the server's start-up), graphs not restored from a snapshot are not built during the load:
 * every search is exact until the caller runs index.buildGraphs(). Templates stream from the store in batches;
 * `log` gets progress every `progressMs` (counts only, never templates).
 */
export async function rebuildIndex(
  store: Store,
  index: FaceIndex & { deferGraphs?(): void },
  modelVersion: string,
  opts: { snapshotDir?: string; deferGraphs?: boolean; log?: Logger; progressMs?: number } = {},
): Promise<RebuildResult> {
  // Read before streaming: a write that lands during the load is either streamed or after the cursor (or both;
  // applying it twice is harmless), never neither.
  const cursor = await store.changes.latest();
  const restored = opts.snapshotDir ? index.loadSnapshot(opts.snapshotDir, await store.indexGeneration()) : false;
  if (opts.deferGraphs) index.deferGraphs?.();
  const total = opts.log ? await store.templates.countIndexEntries() : null;
  const t0 = Date.now();
  let lastLog = t0;
  const progressMs = opts.progressMs ?? 5000;
  let persons = 0;
  let templates = 0;
  let skipped = 0;
  for await (const entry of store.templates.iterateIndexEntries()) {
    const usable = entry.templates.filter((t) => t.modelVersion === modelVersion);
    skipped += entry.templates.length - usable.length;
    if (usable.length > 0) {
      index.upsertPerson({
        client: entry.client,
        person: entry.person,
        collections: entry.collections,
        templates: usable.map((t) => ({ id: t.id, vector: t.embedding })),
      });
      persons++;
      templates += usable.length;
    }
    if (opts.log && Date.now() - lastLog >= progressMs) {
      lastLog = Date.now();
      const loaded = templates + skipped;
      const etaSeconds = total && loaded > 0 ? Math.round((((total - loaded) * (lastLog - t0)) / loaded) / 1000) : undefined;
      opts.log.info({ persons, templates, skipped, total, etaSeconds, ms: lastLog - t0 }, 'loading templates into the vector index');
    }
  }
  // Nodes nobody claimed (a store written by an older version) are dropped; persons whose templates differ from
  // the snapshot's were re-inserted by their upsert.
  if (restored) index.completeRestore();
  if (opts.snapshotDir) await rm(opts.snapshotDir, { recursive: true, force: true });
  return { persons, templates, skipped, restored, cursor };
}

/**
 * Builds the ANN graphs deferred by rebuildIndex in the background, logging progress every 10 s; FAST searches are
 * exact until a tenant's graph is complete.
 */
export function buildGraphsInBackground(index: TenantedIndex, log: Logger): Promise<void> {
  const t0 = Date.now();
  let lastLog = t0;
  return index
    .buildGraphs((p) => {
      if (Date.now() - lastLog < 10_000) return;
      lastLog = Date.now();
      log.info({ ...p, ms: lastLog - t0 }, 'building search graphs (FAST searches are exact until done)');
    })
    .then(
      (r) => {
        if (r.tenants > 0) log.info({ ...r, ms: Date.now() - t0 }, 'search graphs built; FAST searches use them');
      },
      (err) => log.error({ err }, 'could not build the search graphs; FAST searches stay exact'),
    );
}

/**
 * With a store shared by several instances (PostgreSQL), follows the feed from `cursor` so that
 * this instance's index sees every other instance's writes (src/domain/indexFollower.ts). Null for a store of one
 * process, whose own writes update the index directly.
 */
export async function startIndexFollower(store: Store, index: FaceIndex, modelVersion: string, cursor: number, log: Logger): Promise<IndexFollower | null> {
  if (store.backend !== 'postgres') return null;
  const follower = new IndexFollower({ store, index, modelVersion, from: cursor, log });
  await follower.start();
  log.info({ from: cursor, cursor: follower.cursor }, 'following the change feed of the shared database');
  return follower;
}

/** Saves the index's ANN graphs for the next start-up. Call once writes have stopped (at shutdown). */
export async function saveIndexSnapshot(store: Store, index: FaceIndex, dir: string): Promise<SnapshotInfo> {
  return index.saveSnapshot(dir, await store.indexGeneration());
}

/**
 * The model-upgrade path inside a running server: templates of an earlier model version (skipped by rebuildIndex)
 * are re-embedded from their stored face images in the background, and each person re-enters the index as soon as
 * its templates are done. Until then that person is not found (never compared across model versions). Progress is
 * logged every 10 s with an estimate of the time left; ids only, never names or images.
 */
export function startBackgroundReindex(store: Store, engine: FaceEngine, index: FaceIndex, log: Logger): { done: Promise<ReindexResult | null>; stop(): Promise<void> } {
  const abort = new AbortController();
  const t0 = Date.now();
  let lastLog = 0;
  const done = reindexTemplates(store, engine, {
    signal: abort.signal,
    onPersonsChanged: async (persons) => {
      for (const p of persons) await refreshIndexedPerson(store, index, engine, p.client, p.person);
    },
    onProgress: (p) => {
      if (Date.now() - lastLog < 10_000 && p.done < p.total) return;
      lastLog = Date.now();
      const perMs = (Date.now() - t0) / Math.max(1, p.done);
      log.info({ ...p, etaSeconds: Math.round(((p.total - p.done) * perMs) / 1000) }, 're-embedding templates of an earlier model version');
    },
  }).then(
    (res) => {
      if (res.total > 0) {
        log.info({ reembedded: res.reembedded, failed: res.failed, ms: Date.now() - t0 }, 'templates of earlier model versions re-embedded');
        for (const f of res.failures) log.warn(f, 'template could not be re-embedded: re-enrol this person');
      }
      return res;
    },
    (err) => {
      log.error({ err }, 're-embedding stopped on an error; the next start resumes it');
      return null;
    },
  );
  return {
    done,
    async stop() {
      abort.abort();
      await done;
    },
  };
}
