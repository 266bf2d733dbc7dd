import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { authenticate, hashToken } from '../src/domain/tokens.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/store.js';
import { tempDir } from './store/helpers.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** True once process `pid` has the file open (Linux /proc); undefined where that cannot be seen. */
function hasOpen(pid: number, file: string): boolean | undefined {
  if (!existsSync('/proc/self/fd')) return undefined;
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

let dir: string;
let removeDir: () => void;
beforeEach(async () => {
  ({ dir, cleanup: removeDir } = tempDir('facegate-cli-'));
  // The database the server creates on its first start: the CLI works on it, and never creates one unasked.
  await openSqliteStore({ dataDir: dir }).close();
});
afterEach(() => removeDir());

async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  return cliOn(dir, ...argv);
}

async function cliOn(dataDir: string, ...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env: { DATA_DIR: dataDir }, out: (l) => out.push(...l.split('\n')), err: (l) => err.push(...l.split('\n')) });
  return { code, out, err };
}

type Ran = { code: number; stdout: string; stderr: string; endedAt: number };

/** Runs the CLI as its own process: `npm run cli -- …`, or one node process with the tsx loader (its pid is the CLI's). */
function spawnCli(args: string[], opts: { viaNpm?: boolean } = {}): { child: ChildProcess; done: Promise<Ran> } {
  const [cmd, argv] = opts.viaNpm ? ['npm', ['run', 'cli', '--', ...args]] : [process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args]];
  let child!: ChildProcess;
  const done = new Promise<Ran>((resolve) => {
    child = execFile(cmd, argv, { cwd: repoRoot, env: { ...process.env, DATA_DIR: dir }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr, endedAt: Date.now() });
    });
  });
  return { child, done };
}

const lastLine = (s: string): string => s.trimEnd().split('\n').at(-1)!;

describe('cli (in-process)', () => {
  it('tokens create prints a working token as the last stdout line', async () => {
    const r = await cli('tokens', 'create', '--client', 'acme', '--ttl', '30d', '--label', 'ci');
    expect(r.code).toBe(0);
    const token = r.out.at(-1)!;
    expect(token).toMatch(/^fg_[A-Za-z0-9_-]{43}$/);
    expect(r.err.join('\n')).toMatch(/expires: +\d{4}-/);
    const store = openSqliteStore({ dataDir: dir });
    const auth = await authenticate(store, token);
    expect(auth).toMatchObject({ client: { name: 'acme' }, token: { label: 'ci' } });
    const expiresIn = Date.parse((auth as { token: { expiresAt: string } }).token.expiresAt) - Date.now();
    expect(Math.abs(expiresIn - 30 * 86_400_000)).toBeLessThan(60_000);
    await store.close();
  });

  it('tokens list shows ids, status and hash prefixes, never secrets or whole hashes', async () => {
    const t1 = (await cli('tokens', 'create', '--client', 'acme')).out.at(-1)!;
    const t2 = (await cli('tokens', 'create', '--client', 'globex', '--label', 'ops')).out.at(-1)!;
    const all = await cli('tokens', 'list');
    expect(all.code).toBe(0);
    const text = all.out.join('\n');
    for (const t of [t1, t2]) {
      expect(text).not.toContain(t);
      expect(text).not.toContain(t.slice(3, 20));
      expect(text).not.toContain(hashToken(t));
      expect(text).toContain(hashToken(t).slice(0, 8));
    }
    expect(all.out).toHaveLength(3);
    expect(all.out[0]).toMatch(/^ID\s+CLIENT\s+STATUS/);
    const acme = await cli('tokens', 'list', '--client', 'acme');
    expect(acme.out).toHaveLength(2);
    expect(acme.out[1]).toMatch(/acme\s+active/);
    expect((await cli('tokens', 'list', '--client', 'nobody')).code).toBe(1);
  });

  it('tokens revoke makes the token fail at once; revoking again fails', async () => {
    const token = (await cli('tokens', 'create', '--client', 'acme')).out.at(-1)!;
    const id = (await cli('tokens', 'list')).out[1].split(/\s+/)[0];
    const r = await cli('tokens', 'revoke', id);
    expect(r).toMatchObject({ code: 0, out: [`revoked ${id}`] });
    const store = openSqliteStore({ dataDir: dir });
    expect(await authenticate(store, token)).toBe('revoked');
    await store.close();
    expect((await cli('tokens', 'list')).out[1]).toMatch(/revoked/);
    const again = await cli('tokens', 'revoke', id);
    expect(again.code).toBe(1);
    expect(again.err[0]).toMatch(/no active token/);
  });

  it('clients list shows clients with their active token counts', async () => {
    await cli('tokens', 'create', '--client', 'acme');
    await cli('tokens', 'create', '--client', 'acme');
    await cli('tokens', 'create', '--client', 'globex', '--ttl', '1s');
    const r = await cli('clients', 'list');
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^ID\s+NAME\s+CREATED\s+ACTIVE TOKENS$/);
    expect(r.out[1]).toMatch(/acme .* 2$/);
    expect(r.out[2]).toMatch(/globex .* [01]$/);
  });

  it.each([
    [['tokens', 'create'], /--client NAME is required/],
    [['tokens', 'create', '--client', 'a b'], /invalid client name/],
    [['tokens', 'create', '--client', 'acme', '--ttl', 'forever'], /invalid TTL/],
    [['tokens', 'create', '--client', 'acme', '--colour', 'red'], /Unknown option '--colour'/],
    [['tokens', 'revoke'], /expected 1 argument/],
    [['tokens', 'list', 'extra'], /unexpected argument "extra"/],
    [['tokens', 'delete'], /unknown command "tokens delete"/],
    [['nope'], /unknown command "nope"/],
  ])('exits 2 with a clear message for %j', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(message);
    expect(r.err.join('\n')).toContain('Usage:');
    expect(r.out).toEqual([]);
  });

  it('does not create a database just to read one', async () => {
    const missing = path.join(dir, 'dat');
    const r = await cliOn(missing, 'tokens', 'list');
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/no database at .*is DATA_DIR right/);
    expect((await cliOn(missing, 'clients', 'list')).code).toBe(1);
    expect(existsSync(missing)).toBe(false);
  });

  it('tokens create on a mistyped DATA_DIR refuses, naming the file and the way out; --create makes one there', async () => {
    const missing = path.join(dir, 'dat');
    const r = await cliOn(missing, 'tokens', 'create', '--client', 'acme');
    expect(r.code).toBe(1);
    expect(r.out).toEqual([]); // no token that the server would not know
    expect(r.err[0]).toContain(`no database at ${path.join(missing, 'facegate.db')}`);
    expect(r.err[0]).toMatch(/DATA_DIR the server uses, or add --create/);
    expect(existsSync(missing)).toBe(false);

    const c = await cliOn(missing, 'tokens', 'create', '--client', 'acme', '--create');
    expect(c.code).toBe(0);
    expect(c.err[0]).toBe(`database: ${path.join(missing, 'facegate.db')} (created now)`);
    expect(existsSync(path.join(missing, 'facegate.db'))).toBe(true);
  });

  it('tokens create says which database it wrote to, and labels the token id apart from the secret', async () => {
    const r = await cli('tokens', 'create', '--client', 'acme');
    expect(r.code).toBe(0);
    const secret = r.out.at(-1)!;
    expect(r.out).toEqual([secret]); // stdout holds the secret alone
    const err = r.err.join('\n');
    expect(r.err[0]).toBe(`database: ${path.join(dir, 'facegate.db')}`);
    const id = /^token id: ([0-9a-f]{24}) .*not a credential/m.exec(err)?.[1];
    expect(id).toBeDefined();
    // stdout is not a terminal here (as in TOKEN=$(…)): stderr does not point at a line the reader cannot see.
    expect(err).toMatch(/^secret: +written to stdout \(where it was captured\).*Authorization: Bearer <secret>/m);
    expect(err).not.toContain('the line below');
    expect(err).not.toContain(secret);
    expect((await cli('tokens', 'list')).out[1].startsWith(id!)).toBe(true);
  });

  it('tokens create points at the line below only when stdout is a terminal', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['tokens', 'create', '--client', 'acme'], { env: { DATA_DIR: dir }, out: (l) => out.push(l), err: (l) => err.push(l), outIsTerminal: true });
    expect(code).toBe(0);
    expect(err.join('\n')).toMatch(/^secret: +the line below, shown once/m);
  });

  it('prints usage for help (0) and for nothing (2)', async () => {
    expect((await cli('help')).code).toBe(0);
    const none = await cli();
    expect(none.code).toBe(2);
    expect(none.out.join('\n')).toContain('tokens create --client NAME');
  });
});

