// One client's templates: dense rows for exact scans, persons and collections, and an ANN graph of persons.
//
// Ids: a *row* is a template's current position in VectorRows (it moves when a hole is filled by the last row);
// a *handle* is a template's stable id (the person's template list is linked through handles); a *person* is a
// small integer per person id, and the graph key. All per-template bookkeeping is in typed arrays (≈ 25 bytes a
// template).
//
// The graph holds one node per person: the normalised mean of its templates. A person is one identity, so the
// graph is 2–3× smaller and faster to build than one node per template, and it has no tight clusters of a
// person's own templates, which HNSW links poorly to the rest (1 M faces, recall at ef 192: 0.994 per person vs
// 0.986 per template; docs/index.md). Candidates are then scored exactly over all of their templates.
import { createGraph, exactSearch, MetricKind, type AnnConfig, type UsearchIndex } from './ann.js';
import { dotAt, int8ErrorBound } from './kernels.js';
import { TopPersons } from './topk.js';
import type { SearchHit, Template } from './types.js';
import { VectorRows } from './vectors.js';

export interface TenantConfig {
  dim: number;
  /** log2 of the rows per storage chunk. */
  chunkBits: number;
  /** int8 pre-scan for exact searches: 0 = off, else the quantisation scale. */
  int8Scale: number;
  ann: AnnConfig;
  /** Below this many templates FAST scans exactly (and no graph is kept). */
  annMinSize: number;
  /** Inserts wait in a small exactly-scanned buffer and enter the graph together, in parallel. */
  annBatch: number;
  /**
   * Cost of one graph candidate relative to one template of an exact collection scan. A filtered FAST search
   * needs about ef·persons/members graph candidates, so it scans the collection exactly when
   * templates(collection)·members ≤ cost·ef·persons (measured: docs/index.md).
   */
  graphCandidateCost: number;
  /** Most graph candidates FAST asks for before falling back to an exact scan. */
  annMaxCandidates: number;
  /** Threads for native exact scans and batched graph inserts. */
  threads: number;
}

// Graph state of a person ordinal.
const UNUSED = 0;
/** Live; not in the graph (no graph yet, or waiting in `pending`). */
const LIVE = 1;
const IN_GRAPH = 2;
/** A node of a graph loaded from a snapshot, not yet claimed by an upsert of the same person. */
const RESTORED = 3;

/**
 * usearch's float32 scan accumulates in float32 and reports 1 − dot; its scores can differ from the double
 * re-rank by ~dim·2⁻²⁴. The stopping rule adds this margin so the float path is exact, not nearly exact.
 */
const F32_SCAN_MARGIN = 1e-4;
/** FAST scores exactly the first max(RESCORE_MIN, RESCORE_PER_K·k) persons of the walk's result list. */
const RESCORE_MIN = 32;
const RESCORE_PER_K = 4;
/** An int8 bound wider than this would re-rank most of the index: use the float scan instead. */
const INT8_MAX_USEFUL_BOUND = 0.25;
/**
 * A filtered exact search scans just the collection's persons when they hold at most this share of the rows;
 * above it the native scan of every row is cheaper (≈ 0.3–0.7 µs a template in JS, scattered, vs ≈ 0.035 µs a
 * row natively at 1 M).
 */
const SUBSET_SCAN_SHARE = 0.05;

const EMPTY: readonly number[] = Object.freeze([]);

function grownInt32(a: Int32Array<ArrayBuffer>, need: number, fill = 0): Int32Array<ArrayBuffer> {
  if (a.length >= need) return a;
  const b = new Int32Array(Math.max(need, Math.ceil(a.length * 1.25)));
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}

interface Candidate {
  score: number;
  row: number;
}

export interface SnapshotNode {
  /** Graph key: the person's ordinal. */
  key: number;
  person: string;
  templateIds: number[];
}

/** How searches were answered (for metrics, and for tests that must hit a given path). */
export interface SearchPathCounts {
  /** FAST answered from the graph. */
  graph: number;
  /** Unfiltered FAST searches that found nobody ≥ minSimilarity and walked the graph again, wider. */
  widened: number;
  /** Native exact pre-scan rounds (float32 or int8), and those that used int8. */
  nativeScanRounds: number;
  int8Rounds: number;
  /** Exact searches settled by the native pre-scan. */
  nativeScan: number;
  /** Exact JS scan of one collection's persons. */
  collectionScan: number;
  /** Exact JS scan of every row (pre-scan could not settle cheaply). */
  fullScan: number;
}

