#!/usr/bin/env node
// Install step (package.json "postinstall"): brings the ONNX face models into node_modules/.facegate-models/.
//
// Why not a plain dependency: the npm package that carries them (faceplugin-face-recognition-js@0.0.1, MIT) lists
// its build tools (babel 6, jest, eslint, webpack) as runtime dependencies — 431 packages and 312 MB. We fetch that
// one exact tarball through npm itself (same registry, proxy, auth and cache as the rest of the install), check its
// sha512 against the registry's integrity string, and keep only the model files, each checked against its sha256.
// Nothing is ever downloaded at run time: the engine refuses to start if a file is missing or altered.
// FACEGATE_MODELS_DIR points the engine (and this script) at a folder prepared by hand, for air-gapped installs.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const manifest = JSON.parse(readFileSync(path.join(here, '..', 'models.json'), 'utf8'));
const root = path.resolve(here, '..');
const dest = process.env.FACEGATE_MODELS_DIR
  ? path.resolve(process.env.FACEGATE_MODELS_DIR)
  : path.join(root, 'node_modules', '.facegate-models');

const sha = (algo, file) => createHash(algo).update(readFileSync(file)).digest(algo === 'sha512' ? 'base64' : 'hex');

function missing() {
  return manifest.files.filter((f) => {
    const p = path.join(dest, f.name);
    return !existsSync(p) || sha('sha256', p) !== f.sha256;
  });
}

function fail(msg) {
  console.error(`facegate: ${msg}`);
  process.exit(1);
}

if (missing().length === 0) process.exit(0);
if (process.env.FACEGATE_MODELS_DIR) fail(`FACEGATE_MODELS_DIR=${dest} lacks verified model files: ${missing().map((f) => f.name).join(', ')}`);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'facegate-models-'));
try {
  const npm = process.env.npm_execpath;
  const cmd = npm && npm.endsWith('.js') ? process.execPath : 'npm';
  const args = [...(cmd === process.execPath ? [npm] : []), 'pack', manifest.package, '--pack-destination', tmp, '--silent'];
  const packed = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (packed.status !== 0) fail(`could not fetch ${manifest.package} from the npm registry (npm pack exited ${packed.status})`);
  const tarball = path.join(tmp, packed.stdout.trim().split('\n').pop());
  const integrity = `sha512-${sha('sha512', tarball)}`;
  if (integrity !== manifest.integrity) fail(`${manifest.package}: tarball integrity ${integrity} does not match ${manifest.integrity}`);
  const inside = manifest.files.map((f) => `package/${f.path}`);
  const untar = spawnSync('tar', ['-xzf', tarball, '-C', tmp, ...inside], { stdio: 'inherit' });
  if (untar.status !== 0) fail(`could not unpack ${tarball}`);
  mkdirSync(dest, { recursive: true });
  for (const f of manifest.files) {
    const from = path.join(tmp, 'package', f.path);
    const got = sha('sha256', from);
    if (got !== f.sha256) fail(`${f.path}: sha256 ${got} does not match ${f.sha256}`);
    renameSync(from, path.join(dest, f.name));
  }
  console.log(`facegate: face models verified in ${path.relative(process.cwd(), dest) || dest}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
