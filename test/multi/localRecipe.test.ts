// docs/deploy.md's local recipe, followed as written: its block runs in one bash in the checkout, with only the
// values a reader would change replaced (the PostgreSQL server's address, the role and database name, the folder
// and the ports). Two real instances start on the new database; a collection written through one is served by the
// other with the token the recipe issued.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { describePostgres, PG_TEST_URL } from '../support/postgres.js';
import { freePort, repoRoot } from '../support/server.js';

/** The recipe: the first fenced block of its section. */
function recipe(): string {
  const doc = readFileSync(path.join(repoRoot, 'docs/deploy.md'), 'utf8');
  const start = doc.indexOf('## A local recipe, step by step');
  expect(start).toBeGreaterThan(0);
  const m = /^```sh\n([\s\S]*?)^```$/m.exec(doc.slice(start));
  return m![1];
}

describePostgres('docs/deploy.md: the local recipe, as written', () => {
  const name = `fg_recipe_${randomBytes(4).toString('hex')}`;
  let dir: string;
  let group: number | undefined;
  const admin = () => new URL(PG_TEST_URL!);

  afterAll(async () => {
    // The instances the recipe started in the background, with the shell's whole process group.
    if (group) {
      try {
        process.kill(-group, 'SIGTERM');
      } catch {
        // already gone
      }
      await new Promise((r) => setTimeout(r, 1000));
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // gone
      }
    }
    const c = new pg.Client({ connectionString: PG_TEST_URL! });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS "${name}"`);
    } finally {
      await c.end();
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('makes the role and database, issues a token, builds once and runs two instances that share the data', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'facegate-recipe-'));
    const [p1, p2] = [await freePort(), await freePort()];
    const server = `${admin().hostname}:${admin().port}`;
    const block = recipe();
    // The values a reader adapts; everything else runs as printed.
    const script = block
      .replace(/^PGADMIN=.*$/m, `PGADMIN=${PG_TEST_URL}`)
      .replace(/^DB=facegate /m, `DB=${name} `)
      .replaceAll('127.0.0.1:5432', server)
      .replaceAll('/var/lib/facegate', dir)
      .replaceAll('3001', String(p1))
      .replaceAll('3002', String(p2));
    expect(script).toContain('npm run -s cli -- tokens create --client acme --create');
    expect(script).toMatch(/node dist\/src\/main\.js/);
    const child = spawn('bash', ['-c', `set -euo pipefail\n${script}`], {
      cwd: repoRoot,
      // A shell of our own: the instances it starts in the background share its process group, killed afterwards.
      detached: true,
      env: { ...process.env, ENGINE_WORKERS: '1', LOG_LEVEL: 'info', DATA_DIR: '', DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    group = child.pid;
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const logs = () => ['1', '2'].map((i) => { try { return readFileSync(path.join(dir, `${i}.log`), 'utf8').slice(-2000); } catch { return ''; } }).join('\n');
    expect(code, `${err}\n${out}\n${logs()}`).toBe(0);
    // The second instance lists what the first one created, with the recipe's token.
    const lines = out.trim().split('\n');
    const listed = JSON.parse(lines.at(-1)!);
    expect(listed.data.map((c: { name: string }) => c.name)).toEqual(['Staff']);
    // The CLI said where it wrote, without the password; each instance greeted in plain words.
    expect(err).toMatch(/database: postgres:\/\/fg_recipe_[0-9a-f]+:\*\*\*@.* \(created now\)/);
    expect(err).not.toContain('change-me');
    expect(logs()).toContain(`facegate: listening on http://127.0.0.1:${p1}`);
    expect(logs()).toContain(`facegate: listening on http://127.0.0.1:${p2}`);
  }, 400_000);
});
