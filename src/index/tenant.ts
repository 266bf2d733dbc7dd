// One client's index: the parts below, kept apart so that one tenant's search never touches another's data.
//   registry.ts   templates, persons and their vectors
//   membership.ts collections
//   graph.ts      the ANN graph of persons and its pending inserts
//   search.ts     how a query is answered, and the exact re-rank
//   restore.ts    snapshot restore (claiming and dropping restored nodes)
// This class only sequences a write across them.
import { PersonGraph } from './graph.js';
import { Membership } from './membership.js';
import { TemplateRegistry } from './registry.js';
import { SnapshotRestore } from './restore.js';
import { SearchStrategy, type SearchConfig } from './search.js';
import type { SearchHit, Template } from './types.js';
import type { GraphConfig } from './graph.js';
import { FileFloatVectors, MemoryFloatVectors } from './floats.js';
import type { RowPrecision } from './vectors.js';

export type { SearchPathCounts } from './search.js';
export { emptyCounts } from './search.js';
export type { SnapshotNode } from './restore.js';

export interface TenantConfig extends SearchConfig, GraphConfig {
  /** log2 of the rows per storage chunk. */
  chunkBits: number;
  /** Resident rows: float32, or int8 with the float32 copy for the exact re-rank kept elsewhere. */
  precision: RowPrecision;
  /** Where int8 rows' float32 copy lives (a file per tenant); in memory when absent. */
  floatVectorsDir?: string;
}

export class Tenant {
  readonly registry: TemplateRegistry;
  readonly membership = new Membership();
  readonly graph: PersonGraph;
  readonly strategy: SearchStrategy;
  readonly restore: SnapshotRestore;

  constructor(cfg: TenantConfig) {
    const floats =
      cfg.precision === 'i8' ? (cfg.floatVectorsDir ? new FileFloatVectors(cfg.floatVectorsDir, cfg.dim) : new MemoryFloatVectors(cfg.dim)) : undefined;
    this.registry = new TemplateRegistry({ dim: cfg.dim, chunkBits: cfg.chunkBits, precision: cfg.precision, floats });
    this.graph = new PersonGraph(cfg, this.registry);
    this.strategy = new SearchStrategy(cfg, this.registry, this.membership, this.graph);
    this.restore = new SnapshotRestore(this.registry, this.graph);
  }

  get size(): number {
    return this.registry.size;
  }

  get counts() {
    return this.strategy.counts;
  }

  upsert(person: string, collections: string[], templates: Template[]): void {
    if (templates.length === 0) {
      this.removePerson(person);
      return;
    }
    const reg = this.registry;
    let p = reg.personByName.get(person);
    if (p === undefined) {
      // A person restored from a snapshot gets back its ordinal, which is its graph key.
      p = reg.newPerson(person, this.restore.ordinalOf(person));
      this.graph.ensurePersons(reg.ordinalCount);
    }
    const { added, removed, before } = reg.setTemplates(p, templates);
    this.membership.set(p, collections, before, templates.length);
    if (this.restore.isUnclaimed(p)) this.restore.claim(p, person, templates);
    else if (added > 0 || removed > 0 || before === 0) this.graph.nodeChanged(p);
    this.graph.maintain();
  }

  setCollections(person: string, collections: string[]): void {
    const p = this.registry.personByName.get(person);
    if (p === undefined) return;
    this.membership.set(p, collections, this.registry.personTemplates[p]);
  }

  removePerson(person: string): void {
    const reg = this.registry;
    const p = reg.personByName.get(person);
    if (p === undefined) return;
    this.membership.clear(p, reg.personTemplates[p]);
    reg.clearTemplates(p);
    this.graph.drop(p);
    reg.releasePerson(p);
  }

  removeCollection(collection: string): void {
    this.membership.removeCollection(collection);
  }

  /** Releases the float copy's file. */
  close(): void {
    this.graph.close();
    this.registry.rows.close();
  }

  search(q: Float32Array, k: number, fast: boolean, collection: string | undefined, minSim: number): SearchHit[] {
    return this.strategy.search(q, k, fast, collection, minSim);
  }
}
