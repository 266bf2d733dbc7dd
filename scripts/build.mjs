#!/usr/bin/env node
// `npm run build`, and the step before `npm start` and after `npm ci` (package.json "prestart", "prepare"):
// compiles the server (tsc → dist/src) and the console (esbuild → dist/console), unless dist/ was already built from
// exactly these sources, so a start costs a hash of the sources (~0.1 s), not a build (30 s on two busy cores).
//
// Why a content hash and not timestamps: a git checkout or a copy resets mtimes either way; the hash only changes
// when a source does. Why a lock: two `npm start`s from one checkout (two instances, docs/deploy.md) must not
// write the same dist/ at once; the second waits for the first and then finds dist/ current.
// `--force` builds even when dist/ is current.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const stampFile = path.join(dist, '.build-stamp.json');
const lockDir = path.join(dist, '.build-lock');
/** What the build reads: the sources, their compiler settings and the tools' versions (package-lock.json). */
const INPUTS = ['src', 'console', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
const STALE_LOCK_MS = 10 * 60_000;

function files(rel) {
  const abs = path.join(root, rel);
  if (!existsSync(abs)) return [];
  if (!statSync(abs).isDirectory()) return [rel];
  return readdirSync(abs, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? files(path.join(rel, e.name)) : e.isFile() ? [path.join(rel, e.name)] : []));
}

export function sourceHash() {
  const h = createHash('sha256');
  for (const f of INPUTS.flatMap(files)) h.update(`${f}\0`).update(readFileSync(path.join(root, f))).update('\0');
  return h.digest('hex');
}

function current(hash) {
  try {
    return (
      JSON.parse(readFileSync(stampFile, 'utf8')).hash === hash &&
      existsSync(path.join(dist, 'src', 'main.js')) &&
      existsSync(path.join(dist, 'console', 'index.html'))
    );
  } catch {
    return false;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Takes the build lock (a directory: mkdir is atomic), waiting for another build to finish. */
async function lock() {
  mkdirSync(dist, { recursive: true });
  let said = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      return;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(path.join(lockDir, 'pid'), 'utf8'));
    } catch {
      // being created or removed right now
    }
    let age = 0;
    try {
      age = Date.now() - statSync(lockDir).mtimeMs;
    } catch {
      continue;
    }
    // A builder that died (killed, machine rebooted) leaves its lock behind: take it over.
    if ((Number.isInteger(holder) && holder > 0 && !alive(holder)) || age > STALE_LOCK_MS) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!said) {
      process.stderr.write(`facegate: another build of ${dist} is running (pid ${holder}); waiting for it\n`);
      said = true;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`facegate: build failed (${[cmd, ...args].join(' ')})\n`);
    process.exit(r.status ?? 1);
  }
}

const force = process.argv.includes('--force');
if (!force && current(sourceHash())) process.exit(0);
await lock();
try {
  const hash = sourceHash(); // again: sources may have changed while we waited, or the other build made it current
  if (force || !current(hash)) {
    const t0 = Date.now();
    process.stderr.write('facegate: building dist/ (TypeScript and the console), once for these sources…\n');
    rmSync(stampFile, { force: true }); // a build that fails half-way leaves no stamp, so the next start rebuilds
    const bin = (name) => path.join(root, 'node_modules', '.bin', name);
    run(bin('tsc'), ['-p', 'tsconfig.build.json']);
    run(bin('tsx'), ['console/build.ts']);
    writeFileSync(stampFile, JSON.stringify({ hash, builtAt: new Date().toISOString() }) + '\n');
    process.stderr.write(`facegate: built in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
} finally {
  rmSync(lockDir, { recursive: true, force: true });
}