export function emptyCounts(): SearchPathCounts {
  return { graph: 0, widened: 0, nativeScanRounds: 0, int8Rounds: 0, nativeScan: 0, collectionScan: 0, fullScan: 0 };
}

export class Tenant {
  readonly rows: VectorRows;
  readonly counts: SearchPathCounts = emptyCounts();
  private readonly cfg: TenantConfig;

  private rowHandle = new Int32Array(256);
  private rowPerson = new Int32Array(256);
  private rowTemplate = new Float64Array(256);

  private handleRow = new Int32Array(256).fill(-1);
  private handleNext = new Int32Array(256);
  private handleCount = 0;
  private freeHandles: number[] = [];

  private personByName = new Map<string, number>();
  private personName: string[] = [];
  /** First handle of the person's template list (linked through handleNext), −1 when none. */
  private personFirst = new Int32Array(64).fill(-1);
  private personTemplates = new Int32Array(64);
  /** Sorted collection ordinals; equal sets share one frozen array. */
  private personColls: (readonly number[])[] = [];
  private personState = new Uint8Array(64);
  private freePersons: number[] = [];

  private collByName = new Map<string, number>();
  private collName: string[] = [];
  private collMembers: Set<number>[] = [];
  private collTemplates: number[] = [];
  private freeColls: number[] = [];
  private internedSets = new Map<string, readonly number[]>();

  private graph: UsearchIndex | null = null;
  /** Persons waiting to be inserted into the graph; searched exactly meanwhile. */
  private pending: number[] = [];
  /** While restoring from a snapshot: person id → its node (key and the template ids it was built from). */
  private restored: Map<string, { key: number; templateIds: number[] }> | null = null;
  private staging: { keys: BigUint64Array; matrix: Float32Array } | null = null;

  constructor(cfg: TenantConfig) {
    this.cfg = cfg;
    this.rows = new VectorRows(cfg.dim, cfg.chunkBits, cfg.int8Scale);
  }

  get size(): number {
    return this.rows.count;
  }

  get personCount(): number {
    return this.personByName.size;
  }

  get hasGraph(): boolean {
    return this.graph !== null;
  }

  // ---------------------------------------------------------------- writes

  upsert(person: string, collections: string[], templates: Template[]): void {
    if (templates.length === 0) {
      this.removePerson(person);
      return;
    }
    let p = this.personByName.get(person);
    const oldColls = p === undefined ? EMPTY : this.personColls[p];
    if (p === undefined) p = this.newPerson(person);
    else this.detachCollections(p);

    // Templates whose id and vector are unchanged keep their row: no churn on an update.
    const old = new Map<number, number>();
    for (let h = this.personFirst[p]; h !== -1; h = this.handleNext[h]) old.set(this.rowTemplate[this.handleRow[h]], h);
    const oldCount = old.size;
    let first = -1;
    let added = 0;
    for (const t of templates) {
      let h = old.get(t.id);
      if (h !== undefined && this.sameVector(this.handleRow[h], t.vector)) old.delete(t.id);
      else {
        h = this.addTemplate(p, t.id, t.vector);
        added++;
      }
      this.handleNext[h] = first;
      first = h;
    }
    const removed = old.size;
    for (const h of old.values()) this.removeHandle(h);
    this.personFirst[p] = first;
    this.personTemplates[p] = templates.length;
    this.attachCollections(p, collections);
    this.releaseEmpty(oldColls);
    if (this.personState[p] === RESTORED) this.claimRestored(p, person, templates);
    else if (added > 0 || removed > 0 || oldCount === 0) this.nodeChanged(p);
    this.maintainGraph();
  }

  setCollections(person: string, collections: string[]): void {
    const p = this.personByName.get(person);
    if (p === undefined) return;
    const oldColls = this.personColls[p];
    this.detachCollections(p);
    this.attachCollections(p, collections);
    this.releaseEmpty(oldColls);
  }

  removePerson(person: string): void {
    const p = this.personByName.get(person);
    if (p === undefined) return;
    const oldColls = this.personColls[p];
    this.detachCollections(p);
    for (let h = this.personFirst[p]; h !== -1; ) {
      const next = this.handleNext[h];
      this.removeHandle(h);
      h = next;
    }
    this.dropNode(p);
    this.personByName.delete(person);
    this.personName[p] = '';
    this.personFirst[p] = -1;
    this.personTemplates[p] = 0;
    this.freePersons.push(p);
    this.releaseEmpty(oldColls);
  }

