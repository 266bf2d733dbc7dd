// The server as an operator runs it: `npm start` in its own process on a real port. Against it, the README's
// walk-through runs as written (its shell blocks, in order, in one bash, in the scratch folder it makes) with
// multi-megabyte photos, followed by docs/examples.md's blocks (an example for every route), and its signature
// snippet checks a real answer; it greets the person at the terminal and at `GET /`; a port in use is refused in a
// sentence before the models load; a second server on the same DATA_DIR refuses to start; SIGTERM sent to
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

/** The fenced blocks of a markdown text, in order, with their language. */
function blocksOf(text: string): { lang: string; code: string }[] {
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], code: m[2] }));
}

/** The README's walk-through section's blocks. */
function walkThrough(): { lang: string; code: string }[] {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('## Walk-through with curl');
  const end = readme.indexOf('\n## ', start + 1);
  expect(start).toBeGreaterThan(0);
  return blocksOf(readme.slice(start, end));
}

/** The only changes made to the README's text: this server's port, and the repository for `npm run` (the
 *  walk-through runs in a scratch folder holding the photos, not in the repository). */
function adapt(code: string): string {
  return code.replaceAll('127.0.0.1:3000', `127.0.0.1:${port}`).replaceAll('npm run -s cli', `npm --prefix '${repoRoot}' run -s cli`);
}

