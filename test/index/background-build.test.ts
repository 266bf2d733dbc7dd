// Start-up bulk load: persons load with the graph deferred (every search exact), then the graph is built in steps
// while writes keep arriving; the finished graph must hold exactly the live persons with their current templates.
import { describe, expect, it } from 'vitest';
import { createFaceIndex } from '../../src/index/index.js';
import { FaceLikeGenerator } from './synthetic.js';

const DIM = 64;

describe('deferred graph build', () => {
  it('answers exactly while deferred and while building, then FAST from a graph that includes writes made during the build', async () => {
    const gen = new FaceLikeGenerator({ dim: DIM, seed: 7 });
    const index = createFaceIndex({ dim: DIM, annMinSize: 500, annBatch: 32, rows: 'f32', expansionSearch: 64 });
    index.deferGraphs();
    const centres = new Map<string, Float32Array>();
    let id = 1;
    for (let i = 0; i < 3000; i++) {
      const c = gen.identity();
      centres.set(`p${i}`, c);
      index.upsertPerson({ client: 'c', person: `p${i}`, collections: i % 2 ? ['odd'] : ['even'], templates: [{ id: id++, vector: c }] });
    }
    expect(index.graphsPending).toBe(true);
    // Deferred: FAST is an exact scan (no graph walked).
    const before = index.searchPaths().graph;
    expect(index.search('c', centres.get('p10')!, { mode: 'FAST', k: 1 })[0].person).toBe('p10');
    expect(index.searchPaths().graph).toBe(before);

    let steps = 0;
    const seen: { done: number; total: number }[] = [];
    expect(index.graphBuildProgress).toBeNull();
    const built = index.buildGraphs(() => {
      steps++;
      seen.push(index.graphBuildProgress!);
    });
    // Writes interleaved with the build's steps: an erasure, a re-enrolment with a new face, a new person.
    await new Promise((r) => setImmediate(r));
    index.removePerson('c', 'p20');
    const fresh = gen.identity();
    index.upsertPerson({ client: 'c', person: 'p30', collections: ['even'], templates: [{ id: id++, vector: fresh }] });
    const newcomer = gen.identity();
    index.upsertPerson({ client: 'c', person: 'late', collections: ['odd'], templates: [{ id: id++, vector: newcomer }] });
    expect(index.graphsPending).toBe(true);
    expect(index.search('c', newcomer, { mode: 'FAST', k: 1 })[0].person).toBe('late');
    const res = await built;
    expect(res.tenants).toBe(1);
    expect(steps).toBeGreaterThan(1);
    expect(index.graphsPending).toBe(false);
    // Progress (what /metrics shows): rising to every person present when the build began, then cleared.
    expect(seen.every((p, i) => p.total === 3000 && (i === 0 || p.done > seen[i - 1].done))).toBe(true);
    expect(seen.at(-1)!.done).toBe(3000);
    expect(index.graphBuildProgress).toBeNull();

    const g0 = index.searchPaths().graph;
    expect(index.search('c', newcomer, { mode: 'FAST', k: 1 })[0].person).toBe('late');
    expect(index.search('c', fresh, { mode: 'FAST', k: 1 })[0].person).toBe('p30');
    expect(index.search('c', centres.get('p30')!, { mode: 'FAST', k: 1 })[0]?.person).not.toBe('p30');
    expect(index.search('c', centres.get('p20')!, { mode: 'FAST', k: 1 })[0]?.person).not.toBe('p20');
    expect(index.searchPaths().graph).toBeGreaterThan(g0);
    // The graph agrees with the exact answer for the unchanged persons.
    let agree = 0;
    for (let i = 100; i < 200; i++) {
      const q = centres.get(`p${i}`)!;
      if (index.search('c', q, { mode: 'FAST', k: 1 })[0].person === index.search('c', q, { mode: 'ACCURATE', k: 1 })[0].person) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(98);
    index.close();
  });

  it('a closed index stops its build', async () => {
    const gen = new FaceLikeGenerator({ dim: DIM, seed: 8 });
    const index = createFaceIndex({ dim: DIM, annMinSize: 100, rows: 'f32' });
    index.deferGraphs();
    for (let i = 0; i < 2000; i++) index.upsertPerson({ client: 'c', person: `p${i}`, collections: [], templates: [{ id: i + 1, vector: gen.identity() }] });
    const built = index.buildGraphs();
    index.close();
    expect((await built).tenants).toBe(0);
  });
});
