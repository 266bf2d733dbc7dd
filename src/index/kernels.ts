// Small numeric kernels shared by the exact scans and the re-rank. Scores are accumulated in doubles: a
// float32×float32 product is exact in a double, so these are the reference ("exact") similarities.

/** Dot product of `q` with the `dim` floats of `data` starting at `offset`; four accumulators keep the FPU busy. */
export function dotAt(data: Float32Array, offset: number, q: Float32Array, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < dim; j += 4) {
    s0 += data[offset + j] * q[j];
    s1 += data[offset + j + 1] * q[j + 1];
    s2 += data[offset + j + 2] * q[j + 2];
    s3 += data[offset + j + 3] * q[j + 3];
  }
  for (; j < dim; j++) s0 += data[offset + j] * q[j];
  return s0 + s1 + s2 + s3;
}

/** Integer dot product of two int8 rows (exact: |result| ≤ dim·127² fits a double and a float32 up to dim 1040). */
export function dotI8At(data: Int8Array, offset: number, q: Int8Array, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let j = 0;
  for (; j + 1 < dim; j += 2) {
    s0 += data[offset + j] * q[j];
    s1 += data[offset + j + 1] * q[j + 1];
  }
  for (; j < dim; j++) s0 += data[offset + j] * q[j];
  return s0 + s1;
}

/**
 * Quantises `src` to int8 as round(x·scale), clamped to ±127, into `out` at `offset`.
 * Returns the largest absolute rounding error |x − x̂/scale| and the L1 norm of x̂/scale: the two numbers the
 * int8 error bound needs (see int8ErrorBound).
 */
export function quantizeInto(
  src: Float32Array,
  srcOffset: number,
  dim: number,
  scale: number,
  out: Int8Array,
  offset: number,
): { maxErr: number; l1: number } {
  let maxErr = 0;
  let l1 = 0;
  for (let j = 0; j < dim; j++) {
    const x = src[srcOffset + j];
    let v = Math.round(x * scale);
    if (v > 127) v = 127;
    else if (v < -127) v = -127;
    out[offset + j] = v;
    const err = Math.abs(x - v / scale);
    if (err > maxErr) maxErr = err;
    l1 += Math.abs(v) / scale;
  }
  return { maxErr, l1 };
}

/**
 * Upper bound of |x·q − x̂·q̂/scale²| for any stored x, with x = x̂/s + ex and q = q̂/s + eq:
 * x·q − x̂·q̂/s² = ex·q + (x̂/s)·eq, so |…| ≤ max|ex|·‖q‖₁ + max|eq|·max‖x̂/s‖₁.
 */
export function int8ErrorBound(storedMaxErr: number, storedMaxL1: number, queryMaxErr: number, queryL1: number): number {
  return storedMaxErr * queryL1 + queryMaxErr * storedMaxL1;
}
