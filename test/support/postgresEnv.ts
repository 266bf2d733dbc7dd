// Whether the PostgreSQL tests run, and how to make them run: plain values, importable outside a test file (the
// global setup prints the notice once per run).
export const PG_TEST_URL: string | null = process.env.FACEGATE_TEST_DATABASE_URL || null;
export const IN_CI = process.env.CI === 'true';

export const PG_HOW =
  'Run them with ' +
  '`scripts/pg-throwaway.sh start /tmp/pg 55432` then ' +
  '`FACEGATE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:55432/postgres npm test` ' +
  '(and `scripts/pg-throwaway.sh stop /tmp/pg 55432` afterwards).';

export const PG_HOW_TO_RUN = `PostgreSQL tests skipped: FACEGATE_TEST_DATABASE_URL is not set. ${PG_HOW}`;

/** True when the PostgreSQL tests must be skipped (no database, not in CI). */
export const skipPostgres: boolean = !PG_TEST_URL && !IN_CI;
