// Search strategy of one tenant: which way a query is answered (graph walk, exact scan of one collection's
// persons, native pre-scan of every row with a proof of exactness, plain JS scan) and the exact re-rank that
// every way ends with. Whatever the way, each similarity returned is a person's exact best over its templates.
//
// The re-rank works on bounds: each candidate row has an upper bound of its score (its resident int8 score plus
// its rounding error, or its exact float32 score). Rows are taken best bound first and scored exactly (reading
// the float copy for int8 rows) until the next bound cannot beat the k-th person found or minSimilarity: any row
// left over provably cannot change the answer.
import { exactSearch, MetricKind, type AnnConfig } from './ann.js';
import { IN_GRAPH, type PersonGraph } from './graph.js';
import type { Membership } from './membership.js';
import type { TemplateRegistry } from './registry.js';
import { BestPersons, TopPersons } from './topk.js';
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
  /** Float32 vectors read for the exact re-rank of int8 rows (the rest were ruled out by their bounds). */
  floatReads: number;
}

export function emptyCounts(): SearchPathCounts {
  return { graph: 0, widened: 0, nativeScanRounds: 0, int8Rounds: 0, nativeScan: 0, collectionScan: 0, fullScan: 0, floatReads: 0 };
}

/**
 * usearch's float32 scan accumulates in float32 and reports 1 − dot; its scores can differ from the double
 * re-rank by ~dim·2⁻²⁴. The stopping rule adds this margin so the float path is exact, not nearly exact.
 */
const F32_SCAN_MARGIN = 1e-4;
/** Rounding of a double dot product of an int8 row with a float32 query, and of ‖q‖ (far above either). */
const SLACK = 1e-9;
/** FAST scores exactly the first max(RESCORE_MIN, RESCORE_PER_K·k) persons of the walk's result list. */
const RESCORE_MIN = 32;
const RESCORE_PER_K = 4;
/**
 * A filtered exact search scans just the collection's persons when they hold at most this share of the rows;
 * above it the native scan of every row is cheaper (≈ 0.3–0.7 µs a template in JS, scattered, vs ≈ 0.035 µs a
 * row natively at 1 M).
 */
const SUBSET_SCAN_SHARE = 0.05;

/**
 * Candidate rows with an upper bound of their score. Persons offered whole (addPerson) also give a lower bound
 * of their best score; the k-th best of those can only rise, and is a lower bound of the final k-th person's
 * score, so rows whose upper bound is below it are dropped on the way in.
 */
class Candidates {
  readonly rows: number[] = [];
  readonly uppers: number[] = [];
  /** Float32 vectors read by rerank(). */
  reads = 0;
  private readonly lowers: TopPersons;
  private readonly qNorm: number;

  constructor(
    private readonly reg: TemplateRegistry,
    private readonly q: Float32Array,
    k: number,
    private readonly minSim: number,
  ) {
    this.lowers = new TopPersons(k);
    let n = 0;
    for (let j = 0; j < q.length; j++) n += q[j] * q[j];
    this.qNorm = Math.sqrt(n);
  }

  /** Every template of person p; returns the upper bound of its best score. */
  addPerson(p: number): number {
    const { reg } = this;
    const { rows } = reg;
    let best = -Infinity;
    let bestLower = -Infinity;
    const first = this.rows.length;
    for (let h = reg.personFirst[p]; h !== -1; h = reg.handleNext[h]) {
      const row = reg.handleRow[h];
      const a = rows.approx(row, this.q);
      const e = rows.exactInPlace ? 0 : rows.errOf(row) * this.qNorm + SLACK;
      if (a + e > best) best = a + e;
      if (a - e > bestLower) bestLower = a - e;
      this.rows.push(row);
      this.uppers.push(a + e);
    }
    if (bestLower >= this.minSim) this.lowers.offer(bestLower, p, -1);
    // Drop this person's rows again if none can reach the k-th lower bound (which never falls).
    if (best < this.lowers.floor || best < this.minSim) {
      this.rows.length = first;
      this.uppers.length = first;
    }
    return best;
  }

  /** One row (from a native scan; its person's other rows may be absent). */
  addRow(row: number): void {
    const { rows } = this.reg;
    const a = rows.approx(row, this.q);
    const e = rows.exactInPlace ? 0 : rows.errOf(row) * this.qNorm + SLACK;
    if (a + e < this.minSim) return;
    this.rows.push(row);
    this.uppers.push(a + e);
  }