  removeCollection(collection: string): void {
    const c = this.collByName.get(collection);
    if (c === undefined) return;
    for (const p of this.collMembers[c]) this.personColls[p] = this.intern(this.personColls[p].filter((x) => x !== c));
    this.collMembers[c].clear();
    this.collTemplates[c] = 0;
    this.releaseEmpty([c]);
  }

  private newPerson(name: string): number {
    // A person restored from a snapshot gets back its ordinal, which is its graph key.
    const p = this.restored?.get(name)?.key ?? this.freePersons.pop() ?? this.personName.length;
    this.ensurePersons(p + 1);
    this.personName[p] = name;
    this.personColls[p] = EMPTY;
    this.personFirst[p] = -1;
    this.personTemplates[p] = 0;
    this.personByName.set(name, p);
    return p;
  }

  private ensurePersons(need: number): void {
    while (this.personName.length < need) {
      this.personName.push('');
      this.personColls.push(EMPTY);
    }
    this.personFirst = grownInt32(this.personFirst, need, -1);
    this.personTemplates = grownInt32(this.personTemplates, need);
    if (this.personState.length < need) {
      const s = new Uint8Array(Math.max(need, Math.ceil(this.personState.length * 1.25)));
      s.set(this.personState);
      this.personState = s;
    }
  }

  private detachCollections(p: number): void {
    const n = this.personTemplates[p];
    for (const c of this.personColls[p]) {
      this.collTemplates[c] -= n;
      this.collMembers[c].delete(p);
    }
    this.personColls[p] = EMPTY;
  }

  private attachCollections(p: number, names: string[]): void {
    if (names.length === 0) return;
    const ords = [...new Set(names)].map((name) => this.collectionOrdinal(name)).sort((a, b) => a - b);
    this.personColls[p] = this.intern(ords);
    const n = this.personTemplates[p];
    for (const c of ords) {
      this.collTemplates[c] += n;
      this.collMembers[c].add(p);
    }
  }

  private collectionOrdinal(name: string): number {
    let c = this.collByName.get(name);
    if (c !== undefined) return c;
    c = this.freeColls.pop() ?? this.collName.length;
    this.collName[c] = name;
    this.collMembers[c] = new Set();
    this.collTemplates[c] = 0;
    this.collByName.set(name, c);
    return c;
  }

  /** Forgets collections that no person belongs to any more, so their ordinals are reused. */
  private releaseEmpty(colls: readonly number[]): void {
    for (const c of colls) {
      if (this.collMembers[c].size === 0 && this.collByName.get(this.collName[c]) === c) {
        this.collByName.delete(this.collName[c]);
        this.collName[c] = '';
        this.freeColls.push(c);
      }
    }
  }

  private intern(ords: readonly number[]): readonly number[] {
    if (ords.length === 0) return EMPTY;
    const key = ords.join(',');
    let set = this.internedSets.get(key);
    if (!set) {
      set = Object.freeze([...ords]);
      this.internedSets.set(key, set);
    }
    return set;
  }

  private sameVector(row: number, v: Float32Array): boolean {
    const data = this.rows.f32[this.rows.chunkOf(row)];
    const off = this.rows.offsetOf(row);
    for (let j = 0; j < this.cfg.dim; j++) if (data[off + j] !== v[j]) return false;
    return true;
  }

  private addTemplate(p: number, templateId: number, vector: Float32Array): number {
    const row = this.rows.push(vector);
    if (row >= this.rowHandle.length) {
      const cap = Math.ceil(this.rowHandle.length * 1.25);
      this.rowHandle = grownInt32(this.rowHandle, cap);
      this.rowPerson = grownInt32(this.rowPerson, cap);
      const t = new Float64Array(cap);
      t.set(this.rowTemplate);
      this.rowTemplate = t;
    }
    const h = this.allocHandle();
    this.rowHandle[row] = h;
    this.rowPerson[row] = p;
    this.rowTemplate[row] = templateId;
    this.handleRow[h] = row;
    return h;
  }

