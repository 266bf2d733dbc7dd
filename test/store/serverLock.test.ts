// One server per DATA_DIR: the lock refuses a second holder (naming the first), lets the token CLI work beside it,
// and does not outlive its process, even one killed with SIGKILL.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { DataDirLockedError, lockDataDir, PID_FILE_NAME } from '../../src/store/serverLock.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { repoRoot } from '../support/harness.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('facegate-lock-')));
afterEach(() => cleanup());

describe('server lock on DATA_DIR', () => {
  it('refuses a second holder, naming the first and what to do; free again once released', () => {
    const first = lockDataDir(dir);
    expect(readFileSync(path.join(dir, PID_FILE_NAME), 'utf8')).toMatch(new RegExp(`^pid ${process.pid} on `));
    let err: unknown;
    try {
      lockDataDir(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as Error).message).toMatch(new RegExp(`another Facegate server \\(pid ${process.pid} on .*\\) is using DATA_DIR ${dir}\\.`));
    expect((err as Error).message).toMatch(/Stop the other server first, or give this one its own DATA_DIR/);
    first.release();
    expect(existsSync(path.join(dir, PID_FILE_NAME))).toBe(false);
    lockDataDir(dir).release();
  });

  it('leaves the token CLI working beside the server', async () => {
    await openSqliteStore({ dataDir: dir }).close();
    const lock = lockDataDir(dir);
    try {
      const out: string[] = [];
      const code = await runCli(['tokens', 'create', '--client', 'acme'], { env: { DATA_DIR: dir }, out: (l) => out.push(l), err: () => {} });
      expect(code).toBe(0);
      expect(out.at(-1)).toMatch(/^fg_/);
    } finally {
      lock.release();
    }
  });

  it('does not outlive a holder killed with SIGKILL', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '-e', `import('./src/store/serverLock.ts').then((m) => { m.lockDataDir(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000); })`],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d) => String(d).includes('locked') && resolve());
      child.once('exit', () => reject(new Error('the lock holder exited early')));
    });
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`pid ${child.pid} `));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    // The pid file is stale now, but the lock went with the process.
    expect(existsSync(path.join(dir, PID_FILE_NAME))).toBe(true);
    const again = lockDataDir(dir);
    expect(readFileSync(path.join(dir, PID_FILE_NAME), 'utf8')).toMatch(new RegExp(`^pid ${process.pid} `));
    again.release();
  });
});
