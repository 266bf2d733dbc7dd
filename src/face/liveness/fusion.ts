// Fusion of the per-face evidence into one score:
//   score = σ( SLOPE · (network log-odds − OPERATING_LOGIT) + logit(OPERATING_SCORE) + Σ wᵢ · logit(cueᵢ) )
// The network's log-odds carry the evidence; the one-sided forensic cues (0.5 = no evidence, lower = a spoof trace)
// can only pull the score down. The score is a monotone map of that evidence placed so that the stated operating
// point (OPERATING_LOGIT, fitted on pad-dev's fit clients) lands exactly on the default liveness_min_score, 0.6:
// above it, the capture passes at that operating point. Where every number comes from: docs/liveness.md
// ("Fusion", "Operating point"), reproduced by `npm run eval -- liveness`.
import { SIGNAL_NAMES, type Signals } from './signals.js';

type CueName = Exclude<(typeof SIGNAL_NAMES)[number], 'model'>;

export interface FusionWeights {
  /** Network log-odds (mean over its crops) at which the score is OPERATING_SCORE. */
  operatingLogit: number;
  /** Score log-odds per unit of network log-odds (a scale: it changes no ranking, only how spread the scores are). */
  slope: number;
  /** Weight of each one-sided cue's logit (its logit is ≤ 0: it can only lower the score). */
  cues: Record<CueName, number>;
}

/** The default liveness_min_score (LIVENESS_MIN_SCORE in src/config.ts): the score the operating point maps to. */
export const OPERATING_SCORE = 0.6;

/**
 * Fitted on the FIT part (docs/liveness.md): pad-dev's clients in even positions of its sorted client list, the
 * first half of each video/ recording. operatingLogit: below the fit clients' live frames (lowest 7.2) with a
 * margin for clients not seen, leaving APCER 3.9 % (5 of 129 attack frames) and BPCER 0 % (0 of 39) on them.
 * Cues: moiré and border keep a full-strength veto (never fired on a real live face in any labelled set, fire on
 * simulated screens and held-up pictures); colour, texture, sharpness and glare get no weight: on real attacks they
 * either never fired (texture, glare) or fired on live faces in dim or coloured light (colour: the median live
 * webcam frame, 30 % of pad-dev's adverse-light live frames) and so ranked worse than the network alone. A blurred
 * face is not scored at all (src/face/liveness/evidence.ts) instead of being judged by a sharpness cue.
 */
export const FUSION: FusionWeights = {
  operatingLogit: 6,
  slope: 0.5,
  cues: { moire: 1, colour: 0, texture: 0, sharpness: 0, specular: 0, border: 1 },
};

export const logit = (p: number) => Math.log(p / (1 - p));
export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

const clampCue = (p: number) => Math.min(0.99, Math.max(0.01, Number.isFinite(p) ? p : 0.5));

/** Score log-odds of one face from its network log-odds and its cue signals. */
export function fuseLogit(modelLogit: number, s: Signals, f: FusionWeights = FUSION): number {
  let z = f.slope * (modelLogit - f.operatingLogit) + logit(OPERATING_SCORE);
  for (const [k, w] of Object.entries(f.cues) as [CueName, number][]) if (w) z += w * Math.min(0, logit(clampCue(s[k])));
  return z;
}