  private allocHandle(): number {
    const free = this.freeHandles.pop();
    if (free !== undefined) return free;
    const h = this.handleCount++;
    this.ensureHandles(h + 1);
    return h;
  }

  private ensureHandles(need: number): void {
    if (need <= this.handleRow.length) return;
    const cap = Math.max(need, Math.ceil(this.handleRow.length * 1.25));
    this.handleRow = grownInt32(this.handleRow, cap, -1);
    this.handleNext = grownInt32(this.handleNext, cap);
  }

  /** Deletes a template: the last row fills its hole. */
  private removeHandle(h: number): void {
    const row = this.handleRow[h];
    const last = this.rows.count - 1;
    if (row !== last) {
      this.rows.move(last, row);
      const moved = this.rowHandle[last];
      this.rowHandle[row] = moved;
      this.rowPerson[row] = this.rowPerson[last];
      this.rowTemplate[row] = this.rowTemplate[last];
      this.handleRow[moved] = row;
    }
    this.rows.pop();
    this.handleRow[h] = -1;
    this.freeHandles.push(h);
  }

  // ---------------------------------------------------------------- graph upkeep

  private maintainGraph(): void {
    if (this.graph) {
      if (this.pending.length >= this.cfg.annBatch) this.flushPending();
    } else if (this.rows.count >= this.cfg.annMinSize) this.buildGraph();
  }

  /** The person's templates changed (or it is new): its node must be (re)built from the new mean. */
  private nodeChanged(p: number): void {
    if (this.personState[p] === IN_GRAPH) this.graph!.remove(BigInt(p));
    if (this.personState[p] === LIVE && this.graph && this.pending.includes(p)) return;
    this.personState[p] = LIVE;
    if (this.graph) this.pending.push(p);
  }

  private dropNode(p: number): void {
    if (this.personState[p] === IN_GRAPH) this.graph!.remove(BigInt(p));
    else if (this.personState[p] === LIVE && this.graph) {
      const i = this.pending.indexOf(p);
      if (i >= 0) {
        this.pending[i] = this.pending[this.pending.length - 1];
        this.pending.pop();
      }
    }
    this.personState[p] = UNUSED;
  }

  private buildGraph(): void {
    this.graph = createGraph(this.cfg.ann);
    this.pending = [];
    this.insertIntoGraph([...this.personByName.values()]);
  }

  /** Moves every pending insert into the graph (also called before a snapshot). */
  flushPending(): void {
    if (!this.graph || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.insertIntoGraph(batch);
  }

  private insertIntoGraph(persons: number[]): void {
    const dim = this.cfg.dim;
    // One reused staging buffer: a fresh buffer per batch fragments the native heap.
    const step = this.cfg.annBatch;
    if (!this.staging || this.staging.keys.length < step) {
      this.staging = { keys: new BigUint64Array(step), matrix: new Float32Array(step * dim) };
    }
    const { keys, matrix } = this.staging;
    for (let i = 0; i < persons.length; i += step) {
      const n = Math.min(step, persons.length - i);
      for (let j = 0; j < n; j++) {
        keys[j] = BigInt(persons[i + j]);
        this.personMean(persons[i + j], matrix, j * dim);
      }
      this.graph!.add(keys.subarray(0, n), matrix.subarray(0, n * dim), this.cfg.threads);
      for (let j = 0; j < n; j++) this.personState[persons[i + j]] = IN_GRAPH;
    }
  }

  /** The person's graph vector: the normalised mean of its templates. */
  private personMean(p: number, out: Float32Array, offset: number): void {
    const dim = this.cfg.dim;
    out.fill(0, offset, offset + dim);
    for (let h = this.personFirst[p]; h !== -1; h = this.handleNext[h]) {
      const row = this.handleRow[h];
      const data = this.rows.f32[this.rows.chunkOf(row)];
      const off = this.rows.offsetOf(row);
      for (let j = 0; j < dim; j++) out[offset + j] += data[off + j];
    }
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += out[offset + j] * out[offset + j];
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < dim; j++) out[offset + j] *= inv;
  }

  // ---------------------------------------------------------------- search

