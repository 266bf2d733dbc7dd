// The operators' CLI on the PostgreSQL store (DATABASE_URL as the server reads it): tokens and clients work the
// same as on SQLite, an empty database is refused unless --create says to make the tables (as a missing SQLite file
// is), and the database URL it names has no password in it.
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { authenticate } from '../src/domain/tokens.js';
import { openPgStore } from '../src/store/postgres/store.js';
import { describePostgres, useTestDatabase } from './support/postgres.js';
import { tempDir } from './store/helpers.js';

describePostgres('cli on PostgreSQL', () => {
  const db = useTestDatabase('cli');
  const dir = tempDir('facegate-cli-pg-');
  afterAll(() => dir.cleanup());

  async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    // The cluster trusts local connections, so any password works; the CLI must never print it.
    const env = { DATA_DIR: dir.dir, DATABASE_URL: db.url().replace('postgres@', 'postgres:secret-pw@') };
    const code = await runCli(argv, { env, out: (l) => out.push(...l.split('\n')), err: (l) => err.push(...l.split('\n')) });
    return { code, out, err };
  }

  it('refuses an empty database (a mistyped DATABASE_URL) without --create, and creates nothing in it', async () => {
    for (const argv of [['tokens', 'create', '--client', 'acme'], ['tokens', 'list'], ['clients', 'list']]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.err.join('\n')).toMatch(/^error: the database postgres:\/\/postgres:\*\*\*@.* has no Facegate tables \(is DATABASE_URL right\?\).*add --create/);
      expect(r.out).toEqual([]);
    }
    const c = new pg.Client({ connectionString: db.url() });
    await c.connect();
    try {
      const { rows } = await c.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`);
      expect(rows[0].n).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('creates, lists and revokes tokens and lists clients, in the database, not in DATA_DIR', async () => {
    const made = await cli('tokens', 'create', '--client', 'acme', '--label', 'ci', '--create');
    expect(made.code).toBe(0);
    expect(made.err[0]).toMatch(/ \(created now\)$/);
    const token = made.out.at(-1)!;
    expect(token).toMatch(/^fg_/);
    expect(made.err.join('\n')).toContain('database: postgres://postgres:***@');
    expect(made.err.join('\n')).not.toContain('secret-pw');

    const store = await openPgStore({ connectionString: db.url() });
    try {
      expect(await authenticate(store, token)).toMatchObject({ client: { name: 'acme' }, token: { label: 'ci' } });
      const list = await cli('tokens', 'list');
      expect(list.code).toBe(0);
      expect(list.out).toHaveLength(2);
      const id = list.out[1].split(/\s+/)[0];
      expect(await cli('tokens', 'revoke', id)).toMatchObject({ code: 0, out: [`revoked ${id}`] });
      expect(await authenticate(store, token)).toBe('revoked');
      const clients = await cli('clients', 'list');
      expect(clients.out[1]).toMatch(/acme .* 0$/);
    } finally {
      await store.close();
    }
  });
});
