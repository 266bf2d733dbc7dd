// The audit trail's repository. The table's triggers (migration 1), not this code, make it append-only; prune() is
// the one deletion they allow (rows older than a cutoff that only moves forward).
import type { AuditEvent, NewAuditEvent } from '../../domain/model.js';
import type { AuditRepo } from '../../domain/ports.js';
import type { Row, Scope } from './connection.js';

const toEvent = (r: Row): AuditEvent => ({
  seq: Number(r.seq),
  at: r.at as string,
  client: (r.client_id as string | null) ?? null,
  token: (r.token_id as string | null) ?? null,
  via: (r.via as AuditEvent['via']) ?? null,
  request: (r.request_id as string | null) ?? null,
  callerRequest: (r.caller_request as string | null) ?? null,
  route: r.route as string,
  action: r.action as string,
  outcome: r.outcome as AuditEvent['outcome'],
  status: (r.status as number | null) ?? null,
  subject: (r.subject as string | null) ?? null,
  details: (r.details as Record<string, unknown> | null) ?? null,
});

export class PgAudit implements AuditRepo {
  constructor(private readonly s: Scope) {}

  async append(e: NewAuditEvent): Promise<AuditEvent> {
    const at = e.at ?? new Date().toISOString();
    const details = e.details === null || e.details === undefined ? null : JSON.stringify(e.details);
    return this.s.write('audit event', async (q) => {
      const { rows } = await q(
        `INSERT INTO audit_events (at, client_id, token_id, request_id, route, action, outcome, status, subject, details, via, caller_request)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
        [at, e.client, e.token, e.request, e.route, e.action, e.outcome, e.status, e.subject, details, e.via ?? null, e.callerRequest ?? null],
      );
      return toEvent(rows[0]);
    });
  }

  async list({ since, after = 0, limit }: { since: string; after?: number; limit: number }): Promise<AuditEvent[]> {
    const { rows } = await this.s.read((q) => q('SELECT * FROM audit_events WHERE at >= $1 AND seq > $2 ORDER BY seq LIMIT $3', [since, after, limit]));
    return rows.map(toEvent);
  }

  async prune(before: string): Promise<number> {
    return this.s.write('audit retention', async (q) => {
      const current = (await q('SELECT cutoff FROM audit_retention WHERE id = 1 FOR UPDATE')).rows[0].cutoff as string;
      if (before > current) await q('UPDATE audit_retention SET cutoff = $1 WHERE id = 1', [before]);
      return (await q('DELETE FROM audit_events WHERE at < $1', [before])).rowCount;
    });
  }
}
