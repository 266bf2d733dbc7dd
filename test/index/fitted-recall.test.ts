// FAST recall on templates shaped like the 512-d engine's (genuine 0.65 ± 0.12, impostors 0.15 ± 0.085), with the
// index's default graph settings, against a brute force written here. Uniform random vectors would flatter nothing
// and measure nothing (HNSW recall collapses on them); these have the close impostors that make 1:N hard.
// One insert thread, so the graph (and the figure) is the same on every run, however busy the machine.
import { describe, expect, it } from 'vitest';
import { createFaceIndex } from '../../src/index/index.js';
import { FittedTemplateGenerator, fitTemplateModel, PROFILES } from './fitted-templates.js';

const DIM = 512;
const PERSONS = 8000;
const QUERIES = 200;

describe('FAST on fitted 512-d templates', () => {
  it('finds the brute force’s best person in ≥ 99 % of queries, with its exact similarity, from the graph', () => {
    const model = fitTemplateModel(DIM, PROFILES.arcface512);
    const gen = new FittedTemplateGenerator(model, 11);
    const index = createFaceIndex({ dim: DIM, annMinSize: 5000, threads: 1 });
    const templates: { person: number; vector: Float32Array }[] = [];
    const centres: Float32Array[] = [];
    let id = 1;
    for (let p = 0; p < PERSONS; p++) {
      const centre = gen.identity();
      const n = 1 + Math.floor(gen.random() * 4);
      const ts = Array.from({ length: n }, () => ({ id: id++, vector: gen.sample(centre) }));
      for (const t of ts) templates.push({ person: p, vector: t.vector });
      if (p % Math.floor(PERSONS / QUERIES) === 0) centres.push(centre);
      index.upsertPerson({ client: 'c', person: `p${p}`, collections: [], templates: ts });
    }
    const qgen = new FittedTemplateGenerator(model, 12);
    let found = 0;
    let exactScores = 0;
    const graphBefore = index.searchPaths().graph;
    for (const c of centres.slice(0, QUERIES)) {
      const q = qgen.sample(c);
      // Brute force in doubles: each person's best template.
      const best = new Float64Array(PERSONS).fill(-Infinity);
      for (const t of templates) {
        let s = 0;
        for (let j = 0; j < DIM; j++) s += t.vector[j] * q[j];
        if (s > best[t.person]) best[t.person] = s;
      }
      let top = 0;
      for (let p = 1; p < PERSONS; p++) if (best[p] > best[top]) top = p;
      const hit = index.search('c', q, { mode: 'FAST', k: 5 })[0];
      if (hit?.person === `p${top}`) {
        found++;
        // The re-rank's similarity is the exact one, not the graph's int8 estimate.
        if (Math.abs(hit.similarity - best[top]) < 1e-9) exactScores++;
      }
    }
    expect(index.searchPaths().graph - graphBefore).toBe(QUERIES);
    expect(found / QUERIES).toBeGreaterThanOrEqual(0.99);
    expect(exactScores).toBe(found);
    index.close();
  }, 600_000);
});
