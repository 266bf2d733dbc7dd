// `npm run bench -- store --backend sqlite|postgres [options]`: the store under the server's own access patterns,
// JSON on stdout (progress on stderr).
//   ops          enrolments/s (one transaction: person + a 512-d template with its face image) and reads/s (a person
//                and its templates, what a search answer reads), at one instance, `--concurrency` requests at once;
//   propagation  (postgres) the time from a write's commit on one process to its application in another process's
//                index by the change-feed follower: p50/p99 over `--propagation` paced writes;
//   cold start   for each size of `--cold` (templates): the templates are inserted in bulk through the store
//                (vectors fitted to the 512-d engine's score distributions, test/index/fitted-templates.ts; no face
//                images), then a real server process starts on them: seconds until ACCURATE answers (listening,
//                and a real search answered), until FAST answers from built graphs, and its RSS at both
//                (`--built`: the compiled server `npm start` runs; `--keep`: keep the database for inspection).
// PostgreSQL: `--database-url` (or FACEGATE_TEST_DATABASE_URL) names a server; every part runs in a fresh database
// created and dropped by the benchmark.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { IndexFollower, type FollowedStore } from '../src/domain/indexFollower.js';
import { EMBEDDING_DIM, MODEL_VERSION } from '../src/face/version.js';
import { createFaceIndex } from '../src/index/index.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/domain/ports.js';
import { FittedTemplateGenerator, fitTemplateModel, PROFILES } from '../test/index/fitted-templates.js';
import { samplePhotoPath } from '../test/support/harness.js';
import { startServer } from '../test/support/server.js';

// The engine's own version and size: the server indexes only templates of its model version.
const DIM = EMBEDDING_DIM;
const now = () => performance.timeOrigin + performance.now();
const log = (...a: unknown[]) => console.error('[bench store]', ...a);

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string' },
    'database-url': { type: 'string' },
    ops: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '8' },
    propagation: { type: 'string', default: '200' },
    cold: { type: 'string', default: '100000' },
    follower: { type: 'string' },
    keep: { type: 'boolean', default: false },
    // `sql` (postgres): fill the cold-start database server-side from 20 k fitted templates, each reused ~50× at 1 M,
    // in minutes instead of the half hour that inserting 1 M through the store takes here. Loading costs the same
    // per template; FAST's graph build is not comparable (duplicate vectors), so fastSeconds is left out then.
    fill: { type: 'string', default: 'store' },
    // Start dist/src/main.js (what `npm start` runs; `npm run build` first) instead of the TypeScript under tsx.
    built: { type: 'boolean', default: false },
  },
});

// ---- the store, either backend ----

async function openBackend(backend: 'sqlite' | 'postgres', where: string): Promise<Store> {
  return backend === 'postgres' ? openStore({ databaseUrl: where, dataDir: os.tmpdir() }) : openStore({ dataDir: where });
}