  search(q: Float32Array, k: number, fast: boolean, collection: string | undefined, minSim: number): SearchHit[] {
    if (this.rows.count === 0) return [];
    let c = -1;
    if (collection !== undefined) {
      const ord = this.collByName.get(collection);
      if (ord === undefined || this.collTemplates[ord] === 0) return [];
      c = ord;
    }
    const subset = c >= 0 ? this.collTemplates[c] : this.rows.count;
    const persons = this.personByName.size;
    const members = c >= 0 ? this.collMembers[c].size : persons;
    if (fast && this.graph && (c < 0 || subset * members > this.cfg.graphCandidateCost * this.cfg.ann.expansionSearch * persons)) {
      const hits = this.searchGraph(q, k, c, minSim, members / persons);
      if (hits) return hits;
    }
    if (c >= 0 && subset <= this.rows.count * SUBSET_SCAN_SHARE) return this.scanCollection(q, k, c, minSim);
    return this.scanAll(q, k, c, minSim, subset);
  }

  private avgTemplatesPerPerson(): number {
    return this.rows.count / Math.max(1, this.personByName.size);
  }

  /**
   * Graph candidates (plus the pending persons), scored exactly over all of their templates; null when an exact
   * scan is the better way. `share`: the collection's share of the persons (1 unfiltered).
   */
  private searchGraph(q: Float32Array, k: number, c: number, minSim: number, share: number): SearchHit[] | null {
    let count = Math.ceil(Math.max(this.cfg.ann.expansionSearch, 2 * k) / share);
    count = Math.min(count, this.graph!.size() + 1);
    let widened = false;
    for (;;) {
      if (count > this.cfg.annMaxCandidates) return null;
      const m = this.graph!.search(q, count, 1);
      // The walk's results come best first (by the int8 similarity to each person's mean). Only the first
      // `rescore` eligible ones are scored exactly over their templates: the beam (ef) is what finds the match,
      // and a match sits at the head of the list (scoring all ef persons cost 0.6 ms of 1.4 ms at 300 k).
      const rescore = Math.max(RESCORE_MIN, RESCORE_PER_K * k);
      const top = new TopPersons(k);
      const cand: Candidate = { score: -Infinity, row: -1 };
      let weakest = Infinity;
      let scored = 0;
      for (let i = 0; i < m.keys.length && scored < rescore; i++) {
        const p = Number(m.keys[i]);
        if (this.personState[p] !== IN_GRAPH) continue; // restored from a snapshot but not re-upserted
        if (c >= 0 && !this.personColls[p].includes(c)) continue;
        this.bestOfPerson(p, q, cand);
        scored++;
        if (cand.score < weakest) weakest = cand.score;
        if (cand.score >= minSim) top.offer(cand.score, p, cand.row);
      }
      // Persons waiting to enter the graph are distinct from its nodes: score them all.
      for (const p of this.pending) {
        if (c >= 0 && !this.personColls[p].includes(c)) continue;
        this.bestOfPerson(p, q, cand);
        if (cand.score >= minSim) top.offer(cand.score, p, cand.row);
      }
      const exhausted = m.keys.length < count;
      if (c >= 0) {
        // Filtered: widen until k persons of the collection are found, the graph is exhausted, or the
        // candidates fall below minSimilarity.
        if (top.size < k && !exhausted && !(weakest < minSim)) {
          count *= 4;
          continue;
        }
      } else if (top.size === 0 && minSim > -Infinity && !widened && !exhausted) {
        // Nobody reached minSimilarity: either no match is enrolled, or the beam missed it (the costly error,
        // e.g. a duplicate enrolment let through). One 4× wider walk makes the second much rarer.
        widened = true;
        count = Math.min(count * 4, this.cfg.annMaxCandidates);
        this.counts.widened++;
        continue;
      }
      this.counts.graph++;
      return this.hits(top);
    }
  }

  /** Exact score of `row` for `q`, kept as its person's best if better; NaN when filtered out. */
  private offer(best: Map<number, Candidate>, row: number, q: Float32Array, c: number): number {
    const p = this.rowPerson[row];
    if (c >= 0 && !this.personColls[p].includes(c)) return NaN;
    const s = dotAt(this.rows.f32[this.rows.chunkOf(row)], this.rows.offsetOf(row), q, this.cfg.dim);
    const prev = best.get(p);
    if (!prev) best.set(p, { score: s, row });
    else if (s > prev.score) {
      prev.score = s;
      prev.row = row;
    }
    return s;
  }

  private topOf(best: Map<number, Candidate>, k: number, minSim: number): TopPersons {
    const top = new TopPersons(k);
    for (const [p, cand] of best) if (cand.score >= minSim) top.offer(cand.score, p, cand.row);
    return top;
  }

