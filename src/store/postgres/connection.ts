// PostgreSQL connections and transactions, over one `pg` Pool. The repositories (one module each in this folder)
// run their statements through a Scope:
// - outside a transaction, a read is one pooled query, and a write runs in its own short transaction;
// - inside `transaction(fn)`, everything runs on the one client holding the open transaction.
// Right before COMMIT, a transaction that changed what the vector index holds appends one change-feed row per face
// person under pg_advisory_xact_lock(FEED_LOCK), held until the commit: the feed's seqs are then handed out in
// commit order, so a follower that has read seq N can never later see a smaller seq appear. It also NOTIFYs
// `facegate_changes` (delivered at commit) to wake the other instances.
//
// A database that cannot be reached (refused, lost, pool exhausted past its timeout, shutting down) surfaces as
// StoreUnavailableError; nothing is written then, and the pool opens fresh connections once the server is back.
import pg from 'pg';
import { ConflictError, StoreUnavailableError } from '../../domain/errors.js';
import { PendingWrites, type WriteContext } from '../pendingWrites.js';
import { isoNow } from '../shared.js';
import { pgMigrations, type PgMigration } from './migrations.js';

export type Row = Record<string, unknown>;
export type Q = (sql: string, params?: unknown[]) => Promise<{ rows: Row[]; rowCount: number }>;

/** Advisory lock keys (two-int form, so they never collide with the one-bigint dedup keys). */
const LOCK_SPACE = 0x46616365; // 'Face'
export const MIGRATION_LOCK = [LOCK_SPACE, 1] as const;
export const FEED_LOCK = [LOCK_SPACE, 2] as const;
export const CHANGES_CHANNEL = 'facegate_changes';
const GUARDED = Symbol('facegate.errorListener');

export interface Scope {
  read<T>(fn: (q: Q) => Promise<T>): Promise<T>;
  write<T>(entity: string, fn: (q: Q, w: WriteContext) => Promise<T>): Promise<T>;
  readonly inTransaction: boolean;
  readonly connection: PgConnection;
}

export interface PgConnectionOptions {
  connectionString: string;
  /** Pool size. Default 10. */
  poolSize?: number;
  /** How long a request waits for a pooled connection (or a new one) before StoreUnavailableError. Default 5000. */
  connectTimeoutMs?: number;
  /** Server-side limit for one statement (ms). Default 30000. */
  statementTimeoutMs?: number;
  migrations?: readonly PgMigration[];
}

// Connection failures by SQLSTATE class: 08 connection exception, 57P01-57P03 shutting down / cannot connect now,
// 53300 too many connections.
const UNAVAILABLE_SQLSTATE = /^(08|57P0[123]|53300)/;
const UNAVAILABLE_NODE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);

/** True when `e` says the database cannot be reached (rather than that a statement is wrong). */
export function isUnavailable(e: unknown): boolean {
  if (e instanceof StoreUnavailableError) return true;
  const err = e as { code?: string; message?: string } | null;
  if (!err) return false;
  if (typeof err.code === 'string' && (UNAVAILABLE_SQLSTATE.test(err.code) || UNAVAILABLE_NODE.has(err.code))) return true;
  const m = typeof err.message === 'string' ? err.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|not queryable/i.test(m);
}

/** Maps driver errors to the store's: unreachable → StoreUnavailableError, unique violation → ConflictError. */
export function mapError(e: unknown, entity?: string): unknown {
  if (isUnavailable(e)) return e instanceof StoreUnavailableError ? e : new StoreUnavailableError(2, { cause: e });
  if (entity && (e as { code?: string })?.code === '23505') return new ConflictError(`conflict: ${entity} already exists`, entity);
  return e;
}

function queryOn(client: pg.Pool | pg.PoolClient): Q {
  return async (sql, params) => {
    const r = await client.query(sql, params as unknown[]);
    return { rows: r.rows as Row[], rowCount: r.rowCount ?? 0 };
  };
}

/** Tables whose deleted rows held biometric data (embeddings, face images). */
const BIOMETRIC_TABLES = 'face_templates, face_thumbnails, liveness_session_frames';
/** Deletions within this long share one VACUUM. */
const VACUUM_DELAY_MS = 2000;

export class PgConnection {
  readonly pool: pg.Pool;
  readonly top: Scope;
  private closed = false;
  private vacuumTimer: NodeJS.Timeout | undefined;

