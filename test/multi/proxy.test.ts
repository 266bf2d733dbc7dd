// docs/deploy/nginx.conf, run for real in front of two instances on one database: requests through the proxy
// reach either instance and see one dataset; with one instance killed, the proxy keeps answering from the other.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faceBase64 } from '../support/photos.js';
import { describePostgres, useTestDatabase } from '../support/postgres.js';
import { freePort, repoRoot } from '../support/server.js';
import { API, call, startCluster, type Cluster } from './cluster.js';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
const SKIP_REASON = 'nginx is not installed (apt-get install nginx): the reverse-proxy example is not exercised';

/** PostgreSQL tests that also need nginx: skipped, saying why, where it is not installed. */
function describeWithNginx(name: string, fn: () => void): void {
  if (NGINX) describePostgres(name, fn);
  else describe.skipIf(!NGINX)(`${name} [${SKIP_REASON}]`, fn);
}

describeWithNginx('docs/deploy/nginx.conf in front of two instances', () => {
  const db = useTestDatabase('proxy');
  let cluster: Cluster;
  let nginx: ChildProcess | undefined;
  let prefix: string;
  let proxy: string;

  beforeAll(async () => {
    cluster = await startCluster(db.url(), 2);
    prefix = await mkdtemp(path.join(os.tmpdir(), 'facegate-nginx-'));
    const port = await freePort();
    const [a, b] = cluster.instances.map((i) => i.server.port);
    const conf = (await readFile(path.join(repoRoot, 'docs/deploy/nginx.conf'), 'utf8'))
      .replace('127.0.0.1:3001', `127.0.0.1:${a}`)
      .replace('127.0.0.1:3002', `127.0.0.1:${b}`)
      .replace('listen 127.0.0.1:8080', `listen 127.0.0.1:${port}`);
    await writeFile(path.join(prefix, 'nginx.conf'), conf);
    nginx = spawn(NGINX!, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    nginx.stderr!.on('data', (d) => (err += d));
    proxy = `http://127.0.0.1:${port}`;
    for (const t0 = Date.now(); ; ) {
      if (await fetch(`${proxy}/health`).then((r) => r.ok, () => false)) break;
      if (nginx.exitCode !== null || Date.now() - t0 > 10_000) throw new Error(`nginx did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 300_000);
  afterAll(async () => {
    nginx?.kill('SIGTERM');
    await cluster?.close();
    if (prefix) await rm(prefix, { recursive: true, force: true });
  });

  it('serves one dataset through the proxy, and keeps answering when an instance dies', async () => {
    const face = await faceBase64('s6d');
    const created = await call(proxy, 'POST', `${API}/persons`, { name: 'Proxied Person', images: [face] });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const id = created.body.data._id;
    // Consecutive requests are spread over both instances (least_conn, one at a time: alternating); each finds it.
    for (let i = 0; i < 4; i++) {
      const r = await call(proxy, 'GET', `${API}/persons/${id}`);
      expect(r.status).toBe(200);
    }
    await cluster.instances[0].server.kill();
    for (let i = 0; i < 4; i++) {
      const r = await call(proxy, 'POST', `${API}/search`, { images: [face], min_score: 0.8, search_mode: 'ACCURATE', max_results: 5 });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect((r.body.data as { id: string }[]).map((h) => h.id)).toContain(id);
    }
  }, 120_000);
});