  private hits(top: TopPersons): SearchHit[] {
    return top.sorted().map((e) => ({
      person: this.personName[e.person],
      similarity: e.score,
      templateId: this.rowTemplate[e.row],
    }));
  }

  /** Sets `out` to the person's best template for `q`. */
  private bestOfPerson(p: number, q: Float32Array, out: Candidate): Candidate {
    const { f32 } = this.rows;
    out.score = -Infinity;
    out.row = -1;
    for (let h = this.personFirst[p]; h !== -1; h = this.handleNext[h]) {
      const row = this.handleRow[h];
      const s = dotAt(f32[this.rows.chunkOf(row)], this.rows.offsetOf(row), q, this.cfg.dim);
      if (s > out.score) {
        out.score = s;
        out.row = row;
      }
    }
    return out;
  }

  /** Exact: every template of the collection's persons, in JS (the subset is not contiguous). */
  private scanCollection(q: Float32Array, k: number, c: number, minSim: number): SearchHit[] {
    this.counts.collectionScan++;
    const top = new TopPersons(k);
    const cand: Candidate = { score: -Infinity, row: -1 };
    for (const p of this.collMembers[c]) {
      this.bestOfPerson(p, q, cand);
      if (cand.score >= minSim) top.offer(cand.score, p, cand.row);
    }
    return this.hits(top);
  }

  /**
   * Exact over all rows: a native scan (float32, or int8 when enabled) picks the top T rows of each chunk, which
   * are re-ranked in double precision. Any row left out scored at most `bound` in the native scan, so its true
   * score is at most bound + ε (ε: the scan's worst-case error). Once that cannot reach the k-th person found
   * (or minSimilarity), the answer is exactly the float answer; otherwise T grows.
   */
  private scanAll(q: Float32Array, k: number, c: number, minSim: number, subset: number): SearchHit[] {
    const { rows, cfg } = this;
    let qi8: Int8Array | null = null;
    let eps = F32_SCAN_MARGIN;
    let scale2 = 1;
    if (rows.i8) {
      const s = rows.int8Scale;
      qi8 = new Int8Array(cfg.dim);
      let qErr = 0;
      let qL1 = 0;
      for (let j = 0; j < cfg.dim; j++) {
        const v = Math.max(-127, Math.min(127, Math.round(q[j] * s)));
        qi8[j] = v;
        qErr = Math.max(qErr, Math.abs(q[j] - v / s));
        qL1 += Math.abs(q[j]);
      }
      const bound = int8ErrorBound(rows.int8MaxErr, rows.int8MaxL1, qErr, qL1) + F32_SCAN_MARGIN;
      if (bound <= INT8_MAX_USEFUL_BOUND) {
        eps = bound;
        scale2 = s * s;
      } else qi8 = null;
    }
    const share = subset / rows.count;
    // int8's wider error bound needs a deeper candidate list to settle; a second scan round costs more than
    // re-ranking a few thousand extra rows.
    let t = Math.max(32, Math.ceil((4 * k * this.avgTemplatesPerPerson()) / share)) * (qi8 ? 4 : 1);
    for (;;) {
      const best = new Map<number, Candidate>();
      let bound = -Infinity;
      this.counts.nativeScanRounds++;
      if (qi8) this.counts.int8Rounds++;
      for (let ci = 0; ci < rows.chunkCount; ci++) {
        const n = rows.rowsIn(ci);
        const tc = Math.min(t, n);
        const m = qi8
          ? exactSearch(rows.i8View(ci), qi8, cfg.dim, tc, MetricKind.IP, cfg.threads)
          : exactSearch(rows.f32View(ci), q, cfg.dim, tc, MetricKind.IP, cfg.threads);
        const base = ci * rows.chunkRows;
        for (let i = 0; i < m.keys.length; i++) this.offer(best, base + Number(m.keys[i]), q, c);
        if (tc < n) bound = Math.max(bound, (1 - m.distances[tc - 1]) / scale2);
      }
      const top = this.topOf(best, k, minSim);
      const mustBeat = top.size === k ? top.floor : minSim;
      if (bound === -Infinity || bound + eps < mustBeat) {
        this.counts.nativeScan++;
        return this.hits(top);
      }
      t *= 4;
      // Past this point re-ranking costs more than scanning: answer with the plain exact scan.
      if (t * rows.chunkCount > rows.count / 8) {
        return c >= 0 ? this.scanCollection(q, k, c, minSim) : this.scanEveryRow(q, k, minSim);
      }
    }
  }

