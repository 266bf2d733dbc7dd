// The server as an operator runs it: `npm start` in its own process on a real port. Against it, the README's
// walk-through runs as written (its shell blocks, in order, in one bash) with multi-megabyte photos, and its
// signature snippet checks a real answer; a second server on the same DATA_DIR refuses to start; SIGTERM sent to
// npm (as systemd, Docker and process managers send it) stops the server gracefully and frees DATA_DIR, and so
// does Ctrl-C, which reaches the server twice (from the terminal and from npm).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockDataDir, PID_FILE_NAME } from '../src/store/serverLock.js';
import { repoRoot } from './support/harness.js';
import { phonePhotos } from './support/phonePhotos.js';

let dataDir: string;
let workDir: string;
let port: number;
let npm: ChildProcess;
let npmExit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let serverLog = '';
let serverPid: number;

const MB = 1024 * 1024;
const base = () => `http://127.0.0.1:${port}`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitFor(what: string, ok: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}; server output:\n${serverLog.slice(-3000)}`);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs, maxBuffer: 64 * MB }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The README's walk-through section: its fenced blocks, in order, with their language. */
function walkThrough(): { lang: string; code: string }[] {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('## Walk-through with curl');
  const end = readme.indexOf('\n## ', start + 1);
  expect(start).toBeGreaterThan(0);
  const section = readme.slice(start, end);
  return [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], code: m[2] }));
}

/** The only changes made to the README's text: this server's port, and the repository for `npm run` (the
 *  walk-through runs in a scratch folder holding the photos, not in the repository). */
function adapt(code: string): string {
  return code.replaceAll('127.0.0.1:3000', `127.0.0.1:${port}`).replaceAll('npm run -s cli', `npm --prefix '${repoRoot}' run -s cli`);
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'facegate-server-'));
  workDir = await mkdtemp(path.join(os.tmpdir(), 'facegate-readme-'));
  port = await freePort();
  npm = spawn('npm', ['start'], {
    cwd: repoRoot,
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), ENGINE_WORKERS: '1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  npm.stdout!.on('data', (d) => (serverLog += d));
  npm.stderr!.on('data', (d) => (serverLog += d));
  npmExit = new Promise((resolve) => npm.once('exit', (code, signal) => resolve({ code, signal })));
  // npm start builds first (prestart), then loads the models.
  await waitFor('the server to answer /health', async () => {
    try {
      return (await fetch(`${base()}/health`)).status === 200;
    } catch {
      return false;
    }
  }, 540_000);
  serverPid = Number(/^pid (\d+)/.exec(readFileSync(path.join(dataDir, PID_FILE_NAME), 'utf8'))![1]);
}, 600_000); // generous: on a busy 2-core machine the build and the model load alone can take minutes

afterAll(async () => {
  // Only if a test failed before stopping it: the server first (npm may already be gone), then npm. The pid file
  // names the server even when start-up did not finish.
  const pidFile = path.join(dataDir, PID_FILE_NAME);
  if (!serverPid && existsSync(pidFile)) serverPid = Number(/^pid (\d+)/.exec(readFileSync(pidFile, 'utf8'))?.[1]);
  if (serverPid && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
  if (npm?.exitCode === null) npm.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
  await rm(workDir, { recursive: true, force: true });
});

describe('npm start, as operators run it', () => {
  it('runs the README walk-through as written, with a multi-megabyte photo, and verifies a signature the README way', async () => {
    const photos = await phonePhotos();
    expect(photos.enrol.length).toBeGreaterThanOrEqual(5 * MB);
    writeFileSync(path.join(workDir, 'jane.jpg'), photos.enrol);
    writeFileSync(path.join(workDir, 'probe.jpg'), photos.probe);
    writeFileSync(path.join(workDir, 'selfie1.jpg'), photos.enrol);
    writeFileSync(path.join(workDir, 'selfie2.jpg'), photos.probe);

    const blocks = walkThrough();
    const shell = blocks.filter((b) => b.lang === 'sh');
    expect(shell.length).toBeGreaterThanOrEqual(5);
    expect(shell.some((b) => b.code.includes('npm run -s cli'))).toBe(true);
    // Each block's output is preceded by a marker, to tell the blocks' answers apart.
    const script = ['set -e', ...shell.map((b, i) => `printf '\\n@@block ${i}@@\\n'\n${adapt(b.code)}`)].join('\n');
    const r = await run('bash', ['-c', script], { cwd: workDir, env: { DATA_DIR: dataDir }, timeoutMs: 240_000 });
    expect(r.stderr).not.toMatch(/Argument list too long/);
    expect(r.code, `${r.stderr}\n${r.stdout.slice(0, 2000)}`).toBe(0);
    const outputs = r.stdout.split(/\n@@block \d+@@\n/).slice(1).map((o) => o.trim());
    expect(outputs).toHaveLength(shell.length);

    const collection = JSON.parse(readFileSync(path.join(workDir, 'collection.json'), 'utf8'));
    expect(collection.data).toMatchObject({ name: 'Staff', description: 'Badge holders' });
    const enrolled = JSON.parse(readFileSync(path.join(workDir, 'enrolled.json'), 'utf8'));
    expect(enrolled.data, JSON.stringify(enrolled).slice(0, 500)).toMatchObject({ name: 'Jane Doe', collections: [collection.data._id] });
    expect(enrolled.data.thumbnails).toHaveLength(1);
    expect(r.stdout).toContain(`enrolled ${enrolled.data._id}`);
    const answer = JSON.parse(readFileSync(path.join(workDir, 'answer.json'), 'utf8'));
    expect(answer.data[0], JSON.stringify(answer)).toMatchObject({ id: enrolled.data._id });
    expect(answer.data[0].score).toBeGreaterThanOrEqual(0.8);
    // The selfies are Jane's photos again: refused as not live enough or as a duplicate, never for its format.
    const live = outputs.at(-1)!;
    expect(live).toMatch(/^\{"message":"(liveness_failed: |409:duplicated_person)/);

    // The signature snippet, as printed, on the search answer; then on a tampered copy, which it must reject.
    const js = blocks.filter((b) => b.lang === 'js');
    expect(js).toHaveLength(1);
    // Saved under node_modules/ so that `import 'jose'` resolves as it does for a file saved in the repository.
    const dir = path.join(repoRoot, 'node_modules/.cache/facegate-readme-test');
    mkdirSync(dir, { recursive: true });
    const verify = path.join(dir, `verify-${process.pid}.mjs`);
    writeFileSync(verify, adapt(js[0].code));
    try {
      const ok = await run('node', [verify, 'answer.json'], { cwd: workDir, timeoutMs: 30_000 });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain(`signature valid: [{"id":"${enrolled.data._id}"`);
      writeFileSync(path.join(workDir, 'tampered.json'), JSON.stringify({ ...answer, data: [{ ...answer.data[0], score: 0.99 }] }));
      const bad = await run('node', [verify, 'tampered.json'], { cwd: workDir, timeoutMs: 30_000 });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain('is not the data the server signed');
    } finally {
      await rm(verify, { force: true });
    }
  }, 300_000);

  it('a second server on the same DATA_DIR refuses to start, saying why and what to do', async () => {
    const r = await run(process.execPath, ['dist/src/main.js'], {
      cwd: repoRoot,
      env: { DATA_DIR: dataDir, PORT: String(await freePort()), ENGINE_WORKERS: '1' },
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`facegate: another Facegate server (pid ${serverPid} on ${os.hostname()}`);
    expect(r.stderr).toContain(`is using DATA_DIR ${dataDir}`);
    expect(r.stderr).toMatch(/Stop the other server first, or give this one its own DATA_DIR/);
    expect(r.stdout).not.toContain('face engine ready'); // refused before loading anything
    // The first one is untouched.
    expect((await fetch(`${base()}/health`)).status).toBe(200);
  }, 90_000);

  it('SIGTERM to npm start reaches the server, which finishes gracefully and frees the port and DATA_DIR', async () => {
    expect(alive(serverPid)).toBe(true);
    process.kill(npm.pid!, 'SIGTERM');
    const exit = await npmExit;
    await waitFor('the server process to end', () => !alive(serverPid), 30_000);
    expect(serverLog).toMatch(/"signal":"SIGTERM".*"msg":"shutting down"/);
    expect(serverLog).toContain('"msg":"vector index graphs saved for the next start"');
    expect(serverLog).toContain('"msg":"stopped"');
    expect(exit).toEqual({ code: 0, signal: null });
    await expect(fetch(`${base()}/health`)).rejects.toThrow();
    expect(existsSync(path.join(dataDir, PID_FILE_NAME))).toBe(false);
    lockDataDir(dataDir).release(); // free for the next server
  }, 60_000);

  it('Ctrl-C under npm start (SIGINT to npm and the server alike) still shuts down gracefully', async () => {
    // Ctrl-C signals the terminal's whole process group, and npm forwards its copy too: the server gets SIGINT
    // twice, a moment apart. npm runs in a group of its own here, signalled as a terminal would. (--ignore-scripts
    // skips the prestart build, done by the server above.)
    const p = await freePort();
    const child = spawn('npm', ['start', '--ignore-scripts'], {
      cwd: repoRoot,
      env: { ...process.env, DATA_DIR: dataDir, PORT: String(p), ENGINE_WORKERS: '1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let log = '';
    child.stdout!.on('data', (d) => (log += d));
    child.stderr!.on('data', (d) => (log += d));
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    try {
      await waitFor('the second server to answer /health', async () => {
        try {
          return (await fetch(`http://127.0.0.1:${p}/health`)).status === 200;
        } catch {
          return false;
        }
      }, 120_000);
      const pid = Number(/^pid (\d+)/.exec(readFileSync(path.join(dataDir, PID_FILE_NAME), 'utf8'))![1]);
      process.kill(-child.pid!, 'SIGINT');
      expect(await exited).toEqual({ code: 0, signal: null });
      await waitFor('the server process to end', () => !alive(pid), 30_000);
      expect(log).toContain('"msg":"stopped"');
      expect(log).not.toContain('second signal');
    } finally {
      // Only when something above failed: nothing of this group may outlive the test.
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
  }, 180_000);
});
