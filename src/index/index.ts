// The face index: one Tenant per client (separate storage and graph, so tenants never see each other's data).
// Every write is applied synchronously, so it is visible to the very next search.
import { availableParallelism } from 'node:os';
import type { AnnConfig } from './ann.js';
import { loadGraphs, saveGraphs } from './snapshot.js';
import { emptyCounts, Tenant, type SearchPathCounts, type TenantConfig } from './tenant.js';
import type { FaceIndex, PersonEntry, SearchHit, SearchOptions, SnapshotGeneration, SnapshotInfo } from './types.js';

export type * from './types.js';
export type { SearchPathCounts } from './tenant.js';

export interface FaceIndexOptions {
  /** Template length; every vector and query must have exactly this many components. */
  dim: number;
  /**
   * HNSW degree M (usearch connectivity). Default 32: at 16, about 1 % of the persons of 512-d face-like data had
   * no way in (the walk could not reach them even from their own vector), a recall ceiling no beam width lifts
   * (docs/index.md).
   */
  connectivity?: number;
  /** HNSW beam width while inserting (efConstruction). Default 128: 256 cost build time and bought no recall (docs/index.md). */
  expansionAdd?: number;
  /** HNSW beam width while searching (ef); FAST walks with this beam (and scores the head of its result list exactly). Default 192. */
  expansionSearch?: number;
  /** Scalar type of the graph's internal vector copy. Default 'i8' (dim bytes a face; re-rank is float32). */
  graphQuantization?: 'i8' | 'f16' | 'f32';
  /** A tenant gets a graph once it holds this many templates; below, FAST is an exact scan. Default 20 000. */
  annMinSize?: number;
  /** Persons are batched into the graph this many at a time (scored exactly until then). Default 64. */
  annBatch?: number;
  /**
   * One graph candidate's cost in exact-scanned templates: a filtered FAST search scans the collection exactly
   * when it holds at most √(cost·ef·rows) templates (≈ 24 000 at 1 M rows). Default 9 (measured).
   */
  graphCandidateCost?: number;
  /** Most graph candidates a filtered FAST search asks for before scanning exactly. Default 4096. */
  annMaxCandidates?: number;
  /**
   * What stays resident per template. 'f32': the float32 vector, 4·dim bytes. 'i8': an int8 copy and its
   * rounding error, dim + 4 bytes; the exact scores come from a float32 copy in `floatVectorsDir`, read only for
   * the few candidates whose error bound leaves them in contention (docs/index.md). Default: 'f32' while a float32
   * row fits in half the 1 KiB a face budget (dim ≤ 128), 'i8' above.
   */
  rows?: 'f32' | 'i8';
  /**
   * Centre the graph's nodes and queries on the persons' mean (better int8 navigation when templates share a large
   * common component; measured trade in docs/index.md). Default false.
   */
  centreGraph?: boolean;
  /** Directory for the float32 copy of 'i8' rows (one unlinked file per tenant). Without it the copy stays in memory. */
  floatVectorsDir?: string;
  /** Threads for native exact scans and batched graph inserts. Default min(2, cores). */
  threads?: number;
  /** log2 of rows per storage chunk. Default 16. */
  chunkBits?: number;
}

/** The graph settings createFaceIndex uses when not told (measured: docs/index.md). */
export const ANN_DEFAULTS = { connectivity: 32, expansionAdd: 128, expansionSearch: 192 } as const;

/** Bytes a float32 row may take before the default switches to int8 rows: half of 1 KiB a face (docs/index.md). */
const F32_ROW_BUDGET = 512;

/** The resident rows createFaceIndex picks when not told. */
export function defaultRows(dim: number): 'f32' | 'i8' {
  return 4 * dim <= F32_ROW_BUDGET ? 'f32' : 'i8';
}

/** A vector or query whose length is not the index's dimension. */
export class DimensionMismatchError extends RangeError {
  constructor(readonly expected: number, readonly actual: number, what: string) {
    super(`${what} has ${actual} dimensions; this index holds ${expected}-dimensional templates`);
    this.name = 'DimensionMismatchError';
  }
}

