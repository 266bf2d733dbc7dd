// `npm run bench -- search [--size N] [--dim D] [--queries Q] [--k K] [--rows i8|f32] [--profile NAME]
//   [--genuine MEAN,SD] [--impostor MEAN,SD] [--min-score S] [--ef EF] [--ef-sweep a,b,…] [--filtered] [--snapshot]
//   [--centre-graph] [--startup] [--connectivity M] [--expansion-add EF]`
//
// Builds a FaceIndex of N synthetic templates whose genuine/impostor cosine distributions are fitted to a face
// model's (test/index/fitted-templates.ts; default: the 512-d engine's), then measures, per query, FAST, ACCURATE
// and a named baseline in turn. Every recall figure is against an independent ground truth: a plain double-
// precision brute force over the raw float32 templates, written here and sharing no code with the index. The
// similarity bound of a real search is the engine's own: cosineForScore(min_score) from src/face/calibration.ts,
// read at run time. Prints one JSON line; times are medians (p50) and p99 over the queries.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { cosineForScore } from '../src/face/calibration.js';
import { EMBEDDING_DIM } from '../src/face/version.js';
import { exactSearch, MetricKind } from '../src/index/ann.js';
import { ANN_DEFAULTS, createFaceIndex, defaultRows, type FaceIndexOptions, type TenantedIndex } from '../src/index/index.js';
import { FittedTemplateGenerator, fitTemplateModel, measureDistributions, PROFILES, summariseDistribution, type TemplateTargets } from '../test/index/fitted-templates.js';

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '100000' },
    dim: { type: 'string', default: String(EMBEDDING_DIM) },
    queries: { type: 'string', default: '200' },
    k: { type: 'string', default: '10' },
    rows: { type: 'string' },
    profile: { type: 'string', default: 'arcface512' },
    genuine: { type: 'string' },
    impostor: { type: 'string' },
    'min-score': { type: 'string', default: '0.8' },
    ef: { type: 'string' },
    'ef-sweep': { type: 'string' },
    snapshot: { type: 'boolean', default: false },
    filtered: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    'centre-graph': { type: 'boolean', default: false },
    startup: { type: 'boolean', default: false },
    connectivity: { type: 'string' },
    'expansion-add': { type: 'string' },
  },
});
const size = Number(args.size);
const dim = Number(args.dim);
const queryCount = Number(args.queries);
const k = Number(args.k);
const seed = Number(args.seed);
const minScore = Number(args['min-score']);
const rowsKind = (args.rows ?? defaultRows(dim)) as 'i8' | 'f32';
const threads = Math.min(2, availableParallelism());
const client = 'bench';

const profile = PROFILES[args.profile];
if (!profile) throw new Error(`unknown profile ${args.profile}; known: ${Object.keys(PROFILES).join(', ')}`);
const pair = (s: string | undefined, d: { mean: number; sd: number }) => {
  if (!s) return d;
  const [mean, sd] = s.split(',').map(Number);
  return { mean, sd };
};
const targets: TemplateTargets = { genuine: pair(args.genuine, profile.genuine), impostor: pair(args.impostor, profile.impostor) };
const model = fitTemplateModel(dim, targets);
// The engine's own bound for min_score, whatever its calibration is today.
const minSimilarity = cosineForScore(minScore);

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const rssMb = () => process.memoryUsage().rss / 2 ** 20;
const settle = () => {
  gc();
  gc();
};

const floatDir = rowsKind === 'i8' ? mkdtempSync(path.join(tmpdir(), 'facegate-bench-floats-')) : undefined;
const indexOptions: FaceIndexOptions = {
  dim,
  rows: rowsKind,
  floatVectorsDir: floatDir,
  threads,
  centreGraph: args['centre-graph'],
  ...(args.ef ? { expansionSearch: Number(args.ef) } : {}),
  ...(args.connectivity ? { connectivity: Number(args.connectivity) } : {}),
  ...(args['expansion-add'] ? { expansionAdd: Number(args['expansion-add']) } : {}),
};
/** Progress on stderr (a long run's figures so far survive if it has to be stopped). */
const note = (what: string, extra: Record<string, unknown> = {}) => console.error(JSON.stringify({ at: new Date().toISOString(), what, ...extra }));

