// Collection membership of one tenant: which collections each person is in, who is in each collection and how
// many templates that makes (the search strategy's cost model needs both). Collections nobody belongs to any
// more are forgotten so their ordinals are reused.

const EMPTY: readonly number[] = Object.freeze([]);

export class Membership {
  /** Sorted collection ordinals per person; equal sets share one frozen array. */
  private personColls: (readonly number[])[] = [];
  private collByName = new Map<string, number>();
  private collName: string[] = [];
  private collMembers: Set<number>[] = [];
  private collTemplates: number[] = [];
  private freeColls: number[] = [];
  private internedSets = new Map<string, readonly number[]>();

  /** Collection ordinal of a name, or −1 when no person is in it. */
  ordinal(name: string): number {
    return this.collByName.get(name) ?? -1;
  }

  members(c: number): Set<number> {
    return this.collMembers[c];
  }

  templatesIn(c: number): number {
    return this.collTemplates[c];
  }

  /** True when person p is in collection c. */
  has(p: number, c: number): boolean {
    return this.personColls[p].includes(c);
  }

  /**
   * Puts person p in exactly these collections; it held `before` templates while in its old ones and holds
   * `after` now (an upsert changes both at once).
   */
  set(p: number, names: readonly string[], before: number, after = before): void {
    while (this.personColls.length <= p) this.personColls.push(EMPTY);
    const old = this.personColls[p];
    this.detach(p, before);
    this.attach(p, names, after);
    this.releaseEmpty(old);
  }

  /** Takes person p out of every collection. */
  clear(p: number, templates: number): void {
    if (p >= this.personColls.length) return;
    const old = this.personColls[p];
    this.detach(p, templates);
    this.releaseEmpty(old);
  }

  /** Drops a collection from everyone in it. */
  removeCollection(name: string): void {
    const c = this.collByName.get(name);
    if (c === undefined) return;
    for (const p of this.collMembers[c]) this.personColls[p] = this.intern(this.personColls[p].filter((x) => x !== c));
    this.collMembers[c].clear();
    this.collTemplates[c] = 0;
    this.releaseEmpty([c]);
  }

  private detach(p: number, templates: number): void {
    for (const c of this.personColls[p]) {
      this.collTemplates[c] -= templates;
      this.collMembers[c].delete(p);
    }
    this.personColls[p] = EMPTY;
  }

  private attach(p: number, names: readonly string[], templates: number): void {
    if (names.length === 0) return;
    const ords = [...new Set(names)].map((name) => this.ordinalFor(name)).sort((a, b) => a - b);
    this.personColls[p] = this.intern(ords);
    for (const c of ords) {
      this.collTemplates[c] += templates;
      this.collMembers[c].add(p);
    }
  }

  private ordinalFor(name: string): number {
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
}
