// Passive liveness for one face, and for a capture of several frames.
// Per face: a trained anti-spoofing network fused with image-forensic cues (moiré, colour, texture,
// sharpness, glare, a border around the face). Per capture: those scores plus a check that the face moved as a
// 3-D object. What each signal measures and how well it works: docs/liveness.md.
import type { Box, LivenessResult, Point } from './types.js';
import { FUSION, fuseLogit, logit, sigmoid } from './liveness/fusion.js';
import { loadModels } from './liveness/models.js';
import { captureMotion, MOTION_WEIGHT } from './liveness/motion.js';
import { measureFace, signalsFrom } from './liveness/signals.js';

export interface LivenessInput {
  /** RGB, 3 channels, row-major. Pass the highest resolution available: moiré lives in native pixels. */
  image: { data: Uint8Array; width: number; height: number };
  /** Face box in that image's pixels. */
  box: Box;
  /** 68-point iBUG landmarks in the same pixels; may be empty if unknown. */
  landmarks: Point[];
}

/** Loads the anti-spoofing network when the fusion uses it (idempotent). */
export async function loadLivenessModels(): Promise<void> {
  if (FUSION.weights.model > 0) await loadModels();
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

/** Passive liveness of one face: a score in [0, 1] (higher: live) and the sub-scores it was fused from. */
export async function faceLiveness(input: LivenessInput): Promise<LivenessResult> {
  checkInput(input);
  const measures = await measureFace(input.image, input.box, input.landmarks, { model: FUSION.weights.model > 0 });
  const signals = signalsFrom(measures);
  return { score: sigmoid(fuseLogit(signals, FUSION)), signals: { ...signals } };
}

/**
 * One score for a capture of several frames of the same face: the mean per-frame logit plus, with two or more
 * frames that have landmarks, the 3-D motion check. With one frame, that frame's result.
 */
export function captureLiveness(frames: { input: LivenessInput; result: LivenessResult }[]): LivenessResult {
  if (frames.length === 0) throw new RangeError('captureLiveness: no frames');
  if (frames.length === 1) return frames[0].result;
  const clampP = (p: number) => Math.min(0.99, Math.max(0.01, Number.isFinite(p) ? p : 0.5));
  const frameLogit = frames.reduce((s, f) => s + logit(clampP(f.result.score)), 0) / frames.length;
  const signals: Record<string, number> = {};
  for (const name of new Set(frames.flatMap((f) => Object.keys(f.result.signals)))) {
    const values = frames.map((f) => f.result.signals[name]).filter((v) => Number.isFinite(v));
    if (values.length) signals[name] = values.reduce((a, b) => a + b, 0) / values.length;
  }
  const motion = captureMotion(frames.map((f) => f.input.landmarks));
  const motionLogit = motion?.logit ?? 0;
  signals.frames = sigmoid(frameLogit);
  signals.motion = sigmoid(motionLogit);
  const weight = motionLogit < 0 ? MOTION_WEIGHT.planar : MOTION_WEIGHT.solid;
  return { score: sigmoid(frameLogit + weight * motionLogit), signals };
}