  constructor(readonly opts: PgConnectionOptions) {
    this.pool = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      statement_timeout: opts.statementTimeoutMs ?? 30_000,
      application_name: 'facegate',
    });
    // An idle pooled connection that the server drops (restart, failover) reports here; without a listener the
    // process would crash. The pool discards it and opens a new one on the next checkout.
    this.pool.on('error', () => undefined);
    this.top = this.topScope();
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }

  /** Checks out a client; unreachable → StoreUnavailableError. */
  async checkout(): Promise<pg.PoolClient> {
    this.assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw mapError(e);
    }
    // A connection lost while checked out is also emitted as an 'error' event on the client; the query in flight
    // rejects with it anyway (and the client is destroyed on release), so the event needs no handling, but without
    // a listener it would crash the process.
    const c = client as pg.PoolClient & { [GUARDED]?: true };
    if (!c[GUARDED]) {
      c[GUARDED] = true;
      c.on('error', () => undefined);
    }
    return client;
  }

  /** Appends the feed rows and the wake-up; called right before COMMIT. */
  private async flush(q: Q, p: PendingWrites): Promise<void> {
    if (p.touched.size === 0) return;
    const clients: string[] = [];
    const persons: string[] = [];
    for (const t of p.touched.values()) {
      clients.push(t.client);
      persons.push(t.person);
    }
    // Takes FEED_LOCK, appends the rows, NOTIFYs CHANGES_CHANNEL: one round trip (migration 2).
    await q('SELECT facegate_append_changes($1::text[], $2::text[], $3)', [clients, persons, isoNow()]);
  }

  /** Runs `fn` on one client inside BEGIN … COMMIT; rolls back on any failure. */
  private async inTransaction<T>(fn: (q: Q, p: PendingWrites, client: pg.PoolClient) => Promise<T>, entity?: string): Promise<T> {
    const client = await this.checkout();
    const q = queryOn(client);
    const pending = new PendingWrites();
    let broken: Error | undefined;
    try {
      await q('BEGIN');
      const result = await fn(q, pending, client);
      await this.flush(q, pending);
      await q('COMMIT');
      if (pending.biometric) this.scheduleVacuum();
      return result;
    } catch (e) {
      if (isUnavailable(e)) broken = e as Error;
      else await client.query('ROLLBACK').catch((err: Error) => (broken = err));
      throw mapError(e, entity);
    } finally {
      // A client whose connection failed is destroyed, not returned to the pool.
      client.release(broken);
    }
  }

  /**
   * PostgreSQL keeps a deleted row's bytes in its page until VACUUM reclaims the space (there is no secure_delete):
   * soon after an erasure, vacuum the biometric tables so the space is reused and the index entries go. Best
   * effort, in the background; an autovacuum would get there too, later. docs/storage.md says what remains.
   */
  private scheduleVacuum(): void {
    if (this.vacuumTimer || this.closed) return;
    this.vacuumTimer = setTimeout(() => {
      this.vacuumTimer = undefined;
      if (this.closed) return;
      this.pool.query(`VACUUM ${BIOMETRIC_TABLES}`).catch(() => undefined);
    }, VACUUM_DELAY_MS);
    this.vacuumTimer.unref?.();
  }

  private topScope(): Scope {
    const self = this;
    const q = queryOn(this.pool);
    return {
      inTransaction: false,
      connection: this,
      async read(fn) {
        self.assertOpen();
        try {
          return await fn(q);
        } catch (e) {
          throw mapError(e);
        }
      },
      write(entity, fn) {
        return self.inTransaction((tq, p) => fn(tq, p), entity);
      },
    };
  }

  /** Runs `fn` in one transaction: all its writes land, or none. */
  transaction<T>(fn: (scope: Scope) => Promise<T>): Promise<T> {
    return this.inTransaction(async (q, pending) => {
      const state = { active: true };
      const live = (): void => {
        if (!state.active) throw new Error('transaction already finished');
      };
      const scope: Scope = {
        inTransaction: true,
        connection: this,
        async read(f) {
          live();
          return f(q);
        },
        async write(entity, f) {
          live();
          // A savepoint per write: a failed one (say a ConflictError the caller catches) undoes only its own
          // statements instead of aborting the whole transaction, as on SQLite.
          await q('SAVEPOINT facegate_write');
          try {
            const r = await f(q, pending);
            await q('RELEASE SAVEPOINT facegate_write');
            return r;
          } catch (e) {
            if (!isUnavailable(e)) await q('ROLLBACK TO SAVEPOINT facegate_write').catch(() => undefined);
            throw mapError(e, entity);
          }
        },
      };
      try {
        return await fn(scope);
      } finally {
        state.active = false;
      }
    });
  }

  /**
   * Applies the migrations this database lacks, under a session advisory lock: instances starting at once queue
   * here, and each migration runs exactly once (in its own transaction, with its schema_migrations row).
   * Returns the resulting version.
   */
  async migrate(): Promise<number> {
    const list = this.opts.migrations ?? pgMigrations;
    for (let i = 0; i < list.length; i++) {
      if (!Number.isInteger(list[i].version) || list[i].version < 1 || (i > 0 && list[i].version <= list[i - 1].version)) {
        throw new Error(`migrations must have increasing positive versions (found ${list[i].version} at ${i})`);
      }
    }
    const latest = list.length > 0 ? list[list.length - 1].version : 0;
    const client = await this.checkout();
    let broken: Error | undefined;
    try {
      await client.query('SELECT pg_advisory_lock($1, $2)', [...MIGRATION_LOCK]);
      try {
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version    integer PRIMARY KEY,
          name       text NOT NULL,
          applied_at text NOT NULL
        )`);
        const applied = new Set((await client.query('SELECT version FROM schema_migrations')).rows.map((r) => Number(r.version)));
        const known = new Set(list.map((m) => m.version));
        const unknown = [...applied].filter((v) => !known.has(v));
        if (unknown.length > 0) {
          throw new Error(`database schema has migration ${Math.max(...unknown)}, newer than this build knows (${latest}); upgrade Facegate`);
        }
        for (const m of list) {
          if (applied.has(m.version)) continue;
          await client.query('BEGIN');
          try {
            await client.query(m.sql);
            await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, isoNow()]);
            await client.query('COMMIT');
          } catch (e) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw e;
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, $2)', [...MIGRATION_LOCK]).catch(() => undefined);
      }
      return latest;
    } catch (e) {
      if (isUnavailable(e)) broken = e as Error;
      throw mapError(e);
    } finally {
      client.release(broken);
    }
  }

  async schemaVersion(): Promise<number> {
    const { rows } = await this.top.read((q) => q('SELECT coalesce(max(version), 0)::int AS v FROM schema_migrations'));
    return rows[0].v as number;
  }

  async healthy(): Promise<boolean> {
    if (this.closed) return false;
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.vacuumTimer);
    await this.pool.end();
  }
}