// Query identities: every stride-th identity keeps its centre (the rest are generated and dropped).
const stride = Math.max(1, Math.floor(size / 2.5 / queryCount));

interface Person {
  person: string;
  collections: string[];
  templates: { id: number; vector: Float32Array }[];
}

/** Replays the same dataset every time (same seed): identities of 1–4 templates until `size` templates. */
function* dataset(keepCentre: (identity: number, centre: Float32Array, collections: string[]) => void): Generator<Person> {
  const gen = new FittedTemplateGenerator(model, seed);
  let made = 0;
  let templateId = 1;
  for (let i = 0; made < size; i++) {
    const centre = gen.identity();
    const n = Math.min(1 + Math.floor(gen.random() * 4), size - made);
    const templates = Array.from({ length: n }, () => ({ id: templateId++, vector: gen.sample(centre) }));
    made += n;
    // Every person is in 'all'; about 10 % also in 'tenth' and 1 % in 'hundredth' (filtered searches).
    const r = gen.random();
    const collections = r < 0.01 ? ['all', 'tenth', 'hundredth'] : r < 0.1 ? ['all', 'tenth'] : ['all'];
    if (i % stride === 0) keepCentre(i, centre, collections);
    yield { person: `person-${i}`, collections, templates };
  }
}

let personsMade = 0;
function build(index: TenantedIndex): number {
  let busy = 0;
  personsMade = 0;
  for (const p of dataset(keepCentre)) {
    personsMade++;
    const t0 = performance.now();
    index.upsertPerson({ client, ...p });
    busy += performance.now() - t0;
  }
  return busy / 1000;
}
const centres: Float32Array[] = [];
const identities: number[] = [];
function keepCentre(i: number, c: Float32Array): void {
  if (centres.length < queryCount && !identities.includes(i)) {
    centres.push(c);
    identities.push(i);
  }
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}
const round = (x: number, digits = 3) => Number(x.toFixed(digits));
const p50 = (xs: number[]) => round(percentile(xs, 0.5));
const p99 = (xs: number[]) => round(percentile(xs, 0.99));

settle();
const rssBefore = rssMb();
const memBefore = process.memoryUsage();
const index = createFaceIndex(indexOptions);
// --startup: as the server starts (src/app.ts rebuildIndex with deferGraphs, then buildGraphsInBackground): every
// template loaded with no graph (searches exact), then the graph built in steps while searches keep being answered.
let startup: Record<string, unknown> | undefined;
let buildS: number;
if (args.startup) {
  index.deferGraphs();
  const loadS = build(index);
  note('loaded', { load_s: round(loadS, 2) });
  const probeGen = new FittedTemplateGenerator(model, seed + 2000);
  const duringMs: number[] = [];
  let duringExact = 0;
  let progressEvents = 0;
  let lastNote = performance.now();
  const t0 = performance.now();
  const built = await index.buildGraphs((p) => {
    progressEvents++;
    // Every 25th step a FAST search, answered (exactly) while the graph is built.
    if (progressEvents % 25 === 1 && centres.length > 0) {
      const q = probeGen.sample(centres[duringMs.length % centres.length]);
      const t1 = performance.now();
      const fast = index.search(client, q, { mode: 'FAST', k });
      duringMs.push(performance.now() - t1);
      const accurate = index.search(client, q, { mode: 'ACCURATE', k });
      if (fast.length === accurate.length && fast.every((h, j) => h.person === accurate[j].person && h.similarity === accurate[j].similarity)) duringExact++;
    }
    if (performance.now() - lastNote > 30_000) {
      lastNote = performance.now();
      note('graph build', { ...p, s: round((lastNote - t0) / 1000, 1) });
    }
  });
  const graphS = (performance.now() - t0) / 1000;
  buildS = loadS + graphS;
  startup = {
    load_s: round(loadS, 2),
    graph_s: round(graphS, 2),
    graph_persons: built.persons,
    progress_events: progressEvents,
    fast_during_build: { searches: duringMs.length, identical_to_accurate: duringExact, p50_ms: duringMs.length ? p50(duringMs) : null },
  };
} else buildS = build(index);
note('built', { build_s: round(buildS, 2) });
settle();
const rssAfter = rssMb();
const memAfter = process.memoryUsage();
const perFace = (key: 'rss' | 'heapUsed' | 'arrayBuffers') => Math.round((memAfter[key] - memBefore[key]) / size);

