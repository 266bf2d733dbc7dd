// The liveness-session repository contract (both backends implement it: src/store/<backend>/livenessSessions.ts).
import type {
  LivenessFrameRecord,
  LivenessSessionPatch,
  LivenessSessionRecord,
  LivenessSessionStatus,
  NewLivenessFrame,
  NewLivenessSession,
} from './model.js';

export interface LivenessSessionRepo {
  create(s: NewLivenessSession): Promise<LivenessSessionRecord>;
  get(client: string, id: string): Promise<LivenessSessionRecord | null>;
  /**
   * Writes `patch` only if the session is still in one of `fromStatus` (and, for consumedAt, not consumed yet):
   * returns the updated record, or null when the condition failed (a concurrent request got there first).
   */
  update(client: string, id: string, patch: LivenessSessionPatch, fromStatus: LivenessSessionStatus[]): Promise<LivenessSessionRecord | null>;
  addFrames(client: string, session: string, frames: NewLivenessFrame[]): Promise<void>;
  listFrames(client: string, session: string, opts?: { attempt?: number; images?: boolean; roles?: boolean }): Promise<LivenessFrameRecord[]>;
  /** Keeps the frames named in `keep` (with their role) and deletes every other frame of the session. */
  pruneFrames(client: string, session: string, keep: { id: number; role: string }[]): Promise<void>;
  /** Marks every open session past its expiry EXPIRED and deletes its frames; returns how many. */
  expireStale(nowIso: string): Promise<number>;
}
