// The liveness session's state machine, in one place: every status, every event that moves a session, and from
// which statuses each event may fire. The domain (src/domain/livenessSessions.ts) names events; both stores apply
// them with one guarded write (`status IN from`), so a transition that lost a race to another request (or another
// instance) writes nothing and says so.
//
//   CREATED ──progress/retry──▶ IN_PROGRESS ──progress/retry──▶ IN_PROGRESS
//   CREATED | IN_PROGRESS ──succeed──▶ SUCCEEDED ──consume (once)──▶ SUCCEEDED + consumed
//   CREATED | IN_PROGRESS ──fail──▶ FAILED        CREATED | IN_PROGRESS ──expire──▶ EXPIRED
export const SESSION_STATUSES = ['CREATED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'EXPIRED'] as const;
export type LivenessSessionStatus = (typeof SESSION_STATUSES)[number];

/** Statuses in which frames are still taken. */
export const OPEN_STATUSES: readonly LivenessSessionStatus[] = ['CREATED', 'IN_PROGRESS'];

export type SessionEvent = 'progress' | 'retry' | 'succeed' | 'fail' | 'expire' | 'consume';

export interface Transition {
  from: readonly LivenessSessionStatus[];
  to: LivenessSessionStatus;
  /**
   * A time the event records, once: the write also requires it to be unset, so the event can happen only once
   * (consume: single use) and its time is the first one (succeed: the start of the validity after success).
   */
  stamp?: 'succeededAt' | 'consumedAt';
}

export const TRANSITIONS: Readonly<Record<SessionEvent, Transition>> = {
  /** Frames arrived and the attempt goes on. */
  progress: { from: OPEN_STATUSES, to: 'IN_PROGRESS' },
  /** An attempt failed with budget left: its frames go, the same challenge starts again. */
  retry: { from: OPEN_STATUSES, to: 'IN_PROGRESS' },
  succeed: { from: OPEN_STATUSES, to: 'SUCCEEDED', stamp: 'succeededAt' },
  /** The last attempt failed. */
  fail: { from: OPEN_STATUSES, to: 'FAILED' },
  expire: { from: OPEN_STATUSES, to: 'EXPIRED' },
  /** A flow (enrolment, search-live-face, person liveness) used the session: once. */
  consume: { from: ['SUCCEEDED'], to: 'SUCCEEDED', stamp: 'consumedAt' },
};

export const isOpen = (status: LivenessSessionStatus): boolean => OPEN_STATUSES.includes(status);
