/** Scores leave the API with 4 decimals, on every route alike, and are compared with thresholds as they leave. */
export const roundScore = (x: number): number => Math.round(x * 1e4) / 1e4;

/**
 * Verifik's liveness rule: a capture passes when its score is strictly above the minimum (`liveness_score >
 * min_score`). Match scores, by contrast, pass when they reach `min_score` (`≥`), as Verifik's search pages say.
 * Every liveness verdict of the API goes through here so that no route decides a tie differently.
 */
export const livenessPasses = (score: number, minScore: number): boolean => score > minScore;