const qgen = new FittedTemplateGenerator(model, seed + 1000);
const queries = centres.map((c) => qgen.sample(c));

// ---------------------------------------------------------------- ground truth and baselines
// The raw templates as one float32 matrix, with each row's person and collections, built after the memory
// reading. The ground truth is a plain loop in doubles over it, per person the best template.
const matrix = new Float32Array(size * dim);
const rowPerson = new Int32Array(size);
const personColl = new Uint8Array(Math.ceil(size)); // bit 1: tenth, bit 2: hundredth
const personName: string[] = [];
{
  let row = 0;
  let p = 0;
  for (const e of dataset(() => {})) {
    personName.push(e.person);
    personColl[p] = (e.collections.includes('tenth') ? 1 : 0) | (e.collections.includes('hundredth') ? 2 : 0);
    for (const t of e.templates) {
      matrix.set(t.vector, dim * row);
      rowPerson[row++] = p;
    }
    p++;
  }
}

interface Truth {
  /** Best persons, best first (all collections / tenth / hundredth). */
  top: { person: string; score: number }[];
  tenth: string | undefined;
  hundredth: string | undefined;
  /** The best score of anyone but the query's own identity (how close the nearest stranger comes). */
  bestImpostor: number;
  ms: number;
}

function groundTruth(q: Float32Array, identity: number): Truth {
  const t0 = performance.now();
  const best = new Float64Array(personName.length).fill(-Infinity);
  for (let row = 0, off = 0; row < size; row++, off += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += matrix[off + j] * q[j];
    const p = rowPerson[row];
    if (s > best[p]) best[p] = s;
  }
  const ms = performance.now() - t0;
  const order = Array.from(best.keys()).sort((a, b) => best[b] - best[a]);
  const own = personName.indexOf(`person-${identity}`);
  return {
    top: order.slice(0, k).map((p) => ({ person: personName[p], score: best[p] })),
    tenth: personName[order.find((p) => personColl[p] & 1) ?? -1],
    hundredth: personName[order.find((p) => personColl[p] & 2) ?? -1],
    bestImpostor: best[order[0] === own ? order[1] : order[0]],
    ms,
  };
}

// FAST, ACCURATE and the baseline are timed query by query in turn, so that load from other processes on the
// shared cores hits all three alike and their ratios hold even when the absolute times drift.
const BASELINE = 'usearch exactSearch: native SIMD brute force over one float32 matrix, top-k rows (not persons), 2 threads';
for (const q of queries.slice(0, 5)) {
  index.search(client, q, { mode: 'FAST', k });
  index.search(client, q, { mode: 'ACCURATE', k });
  exactSearch(matrix, q, dim, k, MetricKind.IP, threads);
}
const fastMs: number[] = [];
const accurateMs: number[] = [];
const baselineMs: number[] = [];
const truthMs: number[] = [];
let fastTop1 = 0;
let accurateExact = 0;
let identified = 0;
const truths: Truth[] = [];
const bestImpostors: number[] = [];
const readsBefore = index.searchPaths().floatReads;
const fastMisses: Record<string, unknown>[] = [];
for (let i = 0; i < queries.length; i++) {
  const q = queries[i];
  let t0 = performance.now();
  const fast = index.search(client, q, { mode: 'FAST', k });
  fastMs.push(performance.now() - t0);
  t0 = performance.now();
  const accurate = index.search(client, q, { mode: 'ACCURATE', k });
  accurateMs.push(performance.now() - t0);
  t0 = performance.now();
  exactSearch(matrix, q, dim, k, MetricKind.IP, threads);
  baselineMs.push(performance.now() - t0);
  const truth = groundTruth(q, identities[i]);
  truths.push(truth);
  truthMs.push(truth.ms);
  bestImpostors.push(truth.bestImpostor);
  if (fast[0]?.person === truth.top[0].person) fastTop1++;
  // A miss: how close the ground truth's first two were, and where FAST put the right one (−1: not returned).
  else fastMisses.push({ truth_score: round(truth.top[0].score, 4), margin_to_second: round(truth.top[0].score - truth.top[1].score, 4), genuine: truth.top[0].person === `person-${identities[i]}`, fast_rank: fast.findIndex((h) => h.person === truth.top[0].person) });
  if (truth.top[0].person === `person-${identities[i]}`) identified++;
  const same =
    accurate.length === truth.top.length &&
    accurate.every((h, j) => h.person === truth.top[j].person && Math.abs(h.similarity - truth.top[j].score) < 1e-9);
  if (same) accurateExact++;
}
const floatReadsPerAccurateAndFast = (index.searchPaths().floatReads - readsBefore) / queries.length;

