// The liveness-session repository contract (both backends implement it: src/store/<backend>/livenessSessions.ts).
// Status changes go through transition() only, which applies the one state table (src/domain/livenessSessionStates.ts).
import type {
  LivenessFrameRecord,
  LivenessSessionPatch,
  LivenessSessionRecord,
  NewLivenessFrame,
  NewLivenessSession,
  SessionEvent,
} from './model.js';

export interface LivenessSessionRepo {
  create(s: NewLivenessSession): Promise<LivenessSessionRecord>;
  get(client: string, id: string): Promise<LivenessSessionRecord | null>;
  /** The session whose capture credential hashes to `hash` (any tenant), or null. */
  findByCaptureHash(hash: string): Promise<LivenessSessionRecord | null>;
  /**
   * Applies `event` (TRANSITIONS[event]): writes its status, its stamp (at `nowIso`) and `patch`, only if the session
   * is in one of the event's `from` statuses and the stamp is unset. Returns the updated record, or null when that
   * condition failed (a concurrent request got there first).
   */
  transition(client: string, id: string, event: SessionEvent, patch: LivenessSessionPatch, nowIso: string): Promise<LivenessSessionRecord | null>;
  addFrames(client: string, session: string, frames: NewLivenessFrame[]): Promise<void>;
  listFrames(client: string, session: string, opts?: { attempt?: number; images?: boolean; roles?: boolean }): Promise<LivenessFrameRecord[]>;
  /** Keeps the frames named in `keep` (with their role) and deletes every other frame of the session. */
  pruneFrames(client: string, session: string, keep: { id: number; role: string }[]): Promise<void>;
  /** Applies `expire` to every session it applies to whose expiry is past, and deletes its frames; returns how many. */
  expireStale(nowIso: string): Promise<number>;
}

/** The column each transition stamp is kept in (the same in both backends). */
export const STAMP_COLUMNS = { succeededAt: 'succeeded_at', consumedAt: 'consumed_at' } as const;
