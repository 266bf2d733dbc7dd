// Liveness sessions (challenge-response) and the frames posted to them, in SQLite. A session row holds the challenge
// and the verdict; its frames hold what the face engine measured on each one plus the image, until the verdict is
// in: then only the reference and audit frames keep their image (pruneFrames), the rest is deleted.
import type { Database as Db, Statement } from 'better-sqlite3';
import { UnknownReferenceError } from '../domain/errors.js';
import type {
  LivenessFrameRecord,
  LivenessSessionPatch,
  LivenessSessionRecord,
  LivenessSessionStatus,
  NewLivenessFrame,
  NewLivenessSession,
} from '../domain/model.js';

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

type Row = Record<string, unknown>;
const OPEN: LivenessSessionStatus[] = ['CREATED', 'IN_PROGRESS'];

const toSession = (r: Row): LivenessSessionRecord => ({
  id: r.id as string,
  client: r.client_id as string,
  status: r.status as LivenessSessionStatus,
  steps: JSON.parse(r.steps as string) as string[],
  nonce: r.nonce as string,
  minScore: r.min_score as number,
  maxAttempts: r.max_attempts as number,
  failedAttempts: r.failed_attempts as number,
  result: r.result === null ? null : JSON.parse(r.result as string),
  createdAt: r.created_at as string,
  updatedAt: r.updated_at as string,
  expiresAt: r.expires_at as string,
  consumedAt: (r.consumed_at as string | null) ?? null,
});

function toEmbedding(b: Buffer | null): Float32Array | null {
  if (!b) return null;
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export function buildLivenessSessionRepo(
  db: Db,
  q: (sql: string) => Statement,
  hooks: { biometricDeleted(): void },
): LivenessSessionRepo {
  const get = (client: string, id: string): LivenessSessionRecord | null => {
    const r = q('SELECT * FROM liveness_sessions WHERE client_id = ? AND id = ?').get(client, id) as Row | undefined;
    return r ? toSession(r) : null;
  };
  const write = <T>(fn: () => T): T => db.transaction(fn).immediate();

  return {
    async create(s) {
      return write(() => {
        if (!q('SELECT 1 FROM clients WHERE id = ?').get(s.client)) throw new UnknownReferenceError('client', s.client);
        q(
          `INSERT INTO liveness_sessions (id, client_id, status, steps, nonce, min_score, max_attempts, failed_attempts,
             result, created_at, updated_at, expires_at, consumed_at)
           VALUES (?, ?, 'CREATED', ?, ?, ?, ?, 0, NULL, ?, ?, ?, NULL)`,
        ).run(s.id, s.client, JSON.stringify(s.steps), s.nonce, s.minScore, s.maxAttempts, s.createdAt, s.createdAt, s.expiresAt);
        return get(s.client, s.id)!;
      });
    },
    async get(client, id) {
      return get(client, id);
    },
    async update(client, id, patch, fromStatus) {
      const sets: string[] = ['updated_at = ?'];
      const args: unknown[] = [new Date().toISOString()];
      if (patch.status !== undefined) (sets.push('status = ?'), args.push(patch.status));
      if (patch.failedAttempts !== undefined) (sets.push('failed_attempts = ?'), args.push(patch.failedAttempts));
      if (patch.result !== undefined) (sets.push('result = ?'), args.push(patch.result === null ? null : JSON.stringify(patch.result)));
      if (patch.consumedAt !== undefined) (sets.push('consumed_at = ?'), args.push(patch.consumedAt));
      const statusIn = fromStatus.map(() => '?').join(', ');
      const notConsumed = patch.consumedAt !== undefined ? ' AND consumed_at IS NULL' : '';
      return write(() => {
        const n = q(
          `UPDATE liveness_sessions SET ${sets.join(', ')} WHERE client_id = ? AND id = ? AND status IN (${statusIn})${notConsumed}`,
        ).run(...args, client, id, ...fromStatus).changes;
        return n > 0 ? get(client, id) : null;
      });
    },
    async addFrames(client, session, frames) {
      write(() => {
        const ins = q(
          `INSERT INTO liveness_session_frames (client_id, session_id, attempt, seq, timestamp_ms, analysis, embedding, image)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        for (const f of frames) {
          const emb = f.embedding ? Buffer.from(f.embedding.buffer.slice(f.embedding.byteOffset, f.embedding.byteOffset + f.embedding.byteLength)) : null;
          ins.run(client, session, f.attempt, f.seq, f.timestampMs, JSON.stringify(f.analysis), emb, f.image ? Buffer.from(f.image) : null);
        }
      });
    },
    async listFrames(client, session, opts = {}) {
      const cols = `id, attempt, seq, timestamp_ms, analysis, embedding, role${opts.images ? ', image' : ''}`;
      const where = ['client_id = ?', 'session_id = ?'];
      const args: unknown[] = [client, session];
      if (opts.attempt !== undefined) (where.push('attempt = ?'), args.push(opts.attempt));
      if (opts.roles) where.push('role IS NOT NULL');
      const rows = q(`SELECT ${cols} FROM liveness_session_frames WHERE ${where.join(' AND ')} ORDER BY attempt, seq`).all(...args) as Row[];
      return rows.map((r) => ({
        id: r.id as number,
        attempt: r.attempt as number,
        seq: r.seq as number,
        timestampMs: r.timestamp_ms as number,
        analysis: JSON.parse(r.analysis as string),
        embedding: toEmbedding(r.embedding as Buffer | null),
        role: (r.role as string | null) ?? null,
        ...(opts.images && r.image ? { image: new Uint8Array(r.image as Buffer) } : {}),
      }));
    },
    async pruneFrames(client, session, keep) {
      write(() => {
        const setRole = q('UPDATE liveness_session_frames SET role = ? WHERE client_id = ? AND session_id = ? AND id = ?');
        for (const k of keep) setRole.run(k.role, client, session, k.id);
        q('DELETE FROM liveness_session_frames WHERE client_id = ? AND session_id = ? AND role IS NULL').run(client, session);
      });
      hooks.biometricDeleted();
    },
    async expireStale(nowIso) {
      const n = write(() => {
        const ids = q(`SELECT client_id, id FROM liveness_sessions WHERE status IN ('CREATED', 'IN_PROGRESS') AND expires_at <= ?`).all(nowIso) as Row[];
        for (const r of ids) {
          q(`UPDATE liveness_sessions SET status = 'EXPIRED', updated_at = ? WHERE client_id = ? AND id = ?`).run(nowIso, r.client_id, r.id);
          q('DELETE FROM liveness_session_frames WHERE client_id = ? AND session_id = ?').run(r.client_id, r.id);
        }
        return ids.length;
      });
      if (n > 0) hooks.biometricDeleted();
      return n;
    },
  };
}

export const LIVENESS_OPEN_STATUSES = OPEN;
