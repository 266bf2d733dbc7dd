// The operators' CLI on the PostgreSQL store (DATABASE_URL as the server reads it): tokens and clients work the
// same as on SQLite, and the database URL it names has no password in it.
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

  it('creates, lists and revokes tokens and lists clients, in the database, not in DATA_DIR', async () => {
    const made = await cli('tokens', 'create', '--client', 'acme', '--label', 'ci');
    expect(made.code).toBe(0);
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
