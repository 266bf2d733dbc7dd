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
