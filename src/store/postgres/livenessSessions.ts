// Liveness sessions (challenge-response) and the frames posted to them. A session row holds the challenge and the
// verdict; its frames hold what the face engine measured on each one plus the image, until the verdict is in: then
// only the reference and audit frames keep their image (pruneFrames), the rest is deleted.
import type {
  LivenessFrameRecord,
  LivenessSessionPatch,
  LivenessSessionRecord,
  LivenessSessionStatus,
  NewLivenessFrame,
  NewLivenessSession,
} from '../../domain/model.js';
import { bytesToEmbedding, embeddingToBytes, isoNow } from '../shared.js';
import type { LivenessSessionRepo } from '../../domain/livenessSessionRepo.js';
import { requireClient } from './clients.js';
import type { Q, Row, Scope } from './connection.js';

const toSession = (r: Row): LivenessSessionRecord => ({
  id: r.id as string,
  client: r.client_id as string,
  status: r.status as LivenessSessionStatus,
  steps: r.steps as string[],
  nonce: r.nonce as string,
  minScore: r.min_score as number,
  maxAttempts: r.max_attempts as number,
  failedAttempts: r.failed_attempts as number,
  result: r.result ?? null,
  createdAt: r.created_at as string,
  updatedAt: r.updated_at as string,
  expiresAt: r.expires_at as string,
  consumedAt: (r.consumed_at as string | null) ?? null,
});

async function getSession(q: Q, client: string, id: string): Promise<LivenessSessionRecord | null> {
  const { rows } = await q('SELECT * FROM liveness_sessions WHERE client_id = $1 AND id = $2', [client, id]);
  return rows[0] ? toSession(rows[0]) : null;
}

export class PgLivenessSessions implements LivenessSessionRepo {
  constructor(private readonly s: Scope) {}

  async create(s: NewLivenessSession): Promise<LivenessSessionRecord> {
    return this.s.write('liveness session', async (q) => {
      await requireClient(q, s.client);
      const { rows } = await q(
        `INSERT INTO liveness_sessions (id, client_id, status, steps, nonce, min_score, max_attempts, failed_attempts,
           result, created_at, updated_at, expires_at, consumed_at)
         VALUES ($1, $2, 'CREATED', $3, $4, $5, $6, 0, NULL, $7, $7, $8, NULL) RETURNING *`,
        [s.id, s.client, JSON.stringify(s.steps), s.nonce, s.minScore, s.maxAttempts, s.createdAt, s.expiresAt],
      );
      return toSession(rows[0]);
    });
  }

  async get(client: string, id: string): Promise<LivenessSessionRecord | null> {
    return this.s.read((q) => getSession(q, client, id));
  }

  async update(client: string, id: string, patch: LivenessSessionPatch, fromStatus: LivenessSessionStatus[]): Promise<LivenessSessionRecord | null> {
    const args: unknown[] = [isoNow()];
    const sets: string[] = ['updated_at = $1'];
    const set = (col: string, v: unknown): void => {
      args.push(v);
      sets.push(`${col} = $${args.length}`);
    };
    if (patch.status !== undefined) set('status', patch.status);
    if (patch.failedAttempts !== undefined) set('failed_attempts', patch.failedAttempts);
    if (patch.result !== undefined) set('result', patch.result === null ? null : JSON.stringify(patch.result));
    if (patch.consumedAt !== undefined) set('consumed_at', patch.consumedAt);
    args.push(client, id, fromStatus);
    const n = args.length;
    const notConsumed = patch.consumedAt !== undefined ? ' AND consumed_at IS NULL' : '';
    return this.s.write('liveness session', async (q) => {
      const { rows } = await q(
        `UPDATE liveness_sessions SET ${sets.join(', ')} WHERE client_id = $${n - 2} AND id = $${n - 1} AND status = ANY($${n}::text[])${notConsumed} RETURNING *`,
        args,
      );
      return rows[0] ? toSession(rows[0]) : null;
    });
  }

  async addFrames(client: string, session: string, frames: NewLivenessFrame[]): Promise<void> {
    await this.s.write('liveness frame', async (q) => {
      for (const f of frames) {
        await q(
          `INSERT INTO liveness_session_frames (client_id, session_id, attempt, seq, timestamp_ms, analysis, embedding, image)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [
            client,
            session,
            f.attempt,
            f.seq,
            f.timestampMs,
            JSON.stringify(f.analysis),
            f.embedding ? embeddingToBytes(f.embedding) : null,
            f.image ? Buffer.from(f.image) : null,
          ],
        );
      }
    });
  }

  async listFrames(client: string, session: string, opts: { attempt?: number; images?: boolean; roles?: boolean } = {}): Promise<LivenessFrameRecord[]> {
    const cols = `id, attempt, seq, timestamp_ms, analysis, embedding, role${opts.images ? ', image' : ''}`;
    const args: unknown[] = [client, session];
    const where = ['client_id = $1', 'session_id = $2'];
    if (opts.attempt !== undefined) {
      args.push(opts.attempt);
      where.push(`attempt = $${args.length}`);
    }
    if (opts.roles) where.push('role IS NOT NULL');
    const { rows } = await this.s.read((q) => q(`SELECT ${cols} FROM liveness_session_frames WHERE ${where.join(' AND ')} ORDER BY attempt, seq`, args));
    return rows.map((r) => ({
      id: Number(r.id),
      attempt: r.attempt as number,
      seq: r.seq as number,
      timestampMs: r.timestamp_ms as number,
      analysis: r.analysis,
      embedding: r.embedding ? bytesToEmbedding(r.embedding as Buffer) : null,
      role: (r.role as string | null) ?? null,
      ...(opts.images && r.image ? { image: new Uint8Array(r.image as Buffer) } : {}),
    }));
  }

  async pruneFrames(client: string, session: string, keep: { id: number; role: string }[]): Promise<void> {
    await this.s.write('liveness frame', async (q, w) => {
      w.biometricDeleted();
      for (const k of keep) {
        await q('UPDATE liveness_session_frames SET role = $1 WHERE client_id = $2 AND session_id = $3 AND id = $4', [k.role, client, session, k.id]);
      }
      await q('DELETE FROM liveness_session_frames WHERE client_id = $1 AND session_id = $2 AND role IS NULL', [client, session]);
    });
  }

  async expireStale(nowIso: string): Promise<number> {
    return this.s.write('liveness session', async (q, w) => {
      const { rows } = await q(
        `UPDATE liveness_sessions SET status = 'EXPIRED', updated_at = $1
         WHERE status IN ('CREATED', 'IN_PROGRESS') AND expires_at <= $1 RETURNING client_id, id`,
        [nowIso],
      );
      for (const r of rows) {
        await q('DELETE FROM liveness_session_frames WHERE client_id = $1 AND session_id = $2', [r.client_id, r.id]);
      }
      if (rows.length > 0) w.biometricDeleted();
      return rows.length;
    });
  }
}
