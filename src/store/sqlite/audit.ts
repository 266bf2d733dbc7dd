// The audit trail's repository (table audit_events, migration 6). The table's triggers, not this code, make it
// append-only; prune() is the one deletion they allow (rows older than a cutoff that only moves forward).
import type { AuditEvent, NewAuditEvent } from '../../domain/model.js';
import type { AuditRepo } from '../../domain/ports.js';
import type { Row, Scope } from './connection.js';

const toEvent = (r: Row): AuditEvent => ({
  seq: r.seq as number,
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
  details: r.details ? (JSON.parse(r.details as string) as Record<string, unknown>) : null,
});

export class SqliteAudit implements AuditRepo {
  constructor(private readonly s: Scope) {}

  async append(e: NewAuditEvent): Promise<AuditEvent> {
    const at = e.at ?? new Date().toISOString();
    const details = e.details === null || e.details === undefined ? null : JSON.stringify(e.details);
    return this.s.write('audit event', (q) =>
      toEvent(
        q(
          `INSERT INTO audit_events (at, client_id, token_id, request_id, route, action, outcome, status, subject, details, via, caller_request)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        ).get(at, e.client, e.token, e.request, e.route, e.action, e.outcome, e.status, e.subject, details, e.via ?? null, e.callerRequest ?? null) as Row,
      ),
    );
  }

  async list({ since, after = 0, limit }: { since: string; after?: number; limit: number }): Promise<AuditEvent[]> {
    return this.s.read((q) => (q('SELECT * FROM audit_events WHERE at >= ? AND seq > ? ORDER BY seq LIMIT ?').all(since, after, limit) as Row[]).map(toEvent));
  }

  async prune(before: string): Promise<number> {
    return this.s.write('audit retention', (q) => {
      const current = (q('SELECT cutoff FROM audit_retention WHERE id = 1').get() as { cutoff: string }).cutoff;
      if (before > current) q('UPDATE audit_retention SET cutoff = ? WHERE id = 1').run(before);
      return q('DELETE FROM audit_events WHERE at < ?').run(before).changes;
    });
  }
}