describe('cli (separate process, as operators run it)', () => {
  let server: SqliteStore | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('works while the server holds the same DATA_DIR open, waiting out a write in progress', async () => {
    server = openSqliteStore({ dataDir: dir });
    const acme = await server.clients.create('acme');
    // The "server" holds the write lock across an await, as a request transaction does.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const tx = server.transaction(async (t) => {
      await t.collections.create({ client: acme.id, name: 'during-cli', description: '' });
      await gate;
    });
    const { child, done } = spawnCli(['tokens', 'create', '--client', 'acme', '--label', 'from-cli']);
    // Wait until the CLI has the database open (it then blocks on the lock), and a little more.
    const deadline = Date.now() + 20_000;
    while (hasOpen(child.pid!, server.file) === false && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    // Still running with the file open: it is waiting for our lock, not done already.
    expect(hasOpen(child.pid!, server.file)).not.toBe(false);
    const releasedAt = Date.now();
    release();
    await tx;
    const r = await done;
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.endedAt).toBeGreaterThanOrEqual(releasedAt);
    // The running server accepts the new token straight away, and its own write landed too.
    expect(await authenticate(server, lastLine(r.stdout))).toMatchObject({ client: { id: acme.id }, token: { label: 'from-cli' } });
    expect((await server.collections.list(acme.id, { page: 1, limit: 10 })).total).toBe(1);

    const list = await spawnCli(['tokens', 'list']).done;
    expect(list.code).toBe(0);
    const id = list.stdout.split('\n')[1].split(/\s+/)[0];
    expect((await spawnCli(['tokens', 'revoke', id]).done).code).toBe(0);
    expect(await authenticate(server, lastLine(r.stdout))).toBe('revoked');
  });

  it('npm run cli -- tokens create: the token is the last stdout line; bad usage exits 2', async () => {
    const r = await spawnCli(['tokens', 'create', '--client', 'acme'], { viaNpm: true }).done;
    expect(r.code).toBe(0);
    expect(lastLine(r.stdout)).toMatch(/^fg_[A-Za-z0-9_-]{43}$/);
    const bad = await spawnCli(['tokens', 'create']).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--client NAME is required/);
  });
});
