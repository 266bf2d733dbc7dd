// SQLite connections and transactions. better-sqlite3 is synchronous; the repositories (one module each in this
// folder) run their statements through a Scope, which decides where they go:
// - outside a transaction, a read runs on the read-only reader connection (WAL gives it the last committed snapshot,
//   so a request never sees another request's uncommitted rows and reads never wait for a writer), and a write runs
//   in its own BEGIN IMMEDIATE transaction on the one writer connection, queued behind the other writes of this
//   process;
// - inside `transaction(fn)`, everything runs on the writer in the open transaction (a write becomes a SAVEPOINT).
// The change feed's rows are appended right before COMMIT, one per face person touched, so commit order is seq
// order (one writer).
import { AsyncLocalStorage } from 'node:async_hooks';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { ConflictError } from '../../domain/errors.js';
import { PendingWrites, type WriteContext } from '../pendingWrites.js';
import { isoNow } from '../shared.js';
import { migrations as defaultMigrations, type Migration } from './migrations.js';

export const DB_FILE_NAME = 'facegate.db';

export type Query = (sql: string) => Statement;
export type Row = Record<string, unknown>;

export interface Scope {
  /** Runs a read (reader connection outside a transaction, the transaction's own connection inside). */
  read<T>(fn: (q: Query) => T): Promise<T>;
  /** Runs a write atomically; a unique-key violation becomes ConflictError(`entity`). */
  write<T>(entity: string, fn: (q: Query, w: WriteContext) => T): Promise<T>;
  /** True inside store.transaction(). */
  readonly inTransaction: boolean;
  readonly connection: SqliteConnection;
}

export interface SqliteConnectionOptions {
  busyTimeoutMs: number;
  synchronous: 'FULL' | 'NORMAL';
  transactionTimeoutMs: number;
  migrations?: readonly Migration[];
}

/** Runs async critical sections one at a time, in call order. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

function applyPragmas(db: Db, opts: { busyTimeoutMs: number; synchronous: string; writer: boolean }): void {
  db.pragma(`busy_timeout = ${opts.busyTimeoutMs}`);
  if (opts.writer) {
    // WAL: readers (this process's reader, the CLI) never block the writer and vice versa. Persistent in the file.
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') throw new Error(`could not switch ${db.name} to WAL (got ${mode})`);
    db.pragma(`synchronous = ${opts.synchronous}`);
    // Deleted rows (embeddings, thumbnails) are overwritten with zeros instead of lingering in free pages.
    db.pragma('secure_delete = ON');
    // Keeps the -wal file from staying large (it also holds old page images) after a checkpoint.
    db.pragma('journal_size_limit = 8388608');
  }
  db.pragma('foreign_keys = ON');
}

/**
 * Brings the file's schema up to the newest migration; returns the resulting version (the highest applied).
 * Versions must increase but may have gaps: branches developed side by side each take their own number, and a file
 * migrated by a build that had 6 but not yet 4 gets 4 applied later. So every known migration missing from
 * `schema_migrations` runs, in version order; one the file has but this build does not know means a newer build.
 */