/** FaceIndex plus introspection for metrics. */
export interface TenantedIndex extends FaceIndex {
  searchPaths(): SearchPathCounts;
  /** FAST's beam width (ef), changeable at run time: wider is slower and finds more. */
  readonly expansionSearch: number;
  setExpansionSearch(ef: number): void;
  /** Releases every tenant's float file ('i8' rows); the index must not be used afterwards. */
  close(): void;
  /**
   * Start-up bulk load: no ANN graph is built while persons are loaded (ACCURATE and FAST both answer exactly
   * meanwhile); call buildGraphs() once loaded.
   */
  deferGraphs(): void;
  /**
   * Ends deferGraphs(): builds the graph of every tenant large enough, one tenant after another, in steps that
   * leave the event loop free. FAST uses a tenant's graph from the moment it is complete. `onProgress` gets persons
   * inserted so far and in all.
   */
  buildGraphs(onProgress?: (p: { done: number; total: number }) => void): Promise<{ tenants: number; persons: number }>;
  /** True while graphs are deferred or being built (FAST is then exact for the tenants concerned). */
  readonly graphsPending: boolean;
  /** Persons inserted so far and in all by the running buildGraphs(); null when none runs. */
  readonly graphBuildProgress: { done: number; total: number } | null;
}

export function createFaceIndex(opts: FaceIndexOptions): TenantedIndex {
  return new TenantedFaceIndex(opts);
}

class TenantedFaceIndex implements TenantedIndex {
  readonly dim: number;
  private readonly cfg: TenantConfig;
  private readonly tenants = new Map<string, Tenant>();

  constructor(opts: FaceIndexOptions) {
    if (!Number.isInteger(opts.dim) || opts.dim < 1 || opts.dim > 1024) {
      throw new RangeError(`dim must be an integer in 1..1024, got ${opts.dim}`);
    }
    this.dim = opts.dim;
    const ann: AnnConfig = {
      dim: opts.dim,
      connectivity: opts.connectivity ?? ANN_DEFAULTS.connectivity,
      expansionAdd: opts.expansionAdd ?? ANN_DEFAULTS.expansionAdd,
      expansionSearch: opts.expansionSearch ?? ANN_DEFAULTS.expansionSearch,
      quantization: opts.graphQuantization ?? 'i8',
    };
    this.cfg = {
      dim: opts.dim,
      chunkBits: opts.chunkBits ?? 16,
      precision: opts.rows ?? defaultRows(opts.dim),
      floatVectorsDir: opts.floatVectorsDir,
      centreGraph: opts.centreGraph ?? false,
      ann,
      annMinSize: opts.annMinSize ?? 20_000,
      annBatch: opts.annBatch ?? 64,
      graphCandidateCost: opts.graphCandidateCost ?? 9,
      annMaxCandidates: opts.annMaxCandidates ?? 4096,
      threads: opts.threads ?? Math.min(2, availableParallelism()),
    };
  }

  upsertPerson(entry: PersonEntry): void {
    const ids = new Set<number>();
    for (const t of entry.templates) {
      this.checkVector(t.vector, `template ${t.id}`);
      if (!Number.isSafeInteger(t.id)) throw new TypeError(`template id must be an integer, got ${t.id}`);
      if (ids.has(t.id)) throw new TypeError(`template ${t.id} appears twice for person ${entry.person}`);
      ids.add(t.id);
    }
    if (entry.templates.length === 0) {
      this.tenants.get(entry.client)?.removePerson(entry.person);
      return;
    }
    this.tenant(entry.client).upsert(entry.person, entry.collections, entry.templates);
  }

  setCollections(client: string, person: string, collections: string[]): void {
    this.tenants.get(client)?.setCollections(person, collections);
  }

  removePerson(client: string, person: string): void {
    this.tenants.get(client)?.removePerson(person);
  }

  removeCollection(client: string, collection: string): void {
    this.tenants.get(client)?.removeCollection(collection);
  }

