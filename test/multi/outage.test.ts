// The database becomes unreachable for one instance (a TCP relay between it and PostgreSQL is cut): it answers
// clear 503s (health included, so a proxy takes it out), writes nothing partial, and once the database is back it
// recovers without a restart and catches up with what another instance wrote meanwhile.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePostgres, useTestDatabase } from '../support/postgres.js';
import { faceBase64 } from '../support/photos.js';
import { startServer, type ServerProcess } from '../support/server.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { API, call, foundIds, TOKEN, waitUntilSearch } from './cluster.js';

/** A TCP relay to PostgreSQL that can be cut (every connection dropped, new ones refused) and restored. */
class Relay {
  private server: Server | null = null;
  private sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}
  async open(port = 0): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }
  async cut(): Promise<void> {
    const s = this.server;
    this.server = null;
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
  }
}

describePostgres('an instance whose database becomes unreachable', () => {
  const db = useTestDatabase('outage');
  let relay: Relay;
  let a: ServerProcess;
  let b: ServerProcess;
  const dirs: string[] = [];

  beforeAll(async () => {
    const u = new URL(db.url());
    relay = new Relay({ host: u.hostname, port: Number(u.port || 5432) });
    await relay.open();
    const viaRelay = new URL(db.url());
    viaRelay.port = String(relay.port);
    const env = { API_TOKEN: TOKEN, RATE_LIMIT_MAX: '0', LOG_LEVEL: 'info' };
    for (let i = 0; i < 2; i++) dirs.push(await mkdtemp(path.join(os.tmpdir(), 'facegate-outage-')));
    b = await startServer({ dataDir: dirs[1], env: { ...env, DATABASE_URL: db.url() } });
    a = await startServer({ dataDir: dirs[0], env: { ...env, DATABASE_URL: viaRelay.toString() } });
  }, 300_000);
  afterAll(async () => {
    await a?.kill().catch(() => undefined);
    await b?.kill().catch(() => undefined);
    await relay?.cut();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('answers 503 service_unavailable while cut off, writes nothing, and recovers and catches up without a restart', async () => {
    const face = await faceBase64('s5a');
    const other = await faceBase64('s6a');
    const before = await call(a.base, 'POST', `${API}/persons`, { name: 'Before Outage', images: [face] });
    expect(before.status).toBe(200);

    await relay.cut();
    const health = await fetch(`${a.base}/health`);
    expect(health.status).toBe(503);
    expect((await health.json()).store).toBe(false);
    const read = await fetch(`${a.base}${API}/persons/${before.body.data._id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(read.status).toBe(503);
    expect(read.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await read.json()).toMatchObject({ message: 'service_unavailable' });
    const write = await call(a.base, 'POST', `${API}/persons`, { name: 'During Outage', images: [other] });
    expect(write.status).toBe(503);
    expect(write.body.message).toBe('service_unavailable');

    // Meanwhile another instance writes; nothing of the refused write exists.
    const meanwhile = await call(b.base, 'POST', `${API}/persons`, { name: 'Written Meanwhile', images: [other] });
    expect(meanwhile.status).toBe(200);
    const listed = await call(b.base, 'GET', `${API}/persons?limit=100`);
    expect((listed.body.data as { name: string }[]).map((p) => p.name)).not.toContain('During Outage');

    await relay.open(relay.port);
    for (const t0 = Date.now(); ; ) {
      if ((await fetch(`${a.base}/health`)).status === 200) break;
      if (Date.now() - t0 > 30_000) throw new Error(`instance A did not recover:\n${a.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // Caught up by seq: B's write during the outage is found on A, without a restart.
    await waitUntilSearch(a.base, other, (ids) => ids.has(meanwhile.body.data._id), Date.now());
    expect((await foundIds(a.base, face)).has(before.body.data._id)).toBe(true);
  }, 180_000);
});