  /** Adds a row whose upper bound is already known. */
  addBounded(row: number, upper: number): void {
    this.rows.push(row);
    this.uppers.push(upper);
  }

  /**
   * Adds a row with a loose upper bound (a native int8 scan's score plus that scan's worst-case error): rerank()
   * tightens it with the row's own error before reading its float copy, so most rows cost neither.
   */
  addLoose(row: number, upper: number): void {
    if (upper < this.minSim) return;
    this.rows.push(row);
    this.uppers.push(upper);
    this.loose = true;
  }

  private loose = false;

  /** Exact top-k persons among the candidates, scoring exactly only rows whose bound can still matter. */
  rerank(k: number): BestPersons {
    const { reg, minSim } = this;
    const { rows } = reg;
    const order = Array.from(this.rows.keys()).sort((a, b) => this.uppers[b] - this.uppers[a]);
    const top = new BestPersons(k);
    for (const i of order) {
      const upper = this.uppers[i];
      if (upper < (top.size === k ? top.floor : minSim)) break;
      const row = this.rows[i];
      let s = upper;
      if (this.loose) {
        const a = rows.approx(row, this.q);
        if (a + rows.errOf(row) * this.qNorm + SLACK < (top.size === k ? top.floor : minSim)) continue;
      }
      if (!rows.exactInPlace) {
        s = rows.exact(row, reg.rowHandle[row], this.q);
        this.reads++;
      }
      if (s >= minSim) top.offer(s, reg.rowPerson[row], row);
    }
    return top;
  }

