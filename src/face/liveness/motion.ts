// Multi-frame check: did the face move as a 3-D object or as a picture?
// Between two frames, fit one homography to the landmarks off the nose (face outline, brows, eyes, mouth) and
// measure (a) how far the nose tip region moved away from where that homography puts it (parallax: the nose
// stands ~3 cm in front of the face outline) and (b) how much even the homography leaves unexplained on the other
// points. A flat photo or screen, however it is tilted, moves as a plane: both stay at landmark-noise level. The
// comparison is only meaningful when the face turned or tilted out of the image plane at all; a pure shift, zoom
// or in-plane rotation (or two identical frames) says nothing and yields a neutral 0.5.
import type { Point } from '../types.js';
import { applyHomography, fitHomography, measurePlanarity } from './geometry.js';

const NOSE = [27, 28, 29, 30, 31, 32, 33, 34, 35];
const OFF_NOSE = Array.from({ length: 68 }, (_, i) => i).filter((i) => !NOSE.includes(i));

/**
 * Calibration (docs/liveness.md, "Motion"), with face-api's 68-point landmark net on ../shared/faces:
 * - DEFORMATION: residual of a similarity fit (off-nose points, in face radii). Landmark noise alone (the same
 *   photo shifted, zoomed and rotated in-plane) gave a median 0.020 and 90th percentile 0.038, so evidence
 *   starts at 0.03 and is fully trusted from 0.06 (a head turn of ~10° gives ~0.06).
 * - PLANARITY: share of that deformation no homography explains, (parallax + homography residual) / 2 / deformation.
 *   Photos tilted 17–35° by a homography: median 0.57; live head motion in liveness-crops: median 0.84.
 *   The midpoint 0.7 is neutral; 0.08 per logit unit.
 */
export const MOTION = { deformationStart: 0.03, deformationFull: 0.06, planarityMid: 0.7, planarityScale: 0.08, maxLogit: 3 };

/**
 * Weight of the motion logit (at most ±3) next to the mean per-frame logit in captureLiveness. Asymmetric on
 * purpose: moving like a plane is strong evidence of a picture (a live head that does not turn reads neutral, not
 * planar), while moving in 3-D proves little, since a replayed video of a turning head, or two different photos
 * of the same person, move in 3-D too.
 */
export const MOTION_WEIGHT = { planar: 1, solid: 0.25 };

export interface MotionMeasure {
  /** Non-rigid 2-D deformation between the frames (similarity residual off the nose), in face radii. */
  deformation: number;
  /** Coherent shift of the nose landmarks away from the off-nose homography, in face radii. */
  parallax: number;
  /** Residual of the off-nose homography, in face radii. */
  homographyResidual: number;
}

export function measureMotion(a: Point[], b: Point[]): MotionMeasure | null {
  if (a.length !== 68 || b.length !== 68) return null;
  const pa = OFF_NOSE.map((i) => a[i]), pb = OFF_NOSE.map((i) => b[i]);
  const planarity = measurePlanarity(pa, pb);
  const h = fitHomography(pa, pb);
  if (!planarity || !h) return null;
  let cx = 0, cy = 0;
  for (const [x, y] of b) { cx += x; cy += y; }
  cx /= b.length; cy /= b.length;
  let r = 0;
  for (const [x, y] of b) r += (x - cx) ** 2 + (y - cy) ** 2;
  r = Math.sqrt(r / b.length);
  let mx = 0, my = 0;
  for (const i of NOSE) {
    const [x, y] = applyHomography(h, a[i]);
    mx += b[i][0] - x;
    my += b[i][1] - y;
  }
  return {
    deformation: planarity.similarityResidual,
    parallax: Math.hypot(mx, my) / NOSE.length / r,
    homographyResidual: planarity.homographyResidual,
  };
}

/** Logit of the 3-D evidence for one pair of frames: > 0 moved like a head, < 0 like a plane, 0 no evidence. */
export function motionLogit(m: MotionMeasure): number {
  const c = Math.min(1, Math.max(0, (m.deformation - MOTION.deformationStart) / (MOTION.deformationFull - MOTION.deformationStart)));
  if (c === 0) return 0;
  const planarity = (m.parallax + m.homographyResidual) / (2 * m.deformation);
  const x = (planarity - MOTION.planarityMid) / MOTION.planarityScale;
  return c * Math.max(-MOTION.maxLogit, Math.min(MOTION.maxLogit, x));
}

/**
 * 3-D motion evidence over the frames of one capture: the pair of frames with the most out-of-plane deformation
 * is the most informative one. Null when fewer than two frames have 68 landmarks.
 */
export function captureMotion(landmarks: Point[][]): { logit: number; measure: MotionMeasure } | null {
  const usable = landmarks.filter((l) => l.length === 68);
  let best: MotionMeasure | null = null;
  for (let i = 0; i < usable.length; i++) {
    for (let j = i + 1; j < usable.length; j++) {
      const m = measureMotion(usable[i], usable[j]);
      if (m && (!best || m.deformation > best.deformation)) best = m;
    }
  }
  return best ? { logit: motionLogit(best), measure: best } : null;
}
