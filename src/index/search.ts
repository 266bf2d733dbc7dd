// Search strategy of one tenant: which way a query is answered (graph walk, exact scan of one collection's
// persons, native pre-scan of every row with a proof of exactness, plain JS scan) and the exact re-rank that
// every way ends with. Whatever the way, each similarity returned is a person's exact best over its templates.
import { exactSearch, MetricKind, type AnnConfig } from './ann.js';
import { IN_GRAPH, type PersonGraph } from './graph.js';
import { dotAt, int8ErrorBound } from './kernels.js';
import type { Membership } from './membership.js';
import type { TemplateRegistry } from './registry.js';
import { TopPersons } from './topk.js';
import type { SearchHit } from './types.js';

export interface SearchConfig {
  dim: number;
  ann: AnnConfig;
  /**
   * Cost of one graph candidate relative to one template of an exact collection scan. A filtered FAST search
   * needs about ef·persons/members graph candidates, so it scans the collection exactly when
   * templates(collection)·members ≤ cost·ef·persons (measured: docs/index.md).
   */
  graphCandidateCost: number;
  /** Most graph candidates FAST asks for before falling back to an exact scan. */
  annMaxCandidates: number;
  /** Threads for native exact scans. */
  threads: number;
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

interface Candidate {
  score: number;
  row: number;
}

export class SearchStrategy {
  readonly counts: SearchPathCounts = emptyCounts();

  constructor(
    private readonly cfg: SearchConfig,
    private readonly reg: TemplateRegistry,
    private readonly members: Membership,
    private readonly graph: PersonGraph,
  ) {}

  search(q: Float32Array, k: number, fast: boolean, collection: string | undefined, minSim: number): SearchHit[] {
    const { reg } = this;
    if (reg.size === 0) return [];
    let c = -1;
    if (collection !== undefined) {
      c = this.members.ordinal(collection);
      if (c < 0 || this.members.templatesIn(c) === 0) return [];
    }
    const subset = c >= 0 ? this.members.templatesIn(c) : reg.size;
    const persons = reg.personCount;
    const members = c >= 0 ? this.members.members(c).size : persons;
    if (fast && this.graph.graph && (c < 0 || subset * members > this.cfg.graphCandidateCost * this.cfg.ann.expansionSearch * persons)) {
      const hits = this.searchGraph(q, k, c, minSim, members / persons);
      if (hits) return hits;
    }
    if (c >= 0 && subset <= reg.size * SUBSET_SCAN_SHARE) return this.scanCollection(q, k, c, minSim);
    return this.scanAll(q, k, c, minSim, subset);
  }

  /**
   * Graph candidates (plus the pending persons), scored exactly over all of their templates; null when an exact
   * scan is the better way. `share`: the collection's share of the persons (1 unfiltered).
   */
  private searchGraph(q: Float32Array, k: number, c: number, minSim: number, share: number): SearchHit[] | null {
    const graph = this.graph.graph!;
    const state = this.graph.state;
    let count = Math.ceil(Math.max(this.cfg.ann.expansionSearch, 2 * k) / share);
    count = Math.min(count, graph.size() + 1);
    let widened = false;
    for (;;) {
      if (count > this.cfg.annMaxCandidates) return null;
      const m = graph.search(q, count, 1);
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
        if (state[p] !== IN_GRAPH) continue; // restored from a snapshot but not re-upserted
        if (c >= 0 && !this.members.has(p, c)) continue;
        this.bestOfPerson(p, q, cand);
        scored++;
        if (cand.score < weakest) weakest = cand.score;
        if (cand.score >= minSim) top.offer(cand.score, p, cand.row);
      }
      // Persons waiting to enter the graph are distinct from its nodes: score them all.
      for (const p of this.graph.pending) {
        if (c >= 0 && !this.members.has(p, c)) continue;
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
    const p = this.reg.rowPerson[row];
    if (c >= 0 && !this.members.has(p, c)) return NaN;
    const { rows } = this.reg;
    const s = dotAt(rows.f32[rows.chunkOf(row)], rows.offsetOf(row), q, this.cfg.dim);
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
      person: this.reg.personName[e.person],
      similarity: e.score,
      templateId: this.reg.rowTemplate[e.row],
    }));
  }

  /** Sets `out` to the person's best template for `q`. */
  private bestOfPerson(p: number, q: Float32Array, out: Candidate): Candidate {
    const { reg } = this;
    const { rows } = reg;
    out.score = -Infinity;
    out.row = -1;
    for (let h = reg.personFirst[p]; h !== -1; h = reg.handleNext[h]) {
      const row = reg.handleRow[h];
      const s = dotAt(rows.f32[rows.chunkOf(row)], rows.offsetOf(row), q, this.cfg.dim);
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
    for (const p of this.members.members(c)) {
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
    const { cfg } = this;
    const { rows } = this.reg;
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
    let t = Math.max(32, Math.ceil((4 * k * this.reg.avgTemplatesPerPerson()) / share)) * (qi8 ? 4 : 1);
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
    const { reg } = this;
    const { rows } = reg;
    const best = new Float64Array(reg.ordinalCount).fill(-Infinity);
    const bestRow = new Int32Array(reg.ordinalCount);
    for (let ci = 0; ci < rows.chunkCount; ci++) {
      const data = rows.f32[ci];
      const n = rows.rowsIn(ci);
      const base = ci * rows.chunkRows;
      for (let i = 0, off = 0; i < n; i++, off += this.cfg.dim) {
        const s = dotAt(data, off, q, this.cfg.dim);
        const p = reg.rowPerson[base + i];
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
}