  get norm(): number {
    return this.qNorm;
  }
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
    const walkQuery = this.graph.centred(q);
    for (;;) {
      if (count > this.cfg.annMaxCandidates) return null;
      const m = graph.search(walkQuery, count, 1);
      // The walk's results come best first (by the int8 similarity to each person's mean). Only the first
      // `rescore` eligible ones are scored over their templates: the beam (ef) is what finds the match, and a
      // match sits at the head of the list (scoring all ef persons cost 0.6 ms of 1.4 ms at 300 k).
      const rescore = Math.max(RESCORE_MIN, RESCORE_PER_K * k);
      const cands = new Candidates(this.reg, q, k, minSim);
      let weakest = Infinity;
      let scored = 0;
      for (let i = 0; i < m.keys.length && scored < rescore; i++) {
        const p = Number(m.keys[i]);
        if (state[p] !== IN_GRAPH) continue; // restored from a snapshot but not re-upserted
        if (c >= 0 && !this.members.has(p, c)) continue;
        const upper = cands.addPerson(p);
        scored++;
        if (upper < weakest) weakest = upper;
      }
      // Persons waiting to enter the graph are distinct from its nodes: score them all.
      for (const p of this.graph.pending) {
        if (c >= 0 && !this.members.has(p, c)) continue;
        cands.addPerson(p);
      }
      const top = cands.rerank(k);
      this.counts.floatReads += cands.reads;
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

  private hits(top: BestPersons): SearchHit[] {
    return top.sorted().map((e) => ({
      person: this.reg.personName[e.person],
      similarity: e.score,
      templateId: this.reg.rowTemplate[e.row],
    }));
  }

  /** Exact: every template of the collection's persons, in JS (the subset is not contiguous). */
  private scanCollection(q: Float32Array, k: number, c: number, minSim: number): SearchHit[] {
    this.counts.collectionScan++;
    const cands = new Candidates(this.reg, q, k, minSim);
    for (const p of this.members.members(c)) cands.addPerson(p);
    const top = cands.rerank(k);
    this.counts.floatReads += cands.reads;
    return this.hits(top);
  }

  /**
   * Exact over all rows: a native scan (of the float32 or the int8 rows) picks the top T rows of each chunk,
   * which are re-ranked exactly. Any row left out scored at most `bound` in the native scan, so its true score is
   * at most bound + ε (ε: the scan's worst-case error). Once that cannot reach the k-th person found (or
   * minSimilarity), the answer is exactly the float answer; otherwise T grows.
   */
  private scanAll(q: Float32Array, k: number, c: number, minSim: number, subset: number): SearchHit[] {
    const { cfg } = this;
    const { rows } = this.reg;
    const int8 = !rows.exactInPlace;
    let qi8: Int8Array | null = null;
    let eps = F32_SCAN_MARGIN;
    let scale = 1;
    if (int8) {
      // The query is quantised with its own scale; with x = x̂/s + ex and q = q̂/sq + eq,
      // x·q − x̂·q̂/(s·sq) = ex·q + (x̂/s)·eq, so |…| ≤ max‖ex‖·‖q‖ + (1 + max‖ex‖)·‖eq‖ (‖x‖ = 1).
      let qMax = 0;
      let qNorm2 = 0;
      for (let j = 0; j < cfg.dim; j++) {
        qMax = Math.max(qMax, Math.abs(q[j]));
        qNorm2 += q[j] * q[j];
      }
      const sq = qMax > 0 ? 127 / qMax : 1;
      qi8 = new Int8Array(cfg.dim);
      let eq2 = 0;
      for (let j = 0; j < cfg.dim; j++) {
        const v = Math.round(q[j] * sq);
        qi8[j] = v;
        eq2 += (q[j] - v / sq) ** 2;
      }
      const maxErr = rows.maxErr;
      eps = maxErr * Math.sqrt(qNorm2) + (1 + 1e-6 + maxErr) * Math.sqrt(eq2) + 1e-6;
      scale = rows.scale * sq;
    }
    const share = subset / rows.count;
    // int8's wider error bound needs a deeper candidate list to settle; a second scan round costs more than
    // re-ranking a few thousand extra rows.
    let t = Math.max(32, Math.ceil((4 * k * this.reg.avgTemplatesPerPerson()) / share)) * (int8 ? 4 : 1);
    for (;;) {
      const cands = new Candidates(this.reg, q, k, minSim);
      let bound = -Infinity;
      this.counts.nativeScanRounds++;
      if (int8) this.counts.int8Rounds++;
      for (let ci = 0; ci < rows.chunkCount; ci++) {
        const n = rows.rowsIn(ci);
        const tc = Math.min(t, n);
        const m = qi8
          ? exactSearch(rows.i8View(ci), qi8, cfg.dim, tc, MetricKind.IP, cfg.threads)
          : exactSearch(rows.f32View(ci), q, cfg.dim, tc, MetricKind.IP, cfg.threads);
        const base = ci * rows.chunkRows;
        for (let i = 0; i < m.keys.length; i++) {
          const row = base + Number(m.keys[i]);
          if (c >= 0 && !this.members.has(this.reg.rowPerson[row], c)) continue;
          if (int8) cands.addLoose(row, (1 - m.distances[i]) / scale + eps);
          else cands.addRow(row);
        }
        if (tc < n) bound = Math.max(bound, (1 - m.distances[tc - 1]) / scale);
      }
      const top = cands.rerank(k);
      this.counts.floatReads += cands.reads;
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

  /**
   * Exact, in JS, every row: the fallback when the native pre-scan cannot settle the answer cheaply. A first pass
   * bounds every row; the k-th best person's lower bound then says which rows need their exact score.
   */
  private scanEveryRow(q: Float32Array, k: number, minSim: number): SearchHit[] {
    this.counts.fullScan++;
    const { reg } = this;
    const { rows } = reg;
    const cands = new Candidates(reg, q, k, minSim);
    const approx = new Float64Array(rows.count);
    const bestLower = new Float64Array(reg.ordinalCount).fill(-Infinity);
    for (let row = 0; row < rows.count; row++) {
      const a = rows.approx(row, q);
      approx[row] = a;
      const e = rows.exactInPlace ? 0 : rows.errOf(row) * cands.norm + SLACK;
      const p = reg.rowPerson[row];
      if (a - e > bestLower[p]) bestLower[p] = a - e;
    }
    const lowers = new TopPersons(k);
    for (let p = 0; p < bestLower.length; p++) if (bestLower[p] > -Infinity) lowers.offer(bestLower[p], p, -1);
    const threshold = Math.max(minSim, lowers.floor);
    for (let row = 0; row < rows.count; row++) {
      const upper = approx[row] + (rows.exactInPlace ? 0 : rows.errOf(row) * cands.norm + SLACK);
      if (upper >= threshold) cands.addBounded(row, upper);
    }
    const top = cands.rerank(k);
    this.counts.floatReads += cands.reads;
    return this.hits(top);
  }
}
