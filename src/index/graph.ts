// The ANN graph of one tenant: one usearch HNSW node per person, the normalised mean of its templates.
//
// A person is one identity, so the graph is 2–3× smaller and faster to build than one node per template, and it
// has no tight clusters of a person's own templates, which HNSW links poorly to the rest (1 M faces, recall at
// ef 192: 0.994 per person vs 0.986 per template; docs/index.md). Candidates are then scored exactly over all of
// their templates by the search strategy. Changed persons wait in a small `pending` list (scored exactly) and
// enter the graph together, on several threads.
//
// Optionally (centreGraph), nodes and queries are centred on the mean of the persons when the graph was built.
// Face templates share a large common component (impostors score 0.15 on average for the 512-d engine, 0.81 for
// the 128-d one), and usearch scales each vector to ±127 before truncating it to int8: uncentred, that common
// part takes most of the range (128-d data fitted to the old engine, 100 k: FAST recall 0.920 uncentred, 0.965
// centred). It is off by default: at 512-d and 100 k it cost ~210 B a face more resident memory (cause not found;
// usearch alone does not show it) and bought nothing measurable at 512-d (docs/index.md).
import { createGraph, type AnnConfig, type UsearchIndex } from './ann.js';
import type { TemplateRegistry } from './registry.js';

// Graph state of a person ordinal.
export const UNUSED = 0;
/** Live; not in the graph (no graph yet, or waiting in `pending`). */
export const LIVE = 1;
export const IN_GRAPH = 2;
/** A node of a graph loaded from a snapshot, not yet claimed by an upsert of the same person. */
export const RESTORED = 3;

export interface GraphConfig {
  ann: AnnConfig;
  /** Below this many templates there is no graph (FAST scans exactly). */
  annMinSize: number;
  /** Inserts wait in a small exactly-scanned buffer and enter the graph together, in parallel. */
  annBatch: number;
  /** Threads for batched inserts. */
  threads: number;
  /** Centre nodes and queries on the persons' mean (see above). */
  centreGraph: boolean;
}

export class PersonGraph {
  graph: UsearchIndex | null = null;
  /** Persons waiting to be inserted into the graph; searched exactly meanwhile. */
  pending: number[] = [];
  state = new Uint8Array(64);
  /** Subtracted from every node and query; fixed when the graph is built (or restored with it). */
  centre: Float32Array | null = null;
  private staging: { keys: BigUint64Array; matrix: Float32Array } | null = null;

  constructor(
    private readonly cfg: GraphConfig,
    private readonly reg: TemplateRegistry,
  ) {}

  ensurePersons(need: number): void {
    if (this.state.length >= need) return;
    const s = new Uint8Array(Math.max(need, Math.ceil(this.state.length * 1.25)));
    s.set(this.state);
    this.state = s;
  }

  /** Builds the graph once the tenant is big enough; flushes a full pending batch. */
  maintain(): void {
    if (this.graph) {
      if (this.pending.length >= this.cfg.annBatch) this.flushPending();
    } else if (this.reg.size >= this.cfg.annMinSize) this.build();
  }

  /** The person's templates changed (or it is new): its node must be (re)built from the new mean. */
  nodeChanged(p: number): void {
    if (this.state[p] === IN_GRAPH) this.graph!.remove(BigInt(p));
    if (this.state[p] === LIVE && this.graph && this.pending.includes(p)) return;
    this.state[p] = LIVE;
    if (this.graph) this.pending.push(p);
  }

  /** The person is gone: its node leaves the graph (or the pending list) at once. */
  drop(p: number): void {
    if (this.state[p] === IN_GRAPH) this.graph!.remove(BigInt(p));
    else if (this.state[p] === LIVE && this.graph) {
      const i = this.pending.indexOf(p);
      if (i >= 0) {
        this.pending[i] = this.pending[this.pending.length - 1];
        this.pending.pop();
      }
    }
    this.state[p] = UNUSED;
  }

  /** Moves every pending insert into the graph (also called before a snapshot). */
  flushPending(): void {
    if (!this.graph || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.insert(batch);
  }

  /** The query as the graph sees it (centred). */
  centred(q: Float32Array): Float32Array {
    if (!this.centre) return q;
    const out = new Float32Array(q.length);
    for (let j = 0; j < q.length; j++) out[j] = q[j] - this.centre[j];
    return out;
  }

  /** Takes over a graph loaded from a snapshot (with the centre it was built with); nodes are RESTORED until claimed. */
  adopt(graph: UsearchIndex, keys: number[], centre: Float32Array | null): void {
    this.centre = centre;
    let max = -1;
    for (const k of keys) if (k > max) max = k;
    this.ensurePersons(max + 1);
    for (const k of keys) this.state[k] = RESTORED;
    this.graph = graph;
  }

  private build(): void {
    this.graph = createGraph(this.cfg.ann);
    this.pending = [];
    const persons = [...this.reg.personByName.values()];
    const dim = this.reg.dim;
    const sum = new Float64Array(dim);
    if (this.cfg.centreGraph) {
      const mean = new Float32Array(dim);
      for (const p of persons) {
        this.personMean(p, mean, 0);
        for (let j = 0; j < dim; j++) sum[j] += mean[j];
      }
    }
    this.centre = this.cfg.centreGraph ? Float32Array.from(sum, (x) => x / Math.max(1, persons.length)) : null;
    this.insert(persons);
  }

  private insert(persons: number[]): void {
    const dim = this.reg.dim;
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
        if (this.centre) for (let d = 0; d < dim; d++) matrix[j * dim + d] -= this.centre[d];
      }
      this.graph!.add(keys.subarray(0, n), matrix.subarray(0, n * dim), this.cfg.threads);
      for (let j = 0; j < n; j++) this.state[persons[i + j]] = IN_GRAPH;
    }
  }

  /** The person's graph vector: the normalised mean of its templates. */
  private personMean(p: number, out: Float32Array, offset: number): void {
    const { reg } = this;
    const dim = reg.dim;
    out.fill(0, offset, offset + dim);
    for (let h = reg.personFirst[p]; h !== -1; h = reg.handleNext[h]) reg.rows.addInto(reg.handleRow[h], out, offset);
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += out[offset + j] * out[offset + j];
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < dim; j++) out[offset + j] *= inv;
  }
}