  /** Exact, in JS, every row: the fallback when the native pre-scan cannot settle the answer cheaply. */
  private scanEveryRow(q: Float32Array, k: number, minSim: number): SearchHit[] {
    this.counts.fullScan++;
    const best = new Float64Array(this.personName.length).fill(-Infinity);
    const bestRow = new Int32Array(this.personName.length);
    const { rows } = this;
    for (let ci = 0; ci < rows.chunkCount; ci++) {
      const data = rows.f32[ci];
      const n = rows.rowsIn(ci);
      const base = ci * rows.chunkRows;
      for (let i = 0, off = 0; i < n; i++, off += this.cfg.dim) {
        const s = dotAt(data, off, q, this.cfg.dim);
        const p = this.rowPerson[base + i];
        if (s > best[p]) {
          best[p] = s;
          bestRow[p] = base + i;
        }
      }
    }
    const top = new TopPersons(k);
    for (let p = 0; p < best.length; p++) if (best[p] >= minSim && best[p] > -Infinity) top.offer(best[p], p, bestRow[p]);
    return this.hits(top);
  }

  // ---------------------------------------------------------------- snapshots

  /** The graph and, per node, its person id and template ids, for a snapshot; pending inserts are flushed first. */
  graphForSnapshot(): { graph: UsearchIndex; nodes: SnapshotNode[] } | null {
    if (!this.graph) return null;
    this.flushPending();
    const nodes: SnapshotNode[] = [];
    for (const [name, p] of this.personByName) {
      if (this.personState[p] !== IN_GRAPH) continue;
      const templateIds: number[] = [];
      for (let h = this.personFirst[p]; h !== -1; h = this.handleNext[h]) templateIds.push(this.rowTemplate[this.handleRow[h]]);
      nodes.push({ key: p, person: name, templateIds });
    }
    return { graph: this.graph, nodes };
  }

  /** Adopts a graph loaded from a snapshot; the upserts that follow claim its nodes by person id. */
  adoptGraph(graph: UsearchIndex, nodes: SnapshotNode[]): void {
    if (this.rows.count > 0 || this.graph) throw new Error('a snapshot can only be loaded into an empty tenant');
    let max = -1;
    for (const n of nodes) if (n.key > max) max = n.key;
    this.ensurePersons(max + 1);
    this.restored = new Map();
    for (const n of nodes) {
      this.personState[n.key] = RESTORED;
      this.restored.set(n.person, { key: n.key, templateIds: n.templateIds });
    }
    this.freePersons = [];
    for (let p = max; p >= 0; p--) if (this.personState[p] === UNUSED) this.freePersons.push(p);
    this.graph = graph;
  }

  /** An upsert of a person whose node came from the snapshot: keep the node if built from the same templates. */
  private claimRestored(p: number, person: string, templates: Template[]): void {
    const node = this.restored!.get(person)!;
    this.restored!.delete(person);
    const same = node.templateIds.length === templates.length && templates.every((t) => node.templateIds.includes(t.id));
    if (same) this.personState[p] = IN_GRAPH;
    else {
      this.graph!.remove(BigInt(p));
      this.personState[p] = LIVE;
      this.pending.push(p);
    }
  }

  /** Ends a restore: nodes no upsert claimed are dropped; returns how many. */
  completeRestore(): number {
    if (!this.restored) return 0;
    let dropped = 0;
    for (const { key } of this.restored.values()) {
      if (this.personState[key] !== RESTORED) continue;
      this.graph!.remove(BigInt(key));
      this.personState[key] = UNUSED;
      this.freePersons.push(key);
      dropped++;
    }
    this.restored = null;
    this.flushPending();
    return dropped;
  }

  /** Bytes held in typed arrays by this tenant (graph excluded: it lives in native memory). */
  typedBytes(): number {
    return (
      this.rows.bytes() +
      this.rowHandle.byteLength +
      this.rowPerson.byteLength +
      this.rowTemplate.byteLength +
      this.handleRow.byteLength +
      this.handleNext.byteLength +
      this.personState.byteLength +
      this.personFirst.byteLength +
      this.personTemplates.byteLength
    );
  }
}