export function migrate(db: Db, list: readonly Migration[] = defaultMigrations): number {
  for (let i = 0; i < list.length; i++) {
    if (!Number.isInteger(list[i].version) || list[i].version < 1 || (i > 0 && list[i].version <= list[i - 1].version)) {
      throw new Error(`migrations must have increasing positive versions (found ${list[i].version} at ${i})`);
    }
  }
  const latest = list.length > 0 ? list[list.length - 1].version : 0;
  const run = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TEXT NOT NULL
    ) STRICT`);
    const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
    const known = new Set(list.map((m) => m.version));
    const unknown = [...applied].filter((v) => !known.has(v));
    if (unknown.length > 0) {
      throw new Error(`database schema has migration ${Math.max(...unknown)}, newer than this build knows (${latest}); upgrade Facegate`);
    }
    const insert = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of list) {
      if (applied.has(m.version)) continue;
      db.exec(m.sql);
      insert.run(m.version, m.name, isoNow());
    }
    db.pragma(`user_version = ${latest}`);
    return latest;
  });
  // IMMEDIATE: take the write lock before reading the version, so concurrent openers serialise here.
  const version = run.immediate();
  const problems = db.pragma('foreign_key_check') as unknown[];
  if (problems.length > 0) throw new Error(`foreign key violations after migration: ${JSON.stringify(problems.slice(0, 5))}`);
  return version;
}

function isUniqueViolation(e: unknown): boolean {
  return (
    e instanceof Database.SqliteError && (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
  );
}

/** Statement cache per connection: statements are prepared on first use. */
function statements(db: Db): Query {
  const cache = new Map<string, Statement>();
  return (sql) => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
}

export function resolveDbFile(opts: { dataDir: string } | { file: string }): string {
  return 'file' in opts ? path.resolve(opts.file) : path.resolve(opts.dataDir, DB_FILE_NAME);
}

export class SqliteConnection {
  readonly writer: Db;
  readonly reader: Db;
  private readonly qw: Query;
  private readonly qr: Query;
  private readonly lock = new Mutex();
  /** Set while the current async context runs inside transaction(). */
  private readonly txContext = new AsyncLocalStorage<{ active: boolean }>();
  private open = true;
  private scrubPending = false;
  private readonly wakeListeners = new Set<() => void>();
  readonly top: Scope;

  constructor(
    readonly file: string,
    private readonly opts: SqliteConnectionOptions,
  ) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // Create the file ourselves so it is 0600; SQLite gives -wal/-shm the same mode as the database.
    closeSync(openSync(file, 'a', 0o600));
    const writer = new Database(file, { timeout: opts.busyTimeoutMs });
    let reader: Db | undefined;
    try {
      applyPragmas(writer, { busyTimeoutMs: opts.busyTimeoutMs, synchronous: opts.synchronous, writer: true });
      migrate(writer, opts.migrations);
      reader = new Database(file, { readonly: true, fileMustExist: true, timeout: opts.busyTimeoutMs });
      applyPragmas(reader, { busyTimeoutMs: opts.busyTimeoutMs, synchronous: opts.synchronous, writer: false });
    } catch (e) {
      reader?.close();
      writer.close();
      throw e;
    }
    this.writer = writer;
    this.reader = reader;
    this.qw = statements(writer);
    this.qr = statements(reader);
    this.top = this.topScope();
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Throws when the store is closed, or when a top-level method is called from inside a transaction's callback. */
  assertUsable(what: string): void {
    if (!this.open) throw new Error('store is closed');
    if (this.txContext.getStore()?.active) {
      throw new Error(`store.${what} called inside store.transaction(): use the repositories passed to the callback`);
    }
  }

  /** Opens a short-lived read-only connection (iterateIndexEntries holds one read transaction on it). */
  openSnapshotConnection(): Db {
    const db = new Database(this.file, { readonly: true, fileMustExist: true, timeout: this.opts.busyTimeoutMs });
    db.pragma(`busy_timeout = ${this.opts.busyTimeoutMs}`);
    return db;
  }

  onCommitWithChanges(listener: () => void): () => void {
    this.wakeListeners.add(listener);
    return () => this.wakeListeners.delete(listener);
  }

  private runWrite<T>(entity: string, fn: () => T): T {
    try {
      // A SAVEPOINT when a transaction is open (so a failed statement undoes only this write).
      return this.writer.transaction(fn)();
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError(`conflict: ${entity} already exists`, entity);
      throw e;
    }
  }

  /** Appends the feed rows; called right before COMMIT. */
  private flush(p: PendingWrites): void {
    if (p.touched.size === 0) return;
    const at = isoNow();
    const ins = this.qw('INSERT INTO index_changes (client_id, person_id, at) VALUES (?, ?, ?)');
    for (const t of p.touched.values()) ins.run(t.client, t.person, at);
  }

  private afterCommit(p: PendingWrites): void {
    if (p.biometric) this.scrubPending = true;
    this.scrub();
    if (p.touched.size > 0) {
      for (const l of this.wakeListeners) {
        try {
          l();
        } catch {
          // a listener's failure is its own; the data is committed
        }
      }
    }
  }

  /**
   * After biometric rows are deleted and committed: move the WAL into the database file and truncate it, so the
   * deleted rows' old page images do not linger in the -wal file (secure_delete already zeroes them in the main
   * file). Best effort: a reader holding an old snapshot (another process) can keep the checkpoint partial.
   */
  private scrub(): void {
    if (!this.scrubPending || this.writer.inTransaction) return;
    // No waiting: a TRUNCATE checkpoint would otherwise block this (single) thread for up to busy_timeout while a
    // reader holds an old snapshot - possibly our own iterateIndexEntries() connection, which then could never
    // finish. If it cannot complete now, it is retried after the next write. Never throws: the data is committed.
    try {
      this.writer.pragma('busy_timeout = 0');
      const [r] = this.writer.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      this.scrubPending = r?.busy !== 0;
    } catch {
      this.scrubPending = true;
    } finally {
      this.writer.pragma(`busy_timeout = ${this.opts.busyTimeoutMs}`);
    }
  }

  private topScope(): Scope {
    const self = this;
    return {
      inTransaction: false,
      connection: this,
      async read(fn) {
        self.assertUsable('read');
        return fn(self.qr);
      },
      async write(entity, fn) {
        // Checked before queueing: inside a transaction, waiting for the lock would wait for ourselves.
        self.assertUsable('write');
        return self.lock.run(() => {
          if (!self.open) throw new Error('store is closed');
          const pending = new PendingWrites();
          const result = self.writer
            .transaction(() => {
              const r = self.runWrite(entity, () => fn(self.qw, pending));
              self.flush(pending);
              return r;
            })
            .immediate();
          self.afterCommit(pending);
          return result;
        });
      },
    };
  }

  /** Runs `fn` in one BEGIN IMMEDIATE transaction on the writer, queued behind this process's other writes. */
  transaction<T>(fn: (scope: Scope) => Promise<T>): Promise<T> {
    this.assertUsable('transaction');
    return this.lock.run(async () => {
      if (!this.open) throw new Error('store is closed');
      const state = { active: true };
      const pending = new PendingWrites();
      const self = this;
      // The callback's repositories stop working once the transaction ends, so a leaked reference cannot write
      // outside the lock.
      const live = (what: string): void => {
        if (!state.active) throw new Error(`transaction already finished (${what})`);
      };
      const scope: Scope = {
        inTransaction: true,
        connection: this,
        async read(f) {
          live('read');
          return f(self.qw);
        },
        async write(entity, f) {
          live('write');
          return self.runWrite(entity, () => f(self.qw, pending));
        },
      };
      this.writer.exec('BEGIN IMMEDIATE');
      let timer: NodeJS.Timeout | undefined;
      try {
        const work = (async () => this.txContext.run(state, () => fn(scope)))();
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            work.catch(() => undefined); // its later failure is expected, not unhandled
            reject(new Error(`transaction still running after ${this.opts.transactionTimeoutMs} ms: rolled back`));
          }, this.opts.transactionTimeoutMs);
        });
        const result = await Promise.race([work, timeout]);
        state.active = false;
        this.flush(pending);
        this.writer.exec('COMMIT');
        this.afterCommit(pending);
        return result;
      } catch (e) {
        state.active = false;
        if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
        throw e;
      } finally {
        clearTimeout(timer);
      }
    });
  }

  schemaVersion(): number {
    return (this.writer.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
  }

  healthy(): boolean {
    if (!this.open) return false;
    try {
      this.writer.prepare('SELECT 1').get();
      this.reader.prepare('SELECT 1').get();
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (!this.open) return;
    await this.lock.run(() => {
      if (!this.open) return;
      this.open = false;
      this.wakeListeners.clear();
      this.reader.close();
      try {
        this.writer.pragma('optimize'); // refreshes planner statistics where SQLite thinks they are stale; cheap
      } finally {
        this.writer.close();
      }
    });
  }
}
