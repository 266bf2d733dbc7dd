import pg from 'pg';
import { expect, it } from 'vitest';
import { createTestDatabase, describePostgres, useTestDatabase } from '../support/postgres.js';

describePostgres('test databases', () => {
  const db = useTestDatabase('support');

  it('gives each file a fresh, empty database', async () => {
    const c = new pg.Client({ connectionString: db.url() });
    await c.connect();
    try {
      const { rows } = await c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
      expect(rows[0].n).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('drops a database even while connections to it are open', async () => {
    const other = await createTestDatabase('drop');
    const c = new pg.Client({ connectionString: other.url });
    c.on('error', () => {}); // the forced drop terminates this connection
    await c.connect();
    await other.drop();
    const admin = new pg.Client({ connectionString: db.url() });
    await admin.connect();
    try {
      const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [other.name]);
      expect(rows).toHaveLength(0);
    } finally {
      await admin.end();
      await c.end().catch(() => {});
    }
  });
});
