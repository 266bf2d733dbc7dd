// PostgreSQL for tests: FACEGATE_TEST_DATABASE_URL names a server (any database on it, usually `postgres`); each
// test file gets a fresh database of its own, dropped afterwards. Without the variable the PostgreSQL tests skip
// with a message saying how to run them, except in CI (CI=true), where a missing database is a failure.
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import pg from 'pg';
import { PG_HOW, PG_HOW_TO_RUN, PG_TEST_URL, skipPostgres } from './postgresEnv.js';
import { afterAll, beforeAll, describe, it } from 'vitest';

export { PG_HOW_TO_RUN, PG_TEST_URL, skipPostgres } from './postgresEnv.js';

/**
 * Marks that this run skipped PostgreSQL tests; the global setup (test/support/globalSetup.ts) prints the how-to-run
 * notice once at the end of the run, not once per file. Run outside that setup, it says so itself.
 */
export function noteSkipped(): void {
  if (!skipPostgres) return;
  const mark = process.env.FACEGATE_PG_SKIPPED;
  if (mark) appendFileSync(mark, '');
  else if (!warned) {
    warned = true;
    console.warn(PG_HOW_TO_RUN);
  }
}
let warned = false;

function serverUrl(): string {
  if (!PG_TEST_URL) {
    throw new Error(`CI=true but FACEGATE_TEST_DATABASE_URL is not set: the PostgreSQL tests must run in CI. ${PG_HOW}`);
  }
  return PG_TEST_URL;
}

/** `url` with its database replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: serverUrl() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export interface TestDatabase {
  /** Connection string of the fresh database. */
  url: string;
  name: string;
  /** Drops the database (closing whatever connections are left). */
  drop(): Promise<void>;
}

/** Creates a fresh, empty database on the test server. */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const safe = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 30);
  const name = `facegate_${safe}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  return {
    url: withDatabase(serverUrl(), name),
    name,
    drop: () => admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))),
  };
}

/**
 * Registers beforeAll/afterAll hooks that create a database for this file and drop it afterwards; call at the top of
 * a `describe` that is skipped with `skipPostgres`. Returns a getter for the database's URL.
 */
export function useTestDatabase(label = 'test'): { url: () => string } {
  let db: TestDatabase | null = null;
  beforeAll(async () => {
    db = await createTestDatabase(label);
  });
  afterAll(async () => {
    await db?.drop();
  });
  return {
    url: () => {
      if (!db) throw new Error('test database not created yet (use it inside a test or hook)');
      return db.url;
    },
  };
}

/**
 * `describe` for PostgreSQL-only tests: skipped with the how-to-run message without a database outside CI; in CI
 * without a database the suite fails (see serverUrl).
 */
export function describePostgres(name: string, fn: () => void): void {
  if (skipPostgres) noteSkipped();
  const body = PG_TEST_URL
    ? fn
    : () => {
        // Only reached in CI without a database: fail loudly instead of skipping.
        it('has a PostgreSQL database to run against', () => {
          serverUrl();
        });
      };
  describe.skipIf(skipPostgres)(skipPostgres ? `${name} [skipped: FACEGATE_TEST_DATABASE_URL is not set]` : name, body);
}
