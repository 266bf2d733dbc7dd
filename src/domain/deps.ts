// What the use cases need from the outside world, injected by the composition root (src/app.ts).
import type { FaceEngine } from '../face/types.js';
import type { FaceIndex } from '../index/types.js';
import type { Store } from './ports.js';

/**
 * Score every pair of images in one enrolment must reach. 0.5 means two different people's faces pass together
 * about once in a thousand (src/face/calibration.ts), while photos of one person, even years apart, fall below it
 * in about 2 % of LFW's hard pairs; a search's 0.8 would refuse ~18 % of those honest enrolments.
 */
export const DEFAULT_SAME_PERSON_MIN_SCORE = 0.5;

export interface DomainSettings {
  /** Age after which a generic person's `verified` status is reported as `expired`. */
  personVerificationTtlMs: number;
  /** Liveness score `/v2/persons/liveness` requires when the request gives none. */
  livenessMinScore: number;
  /** Score every pair of images in one enrolment must reach (the same person); default SAME_PERSON_MIN_SCORE. */
  samePersonMinScore?: number;
}

export interface DomainDeps {
  store: Store;
  engine: FaceEngine;
  index: FaceIndex;
  settings: DomainSettings;
  /** Injectable clock, for expiry. */
  now?: () => Date;
  /**
   * Instances sharing a database: brings this instance's index up to a change-feed position (every other
   * instance's writes up to it), for decisions that must see them (de-duplicating enrolment). Absent for one process.
   */
  follower?: { catchUp(target: number): Promise<void> };
}

/** Paging as the API takes it (1-based page). */
export interface Paging {
  page: number;
  limit: number;
}

export interface Paged<T> {
  items: T[];
  page: number;
  limit: number;
  total: number;
}