// As the service searches: minSimilarity = the engine's bound for min_score. A query "has a match" when the
// ground truth's best person reaches it; FAST must then return that person first, and nobody otherwise.
function boundedSearch(mode: 'FAST' | 'ACCURATE') {
  const ms: number[] = [];
  let withMatch = 0;
  let found = 0;
  let missed = 0;
  for (let i = 0; i < queries.length; i++) {
    const t0 = performance.now();
    const hits = index.search(client, queries[i], { mode, k, minSimilarity });
    ms.push(performance.now() - t0);
    const truth = truths[i].top[0];
    if (truth.score >= minSimilarity) {
      withMatch++;
      if (hits[0]?.person === truth.person) found++;
      else missed++;
    }
  }
  return { ms, withMatch, found, missed };
}
const fastBound = boundedSearch('FAST');
const accurateBound = boundedSearch('ACCURATE');

let efSweep: Record<string, unknown>[] | undefined;
if (args['ef-sweep']) {
  efSweep = [];
  const defaultEf = index.expansionSearch;
  for (const ef of args['ef-sweep'].split(',').map(Number)) {
    index.setExpansionSearch(ef);
    const ms: number[] = [];
    let same = 0;
    for (let i = 0; i < queries.length; i++) {
      const t0 = performance.now();
      const top = index.search(client, queries[i], { mode: 'FAST', k })[0]?.person;
      ms.push(performance.now() - t0);
      if (top === truths[i].top[0].person) same++;
    }
    efSweep.push({ ef, p50_ms: p50(ms), p99_ms: p99(ms), recall_at_1: round(same / queries.length) });
  }
  index.setExpansionSearch(defaultEf);
}

let filtered: Record<string, unknown> | undefined;
if (args.filtered) {
  filtered = {};
  for (const collection of ['tenth', 'hundredth'] as const) {
    const fast: number[] = [];
    const accurate: number[] = [];
    let fastSame = 0;
    let accurateSame = 0;
    for (let i = 0; i < queries.length; i++) {
      let t0 = performance.now();
      const f = index.search(client, queries[i], { mode: 'FAST', k, collection })[0]?.person;
      fast.push(performance.now() - t0);
      t0 = performance.now();
      const a = index.search(client, queries[i], { mode: 'ACCURATE', k, collection })[0]?.person;
      accurate.push(performance.now() - t0);
      if (f === truths[i][collection]) fastSame++;
      if (a === truths[i][collection]) accurateSame++;
    }
    filtered[collection] = {
      templates_approx: Math.round(size * (collection === 'tenth' ? 0.1 : 0.01)),
      fast_p50_ms: p50(fast),
      accurate_p50_ms: p50(accurate),
      fast_recall_at_1: round(fastSame / queries.length),
      accurate_recall_at_1: round(accurateSame / queries.length),
    };
  }
}

