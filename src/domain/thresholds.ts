// Every default threshold of the API, in one table, each chosen from a stated false-match target through the score
// calibration (src/face/calibration.ts: from 0.5 up, each 0.1 of score is ten times fewer false matches per
// comparison). Routes and their OpenAPI defaults read this table; docs/calibration.md gives each default's measured
// false-match and false-non-match rates.
//
// A 1:1 decision (compare, verify, compare-live) makes one comparison: its false-match rate is the scale's own.
// A 1:N decision (search, de-duplication) compares the probe with every enrolled person, so a stranger matches
// somebody about N times as often: the same target needs a stricter threshold, and a stricter one than a 1:1 check
// needs costs genuine users there for nothing.

/** An operating point: the score and what it was chosen for. */
export interface OperatingPoint {
  minScore: number;
  /** False matches per comparison of two different people at minScore (the calibration's anchor). */
  falseMatchRate: number;
  target: string;
}

/** 1:1: one false match in 100,000 comparisons of two different people. */
export const ONE_TO_ONE: OperatingPoint = {
  minScore: 0.7,
  falseMatchRate: 1e-5,
  target: 'one false match in 100,000 comparisons of two different people',
};

/**
 * 1:N: one false match per comparison in 10⁶, so that at most about 1 % of strangers match somebody in a gallery of
 * 10,000 persons (N × rate); larger galleries should raise it (docs/calibration.md, "False matches grow").
 */
export const ONE_TO_MANY: OperatingPoint = {
  minScore: 0.8,
  falseMatchRate: 1e-6,
  target: 'at most ~1 % of strangers matching somebody in a gallery of 10,000 persons (1 false match in 10⁶ comparisons)',
};

/**
 * Enrolment's check that all images of one request show one person (SAME_PERSON_MIN_SCORE): two different people
 * pass together once in a thousand, while an honest enrolment of photos taken years apart is rarely refused.
 */
export const SAME_PERSON: OperatingPoint = {
  minScore: 0.5,
  falseMatchRate: 1e-3,
  target: 'one different-person pair in 1,000 passes as one person; few honest enrolments refused',
};

/** The liveness score a route requires when the request does not say (the LIVENESS_MIN_SCORE setting's default). */
export const DEFAULT_LIVENESS_MIN_SCORE = 0.6;

/** The match-score default of each route that has one (routes where Verifik requires `min_score` have none). */
export const MATCH_DEFAULTS = {
  /** `/search` (and its min_score only; search-active-user, search/crops, search-live-face require one). */
  search: ONE_TO_MANY,
  /** `/verify`: photos against one enrolled person. */
  verify: ONE_TO_ONE,
  /** `/compare`'s compare_min_score. */
  compare: ONE_TO_ONE,
  /** `/compare-live`'s compare_min_score (Verifik accepts 0.67–0.95). */
  compareLive: ONE_TO_ONE,
} as const satisfies Record<string, OperatingPoint>;

/** Liveness defaults: the operator's LIVENESS_MIN_SCORE, for every route where the request may leave it out. */
export function livenessDefault(settings: { livenessMinScore: number }): number {
  return settings.livenessMinScore;
}
