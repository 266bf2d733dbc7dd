// Snapshot restore of one tenant's graph. The snapshot holds the graph and, per node, the person id and the
// template ids it was built from; the store's rebuild then upserts every person, and each upsert *claims* its node
// (kept when built from the same template ids, rebuilt otherwise). Nodes no upsert claimed belong to persons the
// store no longer has: completeRestore() drops them.
import { IN_GRAPH, LIVE, RESTORED, UNUSED, type PersonGraph } from './graph.js';
import type { TemplateRegistry } from './registry.js';
import type { UsearchIndex } from './ann.js';
import type { Template } from './types.js';

export interface SnapshotNode {
  /** Graph key: the person's ordinal. */
  key: number;
  person: string;
  templateIds: number[];
}

export class SnapshotRestore {
  /** While restoring: person id → its node (key and the template ids it was built from). */
  private restored: Map<string, { key: number; templateIds: number[] }> | null = null;

  constructor(
    private readonly reg: TemplateRegistry,
    private readonly graph: PersonGraph,
  ) {}

  /** The ordinal a person id had in the snapshot (its graph key), if it is still waiting to be claimed. */
  ordinalOf(person: string): number | undefined {
    return this.restored?.get(person)?.key;
  }

  /** The graph, its centre and, per live node, its person id and template ids; pending inserts are flushed first. */
  graphForSnapshot(): { graph: UsearchIndex; centre: Float32Array | null; nodes: SnapshotNode[] } | null {
    const { graph } = this.graph;
    if (!graph) return null;
    this.graph.flushPending();
    const nodes: SnapshotNode[] = [];
    for (const [name, p] of this.reg.personByName) {
      if (this.graph.state[p] !== IN_GRAPH) continue;
      nodes.push({ key: p, person: name, templateIds: this.reg.templateIdsOf(p) });
    }
    return { graph, centre: this.graph.centre, nodes };
  }

  /** Adopts a graph loaded from a snapshot; the upserts that follow claim its nodes by person id. */
  adopt(graph: UsearchIndex, nodes: SnapshotNode[], centre: Float32Array | null): void {
    if (this.reg.size > 0 || this.graph.graph) throw new Error('a snapshot can only be loaded into an empty tenant');
    const keys = nodes.map((n) => n.key);
    const max = keys.reduce((m, k) => Math.max(m, k), -1);
    this.reg.ensurePersons(max + 1);
    this.graph.adopt(graph, keys, centre);
    this.restored = new Map(nodes.map((n) => [n.person, { key: n.key, templateIds: n.templateIds }]));
    // Ordinals no node uses are free; the snapshot's own are handed back to their persons by ordinalOf().
    this.reg.freePersons = [];
    for (let p = max; p >= 0; p--) if (this.graph.state[p] === UNUSED) this.reg.freePersons.push(p);
  }

  /** True when person p's node came from the snapshot and no upsert has claimed it yet. */
  isUnclaimed(p: number): boolean {
    return this.graph.state[p] === RESTORED;
  }

  /** An upsert of a person whose node came from the snapshot: keep the node if built from the same templates. */
  claim(p: number, person: string, templates: Template[]): void {
    const node = this.restored!.get(person)!;
    this.restored!.delete(person);
    const same = node.templateIds.length === templates.length && templates.every((t) => node.templateIds.includes(t.id));
    if (same) this.graph.state[p] = IN_GRAPH;
    else {
      this.graph.graph!.remove(BigInt(p));
      this.graph.state[p] = LIVE;
      this.graph.pending.push(p);
    }
  }

  /** Ends a restore: nodes no upsert claimed (persons the store no longer has) are dropped; returns how many. */
  complete(): number {
    if (!this.restored) return 0;
    let dropped = 0;
    for (const { key } of this.restored.values()) {
      if (this.graph.state[key] !== RESTORED) continue;
      this.graph.graph!.remove(BigInt(key));
      this.graph.state[key] = UNUSED;
      this.reg.freePersons.push(key);
      dropped++;
    }
    this.restored = null;
    this.graph.flushPending();
    return dropped;
  }
}
