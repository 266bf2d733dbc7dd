// The engine's multi-frame 3-D motion check (did the landmarks move like a head or like a tilted picture?) on
// landmarks the caller already has, for checks that collect frames over several requests (liveness sessions).
// analyze() runs the same check inside one request; this only exposes it without re-analysing the frames.
import { captureMotion } from './liveness/motion.js';
import type { Point } from './types.js';

export interface MotionEvidence {
  /** > 0: moved like a 3-D head; < 0: like a flat picture; 0: no out-of-plane motion to judge. */
  logit: number;
  /** Non-rigid deformation of the most informative pair of frames, in face radii. */
  deformation: number;
}

/** 3-D motion evidence over frames of one face (68-point landmarks each); null with fewer than two usable frames. */
export function motionEvidence(landmarks: Point[][]): MotionEvidence | null {
  const m = captureMotion(landmarks);
  return m ? { logit: m.logit, deformation: m.measure.deformation } : null;
}