async function admin<T>(serverUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh place to put a store: a database on the server, or a directory. `drop` removes it. */
async function freshStorePlace(backend: 'sqlite' | 'postgres', label: string): Promise<{ where: string; drop(): Promise<void> }> {
  if (backend === 'sqlite') {
    const dir = await mkdtemp(path.join(os.tmpdir(), `facegate-bench-${label}-`));
    return { where: dir, drop: () => rm(dir, { recursive: true, force: true }) };
  }
  const server = args['database-url'] ?? process.env.FACEGATE_TEST_DATABASE_URL;
  if (!server) throw new Error('--backend postgres needs --database-url postgres://… (a server; databases are created and dropped)');
  const name = `facegate_bench_${label}_${randomBytes(3).toString('hex')}`;
  await admin(server, (c) => c.query(`CREATE DATABASE "${name}"`));
  const u = new URL(server);
  u.pathname = `/${name}`;
  return { where: u.toString(), drop: () => admin(server, async (c) => void (await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))) };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const model = fitTemplateModel(DIM, PROFILES.arcface512);

/** Persons of 1–4 templates (2.5 on average) until `templates` templates, as plain data. */
function* persons(templates: number, seed: number): Generator<Float32Array[]> {
  const gen = new FittedTemplateGenerator(model, seed);
  for (let made = 0; made < templates; ) {
    const centre = gen.identity();
    const n = Math.min(1 + Math.floor(gen.random() * 4), templates - made);
    made += n;
    yield Array.from({ length: n }, () => gen.sample(centre));
  }
}

const QUALITY = { faceSize: 180, sharpness: 0.8, yaw: 0, pitch: 0, roll: 0, brightness: 0.5 };

async function enrol(store: Store, client: string, collection: string, vectors: Float32Array[], thumbnail: Uint8Array | null): Promise<string> {
  return store.transaction(async (tx) => {
    const p = await tx.facePersons.create({ client, name: 'Bench Person', gender: null, dateOfBirth: null, nationality: null, notes: null, collections: [collection] });
    for (let i = 0; i < vectors.length; i++) {
      await tx.templates.add({ client, person: p.id, imageIndex: i, modelVersion: MODEL_VERSION, embedding: vectors[i], thumbnail, quality: QUALITY });
    }
    return p.id;
  });
}

/** Runs `fn(i)` for i < n with `concurrency` in flight; returns operations per second. */
async function rate(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++);
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

// ---- ops ----

async function measureOps(backend: 'sqlite' | 'postgres') {
  const n = Number(args.ops);
  const concurrency = Number(args.concurrency);
  const place = await freshStorePlace(backend, 'ops');
  const store = await openBackend(backend, place.where);
  try {
    const client = await store.clients.create('bench');
    const col = await store.collections.create({ client: client.id, name: 'bench', description: '' });
    // A face image as enrolment stores it (an aligned JPEG crop: ~6 KB).
    const thumbnail = new Uint8Array(randomBytes(6 * 1024));
    // One template a person, as a one-photo enrolment.
    const data: Float32Array[][] = [];
    for (const v of persons(n * 5, 1)) if (data.push(v.slice(0, 1)) >= n) break;
    const ids: string[] = [];
    const enrolmentsPerSecond = await rate(n, concurrency, async (i) => ids.push(await enrol(store, client.id, col.id, data[i], thumbnail)));
    const readsPerSecond = await rate(n, concurrency, async (i) => {
      const id = ids[(i * 7919) % ids.length];
      await store.facePersons.get(client.id, id);
      await store.templates.listForPerson(client.id, id);
    });
    return { enrolments: n, reads: n, concurrency, enrolmentsPerSecond: Math.round(enrolmentsPerSecond), readsPerSecond: Math.round(readsPerSecond) };
  } finally {
    await store.close();
    await place.drop();
  }
}

// ---- propagation (two processes) ----

/** Follower process: an index kept by the change feed; prints `{person, t}` when a person enters its index. */
async function runFollower(url: string): Promise<void> {
  const store = (await openBackend('postgres', url)) as Store & FollowedStore;
  const index = createFaceIndex({ dim: DIM });
  const upsert = index.upsertPerson.bind(index);
  index.upsertPerson = (entry) => {
    upsert(entry);
    process.stdout.write(JSON.stringify({ person: entry.person, t: now() }) + '\n');
  };
  const follower = new IndexFollower({ store, index, modelVersion: MODEL_VERSION, from: await store.changes.latest() });
  await follower.start();
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await follower.stop();
    await store.close();
    process.exit(0);
  });
}

async function measurePropagation() {
  const writes = Number(args.propagation);
  const place = await freshStorePlace('postgres', 'prop');
  const store = await openBackend('postgres', place.where);
  const seen = new Map<string, number>();
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--follower', place.where], { stdio: ['pipe', 'pipe', 'inherit'] });
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as { person?: string; t?: number; ready?: boolean };
    if (m.ready) ready();
    else if (m.person && !seen.has(m.person)) seen.set(m.person, m.t!);
  });
  try {
    const client = await store.clients.create('bench');
    const col = await store.collections.create({ client: client.id, name: 'bench', description: '' });
    await isReady;
    const committed = new Map<string, number>();
    const gen = persons(writes * 3, 2);
    for (let i = 0; i < writes; i++) {
      const id = await enrol(store, client.id, col.id, gen.next().value!.slice(0, 1), null);
      committed.set(id, now());
      // Paced (about 20 writes a second): this measures latency, not a backlog.
      await new Promise((r) => setTimeout(r, 50));
    }
    const deadline = Date.now() + 10_000;
    while (seen.size < writes && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const lags = [...committed].map(([id, t]) => (seen.has(id) ? seen.get(id)! - t : Infinity)).sort((a, b) => a - b);
    const lost = lags.filter((l) => l === Infinity).length;
    const r = (x: number) => Math.round(x * 10) / 10;
    return { writes, lost, p50Ms: r(quantile(lags, 0.5)), p99Ms: r(quantile(lags, 0.99)), maxMs: r(lags[lags.length - 1]) };
  } finally {
    child.stdin!.end();
    await new Promise((r) => child.on('exit', r));
    await store.close();
    await place.drop();
  }
}

