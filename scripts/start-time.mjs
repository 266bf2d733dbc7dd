#!/usr/bin/env node
// A fresh clone's start-to-first-answer, as a newcomer meets it: clone a commit of this repository into a temporary
// folder, install it (node_modules is this checkout's, linked: the packages and the face models are what `npm ci`
// would install; the clone's own install step is run, i.e. its "prepare" script where it has one), then run
// `npm start` N times, each on an empty DATA_DIR, timing from the spawn until `GET /health` answers 200.
//
//   node scripts/start-time.mjs [--ref HEAD] [--runs 3]
//
// Prints one JSON object: the commit, the install step's time, each start's time and their median, and the load
// average before and after (the machine is shared: compare commits measured in the same session).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { ref: { type: 'string', default: 'HEAD' }, runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);
const commit = execFileSync('git', ['-C', repo, 'rev-parse', values.ref], { encoding: 'utf8' }).trim();

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function startOnce(clone) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'facegate-start-data-'));
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn('npm', ['start'], { cwd: clone, env: { ...process.env, DATA_DIR: dataDir, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited:\n${out.slice(-3000)}`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}/health`)).status === 200) break;
      } catch {
        // not listening yet
      }
      if (performance.now() - t0 > 600_000) throw new Error(`no answer after 600 s:\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return Math.round(performance.now() - t0);
  } finally {
    process.kill(-child.pid, 'SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const clone = mkdtempSync(path.join(os.tmpdir(), 'facegate-clone-'));
try {
  const load0 = os.loadavg()[0];
  execFileSync('git', ['clone', '--quiet', '--no-checkout', repo, clone]);
  execFileSync('git', ['-C', clone, 'checkout', '--quiet', commit]);
  symlinkSync(realpathSync(path.join(repo, 'node_modules')), path.join(clone, 'node_modules'));
  const pkg = JSON.parse(readFileSync(path.join(clone, 'package.json'), 'utf8'));
  const t0 = performance.now();
  // What `npm ci` runs after unpacking: postinstall (models, already in node_modules) and prepare.
  if (pkg.scripts?.prepare) {
    const r = spawnSync('npm', ['run', 'prepare'], { cwd: clone, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('the install step failed');
  }
  const installMs = Math.round(performance.now() - t0);
  const startsMs = [];
  for (let i = 0; i < runs; i++) startsMs.push(await startOnce(clone));
  console.log(
    JSON.stringify({
      commit,
      cores: os.cpus().length,
      install_step_ms: installMs,
      starts_ms: startsMs,
      first_start_ms: startsMs[0],
      median_start_ms: median(startsMs),
      loadavg_before: load0,
      loadavg_after: os.loadavg()[0],
    }),
  );
} finally {
  rmSync(clone, { recursive: true, force: true });
}
