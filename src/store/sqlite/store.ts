// The embedded store: SQLite through better-sqlite3 behind the async repository contracts of ../types.ts. Design
// notes and the schema are in docs/storage.md; connections and transactions in ./connection.ts.
import type { Repos, Store } from '../../domain/ports.js';
import { SqliteAudit } from './audit.js';
import { SqliteChanges, SqliteLocks } from './changes.js';
import { SqliteClients, SqliteTokens } from './clients.js';
import { SqliteCollections } from './collections.js';
import { resolveDbFile, SqliteConnection, type Scope } from './connection.js';
import { SqliteFacePersons } from './facePersons.js';
import { SqliteLivenessSessions } from './livenessSessions.js';
import type { Migration } from './migrations.js';
import { SqlitePersons } from './persons.js';
import { SqliteSigningKeys } from './signingKeys.js';
import { SqliteTemplates } from './templates.js';

export { DB_FILE_NAME, migrate, resolveDbFile } from './connection.js';

export type SqliteStoreOptions = ({ dataDir: string } | { file: string }) & {
  /** How long a statement waits for another process's write lock (ms). Default 5000. */
  busyTimeoutMs?: number;
  /**
   * FULL (default): a committed request survives power loss. NORMAL: faster commits in WAL mode, the last
   * transactions may be lost on power loss (never corrupted).
   */
  synchronous?: 'FULL' | 'NORMAL';
  /** Persons per batch in iterateIndexEntries(). Default 500. */
  iterateBatchSize?: number;
  /**
   * A transaction callback still running after this long is rolled back and its caller gets an error, so one
   * stuck request cannot hold every write of the process forever. Default 30000.
   */
  transactionTimeoutMs?: number;
  /** For tests of the migration runner only. */
  migrations?: readonly Migration[];
};

export interface SqliteStore extends Store {
  readonly backend: 'sqlite';
  /** Absolute path of the database file. */
  readonly file: string;
  /** Schema version the file is at. */
  schemaVersion(): number;
}

function repos(s: Scope, batchSize: number): Repos {
  return {
    audit: new SqliteAudit(s),
    clients: new SqliteClients(s),
    tokens: new SqliteTokens(s),
    collections: new SqliteCollections(s),
    facePersons: new SqliteFacePersons(s),
    templates: new SqliteTemplates(s, batchSize),
    persons: new SqlitePersons(s),
    livenessSessions: new SqliteLivenessSessions(s),
    changes: new SqliteChanges(s),
    locks: new SqliteLocks(s),
    signingKeys: new SqliteSigningKeys(s),
  };
}

/**
 * Opens (creating and migrating as needed) the SQLite store. `dataDir` keeps the database as `facegate.db` inside
 * it; the folder is created owner-only (0700) and a new database file 0600, since it holds biometric data.
 */
export function openSqliteStore(opts: SqliteStoreOptions): SqliteStore {
  const batchSize = opts.iterateBatchSize ?? 500;
  const conn = new SqliteConnection(resolveDbFile(opts), {
    busyTimeoutMs: opts.busyTimeoutMs ?? 5000,
    synchronous: opts.synchronous ?? 'FULL',
    transactionTimeoutMs: opts.transactionTimeoutMs ?? 30_000,
    migrations: opts.migrations,
  });
  return {
    ...repos(conn.top, batchSize),
    backend: 'sqlite',
    file: conn.file,
    schemaVersion: () => conn.schemaVersion(),
    transaction: (fn) => conn.transaction((scope) => fn(repos(scope, batchSize))),
    async indexGeneration() {
      conn.assertUsable('indexGeneration');
      return (conn.writer.prepare('SELECT value FROM index_generation WHERE id = 1').get() as { value: number }).value;
    },
    async watchChanges(onWake) {
      conn.assertUsable('watchChanges');
      // One process writes: a commit that appended changes is the only event there is.
      const stop = conn.onCommitWithChanges(onWake);
      return { close: async () => void stop() };
    },
    healthy: async () => conn.healthy(),
    close: () => conn.close(),
  };
}
