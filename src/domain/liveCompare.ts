// 1:1 comparison with a liveness check on the probe: Verifik's compare-live and compare-with-liveness. Both run
// on the same functions as /compare and /liveness (probe faces, best pair, the engine's capture liveness).
import type { DomainDeps } from './deps.js';
import type { InputImage } from './faces.js';
import { livenessPasses, roundScore } from './scores.js';
import { bestPairScore, captureLiveness, probeFaces, type ProbeNote } from './search.js';

export interface LivenessVerdict {
  liveness_score: number;
  min_score: number;
  passed: boolean;
  /** Why the probe gave no usable liveness evidence (then it did not pass); absent when it did. */
  reason?: 'no_context' | 'face_too_small' | 'too_blurred';
}

export interface CompareLiveInput {
  /** The live capture: liveness runs on it, and it is compared with the gallery. */
  probe: InputImage;
  gallery: InputImage[];
  liveness_min_score: number;
  compare_min_score: number;
}

export interface CompareLiveOutcome {
  score: number;
  /** score ≥ compare_min_score. */
  passed: boolean;
  liveness: LivenessVerdict;
  notes: ProbeNote[];
}

/**
 * `POST /v2/face-recognition/compare-live`: passive liveness of the probe, and the best probe–gallery score.
 * The probe is analysed once (liveness and template in one engine job), the gallery in a second job.
 */
export async function compareLive(deps: DomainDeps, client: string, input: CompareLiveInput): Promise<CompareLiveOutcome> {
  const probe = await captureLiveness(deps, [input.probe], { tenant: client });
  const gallery = await probeFaces(deps, client, input.gallery);
  const score = bestPairScore(deps, probe.faces, gallery.faces);
  const livenessScore = roundScore(probe.liveness.score);
  return {
    score,
    passed: score >= input.compare_min_score,
    liveness: {
      liveness_score: livenessScore,
      min_score: input.liveness_min_score,
      passed: !probe.liveness.reason && livenessPasses(livenessScore, input.liveness_min_score),
      ...(probe.liveness.reason ? { reason: probe.liveness.reason } : {}),
    },
    notes: [...probe.notes, ...gallery.notes],
  };
}

export interface CompareWithLivenessInput {
  probe: InputImage;
  gallery: InputImage[];
  liveness_min_score: number;
  /** When given and not reached, the liveness verdict is withheld (`null`): the comparison already failed. */
  compare_min_score?: number;
}

export interface CompareWithLivenessOutcome {
  comparison: { score: number; passed: boolean };
  liveness: LivenessVerdict | null;
  notes: ProbeNote[];
}

/**
 * `POST /v2/face-recognition/compare-with-liveness`: the comparison decides first; only a comparison that reaches
 * compare_min_score (or one without a threshold) gets a liveness verdict. Same analysis as compare-live.
 */
export async function compareWithLiveness(deps: DomainDeps, client: string, input: CompareWithLivenessInput): Promise<CompareWithLivenessOutcome> {
  const res = await compareLive(deps, client, { ...input, compare_min_score: input.compare_min_score ?? 0 });
  return { comparison: { score: res.score, passed: res.passed }, liveness: res.passed ? res.liveness : null, notes: res.notes };
}
