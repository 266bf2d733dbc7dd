// Fusion of the per-face signals: a logistic combination of their logits, score = σ(b + Σ wᵢ·logit(sᵢ)).
// A signal at 0.5 (no evidence) adds nothing. Weights are non-negative: every signal is oriented by design
// (higher = more live), so a fit may decide to trust a signal less, never to flip it.
// Where the numbers come from: docs/liveness.md ("Fusion"), reproduced by `npx tsx scripts/eval-liveness.ts`.
import { SIGNAL_NAMES, type Signals } from './signals.js';

export interface FusionWeights {
  bias: number;
  weights: Record<(typeof SIGNAL_NAMES)[number], number>;
}

export const FUSION: FusionWeights = {
  bias: 2.4174,
  weights: { model: 0.2557, moire: 1.6374, colour: 0.9579, texture: 1.0004, sharpness: 1.6069, specular: 1.0091, border: 1.5748 },
};

export const logit = (p: number) => Math.log(p / (1 - p));
export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function fuseLogit(s: Signals, f: FusionWeights = FUSION): number {
  let z = f.bias;
  for (const k of SIGNAL_NAMES) z += f.weights[k] * logit(Math.min(0.99, Math.max(0.01, s[k])));
  return z;
}
