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
  /**
   * While true no graph is built on upsert (a bulk load at start-up: inserting into a growing graph would hold the
   * load up for minutes); FAST answers exactly until buildInBackground() has built it.
   */
  deferBuild?: boolean;
}

/** Persons inserted per step of a background build before the event loop gets a turn. */
const BACKGROUND_STEP = 512;

export class PersonGraph {
  graph: UsearchIndex | null = null;
  /** Persons waiting to be inserted into the graph; searched exactly meanwhile. */
  pending: number[] = [];
  state = new Uint8Array(64);
  /** Subtracted from every node and query; fixed when the graph is built (or restored with it). */
  centre: Float32Array | null = null;
  private staging: { keys: BigUint64Array; matrix: Float32Array } | null = null;
  /** A graph being built in the background (not searched until complete) and the persons changed meanwhile. */
  private building: { inNext: Uint8Array; dirty: Set<number> } | null = null;
  private closed = false;

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
    } else if (!this.cfg.deferBuild && !this.building && this.reg.size >= this.cfg.annMinSize) this.build();
  }

  /** True while a background build runs. */
  get isBuilding(): boolean {
    return this.building !== null;
  }

  /** Stops a background build at its next step (the tenant is closing). */
  close(): void {
    this.closed = true;
  }

  /**
   * Builds the graph a step at a time, yielding to the event loop between steps, so the server answers meanwhile
   * (FAST exactly, from the rows, until the graph is complete). Persons written during the build are recorded and
   * re-inserted from their current templates at the end, so the finished graph matches the registry. Returns false
   * when there was nothing to build (a graph exists, or the tenant is below annMinSize) or the tenant closed.
   */
  async buildInBackground(onStep?: (done: number, total: number) => void): Promise<boolean> {
    if (this.graph || this.building || this.reg.size < this.cfg.annMinSize) return false;
    const next = createGraph(this.cfg.ann);
    const persons = [...this.reg.personByName.values()];
    const centre = this.cfg.centreGraph ? this.meanOf(persons) : null;
    const b = { inNext: new Uint8Array(this.reg.ordinalCount), dirty: new Set<number>() };
    this.building = b;
    try {
      for (let i = 0; i < persons.length; i += BACKGROUND_STEP) {
        if (this.closed) return false;
        // Only persons still live and unchanged since the build began; the others are handled at the end.
        const step = persons.slice(i, i + BACKGROUND_STEP).filter((p) => this.state[p] === LIVE && !b.dirty.has(p) && p < b.inNext.length);
        // One native call for the whole step: both threads get enough work (64-person calls left them idle).
        this.insertInto(next, step, centre, BACKGROUND_STEP);
        for (const p of step) b.inNext[p] = 1;
        onStep?.(Math.min(i + BACKGROUND_STEP, persons.length), persons.length);
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (this.closed) return false;
      // Synchronous from here: no write can interleave with the hand-over.
      for (const p of b.dirty) {
        if (p < b.inNext.length && b.inNext[p]) {
          next.remove(BigInt(p));
          b.inNext[p] = 0;
        }
      }
      this.graph = next;
      this.centre = centre;
      this.pending = [];
      for (const p of this.reg.personByName.values()) {
        if (p < b.inNext.length && b.inNext[p]) this.state[p] = IN_GRAPH;
        else {
          this.state[p] = LIVE;
          this.pending.push(p);
        }
      }
      this.flushPending();
      return true;
    } finally {
      this.building = null;
    }
  }

  /** The person's templates changed (or it is new): its node must be (re)built from the new mean. */
  nodeChanged(p: number): void {
    this.building?.dirty.add(p);
    if (this.state[p] === IN_GRAPH) this.graph!.remove(BigInt(p));
    if (this.state[p] === LIVE && this.graph && this.pending.includes(p)) return;
    this.state[p] = LIVE;
    if (this.graph) this.pending.push(p);
  }

  /** The person is gone: its node leaves the graph (or the pending list) at once. */
  drop(p: number): void {
    this.building?.dirty.add(p);
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
    this.centre = this.cfg.centreGraph ? this.meanOf(persons) : null;
    this.insert(persons);
  }

  /** The mean of the persons' graph vectors (the centre of a centred graph). */
  private meanOf(persons: number[]): Float32Array {
    const dim = this.reg.dim;
    const sum = new Float64Array(dim);
    const mean = new Float32Array(dim);
    for (const p of persons) {
      this.personMean(p, mean, 0);
      for (let j = 0; j < dim; j++) sum[j] += mean[j];
    }
    return Float32Array.from(sum, (x) => x / Math.max(1, persons.length));
  }

  private insert(persons: number[]): void {
    this.insertInto(this.graph!, persons, this.centre);
    for (const p of persons) this.state[p] = IN_GRAPH;
  }

  private insertInto(graph: UsearchIndex, persons: number[], centre: Float32Array | null, step = this.cfg.annBatch): void {
    const dim = this.reg.dim;
    // One reused staging buffer: a fresh buffer per batch fragments the native heap.
    if (!this.staging || this.staging.keys.length < step) {
      this.staging = { keys: new BigUint64Array(step), matrix: new Float32Array(step * dim) };
    }
    const { keys, matrix } = this.staging;
    for (let i = 0; i < persons.length; i += step) {
      const n = Math.min(step, persons.length - i);
      for (let j = 0; j < n; j++) {
        keys[j] = BigInt(persons[i + j]);
        this.personMean(persons[i + j], matrix, j * dim);
        if (centre) for (let d = 0; d < dim; d++) matrix[j * dim + d] -= centre[d];
      }
      graph.add(keys.subarray(0, n), matrix.subarray(0, n * dim), this.cfg.threads);
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
