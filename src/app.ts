// Composition root: wires the store, the face engine and the vector index into the HTTP application. Everything is
// injected, so tests build the real app around a temporary SQLite file.
import { rm } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import { scheduleAuditRetention } from './domain/audit.js';
import type { DomainDeps } from './domain/deps.js';
import type { FaceEngine } from './face/types.js';
import { createHttpServer } from './http/server.js';
import { loadOrCreateSigner, type ResponseSigner } from './http/signing.js';
import type { FaceIndex, SnapshotInfo } from './index/types.js';
import type { Store } from './store/types.js';

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
  };
  const signer = opts.signer ?? (await loadOrCreateSigner(config.dataDir));
  const logger = opts.logger ?? createLogger(config);
  const app = await createHttpServer({ config, deps, signer, logger });
  const stopRetention = scheduleAuditRetention(store, config.auditRetentionDays, {
    onPruned: (n) => n > 0 && logger.info({ events: n, retentionDays: config.auditRetentionDays }, 'audit events past retention pruned'),
    onError: (err) => logger.error({ err }, 'could not prune the audit trail'),
  });
  app.addHook('onClose', async () => stopRetention());
  return app;
}

export interface RebuildResult {
  persons: number;
  templates: number;
  /** Templates of another model version: not searchable until their persons are re-enrolled. */
  skipped: number;
  /** True when the ANN graphs came from a snapshot instead of being built. */
  restored: boolean;
}

/**
 * Loads every stored face person into the index; templates of another model version are skipped (re-enrol them).
 * With `snapshotDir`, graphs saved there by saveIndexSnapshot() are reused when the store has not changed since
 * (a 1 M-face graph takes minutes to build, seconds to load), and the snapshot is then deleted: it holds int8
 * copies of templates, which must not outlive a person erased while the server runs.
 */
export async function rebuildIndex(
  store: Store,
  index: FaceIndex,
  modelVersion: string,
  opts: { snapshotDir?: string } = {},
): Promise<RebuildResult> {
  const restored = opts.snapshotDir ? index.loadSnapshot(opts.snapshotDir, await store.indexGeneration()) : false;
  let persons = 0;
  let templates = 0;
  let skipped = 0;
  for await (const entry of store.templates.iterateIndexEntries()) {
    const usable = entry.templates.filter((t) => t.modelVersion === modelVersion);
    skipped += entry.templates.length - usable.length;
    if (usable.length === 0) continue;
    index.upsertPerson({
      client: entry.client,
      person: entry.person,
      collections: entry.collections,
      templates: usable.map((t) => ({ id: t.id, vector: t.embedding })),
    });
    persons++;
    templates += usable.length;
  }
  // Nodes nobody claimed (a store written by an older version) are dropped; persons whose templates differ from
  // the snapshot's were re-inserted by their upsert.
  if (restored) index.completeRestore();
  if (opts.snapshotDir) await rm(opts.snapshotDir, { recursive: true, force: true });
  return { persons, templates, skipped, restored };
}

/** Saves the index's ANN graphs for the next start-up. Call once writes have stopped (at shutdown). */
export async function saveIndexSnapshot(store: Store, index: FaceIndex, dir: string): Promise<SnapshotInfo> {
  return index.saveSnapshot(dir, await store.indexGeneration());
}