// ---- cold start ----

/**
 * `--fill sql`: the same rows as bulkInsert (one client `bench`, one collection, 2–3 templates a person, 2.5 on
 * average), written by INSERT … SELECT on the server from a seed of 20 k fitted templates.
 */
async function sqlFill(store: Store, databaseUrl: string, templates: number): Promise<{ persons: number; seconds: number }> {
  const client = await store.clients.create('bench');
  const col = await store.collections.create({ client: client.id, name: 'bench', description: '' });
  const t0 = performance.now();
  const SEED = 20_000;
  const gen = new FittedTemplateGenerator(model, 5);
  const personsNeeded = Math.ceil(templates / 2.5);
  await admin(databaseUrl, async (c) => {
    await c.query('CREATE TEMP TABLE seed (i integer PRIMARY KEY, emb bytea NOT NULL)');
    for (let from = 0; from < SEED; from += 2000) {
      const ids: number[] = [];
      const embs: Buffer[] = [];
      for (let i = from; i < from + 2000; i++) {
        const v = gen.sample(gen.identity());
        ids.push(i);
        embs.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      }
      await c.query('INSERT INTO seed SELECT * FROM unnest($1::integer[], $2::bytea[])', [ids, embs]);
    }
    const at = new Date().toISOString();
    await c.query(
      `INSERT INTO face_persons (id, client_id, name, created_at, updated_at)
       SELECT lpad(to_hex(g), 24, '0'), $1, 'Bench Person', $2, $2 FROM generate_series(1, $3::integer) g`,
      [client.id, at, personsNeeded],
    );
    await c.query(`INSERT INTO face_person_collections (client_id, person_id, collection_id) SELECT $1, id, $2 FROM face_persons WHERE client_id = $1`, [client.id, col.id]);
    // Persons alternate between 2 and 3 templates; the last ones are trimmed to the exact total.
    await c.query(
      `INSERT INTO face_templates (client_id, face_person_id, image_index, model_version, quality, created_at, embedding)
       SELECT $1, lpad(to_hex(g), 24, '0'), k, $2, $3::jsonb, $4, s.emb
       FROM generate_series(1, $5::integer) g
       CROSS JOIN LATERAL generate_series(0, CASE WHEN g % 2 = 0 THEN 1 ELSE 2 END) k
       JOIN seed s ON s.i = (g * 3 + k) % ${SEED}
       ORDER BY g, k
       LIMIT $6`,
      [client.id, MODEL_VERSION, JSON.stringify(QUALITY), at, personsNeeded, templates],
    );
    await c.query('ANALYZE');
  });
  log(`${templates} templates filled server-side in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return { persons: personsNeeded, seconds: (performance.now() - t0) / 1000 };
}

async function bulkInsert(store: Store, templates: number, concurrency: number): Promise<{ persons: number; seconds: number }> {
  const client = await store.clients.create('bench');
  const col = await store.collections.create({ client: client.id, name: 'bench', description: '' });
  const gen = persons(templates, 3);
  const t0 = performance.now();
  let count = 0;
  let made = 0;
  let lastLog = t0;
  const BATCH = 500;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const batch: Float32Array[][] = [];
        for (let i = 0; i < BATCH; i++) {
          const next = gen.next();
          if (next.done) break;
          batch.push(next.value);
        }
        if (batch.length === 0) return;
        await store.transaction(async (tx) => {
          for (const vectors of batch) {
            const p = await tx.facePersons.create({ client: client.id, name: 'Bench Person', gender: null, dateOfBirth: null, nationality: null, notes: null, collections: [col.id] });
            for (let i = 0; i < vectors.length; i++) {
              await tx.templates.add({ client: client.id, person: p.id, imageIndex: i, modelVersion: MODEL_VERSION, embedding: vectors[i], thumbnail: null, quality: QUALITY });
            }
          }
        });
        count += batch.length;
        made += batch.reduce((n, v) => n + v.length, 0);
        if (performance.now() - lastLog > 10_000) {
          lastLog = performance.now();
          log(`inserted ${made}/${templates} templates (${Math.round(made / ((lastLog - t0) / 1000))}/s)`);
        }
      }
    }),
  );
  return { persons: count, seconds: (performance.now() - t0) / 1000 };
}

async function measureColdStart(backend: 'sqlite' | 'postgres', templates: number) {
  const place = await freshStorePlace(backend, `cold${templates}`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'facegate-bench-cold-'));
  try {
    const store = await openBackend(backend, place.where);
    const sql = backend === 'postgres' && args.fill === 'sql';
    const inserted = sql ? await sqlFill(store, place.where, templates) : await bulkInsert(store, templates, backend === 'postgres' ? 4 : 1);
    await store.close();
    log(`${templates} templates inserted in ${inserted.seconds.toFixed(0)} s; starting a server on them`);
    const token = 'bench-store-token-0123456789abcdef0123';
    const env: Record<string, string> = { API_TOKEN: token, API_TOKEN_CLIENT: 'bench', LOG_LEVEL: 'info', RATE_LIMIT_MAX: '0' };
    if (backend === 'postgres') env.DATABASE_URL = place.where;
    const t0 = Date.now();
    const server = await startServer({ dataDir: backend === 'sqlite' ? place.where : dataDir, env, timeoutMs: 900_000, built: args.built });
    const listening = (Date.now() - t0) / 1000;
    const rssListening = server.rss();
    // A real ACCURATE search, answered by the loaded index.
    const image = (await readFile(samplePhotoPath(2))).toString('base64');
    const search = async (mode: string) =>
      fetch(`${server.base}/v2/face-recognition/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ images: [image], min_score: 0.5, search_mode: mode, max_results: 5 }),
      }).then((r) => r.status);
    const accurateStatus = await search('ACCURATE');
    const accurate = (Date.now() - t0) / 1000;
    // FAST answers from graphs once the background build logs that it is done.
    let fast: number | null = null;
    const deadline = Date.now() + (sql ? 0 : 1800_000);
    while (Date.now() < deadline) {
      if (/search graphs built/.test(server.output())) {
        fast = (Date.now() - t0) / 1000;
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const rssFast = server.rss();
    const fastStatus = await search('FAST');
    const loaded = /"templates":(\d+)[^\n]*"ms":(\d+)[^\n]*vector index loaded/.exec(server.output());
    const engine = /"ms":(\d+)[^\n]*face engine ready/.exec(server.output());
    await server.stop();
    return {
      templates,
      persons: inserted.persons,
      fill: sql ? 'sql' : 'store',
      insertSeconds: Math.round(inserted.seconds),
      insertTemplatesPerSecond: Math.round(templates / inserted.seconds),
      indexedTemplates: loaded ? Number(loaded[1]) : null,
      // The server's own timings: streaming the templates into the index, and loading the face models (in parallel).
      loadSeconds: loaded ? Math.round(Number(loaded[2]) / 100) / 10 : null,
      engineSeconds: engine ? Math.round(Number(engine[1]) / 100) / 10 : null,
      accurateSeconds: Math.round(accurate * 10) / 10,
      listeningSeconds: Math.round(listening * 10) / 10,
      fastSeconds: fast === null ? null : Math.round(fast * 10) / 10,
      rssAccurateMB: rssListening === null ? null : Math.round(rssListening / 2 ** 20),
      rssFastMB: rssFast === null ? null : Math.round(rssFast / 2 ** 20),
      searchStatus: { accurate: accurateStatus, fast: fastStatus },
    };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
    if (args.keep) log(`kept ${place.where}`);
    else await place.drop();
  }
}

// ---- main ----

if (args.follower) {
  await runFollower(args.follower);
} else {
  const backend = args.backend;
  if (backend !== 'sqlite' && backend !== 'postgres') {
    console.error('usage: npm run bench -- store --backend sqlite|postgres [--database-url URL] [--ops N] [--concurrency C] [--propagation N] [--cold 100000,1000000]');
    process.exit(2);
  }
  const result: Record<string, unknown> = { backend, dim: DIM, cpus: os.availableParallelism() };
  log('ops…');
  result.ops = await measureOps(backend);
  if (backend === 'postgres' && Number(args.propagation) > 0) {
    log('propagation…');
    result.propagation = await measurePropagation();
  }
  const sizes = String(args.cold).split(',').map(Number).filter((n) => n > 0);
  result.coldStart = [];
  for (const size of sizes) {
    log(`cold start on ${size} templates…`);
    (result.coldStart as unknown[]).push(await measureColdStart(backend, size));
  }
  console.log(JSON.stringify(result, null, 2));
}
