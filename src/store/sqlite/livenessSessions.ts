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
import type { Query, Row, Scope } from './connection.js';


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


function getSession(q: Query, client: string, id: string): LivenessSessionRecord | null {
  const r = q('SELECT * FROM liveness_sessions WHERE client_id = ? AND id = ?').get(client, id) as Row | undefined;
  return r ? toSession(r) : null;
}

export class SqliteLivenessSessions implements LivenessSessionRepo {
  constructor(private readonly s: Scope) {}

  async create(s: NewLivenessSession): Promise<LivenessSessionRecord> {
    return this.s.write('liveness session', (q) => {
      requireClient(q, s.client);
      q(
        `INSERT INTO liveness_sessions (id, client_id, status, steps, nonce, min_score, max_attempts, failed_attempts,
           result, created_at, updated_at, expires_at, consumed_at)
         VALUES (?, ?, 'CREATED', ?, ?, ?, ?, 0, NULL, ?, ?, ?, NULL)`,
      ).run(s.id, s.client, JSON.stringify(s.steps), s.nonce, s.minScore, s.maxAttempts, s.createdAt, s.createdAt, s.expiresAt);
      return getSession(q, s.client, s.id)!;
    });
  }

  async get(client: string, id: string): Promise<LivenessSessionRecord | null> {
    return this.s.read((q) => getSession(q, client, id));
  }

  async update(client: string, id: string, patch: LivenessSessionPatch, fromStatus: LivenessSessionStatus[]): Promise<LivenessSessionRecord | null> {
    const sets: string[] = ['updated_at = ?'];
    const args: unknown[] = [isoNow()];
    if (patch.status !== undefined) (sets.push('status = ?'), args.push(patch.status));
    if (patch.failedAttempts !== undefined) (sets.push('failed_attempts = ?'), args.push(patch.failedAttempts));
    if (patch.result !== undefined) (sets.push('result = ?'), args.push(patch.result === null ? null : JSON.stringify(patch.result)));
    if (patch.consumedAt !== undefined) (sets.push('consumed_at = ?'), args.push(patch.consumedAt));
    const statusIn = fromStatus.map(() => '?').join(', ');
    const notConsumed = patch.consumedAt !== undefined ? ' AND consumed_at IS NULL' : '';
    return this.s.write('liveness session', (q) => {
      const n = q(`UPDATE liveness_sessions SET ${sets.join(', ')} WHERE client_id = ? AND id = ? AND status IN (${statusIn})${notConsumed}`).run(
        ...args,
        client,
        id,
        ...fromStatus,
      ).changes;
      return n > 0 ? getSession(q, client, id) : null;
    });
  }

  async addFrames(client: string, session: string, frames: NewLivenessFrame[]): Promise<void> {
    await this.s.write('liveness frame', (q) => {
      const ins = q(
        `INSERT INTO liveness_session_frames (client_id, session_id, attempt, seq, timestamp_ms, analysis, embedding, image)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const f of frames) {
        const emb = f.embedding ? embeddingToBytes(f.embedding) : null;
        ins.run(client, session, f.attempt, f.seq, f.timestampMs, JSON.stringify(f.analysis), emb, f.image ? Buffer.from(f.image) : null);
      }
    });
  }

  async listFrames(client: string, session: string, opts: { attempt?: number; images?: boolean; roles?: boolean } = {}): Promise<LivenessFrameRecord[]> {
    const cols = `id, attempt, seq, timestamp_ms, analysis, embedding, role${opts.images ? ', image' : ''}`;
    const where = ['client_id = ?', 'session_id = ?'];
    const args: unknown[] = [client, session];
    if (opts.attempt !== undefined) (where.push('attempt = ?'), args.push(opts.attempt));
    if (opts.roles) where.push('role IS NOT NULL');
    return this.s.read((q) =>
      (q(`SELECT ${cols} FROM liveness_session_frames WHERE ${where.join(' AND ')} ORDER BY attempt, seq`).all(...args) as Row[]).map((r) => ({
        id: r.id as number,
        attempt: r.attempt as number,
        seq: r.seq as number,
        timestampMs: r.timestamp_ms as number,
        analysis: JSON.parse(r.analysis as string),
        embedding: r.embedding ? bytesToEmbedding(r.embedding as Buffer) : null,
        role: (r.role as string | null) ?? null,
        ...(opts.images && r.image ? { image: new Uint8Array(r.image as Buffer) } : {}),
      })),
    );
  }

  async pruneFrames(client: string, session: string, keep: { id: number; role: string }[]): Promise<void> {
    await this.s.write('liveness frame', (q, w) => {
      const setRole = q('UPDATE liveness_session_frames SET role = ? WHERE client_id = ? AND session_id = ? AND id = ?');
      for (const k of keep) setRole.run(k.role, client, session, k.id);
      q('DELETE FROM liveness_session_frames WHERE client_id = ? AND session_id = ? AND role IS NULL').run(client, session);
      w.biometricDeleted();
    });
  }

  async expireStale(nowIso: string): Promise<number> {
    return this.s.write('liveness session', (q, w) => {
      const ids = q(`SELECT client_id, id FROM liveness_sessions WHERE status IN ('CREATED', 'IN_PROGRESS') AND expires_at <= ?`).all(nowIso) as Row[];
      for (const r of ids) {
        q(`UPDATE liveness_sessions SET status = 'EXPIRED', updated_at = ? WHERE client_id = ? AND id = ?`).run(nowIso, r.client_id, r.id);
        q('DELETE FROM liveness_session_frames WHERE client_id = ? AND session_id = ?').run(r.client_id, r.id);
      }
      if (ids.length > 0) w.biometricDeleted();
      return ids.length;
    });
  }
}
