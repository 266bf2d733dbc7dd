// Dense template storage for one tenant: rows 0..count-1 are live, in fixed-size chunks so that growth never
// copies hundreds of megabytes (and never leaves a half-empty doubled array behind). Deletes swap the last row
// into the hole, so a scan is always a handful of contiguous blocks.
//
// Two representations:
//  - 'f32': the float32 templates themselves (4·dim bytes a face); every score read from them is exact.
//  - 'i8':  x̂ = round(s·x) per component, one global scale s, plus each row's exact rounding error ‖x − x̂/s‖₂
//           (dim + 4 bytes a face). x̂·q/s is then within ‖x − x̂/s‖₂·‖q‖₂ of the true x·q (Cauchy–Schwarz), so a
//           search knows which rows could still matter and reads the float32 vector of only those from
//           `FloatVectors` (kept out of the heap) for the exact score.
import { dotAt } from './kernels.js';
import type { FloatVectors } from './floats.js';

export type RowPrecision = 'f32' | 'i8';

export interface VectorRowsOptions {
  dim: number;
  /** log2 of the rows per chunk. */
  chunkBits: number;
  precision: RowPrecision;
  /** Where 'i8' rows keep their float32 vectors (by template handle). */
  floats?: FloatVectors;
}

/**
 * The int8 scale for dim-dimensional unit vectors: components up to 6/√dim (6 standard deviations of an isotropic
 * unit vector's component; real templates' largest components stay below) map onto ±127. A larger component is
 * clamped, and its row's error norm says so exactly: the bound stays true, only looser for that row.
 */
export function int8ScaleFor(dim: number): number {
  return 127 / Math.min(1, 6 / Math.sqrt(dim));
}

export class VectorRows {
  readonly dim: number;
  readonly chunkRows: number;
  readonly precision: RowPrecision;
  /** True when approx() is the exact score (float32 rows). */
  readonly exactInPlace: boolean;
  private readonly chunkBits: number;
  private readonly chunkMask: number;
  /** float32 rows ('f32'), chunk by chunk; only the last chunk may be shorter than chunkRows. */
  readonly f32: Float32Array[] = [];
  /** int8 rows and their error norms ('i8'). */
  readonly i8: Int8Array[] = [];
  readonly err: Float32Array[] = [];
  readonly scale: number;
  /** Largest error norm of any row ever stored (monotone: a safe bound for rows a scan did not return). */
  maxErr = 0;
  count = 0;
  private readonly floats: FloatVectors | null;
  private readonly scratch: Float32Array;

  constructor({ dim, chunkBits, precision, floats }: VectorRowsOptions) {
    this.dim = dim;
    this.chunkBits = chunkBits;
    this.chunkRows = 1 << chunkBits;
    this.chunkMask = this.chunkRows - 1;
    this.precision = precision;
    this.exactInPlace = precision === 'f32';
    this.scale = precision === 'i8' ? int8ScaleFor(dim) : 1;
    if (precision === 'i8' && !floats) throw new Error("'i8' rows need FloatVectors for the exact re-rank");
    this.floats = precision === 'i8' ? floats! : null;
    this.scratch = new Float32Array(dim);
  }

  chunkOf(row: number): number {
    return row >>> this.chunkBits;
  }

  /** Component offset of a row inside its chunk. */
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

  /** Appends the row of template handle `handle` and returns its index. */
  push(src: Float32Array, handle: number): number {
    const row = this.count;
    this.ensureRow(row);
    const c = this.chunkOf(row);
    const off = this.offsetOf(row);
    if (this.exactInPlace) this.f32[c].set(src.subarray(0, this.dim), off);
    else {
      const out = this.i8[c];
      const s = this.scale;
      let e2 = 0;
      for (let j = 0; j < this.dim; j++) {
        const x = src[j];
        let v = Math.round(x * s);
        if (v > 127) v = 127;
        else if (v < -127) v = -127;
        out[off + j] = v;
        const d = x - v / s;
        e2 += d * d;
      }
      // Rounded up on the way to float32, so the stored bound is never below the true error.
      const e = Math.fround(Math.sqrt(e2) * (1 + 1e-6) + 1e-12);
      this.err[c][row & this.chunkMask] = e;
      if (e > this.maxErr) this.maxErr = e;
      this.floats!.write(handle, src);
    }
    this.count = row + 1;
    return row;
  }

  /** Copies row `from` over row `to` (used to fill a hole with the last row). */
  move(from: number, to: number): void {
    const d = this.dim;
    const fc = this.chunkOf(from);
    const fo = this.offsetOf(from);
    if (this.exactInPlace) this.f32[this.chunkOf(to)].set(this.f32[fc].subarray(fo, fo + d), this.offsetOf(to));
    else {
      this.i8[this.chunkOf(to)].set(this.i8[fc].subarray(fo, fo + d), this.offsetOf(to));
      this.err[this.chunkOf(to)][to & this.chunkMask] = this.err[fc][from & this.chunkMask];
    }
  }

