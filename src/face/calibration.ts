// Calibrated match scores: a monotonic, piecewise-linear map from the cosine similarity of two templates to a score
// in [0, 1] whose meaning is a false-match rate. From 0.5 up, each 0.1 of score is ten times fewer false matches per
// comparison of two different people's faces:
//   min_score 0.5 ≈ 1 in 10³, 0.6 ≈ 1 in 10⁴, 0.7 ≈ 1 in 10⁵, 0.8 ≈ 1 in 10⁶, 0.9 ≈ 1 in 10⁷, 0.95 ≈ 1 in 10⁸.
// A search compares the probe with every enrolled person, so the chance that a stranger matches somebody grows
// with the gallery: about N × that rate for N persons (docs/calibration.md has the measured table and the advice
// per gallery size). Fitted on half of the lfw-dev people (240 k impostor pairs: measured down to 1 in 10⁵, the
// rarer rates extrapolated from the measured tail), checked on the other half and on highres/ and tv-crops/ by
// `npm run eval -- lfw` and `npm run eval`.
import { TemplateVersionError } from './errors.js';

/** [cosine, score] knots, increasing in both. */
export const CALIBRATION_KNOTS: readonly (readonly [number, number])[] = [
  [0, 0], // the median of two different people's faces
  [0.25, 0.3], // 1 in 10²
  [0.337, 0.5], // 1 in 10³
  [0.416, 0.6], // 1 in 10⁴
  [0.46, 0.7], // 1 in 10⁵ (the rarest rate measured)
  [0.512, 0.8], // 1 in 10⁶ (extrapolated: Gaussian tail widened by the measured 8 %)
  [0.56, 0.9], // 1 in 10⁷ (extrapolated)
  [0.603, 0.95], // 1 in 10⁸ (extrapolated)
  [0.7, 1],
];

export function scoreFromCosine(cosine: number): number {
  const k = CALIBRATION_KNOTS;
  if (!(cosine > k[0][0])) return 0; // also NaN
  if (cosine >= k[k.length - 1][0]) return 1;
  for (let i = 1; i < k.length; i++) {
    if (cosine <= k[i][0]) {
      const [c0, s0] = k[i - 1];
      const [c1, s1] = k[i];
      return s0 + ((cosine - c0) / (c1 - c0)) * (s1 - s0);
    }
  }
  return 1;
}

/** The smallest cosine whose score is at least `score` (to prune vector-index searches). */
export function cosineForScore(score: number): number {
  const k = CALIBRATION_KNOTS;
  if (score <= 0) return -1;
  if (score >= 1) return k[k.length - 1][0];
  for (let i = 1; i < k.length; i++) {
    if (score <= k[i][1]) {
      const [c0, s0] = k[i - 1];
      const [c1, s1] = k[i];
      return c0 + ((score - s0) / (s1 - s0)) * (c1 - c0);
    }
  }
  return 1;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`templates have different lengths (${a.length} and ${b.length})`);
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / (Math.sqrt(na * nb) || 1);
}

/** Calibrated score of two templates (they are L2-normalised, but stored ones are re-normalised defensively). */
export function similarity(a: Float32Array, b: Float32Array): number {
  return scoreFromCosine(cosine(a, b));
}

/** Refuses to compare templates made by different model/pipeline versions. */
export function assertSameVersion(expected: string, actual: string): void {
  if (expected !== actual) throw new TemplateVersionError(expected, actual);
}
