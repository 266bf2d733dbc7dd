// Whether a PostgreSQL database already holds Facegate's schema, without creating or migrating anything: the token
// CLI asks before it writes, so that a mistyped DATABASE_URL (an empty database) is refused, not silently given
// tables and a token no server will ever see (the SQLite guard's rule, src/cli.ts).
import pg from 'pg';

export async function pgSchemaExists(connectionString: string): Promise<boolean> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ present: boolean }>(`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`);
    return rows[0].present;
  } finally {
    await client.end();
  }
}
