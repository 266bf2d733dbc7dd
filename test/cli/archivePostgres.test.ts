// An archive exported from a SQLite server imports into a PostgreSQL one, and a server on PostgreSQL then finds each
// person by a photo that was never enrolled (the demo photos' one same-person pair) or by their own face.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { tempDir } from '../store/helpers.js';
import { describePostgres, useTestDatabase } from '../support/postgres.js';
import { faceBase64, faceJpeg, type FaceName } from '../support/photos.js';
import { startServer, type ServerProcess } from '../support/server.js';

async function cli(env: Record<string, string>, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env: { ENGINE_WORKERS: '1', ...env }, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describePostgres('export from SQLite, import into PostgreSQL', () => {
  const db = useTestDatabase('archive');
  let dir: string;
  let cleanup: () => void;
  let server: ServerProcess | undefined;
  beforeAll(() => {
    ({ dir, cleanup } = tempDir('facegate-archive-pg-'));
  });
  afterAll(async () => {
    await server?.stop();
    cleanup?.();
  });

  it('every person arrives with its id and external_id, and is found by a fresh photo on a server on PostgreSQL', async () => {
    // Enrolled: s1c (Ann, whose other photo s3a is kept back as the fresh probe) and three others.
    const enrol: Record<string, FaceName> = { 'ANN-1': 's1c', 'BOB-2': 's1a', 'CY-3': 's4a', 'DEE-4': 's5a' };
    const lines: string[] = [];
    await mkdir(path.join(dir, 'photos'));
    for (const [id, face] of Object.entries(enrol)) {
      const file = path.join(dir, 'photos', `${face}.jpg`);
      await writeFile(file, await faceJpeg(face));
      lines.push(JSON.stringify({ name: `Person ${id}`, external_id: id, collections: ['Members'], images: [file] }));
    }
    await writeFile(path.join(dir, 'people.jsonl'), lines.join('\n'));
    const sqlite = { DATA_DIR: path.join(dir, 'sqlite') };
    await mkdir(sqlite.DATA_DIR);
    await openSqliteStore({ dataDir: sqlite.DATA_DIR }).close();
    const imported = await cli(sqlite, ['import', path.join(dir, 'people.jsonl'), '--client', 'acme', '--report', path.join(dir, 'r.csv')]);
    expect(imported.out, imported.err).toMatch(/^4 imported/);
    const archive = path.join(dir, 'move.fgz');
    expect((await cli(sqlite, ['export', archive])).code).toBe(0);

    const pg = { DATABASE_URL: db.url(), DATA_DIR: path.join(dir, 'pg-data') };
    await mkdir(pg.DATA_DIR);
    // A new PostgreSQL database gets its tables from the first server start or from `tokens create --create` (the
    // CLI never creates them unasked); the token is for the search below.
    const token = (await cli(pg, ['tokens', 'create', '--client', 'acme', '--create'])).out.trim();
    const r = await cli(pg, ['import', '--from-archive', archive]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/imported 4 persons \(4 templates\), 1 collections/);

    server = await startServer({ dataDir: pg.DATA_DIR, env: { DATABASE_URL: db.url() } });
    const search = async (face: FaceName) => {
      const res = await fetch(`${server!.base}/v2/face-recognition/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ images: [await faceBase64(face)], min_score: 0.8, search_mode: 'ACCURATE' }),
      });
      return ((await res.json()) as any).data as { external_id: string; score: number }[];
    };
    // The fresh photo: s3a was never enrolled.
    expect((await search('s3a'))[0]).toMatchObject({ external_id: 'ANN-1' });
    for (const [id, face] of Object.entries(enrol)) expect((await search(face))[0]).toMatchObject({ external_id: id });
  }, 300_000);
});
