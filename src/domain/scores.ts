/** Scores leave the API with 4 decimals, on every route alike, and are compared with thresholds as they leave. */
export const roundScore = (x: number): number => Math.round(x * 1e4) / 1e4;
