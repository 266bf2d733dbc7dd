// Passive liveness for one face, and for a capture of several frames.
// Per face: a trained anti-spoofing network (its log-odds on the face with its surroundings) with two forensic vetoes
// (a screen's moiré, a held-up picture's border), or no score at all when the face gives no usable evidence (too
// small, cut too tight, too blurred). Per capture: the frames' evidence together, judged by its weakest frames,
// plus a check that the face moved as a 3-D object. What each part measures and how well it works: docs/liveness.md.
import type { Box, LivenessResult, Point } from './types.js';
import { missingEvidence, type NoEvidenceReason } from './liveness/evidence.js';
import { FUSION, fuseLogit, logit, sigmoid } from './liveness/fusion.js';
import { loadModels } from './liveness/models.js';
import { captureMotion, MOTION_WEIGHT } from './liveness/motion.js';
import { measureFace, signalsFrom } from './liveness/signals.js';

export type { NoEvidenceReason } from './liveness/evidence.js';

export interface LivenessInput {
  /** RGB, 3 channels, row-major. Pass the highest resolution available: moiré lives in native pixels. */
  image: { data: Uint8Array; width: number; height: number };
  /** Face box in that image's pixels. */
  box: Box;
  /** 68-point iBUG landmarks in the same pixels; may be empty if unknown. */
  landmarks: Point[];
}

/** Loads the anti-spoofing network (idempotent). */
export async function loadLivenessModels(): Promise<void> {
  await loadModels();
}

function checkInput({ image, box }: LivenessInput): void {
  const { data, width, height } = image;
  if (!(width > 0 && height > 0) || data.length < width * height * 3) {
    throw new RangeError(`liveness: image data (${data.length} bytes) does not hold ${width}×${height} RGB pixels`);
  }
  if (![box.x, box.y, box.width, box.height].every(Number.isFinite) || box.width <= 0 || box.height <= 0) {
    throw new RangeError('liveness: face box must be finite with a positive size');
  }
}

/**
 * Passive liveness of one face: a score in [0, 1] (higher: live) and the sub-scores it was fused from. When the
 * face gives no usable evidence, `reason` says why and `score` is 0: the answer must not pass by default.
 */
export async function faceLiveness(input: LivenessInput): Promise<LivenessResult> {
  checkInput(input);
  const measures = await measureFace(input.image, input.box, input.landmarks);
  const signals = signalsFrom(measures);
  const reason = missingEvidence(measures);
  if (reason) return { score: 0, signals: { ...signals }, reason };
  return { score: sigmoid(fuseLogit(measures.modelLogit, signals, FUSION)), signals: { ...signals } };
}

/** Log-odds of a score, kept finite (a face's score is σ of a finite number, never exactly 0 or 1). */
const scoreLogit = (p: number) => logit(Math.min(1 - 1e-12, Math.max(1e-12, Number.isFinite(p) ? p : 0.5)));

/**
 * How many of a capture's frames judge it: the weaker half (at least one). An attack that fools the network on a
 * frame or two (a replay's sharpest frame, a print at its best angle) is still judged by the frames where it did
 * not; a live face is seen live on every usable frame. On pad-dev's fit clients the two weakest of five frames
 * separated live from attack videos with twice the margin of the mean of all five (docs/liveness.md).
 */
export function weakestShare(n: number): number {
  return Math.max(1, Math.floor(n / 2));
}

/**
 * One score for a capture of several frames of the same face. Frames without usable evidence are left out; when
 * none is left, the capture has no score (0) and the reason of its first frame. With one usable frame, that frame's
 * result. With two or more: the mean log-odds of the weaker half of the frames, plus the 3-D motion check over
 * their landmarks. The same picture sent several times is the evidence of one frame, not more (its copies have the
 * same score and no motion).
 */
export function captureLiveness(frames: { input: LivenessInput; result: LivenessResult }[]): LivenessResult {
  if (frames.length === 0) throw new RangeError('captureLiveness: no frames');
  const usable = frames.filter((f) => !f.result.reason);
  if (usable.length === 0) {
    const reason = frames[0].result.reason as NoEvidenceReason;
    return frames.length === 1 ? frames[0].result : { score: 0, signals: averageSignals(frames), reason };
  }
  if (usable.length === 1) return frames.length === 1 ? usable[0].result : { ...usable[0].result, signals: { ...usable[0].result.signals } };
  const logits = usable.map((f) => scoreLogit(f.result.score)).sort((a, b) => a - b);
  const k = weakestShare(logits.length);
  const frameLogit = logits.slice(0, k).reduce((s, z) => s + z, 0) / k;
  const signals = averageSignals(usable);
  const motion = captureMotion(usable.map((f) => f.input.landmarks));
  const motionLogit = motion?.logit ?? 0;
  signals.frames = sigmoid(frameLogit);
  signals.motion = sigmoid(motionLogit);
  const weight = motionLogit < 0 ? MOTION_WEIGHT.planar : MOTION_WEIGHT.solid;
  return { score: sigmoid(frameLogit + weight * motionLogit), signals };
}

function averageSignals(frames: { result: LivenessResult }[]): Record<string, number> {
  const signals: Record<string, number> = {};
  for (const name of new Set(frames.flatMap((f) => Object.keys(f.result.signals)))) {
    const values = frames.map((f) => f.result.signals[name]).filter((v) => Number.isFinite(v));
    if (values.length) signals[name] = values.reduce((a, b) => a + b, 0) / values.length;
  }
  return signals;
}
