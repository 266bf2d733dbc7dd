// Template registry of one tenant: which templates exist, whose they are, and where their vectors sit.
//
// Ids: a *row* is a template's current position in VectorRows (it moves when a hole is filled by the last row);
// a *handle* is a template's stable id (a person's template list is linked through handles); a *person* is a small
// integer per person id, which is also its graph key. All per-template bookkeeping is in typed arrays (≈ 25 bytes
// a template), with no JS object per template.
import type { Template } from './types.js';
import { VectorRows, type VectorRowsOptions } from './vectors.js';

export function grownInt32(a: Int32Array<ArrayBuffer>, need: number, fill = 0): Int32Array<ArrayBuffer> {
  if (a.length >= need) return a;
  const b = new Int32Array(Math.max(need, Math.ceil(a.length * 1.25)));
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}

export class TemplateRegistry {
  readonly rows: VectorRows;

  rowHandle = new Int32Array(256);
  rowPerson = new Int32Array(256);
  rowTemplate = new Float64Array(256);

  handleRow = new Int32Array(256).fill(-1);
  handleNext = new Int32Array(256);
  private handleCount = 0;
  private freeHandles: number[] = [];

  readonly personByName = new Map<string, number>();
  personName: string[] = [];
  /** First handle of the person's template list (linked through handleNext), −1 when none. */
  personFirst = new Int32Array(64).fill(-1);
  personTemplates = new Int32Array(64);
  /** Ordinals free for reuse (highest last). */
  freePersons: number[] = [];

  constructor(opts: VectorRowsOptions) {
    this.rows = new VectorRows(opts);
  }

  get dim(): number {
    return this.rows.dim;
  }

  /** Templates held. */
  get size(): number {
    return this.rows.count;
  }

  get personCount(): number {
    return this.personByName.size;
  }

  /** Ordinals ever handed out (an upper bound of every person ordinal, for per-person arrays). */
  get ordinalCount(): number {
    return this.personName.length;
  }

  avgTemplatesPerPerson(): number {
    return this.rows.count / Math.max(1, this.personByName.size);
  }

  /** Grows the per-person arrays to hold ordinals below `need`. */
  ensurePersons(need: number): void {
    while (this.personName.length < need) this.personName.push('');
    this.personFirst = grownInt32(this.personFirst, need, -1);
    this.personTemplates = grownInt32(this.personTemplates, need);
  }

  /** Registers a person id at `ordinal` (a snapshot's graph key) or at a free one. */
  newPerson(name: string, ordinal?: number): number {
    const p = ordinal ?? this.freePersons.pop() ?? this.personName.length;
    this.ensurePersons(p + 1);
    this.personName[p] = name;
    this.personFirst[p] = -1;
    this.personTemplates[p] = 0;
    this.personByName.set(name, p);
    return p;
  }

  /** Forgets a person whose templates are already removed; its ordinal becomes free. */
  releasePerson(p: number): void {
    this.personByName.delete(this.personName[p]);
    this.personName[p] = '';
    this.personFirst[p] = -1;
    this.personTemplates[p] = 0;
    this.freePersons.push(p);
  }

  /**
   * Sets the person's templates: those whose id and vector are unchanged keep their row (no churn on an update),
   * the others are added or removed. Returns how many were added and removed.
   */
  setTemplates(p: number, templates: Template[]): { added: number; removed: number; before: number } {
    const old = new Map<number, number>();
    for (let h = this.personFirst[p]; h !== -1; h = this.handleNext[h]) old.set(this.rowTemplate[this.handleRow[h]], h);
    const before = old.size;
    let first = -1;
    let added = 0;
    for (const t of templates) {
      let h = old.get(t.id);
      if (h !== undefined && this.rows.sameVector(this.handleRow[h], h, t.vector)) old.delete(t.id);
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
    return { added, removed, before };
  }

  /** Removes every template of the person (the person itself stays registered). */
  clearTemplates(p: number): void {
    for (let h = this.personFirst[p]; h !== -1; ) {
      const next = this.handleNext[h];
      this.removeHandle(h);
      h = next;
    }
    this.personFirst[p] = -1;
    this.personTemplates[p] = 0;
  }

  /** Template ids of the person, in list order. */
  templateIdsOf(p: number): number[] {
    const ids: number[] = [];
    for (let h = this.personFirst[p]; h !== -1; h = this.handleNext[h]) ids.push(this.rowTemplate[this.handleRow[h]]);
    return ids;
  }

  private addTemplate(p: number, templateId: number, vector: Float32Array): number {
    const h = this.allocHandle();
    const row = this.rows.push(vector, h);
    if (row >= this.rowHandle.length) {
      const cap = Math.ceil(this.rowHandle.length * 1.25);
      this.rowHandle = grownInt32(this.rowHandle, cap);
      this.rowPerson = grownInt32(this.rowPerson, cap);
      const t = new Float64Array(cap);
      t.set(this.rowTemplate);
      this.rowTemplate = t;
    }
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
    if (h + 1 > this.handleRow.length) {
      const cap = Math.max(h + 1, Math.ceil(this.handleRow.length * 1.25));
      this.handleRow = grownInt32(this.handleRow, cap, -1);
      this.handleNext = grownInt32(this.handleNext, cap);
    }
    return h;
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
    this.rows.pop(h);
    this.handleRow[h] = -1;
    this.freeHandles.push(h);
  }

  /** Bytes held in typed arrays (graph excluded: it lives in native memory). */
  typedBytes(): number {
    return (
      this.rows.bytes() +
      this.rowHandle.byteLength +
      this.rowPerson.byteLength +
      this.rowTemplate.byteLength +
      this.handleRow.byteLength +
      this.handleNext.byteLength +
      this.personFirst.byteLength +
      this.personTemplates.byteLength
    );
  }
}
