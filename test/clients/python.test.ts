// The Python client (clients/python) against a real server over HTTP, run by the machine's python3 with its
// unittest runner: the route/field walk of the OpenAPI document, calls, signature checks, errors and retries.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { repoRoot } from '../support/harness.js';
import { newEngine } from '../support/parts.js';
import { faceJpeg } from '../support/photos.js';
import { listeningApp, type ListeningApp } from './server.js';

/** Debian's python3 (with python3-cryptography, which .ci/run installs) when there is one, else the one on PATH. */
function python(): string | null {
  for (const p of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(p, ['-c', 'import cryptography.hazmat.primitives.asymmetric.ed25519'], { encoding: 'utf8' });
    if (r.status === 0) return p;
  }
  return null;
}

const py = python();
const reason = 'python3 with the cryptography package is missing (apt-get install python3 python3-cryptography)';
if (!py && process.env.CI) throw new Error(`${reason}: CI must run the Python client's tests`);
if (!py) console.warn(`skipping the Python client's tests: ${reason}`);

describe.skipIf(!py)('the Python client against a real server', () => {
  let engine: WorkerFaceEngine;
  let srv: ListeningApp;
  let limited: ListeningApp;
  let dir: string;

  beforeAll(async () => {
    engine = newEngine();
    await engine.ready();
    srv = await listeningApp(engine);
    limited = await listeningApp(engine, { rateLimitMax: 2, rateLimitWindowMs: 1000 });
    dir = await mkdtemp(path.join(os.tmpdir(), 'facegate-py-'));
    await writeFile(path.join(dir, 'face.jpg'), await faceJpeg('s1a'));
  });

  afterAll(async () => {
    await srv?.close();
    await limited?.close();
    await engine?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('passes its own unittest suite', async () => {
    const t = await srv.token('py-client');
    const l = await limited.token('py-busy');
    const cwd = path.join(repoRoot, 'clients/python');
    expect(existsSync(path.join(cwd, 'tests/test_client.py'))).toBe(true);
    // Asynchronous spawn: the server answering the client lives in this process.
    const { spawn } = await import('node:child_process');
    const child = spawn(py!, ['-m', 'unittest', '-v', 'tests.test_client'], {
      cwd,
      env: {
        ...process.env,
        FACEGATE_URL: srv.base,
        FACEGATE_TOKEN: t.token,
        FACEGATE_CLIENT_ID: t.clientId,
        FACEGATE_FACE: path.join(dir, 'face.jpg'),
        FACEGATE_LIMITED_URL: limited.base,
        FACEGATE_LIMITED_TOKEN: l.token,
        PYTHONDONTWRITEBYTECODE: '1',
      },
    });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, out).toBe(0);
    expect(out).toMatch(/Ran \d+ tests/);
    expect(out).not.toMatch(/skipped/);
  }, 180_000);
});
