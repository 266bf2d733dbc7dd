// Dense template storage for one tenant: rows 0..count-1 are live, in fixed-size chunks so that growth never
// copies hundreds of megabytes (and never leaves a half-empty doubled array behind). Deletes swap the last row
// into the hole, so a scan is always a handful of contiguous blocks.
import { quantizeInto } from './kernels.js';

export interface VectorRowsOptions {
  dim: number;
  /** log2 of the rows per chunk. */
  chunkBits: number;
  /** Scale of the int8 copy kept for ACCURATE's pre-scan; 0 keeps none. */
  int8Scale: number;
}

export class VectorRows {
  readonly dim: number;
  readonly chunkRows: number;
  private readonly chunkBits: number;
  private readonly chunkMask: number;
  /** float32 rows, chunk by chunk; only the last chunk may be shorter than chunkRows. */
  readonly f32: Float32Array[] = [];
  /** int8 copies (round(x·int8Scale)) when the int8 pre-scan is on. */
  readonly i8: Int8Array[] | null;
  readonly int8Scale: number;
  /** Largest rounding error and largest L1 norm over every row ever quantised (monotone: a safe bound). */
  int8MaxErr = 0;
  int8MaxL1 = 0;
  count = 0;

  constructor({ dim, chunkBits, int8Scale }: VectorRowsOptions) {
    this.dim = dim;
    this.chunkBits = chunkBits;
    this.chunkRows = 1 << chunkBits;
    this.chunkMask = this.chunkRows - 1;
    this.int8Scale = int8Scale;
    this.i8 = int8Scale > 0 ? [] : null;
  }

  chunkOf(row: number): number {
    return row >>> this.chunkBits;
  }

  /** Float offset of a row inside its chunk. */
  offsetOf(row: number): number {
    return (row & this.chunkMask) * this.dim;
  }

  /** Rows held by chunk c (the last one is partly filled). */
  rowsIn(c: number): number {
    return Math.min(this.chunkRows, this.count - c * this.chunkRows);
  }

  get chunkCount(): number {
    return Math.ceil(this.count / this.chunkRows);
  }

  /** Appends a row for the template with stable handle `_handle` and returns its index. */
  push(src: Float32Array, _handle: number, srcOffset = 0): number {
    const row = this.count;
    this.ensureRow(row);
    const c = this.chunkOf(row);
    const off = this.offsetOf(row);
    this.f32[c].set(src.subarray(srcOffset, srcOffset + this.dim), off);
    if (this.i8) {
      const { maxErr, l1 } = quantizeInto(src, srcOffset, this.dim, this.int8Scale, this.i8[c], off);
      if (maxErr > this.int8MaxErr) this.int8MaxErr = maxErr;
      if (l1 > this.int8MaxL1) this.int8MaxL1 = l1;
    }
    this.count = row + 1;
    return row;
  }

  /** Copies row `from` over row `to` (used to fill a hole with the last row). */
  move(from: number, to: number): void {
    const d = this.dim;
    const fc = this.chunkOf(from);
    const fo = this.offsetOf(from);
    this.f32[this.chunkOf(to)].set(this.f32[fc].subarray(fo, fo + d), this.offsetOf(to));
    if (this.i8) this.i8[this.chunkOf(to)].set(this.i8[fc].subarray(fo, fo + d), this.offsetOf(to));
  }

  /** Drops the last row (whose template, handle `_handle`, is being deleted); frees a spare trailing chunk. */
  pop(_handle: number): void {
    this.count--;
    const needed = this.chunkCount;
    if (this.f32.length > needed + 1) {
      this.f32.length = needed + 1;
      if (this.i8) this.i8.length = needed + 1;
    }
  }

  /** Adds the row's vector into `out` at `offset` (for a person's mean). */
  addInto(row: number, out: Float32Array, offset: number): void {
    const data = this.f32[this.chunkOf(row)];
    const off = this.offsetOf(row);
    for (let j = 0; j < this.dim; j++) out[offset + j] += data[off + j];
  }

  /** True when the row holds exactly `v`. */
  sameVector(row: number, v: Float32Array): boolean {
    const data = this.f32[this.chunkOf(row)];
    const off = this.offsetOf(row);
    for (let j = 0; j < this.dim; j++) if (data[off + j] !== v[j]) return false;
    return true;
  }

  /** Float32 view of the live rows of chunk c (what a native exact scan reads). */
  f32View(c: number): Float32Array {
    return this.f32[c].subarray(0, this.rowsIn(c) * this.dim);
  }

  i8View(c: number): Int8Array {
    return this.i8![c].subarray(0, this.rowsIn(c) * this.dim);
  }

  bytes(): number {
    let b = 0;
    for (const a of this.f32) b += a.byteLength;
    if (this.i8) for (const a of this.i8) b += a.byteLength;
    return b;
  }

  private ensureRow(row: number): void {
    const c = this.chunkOf(row);
    const need = ((row & this.chunkMask) + 1) * this.dim;
    if (c < this.f32.length && this.f32[c].length >= need) return;
    // The first chunk starts small and grows by a quarter, so a tenant of 300 faces does not reserve 32 MB.
    // Later chunks are allocated whole: their untouched pages are never made resident, and growing them would
    // churn tens of megabytes through the allocator (measured: ≈ 150 B a face of fragmentation at 1 M).
    const have = c < this.f32.length ? this.f32[c].length / this.dim : 0;
    const rows = c > 0 ? this.chunkRows : Math.min(this.chunkRows, Math.max(256, Math.ceil((have * 1.25) / 256) * 256, need / this.dim));
    const f = new Float32Array(rows * this.dim);
    if (c < this.f32.length) f.set(this.f32[c]);
    this.f32[c] = f;
    if (this.i8) {
      const q = new Int8Array(rows * this.dim);
      if (c < this.i8.length) q.set(this.i8[c]);
      this.i8[c] = q;
    }
  }
}