let snapshot: Record<string, number> | undefined;
if (args.snapshot) {
  const dir = mkdtempSync(path.join(tmpdir(), 'facegate-bench-snapshot-'));
  const restoredFloats = floatDir ? mkdtempSync(path.join(tmpdir(), 'facegate-bench-floats-')) : undefined;
  try {
    let t0 = performance.now();
    const info = index.saveSnapshot(dir, 1);
    const saveS = (performance.now() - t0) / 1000;
    const restored = createFaceIndex({ ...indexOptions, floatVectorsDir: restoredFloats });
    t0 = performance.now();
    restored.loadSnapshot(dir, 1);
    const loadS = (performance.now() - t0) / 1000;
    const upsertS = build(restored);
    t0 = performance.now();
    restored.completeRestore();
    const completeS = (performance.now() - t0) / 1000;
    let same = 0;
    for (let i = 0; i < queries.length; i++) if (restored.search(client, queries[i], { mode: 'FAST', k })[0]?.person === truths[i].top[0].person) same++;
    restored.close();
    snapshot = {
      save_s: round(saveS, 2),
      bytes_mb: round(info.bytes / 2 ** 20, 1),
      restore_s: round(loadS + upsertS + completeS, 2),
      restored_fast_recall_at_1: round(same / queries.length),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (restoredFloats) rmSync(restoredFloats, { recursive: true, force: true });
  }
}

const paths = index.searchPaths();
index.close();
if (floatDir) rmSync(floatDir, { recursive: true, force: true });

const measured = measureDistributions(model, 4000);
console.log(
  JSON.stringify({
    size,
    dim,
    rows: rowsKind,
    centre_graph: args['centre-graph'],
    persons: personsMade,
    queries: queries.length,
    k,
    threads,
    build_s: round(buildS, 2),
    rss_mb: round(rssAfter, 1),
    // Resident bytes a face added by the index (RSS growth during the build / N), and how they split.
    bytes_per_face: Math.round(((rssAfter - rssBefore) * 2 ** 20) / size),
    bytes_per_face_split: {
      typed_arrays: perFace('arrayBuffers'),
      js_heap: perFace('heapUsed'),
      native_and_other: perFace('rss') - perFace('arrayBuffers') - perFace('heapUsed'),
    },
    // 'i8' rows keep the float32 copy in an unlinked file: page cache, not this process's memory.
    float_copy_file_mb: rowsKind === 'i8' ? round((size * dim * 4) / 2 ** 20, 1) : 0,
    fast: { p50_ms: p50(fastMs), p99_ms: p99(fastMs), recall_at_1: round(fastTop1 / queries.length), misses: fastMisses },
    accurate: { p50_ms: p50(accurateMs), p99_ms: p99(accurateMs), exact_top_k: round(accurateExact / queries.length) },
    baseline: { name: BASELINE, p50_ms: p50(baselineMs), p99_ms: p99(baselineMs) },
    ground_truth: { name: 'plain JS loop in doubles over the raw float32 templates, best template per person', p50_ms: p50(truthMs) },
    fast_speedup_vs_baseline: round(percentile(baselineMs, 0.5) / percentile(fastMs, 0.5), 1),
    accurate_vs_baseline: round(percentile(accurateMs, 0.5) / percentile(baselineMs, 0.5), 2),
    float_reads_per_search: round(floatReadsPerAccurateAndFast / 2, 1),
    with_min_score: {
      min_score: minScore,
      min_similarity: round(minSimilarity, 4),
      source: 'cosineForScore(min_score), src/face/calibration.ts, at run time',
      queries_with_a_match: fastBound.withMatch,
      fast: { p50_ms: p50(fastBound.ms), p99_ms: p99(fastBound.ms), found: fastBound.found, missed: fastBound.missed },
      accurate: { p50_ms: p50(accurateBound.ms), p99_ms: p99(accurateBound.ms), found: accurateBound.found, missed: accurateBound.missed },
    },
    identification_rate: round(identified / queries.length),
    data: {
      profile: args.profile,
      targets,
      model: { a: round(model.a, 4), r: model.r, w: round(model.w, 4), q_mean: round(model.qMean, 4), q_sd: round(model.qSd, 4) },
      measured_genuine: measured.genuine,
      measured_impostor: measured.impostor,
      best_impostor_per_query: summariseDistribution(bestImpostors),
    },
    paths,
    ef: index.expansionSearch,
    ...(efSweep ? { ef_sweep: efSweep } : {}),
    ...(filtered ? { filtered } : {}),
    ...(snapshot ? { snapshot } : {}),
    ...(startup ? { startup } : {}),
    connectivity: indexOptions.connectivity ?? ANN_DEFAULTS.connectivity,
    expansion_add: indexOptions.expansionAdd ?? ANN_DEFAULTS.expansionAdd,
    load_average: loadavg().map((x) => round(x, 2)),
  }),
);
