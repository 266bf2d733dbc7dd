// Per-face liveness signals: every measurement mapped to a sub-score in [0, 1], where 0.5 means "no evidence".
// Forensic cues are one-sided: a moiré peak, glare or a border is evidence of a spoof, but their absence is not
// evidence of a live face (plenty of replays show none of them), so absent cues stay at 0.5.
// Where each threshold comes from is written next to it; scripts/eval-liveness.ts recomputes the calibration
// percentiles so that they can be checked (docs/liveness.md).
import type { Box, Point } from '../types.js';
import { EVIDENCE } from './evidence.js';
import { measureBorder, measureMoire, measureSkin, measureSpecular, type BorderMeasure } from './forensics.js';
import { runNetwork } from './models.js';
import { skinRegion, type RgbImage } from './sample.js';

export const SIGNAL_NAMES = ['model', 'moire', 'colour', 'texture', 'sharpness', 'specular', 'border'] as const;
export type SignalName = (typeof SIGNAL_NAMES)[number];
export type Signals = Record<SignalName, number>;

/** Logit reached by a one-sided cue at full strength: σ(−3) ≈ 0.05. */
const FULL_EVIDENCE = 3;

/** 0.5 below `start`, falling to σ(−3) ≈ 0.05 at `full` (start < full), linear in the logit between. */
export function oneSided(x: number, start: number, full: number): number {
  if (!Number.isFinite(x)) return 0.5;
  const t = Math.min(1, Math.max(0, (x - start) / (full - start)));
  return 1 / (1 + Math.exp(FULL_EVIDENCE * t));
}

/**
 * Thresholds. "Calibration faces" are every face of 40 px or more that face-api's SSD finds in ../shared/faces
 * groups/ and scenes/ and in face-api's demo samples (real photos, none used for reporting).
 */
export const THRESHOLDS = {
  /** Spectral peak above its neighbourhood (dB): starts just above the calibration faces' maximum, full 8 dB on. */
  moireDb: { start: 13, full: 21 },
  /** Share of skin-region pixels inside the YCbCr skin locus: starts at the calibration faces' 5th percentile, full when fewer than one in five. */
  skinLocus: { start: 0.7, full: 0.2 },
  /** Share of uniform LBP codes on luma (flat, detail-less skin): starts at the calibration faces' 95th percentile. */
  lbpUniform: { start: 0.97, full: 0.99 },
  /** Laplacian energy / luma variance on the 64² skin patch: starts at the calibration faces' 5th percentile, full at a third of it. */
  laplacianRatio: { start: 0.05, full: 0.0167 },
  /** Share of glare pixels on the face: starts at the calibration faces' 95th percentile, full at 15 % of the face. */
  glare: { start: 0.035, full: 0.15 },
} as const;

/** A rectangle around the face: long edges on several sides, with one common tilt. */
export function borderScore(b: BorderMeasure): number {
  const strong = [0, 1, 2, 3].filter((s) => b.coverage[s] >= 0.8);
  let best: number[] = [];
  for (const a of strong) {
    const group = strong.filter((s) => Math.abs(b.angles[s] - b.angles[a]) <= 5 && b.angles[s] >= b.angles[a]);
    if (group.length > best.length) best = group;
  }
  if (best.length >= 4) return 0.1;
  if (best.length === 3) return 0.2;
  const opposite = (best.includes(0) && best.includes(1)) || (best.includes(2) && best.includes(3));
  return best.length === 2 && opposite ? 0.35 : 0.5;
}

export interface FaceMeasures {
  moireDb: number;
  grayscale: boolean;
  skinLocus: number;
  lbpUniform: number;
  laplacianRatio: number;
  glare: number;
  border: BorderMeasure;
  /** How many times the face box's side fits in the image's shorter side: the context the network sees. */
  context: number;
  /** Shorter side of the face box, in pixels of the image measured. */
  faceSize: number;
  /**
   * The anti-spoofing network's log(P(live) / P(attack)) (src/face/liveness/models.ts);
   * NaN when it was not run (too little context or too small a face: src/face/liveness/evidence.ts).
   */
  modelLogit: number;
  /** The same as a probability, σ(modelLogit). */
  model: number;
}

/**
 * The anti-spoofing network judges the face with its surroundings (bezels, paper edges, fingers). On images cut
 * tight around the face it has nothing of that to see and its answer is meaningless (on liveness-crops/ it ranked
 * every screen replay above every live face), so below this much context it is not run and the answer says so
 * (src/face/liveness/evidence.ts). A camera frame always has the context; send the frame.
 */
export const MIN_MODEL_CONTEXT = EVIDENCE.minContext;

/** `model: false` skips the network (calibration of the cues alone does not pay for running it). */
export async function measureFace(img: RgbImage, box: Box, landmarks: Point[], opts: { model?: boolean } = {}): Promise<FaceMeasures> {
  const region = skinRegion(box, landmarks);
  const moire = measureMoire(img, region);
  const skin = measureSkin(img, region);
  const specular = measureSpecular(img, box);
  const border = measureBorder(img, box);
  const context = Math.min(img.width, img.height) / Math.max(box.width, box.height);
  const faceSize = Math.min(box.width, box.height);
  const runs = opts.model !== false && context >= MIN_MODEL_CONTEXT && faceSize >= EVIDENCE.minFaceSize;
  const modelLogit = runs ? await runNetwork(img, box) : NaN;
  return {
    moireDb: moire.peakDb,
    grayscale: skin.grayscale,
    skinLocus: skin.skinLocus,
    lbpUniform: skin.lbpUniform,
    laplacianRatio: skin.laplacianRatio,
    glare: specular.glare,
    border,
    context,
    faceSize,
    modelLogit,
    model: 1 / (1 + Math.exp(-modelLogit)),
  };
}

export function signalsFrom(m: FaceMeasures): Signals {
  const t = THRESHOLDS;
  return {
    // Not clamped like the cues: the network's confidence is the evidence, and its ranking must survive.
    model: Number.isFinite(m.model) ? Math.min(1 - 1e-9, Math.max(1e-9, m.model)) : 0.5,
    moire: oneSided(m.moireDb, t.moireDb.start, t.moireDb.full),
    // A grayscale image has no colour to judge.
    colour: m.grayscale ? 0.5 : oneSided(-m.skinLocus, -t.skinLocus.start, -t.skinLocus.full),
    texture: oneSided(m.lbpUniform, t.lbpUniform.start, t.lbpUniform.full),
    sharpness: oneSided(-Math.log(m.laplacianRatio + 1e-6), -Math.log(t.laplacianRatio.start), -Math.log(t.laplacianRatio.full)),
    specular: oneSided(m.glare, t.glare.start, t.glare.full),
    border: borderScore(m.border),
  };
}
