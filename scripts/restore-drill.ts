// Restore drill: proves a backup of a Facegate PostgreSQL database restores into something that works.
//
//   npx tsx scripts/restore-drill.ts --from postgres://user@host:5432/facegate [--sample 20] [--keep]
//
// 1. pg_dump (custom format) of the source, taken in an exported snapshot while the drill counts every table's rows
//    in that same snapshot (so the counts compare exactly even while the source takes writes);
// 2. pg_restore into a fresh database `<source>_drill_<random>` on the same server;
// 3. compares every table's row count with the snapshot's;
// 4. starts a real Facegate server on the restored database and, for up to `--sample` enrolled face persons per
//    client, searches with the face image stored for them: each must be found (a token per client is issued in the
//    restored copy for this);
// 5. drops the restored database (unless --keep) and prints a JSON report; exits 1 if anything failed.
// pg_dump/pg_restore come from PATH, PG_BIN, or the newest /usr/lib/postgresql/*/bin; their major version must be
// at least the server's.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import pg from 'pg';
import { issueToken } from '../src/domain/tokens.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/domain/ports.js';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function pgTool(name: string): string {
  if (process.env.PG_BIN) return path.join(process.env.PG_BIN, name);
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(path.join(dir, name))) return path.join(dir, name);
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const p = `/usr/lib/postgresql/${v}/bin/${name}`;
    if (existsSync(p)) return p;
  }
  throw new Error(`${name} not found (install the PostgreSQL client tools or set PG_BIN)`);
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function tableCounts(c: pg.ClientBase): Promise<Record<string, number>> {
  const tables = await c.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1");
  const out: Record<string, number> = {};
  for (const { name } of tables.rows) out[name] = Number((await c.query(`SELECT count(*) AS n FROM "${name}"`)).rows[0].n);
  return out;
}

export interface DrillReport {
  ok: boolean;
  source: string;
  restored: string;
  kept: boolean;
  dumpBytes: number;
  tables: Record<string, { source: number; restored: number }>;
  tablesDiffering: string[];
  sampled: number;
  found: number;
  missing: string[];
  seconds: number;
}

export async function restoreDrill(opts: { from: string; sample?: number; keep?: boolean; log?: (msg: string) => void }): Promise<DrillReport> {
  const log = opts.log ?? (() => undefined);
  const t0 = Date.now();
  const sourceDb = new URL(opts.from).pathname.slice(1);
  const restoredDb = `${sourceDb}_drill_${randomBytes(3).toString('hex')}`.slice(0, 63);
  const restoredUrl = withDatabase(opts.from, restoredDb);
  const work = await mkdtemp(path.join(os.tmpdir(), 'facegate-drill-'));
  const dump = path.join(work, 'facegate.dump');
  const source = new pg.Client({ connectionString: opts.from });
  await source.connect();
  let store: Store | null = null;
  let server: ReturnType<typeof spawn> | null = null;
  try {
    // 1. Counts and dump from one snapshot.
    await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    const snapshot = (await source.query('SELECT pg_export_snapshot() AS s')).rows[0].s as string;
    const sourceCounts = await tableCounts(source);
    log(`dumping ${sourceDb}`);
    await run(pgTool('pg_dump'), ['--format=custom', `--snapshot=${snapshot}`, '--file', dump, opts.from]);
    await source.query('COMMIT');
    const { stdout: size } = await run('stat', ['-c', '%s', dump]);

    // 2. Restore into a fresh database.
    await source.query(`CREATE DATABASE "${restoredDb}"`);
    log(`restoring into ${restoredDb}`);
    await run(pgTool('pg_restore'), ['--no-owner', '--exit-on-error', '--dbname', restoredUrl, dump]);

    // 3. Row counts.
    const restoredClient = new pg.Client({ connectionString: restoredUrl });
    await restoredClient.connect();
    const restoredCounts = await tableCounts(restoredClient);
    await restoredClient.end();
    const tables: DrillReport['tables'] = {};
    for (const name of new Set([...Object.keys(sourceCounts), ...Object.keys(restoredCounts)])) {
      tables[name] = { source: sourceCounts[name] ?? -1, restored: restoredCounts[name] ?? -1 };
    }
    const tablesDiffering = Object.entries(tables).filter(([, c]) => c.source !== c.restored).map(([n]) => n);

    // 4. A server on the restored copy finds the enrolled people by their stored face images.
    store = await openStore({ databaseUrl: restoredUrl, dataDir: work });
    const probes: { token: string; person: string; image: string }[] = [];
    for (const client of await store.clients.list()) {
      const page = await store.facePersons.list(client.id, { page: 1, limit: opts.sample ?? 20 });
      if (page.items.length === 0) continue;
      const { token } = await issueToken(store, { clientName: client.name, label: 'restore drill', ttl: '1h' });
      for (const p of page.items) {
        const t = (await store.templates.listForPerson(client.id, p.id)).find((x) => x.thumbnail);
        if (t?.thumbnail) probes.push({ token, person: p.id, image: Buffer.from(t.thumbnail).toString('base64') });
      }
    }
    await store.close();
    store = null;
    const port = await freePort();
    server = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src/main.ts')], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: restoredUrl, DATA_DIR: work, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ENGINE_WORKERS: '1', RATE_LIMIT_MAX: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    server.stdout!.on('data', (b) => (out += b));
    server.stderr!.on('data', (b) => (out += b));
    const base = `http://127.0.0.1:${port}`;
    for (const deadline = Date.now() + 300_000; ; ) {
      if (server.exitCode !== null) throw new Error(`the server on the restored database exited:\n${out}`);
      if (await fetch(`${base}/health`).then((r) => r.status === 200, () => false)) break;
      if (Date.now() > deadline) throw new Error(`the server on the restored database did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    log(`searching for ${probes.length} enrolled persons on the restored copy`);
    const missing: string[] = [];
    for (const p of probes) {
      const r = await fetch(`${base}/v2/face-recognition/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ images: [p.image], min_score: 0.5, search_mode: 'ACCURATE', max_results: 10 }),
      });
      const body = (await r.json()) as { data?: { id: string }[] };
      if (r.status !== 200 || !body.data?.some((h) => h.id === p.person)) missing.push(p.person);
    }
    const ok = tablesDiffering.length === 0 && missing.length === 0;
    return {
      ok,
      source: sourceDb,
      restored: restoredDb,
      kept: !!opts.keep,
      dumpBytes: Number(size.trim()),
      tables,
      tablesDiffering,
      sampled: probes.length,
      found: probes.length - missing.length,
      missing,
      seconds: Math.round((Date.now() - t0) / 100) / 10,
    };
  } finally {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server!.once('exit', r));
    }
    await store?.close();
    if (!opts.keep) await source.query(`DROP DATABASE IF EXISTS "${restoredDb}" WITH (FORCE)`).catch(() => undefined);
    await source.end();
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { from: { type: 'string' }, sample: { type: 'string', default: '20' }, keep: { type: 'boolean', default: false } } });
  if (!values.from) {
    console.error('usage: npx tsx scripts/restore-drill.ts --from postgres://USER@HOST:PORT/DATABASE [--sample 20] [--keep]');
    process.exit(2);
  }
  const report = await restoreDrill({ from: values.from, sample: Number(values.sample), keep: values.keep, log: (m) => console.error(`[restore drill] ${m}`) });
  console.log(JSON.stringify(report, null, 2));
  process.exit(report.ok ? 0 : 1);
}
