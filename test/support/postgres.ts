// PostgreSQL for tests: FACEGATE_TEST_DATABASE_URL names a server (any database on it, usually `postgres`); each
// test file gets a fresh database of its own, dropped afterwards. Without the variable the PostgreSQL tests skip
// with a message saying how to run them, except in CI (CI=true), where a missing database is a failure.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';

export const PG_TEST_URL: string | null = process.env.FACEGATE_TEST_DATABASE_URL || null;
const IN_CI = process.env.CI === 'true';

export const PG_HOW_TO_RUN =
  'PostgreSQL tests skipped: FACEGATE_TEST_DATABASE_URL is not set. Run them with ' +
  '`scripts/pg-throwaway.sh start /tmp/pg 55432` then ' +
  '`FACEGATE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:55432/postgres npm test` ' +
  '(and `scripts/pg-throwaway.sh stop /tmp/pg 55432` afterwards).';

/** True when the PostgreSQL tests must be skipped (no database, not in CI). */
export const skipPostgres: boolean = !PG_TEST_URL && !IN_CI;

let warned = false;
/** Prints the how-to-run message once per file when skipping. */
export function noteSkipped(): void {
  if (skipPostgres && !warned) {
    warned = true;
    console.warn(PG_HOW_TO_RUN);
  }
}

function serverUrl(): string {
  if (!PG_TEST_URL) {
    throw new Error(`CI=true but FACEGATE_TEST_DATABASE_URL is not set: the PostgreSQL tests must run in CI. ${PG_HOW_TO_RUN}`);
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
  describe.skipIf(skipPostgres)(skipPostgres ? `${name} [${PG_HOW_TO_RUN}]` : name, body);
}
