// Calibrated match scores: a monotonic, piecewise-linear map from the cosine similarity of two templates to a score
// in [0, 1]. The knots are fitted on highres/ (one set of people) and checked on tv-crops/ and scenes/ (others) by
// scripts/eval.ts; docs/calibration.md has the false-accept / false-reject table per min_score.
import { TemplateVersionError } from './errors.js';

/** [cosine, score] knots, increasing in both. */
export const CALIBRATION_KNOTS: readonly (readonly [number, number])[] = [
  [0.7, 0],
  [0.88, 0.3],
  [0.91, 0.5],
  [0.935, 0.8],
  [0.96, 0.95],
  [1, 1],
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
