// The networked store: PostgreSQL through `pg` (a Pool) behind the async repository contracts of ../types.ts. Many
// Facegate instances may share one database: migrations run once under an advisory lock, the change feed keeps
// their vector indexes coherent (./connection.ts), and LISTEN/NOTIFY wakes them (./listener.ts).
import type { Repos, Store } from '../../domain/ports.js';
import { PgAudit } from './audit.js';
import { PgChanges, PgLocks } from './changes.js';
import { PgClients, PgTokens } from './clients.js';
import { PgCollections } from './collections.js';
import { PgConnection, type PgConnectionOptions, type Scope } from './connection.js';
import { PgFacePersons } from './facePersons.js';
import { listenForChanges } from './listener.js';
import { PgLivenessSessions } from './livenessSessions.js';
import { PgPersons } from './persons.js';
import { PgSigningKeys } from './signingKeys.js';
import { PgTemplates } from './templates.js';

export type PgStoreOptions = PgConnectionOptions & {
  /** Persons per batch in iterateIndexEntries(). Default 500. */
  iterateBatchSize?: number;
};

export interface PgStore extends Store {
  readonly backend: 'postgres';
  /** Schema version the database is at. */
  schemaVersion(): Promise<number>;
}

function repos(s: Scope, batchSize: number): Repos {
  return {
    audit: new PgAudit(s),
    clients: new PgClients(s),
    tokens: new PgTokens(s),
    collections: new PgCollections(s),
    facePersons: new PgFacePersons(s),
    templates: new PgTemplates(s, batchSize),
    persons: new PgPersons(s),
    livenessSessions: new PgLivenessSessions(s),
    changes: new PgChanges(s),
    locks: new PgLocks(s),
    signingKeys: new PgSigningKeys(s),
  };
}

/** Connects and brings the schema up to date (waiting for another instance that is migrating it). */
export async function openPgStore(opts: PgStoreOptions): Promise<PgStore> {
  const batchSize = opts.iterateBatchSize ?? 500;
  const conn = new PgConnection(opts);
  try {
    await conn.migrate();
  } catch (e) {
    await conn.close();
    throw e;
  }
  const top = repos(conn.top, batchSize);
  const watchers = new Set<{ close(): Promise<void> }>();
  return {
    ...top,
    backend: 'postgres',
    schemaVersion: () => conn.schemaVersion(),
    transaction: (fn) => conn.transaction((scope) => fn(repos(scope, batchSize))),
    // The feed's head: it moves with every committed change to what the index holds, from any instance.
    indexGeneration: () => top.changes.latest(),
    async watchChanges(onWake) {
      const w = await listenForChanges(opts.connectionString, onWake);
      const handle = {
        close: async () => {
          watchers.delete(handle);
          await w.close();
        },
      };
      watchers.add(handle);
      return handle;
    },
    healthy: () => conn.healthy(),
    async close() {
      await Promise.all([...watchers].map((w) => w.close()));
      await conn.close();
    },
  };
}