  /** Drops the last row (whose template, `handle`, is deleted: its float copy is erased); frees a spare chunk. */
  pop(handle: number): void {
    this.count--;
    this.floats?.erase(handle);
    const keep = this.chunkCount + 1;
    if (this.f32.length > keep) this.f32.length = keep;
    if (this.i8.length > keep) {
      this.i8.length = keep;
      this.err.length = keep;
    }
  }

  /** Adds the row's vector (dequantised for 'i8': the graph quantises it anyway) into `out` at `offset`. */
  addInto(row: number, out: Float32Array, offset: number): void {
    const off = this.offsetOf(row);
    if (this.exactInPlace) {
      const data = this.f32[this.chunkOf(row)];
      for (let j = 0; j < this.dim; j++) out[offset + j] += data[off + j];
    } else {
      const data = this.i8[this.chunkOf(row)];
      const inv = 1 / this.scale;
      for (let j = 0; j < this.dim; j++) out[offset + j] += data[off + j] * inv;
    }
  }

  /** True when the row (template `handle`) holds exactly `v`. */
  sameVector(row: number, handle: number, v: Float32Array): boolean {
    let data: Float32Array;
    let off = 0;
    if (this.exactInPlace) {
      data = this.f32[this.chunkOf(row)];
      off = this.offsetOf(row);
    } else {
      data = this.scratch;
      this.floats!.read(handle, data);
    }
    for (let j = 0; j < this.dim; j++) if (data[off + j] !== v[j]) return false;
    return true;
  }

  /** x̂·q from the resident row: exact for 'f32', within errOf(row)·‖q‖ of it for 'i8'. */
  approx(row: number, q: Float32Array): number {
    if (this.exactInPlace) return dotAt(this.f32[this.chunkOf(row)], this.offsetOf(row), q, this.dim);
    const data = this.i8[this.chunkOf(row)];
    const off = this.offsetOf(row);
    let s0 = 0;
    let s1 = 0;
    let j = 0;
    for (; j + 1 < this.dim; j += 2) {
      s0 += data[off + j] * q[j];
      s1 += data[off + j + 1] * q[j + 1];
    }
    for (; j < this.dim; j++) s0 += data[off + j] * q[j];
    return (s0 + s1) / this.scale;
  }

  /** ‖x − x̂/s‖₂ of the row (0 for 'f32'). */
  errOf(row: number): number {
    return this.exactInPlace ? 0 : this.err[this.chunkOf(row)][row & this.chunkMask];
  }

  /** The exact score x·q (in double: float32 products are exact), reading the float copy for 'i8'. */
  exact(row: number, handle: number, q: Float32Array): number {
    if (this.exactInPlace) return dotAt(this.f32[this.chunkOf(row)], this.offsetOf(row), q, this.dim);
    this.floats!.read(handle, this.scratch);
    return dotAt(this.scratch, 0, q, this.dim);
  }

  /** Float32 view of the live rows of chunk c (what a native exact scan reads). */
  f32View(c: number): Float32Array {
    return this.f32[c].subarray(0, this.rowsIn(c) * this.dim);
  }

  i8View(c: number): Int8Array {
    return this.i8[c].subarray(0, this.rowsIn(c) * this.dim);
  }

  bytes(): number {
    let b = 0;
    for (const a of this.f32) b += a.byteLength;
    for (const a of this.i8) b += a.byteLength;
    for (const a of this.err) b += a.byteLength;
    return b;
  }

  close(): void {
    this.floats?.close();
  }

  private ensureRow(row: number): void {
    const c = this.chunkOf(row);
    const need = ((row & this.chunkMask) + 1) * this.dim;
    const chunks: (Float32Array | Int8Array)[] = this.exactInPlace ? this.f32 : this.i8;
    if (c < chunks.length && chunks[c].length >= need) return;
    // The first chunk starts small and grows by a quarter, so a tenant of 300 faces does not reserve 32 MB.
    // Later chunks are allocated whole: their untouched pages are never made resident, and growing them would
    // churn tens of megabytes through the allocator (measured: ≈ 150 B a face of fragmentation at 1 M).
    const have = c < chunks.length ? chunks[c].length / this.dim : 0;
    const rows = c > 0 ? this.chunkRows : Math.min(this.chunkRows, Math.max(256, Math.ceil((have * 1.25) / 256) * 256, need / this.dim));
    if (this.exactInPlace) {
      const f = new Float32Array(rows * this.dim);
      if (c < this.f32.length) f.set(this.f32[c]);
      this.f32[c] = f;
    } else {
      const q = new Int8Array(rows * this.dim);
      const e = new Float32Array(rows);
      if (c < this.i8.length) {
        q.set(this.i8[c]);
        e.set(this.err[c]);
      }
      this.i8[c] = q;
      this.err[c] = e;
    }
  }
}