  search(client: string, query: Float32Array, opts: SearchOptions): SearchHit[] {
    this.checkVector(query, 'query');
    if (opts.mode !== 'FAST' && opts.mode !== 'ACCURATE') throw new TypeError(`unknown search mode ${String(opts.mode)}`);
    if (!Number.isInteger(opts.k) || opts.k < 0) throw new RangeError(`k must be a non-negative integer, got ${opts.k}`);
    const tenant = this.tenants.get(client);
    if (!tenant || opts.k === 0) return [];
    const minSim = opts.minSimilarity ?? -Infinity;
    return tenant.search(query, opts.k, opts.mode === 'FAST', opts.collection, minSim);
  }

  size(client?: string): number {
    if (client !== undefined) return this.tenants.get(client)?.size ?? 0;
    let n = 0;
    for (const t of this.tenants.values()) n += t.size;
    return n;
  }

  get expansionSearch(): number {
    return this.cfg.ann.expansionSearch;
  }

  setExpansionSearch(ef: number): void {
    if (!Number.isInteger(ef) || ef < 1) throw new RangeError(`ef must be a positive integer, got ${ef}`);
    this.cfg.ann.expansionSearch = ef;
  }

  close(): void {
    for (const t of this.tenants.values()) t.close();
    this.tenants.clear();
  }

  private building = false;
  private progress: { done: number; total: number } | null = null;

  deferGraphs(): void {
    this.cfg.deferBuild = true;
  }

  get graphsPending(): boolean {
    return this.cfg.deferBuild === true || this.building;
  }

  get graphBuildProgress(): { done: number; total: number } | null {
    return this.progress && { ...this.progress };
  }

  async buildGraphs(onProgress?: (p: { done: number; total: number }) => void): Promise<{ tenants: number; persons: number }> {
    this.building = true;
    // Upserts meanwhile build no graph synchronously (a tenant waiting its turn would block the event loop).
    this.cfg.deferBuild = true;
    try {
      const due = [...this.tenants.values()].filter((t) => !t.graph.graph && t.size >= this.cfg.annMinSize);
      const total = due.reduce((n, t) => n + t.registry.personCount, 0);
      let before = 0;
      let tenants = 0;
      this.progress = { done: 0, total };
      for (const t of due) {
        const persons = t.registry.personCount;
        const built = await t.graph.buildInBackground((done) => {
          this.progress = { done: before + done, total };
          onProgress?.({ ...this.progress });
        });
        if (built) tenants++;
        before += persons;
      }
      return { tenants, persons: before };
    } finally {
      // From here a tenant that reaches annMinSize by an upsert builds its graph as before (small tenants).
      this.cfg.deferBuild = false;
      this.building = false;
      this.progress = null;
    }
  }

  /** How searches were answered so far, summed over tenants. */
  searchPaths(): SearchPathCounts {
    const sum = emptyCounts();
    for (const t of this.tenants.values()) for (const key of Object.keys(sum) as (keyof SearchPathCounts)[]) sum[key] += t.counts[key];
    return sum;
  }

  saveSnapshot(dir: string, generation: SnapshotGeneration): SnapshotInfo {
    return saveGraphs(dir, String(generation), this.cfg, this.tenants);
  }

  loadSnapshot(dir: string, generation: SnapshotGeneration): boolean {
    if (this.size() > 0) throw new Error('loadSnapshot must be called on an empty index, before the rebuild');
    const graphs = loadGraphs(dir, String(generation), this.cfg);
    if (!graphs) return false;
    for (const g of graphs) this.tenant(g.client).restore.adopt(g.graph, g.nodes, g.centre);
    return true;
  }

  completeRestore(): { dropped: number } {
    let dropped = 0;
    for (const t of this.tenants.values()) dropped += t.restore.complete();
    return { dropped };
  }

  private tenant(client: string): Tenant {
    let t = this.tenants.get(client);
    if (!t) {
      t = new Tenant(this.cfg);
      this.tenants.set(client, t);
    }
    return t;
  }

  private checkVector(v: Float32Array, what: string): void {
    if (!(v instanceof Float32Array)) throw new TypeError(`${what} must be a Float32Array`);
    if (v.length !== this.dim) throw new DimensionMismatchError(this.dim, v.length, what);
    for (let j = 0; j < v.length; j++) {
      if (!Number.isFinite(v[j])) throw new RangeError(`${what} has a non-finite component at ${j}`);
    }
  }
}