/** docs/examples.md's answers, saved by its blocks in the scratch folder: each is what its route answers. */
function checkExamples(saved: (file: string) => any, ids: { person: string; collection: string }): void {
  const ok = (file: string) => {
    const a = saved(file);
    expect(a, `${file}: ${JSON.stringify(a).slice(0, 400)}`).toMatchObject({ id: expect.any(String), signature: expect.any(Object) });
    return a.data;
  };
  /** Stills of a phone photo may be judged not live: then a 409 that says what to try, never another error. */
  const liveOrRefused = (file: string) => {
    const a = saved(file);
    if (a.data !== undefined) return a.data;
    expect(a, `${file}: ${JSON.stringify(a).slice(0, 400)}`).toMatchObject({ message: expect.stringMatching(/^liveness_failed: /), code: 'ERROR' });
    expect(a.hint).toMatch(/light.*frames.*session/);
    return null;
  };
  expect(ok('collections.json').map((c: { _id: string }) => c._id)).toContain(ids.collection);
  expect(ok('collection-read.json')._id).toBe(ids.collection);
  expect(ok('collection-updated.json').description).toBe('Badge holders and contractors');
  expect(ok('persons.json').map((p: { _id: string }) => p._id)).toContain(ids.person);
  expect(ok('person-read.json')._id).toBe(ids.person);
  expect(ok('person-updated.json')).toMatchObject({ notes: 'Night shift', collections: [ids.collection, expect.any(String)] });
  expect(ok('search.json')[0]).toMatchObject({ id: ids.person, name: 'Jane Doe' });
  expect(ok('detected.json')).toHaveLength(1);
  expect(ok('crops.json')[0]).toMatchObject({ id: ids.person });
  expect(ok('verify.json')).toMatchObject({ match: { id: ids.person } });
  expect(ok('compare.json')).toMatchObject({ passed: true });
  expect(ok('liveness.json')).toMatchObject({ liveness_score: expect.any(Number), passed: expect.any(Boolean) });
  const found = liveOrRefused('search-live.json');
  if (found) expect(found.persons[0]).toMatchObject({ id: ids.person });
  expect(ok('compare-live.json')).toMatchObject({ passed: true, liveness: expect.any(Object) });
  expect(ok('compare-with-liveness.json')).toMatchObject({ comparison: { passed: true } });
  expect(ok('session.json')).toMatchObject({ status: 'CREATED', steps: expect.any(Array) });
  expect(['CREATED', 'IN_PROGRESS', 'FAILED']).toContain(ok('frames.json').status);
  expect(['CREATED', 'IN_PROGRESS', 'FAILED']).toContain(ok('session-status.json').status);
  const record = ok('record.json');
  expect(record).toMatchObject({ firstName: 'Ana', verificationStatus: 'pending' });
  expect(['verified', 'failed']).toContain(ok('record-liveness.json').verificationStatus);
  expect(ok('records.json').map((r: { id: string }) => r.id)).toContain(record.id);
  expect(ok('record-read.json').id).toBe(record.id);
  expect(ok('record-updated.json').phone).toBe('+57 300 555 0101');
  expect(ok('record-deleted.json')).toEqual({ id: record.id, deleted: true });
  expect(ok('person-detached.json')).toEqual({ _id: ids.person, deleted: false, collections: [ids.collection] });
  expect(ok('person-deleted.json')).toMatchObject({ _id: ids.person, deleted: true });
  ok('collection-deleted.json');
  expect(ok('search-after-delete.json')).toEqual([]);
  expect(Object.keys(saved('openapi.json').paths).length).toBeGreaterThan(20);
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
  // npm start builds first when dist/ is not current (prestart, scripts/build.mjs), then loads the models.
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
    // The walk-through's first block makes scratch/ and works in it: the photos go there, as the README says.
    const scratch = path.join(workDir, 'scratch');
    mkdirSync(scratch);
    writeFileSync(path.join(scratch, 'jane.jpg'), photos.enrol);
    writeFileSync(path.join(scratch, 'probe.jpg'), photos.probe);
    writeFileSync(path.join(scratch, 'selfie1.jpg'), photos.enrol);
    writeFileSync(path.join(scratch, 'selfie2.jpg'), photos.probe);

    const blocks = walkThrough();
    const readmeShell = blocks.filter((b) => b.lang === 'sh');
    expect(readmeShell.length).toBeGreaterThanOrEqual(5);
    expect(readmeShell[0].code).toMatch(/^mkdir -p scratch && cd scratch\n/);
    expect(readmeShell.some((b) => b.code.includes('npm run -s cli'))).toBe(true);
    // Then docs/examples.md, in the same terminal, as it says.
    const examples = blocksOf(readFileSync(path.join(repoRoot, 'docs/examples.md'), 'utf8'));
    expect(examples.every((b) => b.lang === 'sh')).toBe(true);
    const shell = [...readmeShell, ...examples];
    // Each block's output is preceded by a marker, to tell the blocks' answers apart.
    const script = ['set -e', ...shell.map((b, i) => `printf '\\n@@block ${i}@@\\n'\n${adapt(b.code)}`)].join('\n');
    const r = await run('bash', ['-c', script], { cwd: workDir, env: { DATA_DIR: dataDir }, timeoutMs: 420_000 });
    expect(r.stderr).not.toMatch(/Argument list too long/);
    expect(r.code, `${r.stderr}\n${r.stdout.slice(-3000)}`).toBe(0); // the tail: where it stopped
    const outputs = r.stdout.split(/\n@@block \d+@@\n/).slice(1).map((o) => o.trim());
    expect(outputs).toHaveLength(shell.length);

    const saved = (file: string) => JSON.parse(readFileSync(path.join(scratch, file), 'utf8'));
    const collection = saved('collection.json');
    expect(collection.data).toMatchObject({ name: 'Staff', description: 'Badge holders' });
    const enrolled = saved('enrolled.json');
    expect(enrolled.data, JSON.stringify(enrolled).slice(0, 500)).toMatchObject({ name: 'Jane Doe', collections: [collection.data._id] });
    expect(enrolled.data.thumbnails).toHaveLength(1);
    expect(r.stdout).toContain(`enrolled ${enrolled.data._id}`);
    const answer = saved('answer.json');
    expect(answer.data[0], JSON.stringify(answer)).toMatchObject({ id: enrolled.data._id });
    expect(answer.data[0].score).toBeGreaterThanOrEqual(0.7);
    // The selfies are Jane's photos again: refused as not live enough or as a duplicate, never for its format.
    const live = outputs[readmeShell.length - 1];
    expect(live).toMatch(/^\{"message":"(liveness_failed: |409:duplicated_person)/);
    checkExamples(saved, { person: enrolled.data._id, collection: collection.data._id });

    // The signature snippet, as printed, on the search answer; then on a tampered copy, which it must reject.
    const js = blocks.filter((b) => b.lang === 'js');
    expect(js).toHaveLength(1);
    // Saved under node_modules/ so that `import 'jose'` resolves as it does for a file saved in the repository.
    const dir = path.join(repoRoot, 'node_modules/.cache/facegate-readme-test');
    mkdirSync(dir, { recursive: true });
    const verify = path.join(dir, `verify-${process.pid}.mjs`);
    writeFileSync(verify, adapt(js[0].code));
    try {
      const ok = await run('node', [verify, 'answer.json'], { cwd: scratch, timeoutMs: 30_000 });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain(`signature valid: [{"id":"${enrolled.data._id}"`);
      writeFileSync(path.join(scratch, 'tampered.json'), JSON.stringify({ ...answer, data: [{ ...answer.data[0], score: 0.99 }] }));
      const bad = await run('node', [verify, 'tampered.json'], { cwd: scratch, timeoutMs: 30_000 });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain('is not the data the server signed');
    } finally {
      await rm(verify, { force: true });
    }
  }, 540_000);

  it('greets the person at the terminal with where things are, and GET / points at /docs and /console', async () => {
    expect(serverLog).toContain(`facegate: listening on ${base()} (127.0.0.1:${port}); API docs at ${base()}/docs, operator console at ${base()}/console`);
    const json = await fetch(`${base()}/`);
    expect(json.status).toBe(200);
    expect(await json.json()).toMatchObject({ docs: '/docs', console: '/console' });
    const html = await fetch(`${base()}/`, { headers: { accept: 'text/html' } });
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await html.text();
    expect(page).toContain('href="/docs"');
    expect(page).toContain('href="/console"');
  });

  it('a port in use is said in one plain sentence, before the models load', async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), 'facegate-port-'));
    try {
      const r = await run(process.execPath, ['dist/src/main.js'], { cwd: repoRoot, env: { DATA_DIR: other, PORT: String(port), ENGINE_WORKERS: '1' }, timeoutMs: 60_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`facegate: port ${port} on 127.0.0.1 is already in use (another Facegate server, or another program). Stop it, or start this one on another port: PORT=${port + 1} npm start`);
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
      expect(r.stdout).not.toContain('face engine ready');
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  }, 90_000);

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
