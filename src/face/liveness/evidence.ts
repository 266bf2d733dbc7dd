// When a face gives no usable evidence either way, the answer must say so instead of guessing: a liveness score is
// only as good as what the anti-spoofing network could see. Three cases, each measured (docs/liveness.md,
// "No usable evidence"):
// - no_context: the image holds too little around the face (a crop cut tight around it). The network judges the
//   face with its surroundings (bezels, paper edges, fingers, the room); without them it is worse than a coin: on
//   liveness-crops/ it ranked every screen replay above every live crop (AUC 0.00 at every widening tried).
// - face_too_small: too few pixels on the face for the network's 128×128 view to hold any texture.
// - too_blurred: the skin patch holds almost no detail (motion blur or a defocused camera): every re-capture trace
//   the network and the cues look for is gone.
import type { FaceMeasures } from './signals.js';

export type NoEvidenceReason = 'no_context' | 'face_too_small' | 'too_blurred';

export const EVIDENCE = {
  /** Image side over face side below which the network has no surroundings to look at (a tight crop is ~1). */
  minContext: 1.5,
  /** Shorter side of the face box in the working image, in pixels. Live faces in every labelled set are ≥ 60. */
  minFaceSize: 40,
  /**
   * Laplacian energy over luma variance on the 64² skin patch below which the face counts as too blurred. The
   * calibration faces' 5th percentile is 0.052; the blurriest live frame of the labelled sets (webcam frames
   * while the head turns) is above this.
   */
  minLaplacianRatio: 0.012,
} as const;

/** Why this face gives no usable liveness evidence, or null when it does. */
export function missingEvidence(m: Pick<FaceMeasures, 'context' | 'faceSize' | 'laplacianRatio'>): NoEvidenceReason | null {
  if (m.faceSize < EVIDENCE.minFaceSize) return 'face_too_small';
  if (m.context < EVIDENCE.minContext) return 'no_context';
  if (m.laplacianRatio < EVIDENCE.minLaplacianRatio) return 'too_blurred';
  return null;
}

/** What each reason tells the caller to do, for messages. */
export const NO_EVIDENCE_HINT: Record<NoEvidenceReason, string> = {
  no_context: 'the image is cut too tight around the face: send the whole camera frame',
  face_too_small: 'the face is too small in the image: move closer to the camera',
  too_blurred: 'the face is too blurred: hold still in good light',
};
