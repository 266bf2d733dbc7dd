// The SQLite backup-and-restore drill (docs/import-export.md, "Backup"), run for real: people are enrolled through a
// running server, `npm run cli -- backup` copies its DATA_DIR while the server keeps enrolling, and a second server
// started on the copy finds every person enrolled before the backup, signs with the same key, and holds a
// consistent database.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { tempDir } from '../store/helpers.js';
import { faceBase64, type FaceName } from '../support/photos.js';
import { startServer, type ServerProcess } from '../support/server.js';

const API = '/v2/face-recognition';
let dir: string;
let cleanup: () => void;
let live: ServerProcess | undefined;
let restored: ServerProcess | undefined;
let token: string;

async function call(base: string, method: string, url: string, body?: unknown) {
  const r = await fetch(`${base}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, body: (await r.json()) as any };
}

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('facegate-drill-'));
  await openSqliteStore({ dataDir: path.join(dir, 'data') }).close();
  const out: string[] = [];
  await runCli(['tokens', 'create', '--client', 'acme'], { env: { DATA_DIR: path.join(dir, 'data') }, out: (l) => out.push(l), err: () => {} });
  token = out[0];
  live = await startServer({ dataDir: path.join(dir, 'data') });
}, 180_000);

afterAll(async () => {
  await live?.stop();
  await restored?.stop();
  cleanup?.();
});

it('backs up a running server; a server on the copy finds everyone enrolled before it and signs with the same key', async () => {
  const enrolled = new Map<string, FaceName>();
  for (const face of ['s1a', 's4a', 's6b'] as FaceName[]) {
    const r = await call(live!.base, 'POST', `${API}/persons`, { name: `Drill ${face}`, external_id: `drill-${face}`, images: [await faceBase64(face)] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    enrolled.set(r.body.data._id, face);
  }
  // An enrolment in flight while the copy is taken: the copy holds it or not, never half of it.
  const during = call(live!.base, 'POST', `${API}/persons`, { name: 'During', images: [await faceBase64('s5a')] });
  const backup = path.join(dir, 'backup');
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['backup', backup], { env: { DATA_DIR: path.join(dir, 'data') }, out: (l) => out.push(l), err: (l) => err.push(l) });
  expect(code, err.join('\n')).toBe(0);
  expect(out.join('\n')).toMatch(/backed up .* and its signing key/);
  expect((await during).status).toBe(200);

  const db = new Database(path.join(backup, 'facegate.db'), { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    // Every template has its person: no half-written enrolment.
    expect(db.prepare('SELECT count(*) AS n FROM face_templates t LEFT JOIN face_persons p ON p.id = t.face_person_id WHERE p.id IS NULL').get()).toEqual({ n: 0 });
  } finally {
    db.close();
  }
  expect(await readFile(path.join(backup, 'signing-key.json'), 'utf8')).toBe(await readFile(path.join(dir, 'data', 'signing-key.json'), 'utf8'));

  restored = await startServer({ dataDir: backup });
  for (const [id, face] of enrolled) {
    const r = await call(restored.base, 'POST', `${API}/search`, { images: [await faceBase64(face)], min_score: 0.8, search_mode: 'ACCURATE' });
    expect(r.status).toBe(200);
    expect(r.body.data[0]).toMatchObject({ id, external_id: `drill-${face}` });
  }
  const keys = async (base: string) => ((await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
  expect(await keys(restored.base)).toEqual(await keys(live!.base));
}, 300_000);

it('refuses to back up into a folder that is not empty, and says what to do with PostgreSQL', async () => {
  const err: string[] = [];
  const io = { out: () => {}, err: (l: string) => err.push(l) };
  expect(await runCli(['backup', path.join(dir, 'data')], { env: { DATA_DIR: path.join(dir, 'data') }, ...io })).toBe(2);
  expect(await runCli(['backup', path.join(dir, 'backup')], { env: { DATA_DIR: path.join(dir, 'data') }, ...io })).toBe(1);
  expect(err.join('\n')).toMatch(/not empty/);
  expect(await runCli(['backup', path.join(dir, 'pg')], { env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }, ...io })).toBe(1);
  expect(err.join('\n')).toMatch(/docs\/deploy\.md/);
});
