// The backup-and-restore drill of docs/deploy.md, run for real: people enrolled through a server on PostgreSQL
// are dumped, restored into a fresh database, and found again by a server started on the restored copy.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePostgres, useTestDatabase } from '../support/postgres.js';
import { faceBase64, type FaceName } from '../support/photos.js';
import { repoRoot } from '../support/server.js';
import { API, call, startCluster, type Cluster } from './cluster.js';

const run = promisify(execFile);

describePostgres('restore drill (scripts/restore-drill.ts)', () => {
  const db = useTestDatabase('drill');
  let cluster: Cluster;
  const enrolled: string[] = [];

  beforeAll(async () => {
    cluster = await startCluster(db.url(), 1);
    for (const face of ['s1a', 's4a', 's6b'] as FaceName[]) {
      const r = await call(cluster.instances[0].server.base, 'POST', `${API}/persons`, { name: `Drill ${face}`, images: [await faceBase64(face)] });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      enrolled.push(r.body.data._id);
    }
  }, 300_000);
  afterAll(async () => {
    await cluster?.close();
  });

  it('dumps, restores into a fresh database, and a server on the copy finds every enrolled person by their stored face', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/restore-drill.ts'), '--from', db.url()], {
      cwd: repoRoot,
      maxBuffer: 16 * 2 ** 20,
    });
    const report = JSON.parse(stdout);
    expect(report.tablesDiffering).toEqual([]);
    expect(Object.keys(report.tables).length).toBeGreaterThan(3);
    expect(report.sampled).toBe(enrolled.length);
    expect(report.missing).toEqual([]);
    expect(report.found).toBe(enrolled.length);
    expect(report.ok).toBe(true);
    expect(report.kept).toBe(false);
  }, 300_000);
});
