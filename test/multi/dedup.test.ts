// De-duplication across instances, made deterministic: two instances' use cases (each its own store connection
// pool, index and change-feed follower, on one PostgreSQL database) run search-live-face's enrolment step for one
// face at exactly the same moment, round after round. Without the transaction-scoped lock and the catch-up, both
// would search an index that holds nobody yet and enrol twice; with them exactly one person results. (The real
// server processes race in test/multi/instances.test.ts; their timing decides less sharply.)
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DomainDeps } from '../../src/domain/deps.js';
import { IndexFollower } from '../../src/domain/indexFollower.js';
import { DuplicatedPersonError, enrolUnlessDuplicate } from '../../src/domain/search.js';
import type { DetectedFace, FaceEngine } from '../../src/face/types.js';
import { createFaceIndex, type TenantedIndex } from '../../src/index/index.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/domain/ports.js';
import { newEngine } from '../support/parts.js';
import { faceJpeg } from '../support/photos.js';
import { describePostgres, useTestDatabase } from '../support/postgres.js';

interface Instance {
  store: Store;
  index: TenantedIndex;
  follower: IndexFollower;
  deps: DomainDeps;
}

describePostgres('search-live-face de-duplication across instances (one process, two instances)', () => {
  const db = useTestDatabase('dedup');
  let engine: FaceEngine & { close(): Promise<void> };
  const instances: Instance[] = [];
  let faces: DetectedFace[];

  beforeAll(async () => {
    engine = newEngine();
    await engine.ready();
    faces = (await engine.analyze([await faceJpeg('s6b')], { thumbnails: true, maxFaces: 1 })).images.map((i) => i.faces[0]);
    for (let i = 0; i < 2; i++) {
      const store = await openStore({ databaseUrl: db.url(), dataDir: os.tmpdir() });
      const index = createFaceIndex({ dim: engine.dim });
      const follower = new IndexFollower({ store, index, modelVersion: engine.modelVersion, from: await store.changes.latest() });
      await follower.start();
      const deps: DomainDeps = { store, engine, index, follower, settings: { personVerificationTtlMs: 3600_000, livenessMinScore: 0.5 } };
      instances.push({ store, index, follower, deps });
    }
  }, 120_000);
  afterAll(async () => {
    for (const i of instances) {
      await i.follower.stop();
      i.index.close();
      await i.store.close();
    }
    await engine?.close();
  });

  it('the same face enrolled on two instances at the same moment: one person, one 409 duplicated_person, every round', async () => {
    const [a, b] = instances;
    const client = await a.store.clients.create('race');
    for (let round = 0; round < 5; round++) {
      const col = await a.store.collections.create({ client: client.id, name: `race ${round}`, description: '' });
      const enrol = (x: Instance) =>
        enrolUnlessDuplicate(x.deps, client.id, col.id, faces, {
          fields: { name: 'Race Twin', gender: 'F', date_of_birth: '1990-01-15' },
          mode: 'FAST',
          minScore: 0.8,
        });
      const outcomes = await Promise.allSettled([enrol(a), enrol(b)]);
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(won, `round ${round}: ${lost.map((l) => String(l.reason)).join('; ')}`).toHaveLength(1);
      expect(lost[0].reason).toBeInstanceOf(DuplicatedPersonError);
      const members = await a.store.facePersons.list(client.id, { page: 1, limit: 10, collection: col.id });
      expect(members.total).toBe(1);
    }
  });
});
