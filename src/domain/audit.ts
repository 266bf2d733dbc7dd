// The audit trail's use cases outside requests: retention, export, and recording operators' token actions.
import type { AuditEvent, NewAuditEvent, Repos, Store } from './ports.js';

const DAY_MS = 86_400_000;

/** Deletes audit events older than `retentionDays` (at least 1: the store refuses to delete younger rows). */
export async function pruneAudit(store: Pick<Store, 'audit'>, retentionDays: number, now: Date = new Date()): Promise<number> {
  if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new RangeError('audit retention must be a whole number of days, at least 1');
  return store.audit.prune(new Date(now.getTime() - retentionDays * DAY_MS).toISOString());
}

/**
 * Prunes now and then every `everyMs` (default 6 h) until the returned function is called. Failures are reported
 * to `onError` and retried at the next tick; pruning never stops the server.
 */
export function scheduleAuditRetention(
  store: Pick<Store, 'audit'>,
  retentionDays: number,
  opts: { everyMs?: number; onPruned?: (n: number) => void; onError?: (err: unknown) => void } = {},
): () => void {
  const tick = () =>
    pruneAudit(store, retentionDays).then(
      (n) => opts.onPruned?.(n),
      (err) => opts.onError?.(err),
    );
  void tick();
  const timer = setInterval(tick, opts.everyMs ?? 6 * 3_600_000);
  timer.unref();
  return () => clearInterval(timer);
}

/** Every event at or after `since`, oldest first, read in pages so a long trail never sits in memory at once. */
export async function* exportAudit(store: Pick<Store, 'audit'>, since: string, pageSize = 1000): AsyncGenerator<AuditEvent> {
  let after = 0;
  for (;;) {
    const page = await store.audit.list({ since, after, limit: pageSize });
    for (const e of page) yield e;
    if (page.length < pageSize) return;
    after = page[page.length - 1].seq;
  }
}

/** Actions whose `subject` is a person (a face person or a person record), not a collection, session or token. */
const PERSON_SUBJECT = /^(face_person\.|person\.|verify$)/;

/**
 * Every person an event is about, by id: the one enrolled, updated, erased or verified against, each candidate a
 * search (or a detect with min_score) returned, and a duplicate an enrolment ran into.
 */
export function personsOf(e: AuditEvent): string[] {
  const ids = new Set<string>();
  if (e.subject && PERSON_SUBJECT.test(e.action)) ids.add(e.subject);
  const d = e.details ?? {};
  for (const h of Array.isArray(d.results) ? d.results : []) if (typeof (h as { id?: unknown }).id === 'string') ids.add((h as { id: string }).id);
  const dup = d.duplicate as { id?: unknown } | undefined;
  if (dup && typeof dup.id === 'string') ids.add(dup.id);
  return [...ids];
}

/** One line of the export a regulator reads: who (tenant, token, how), did what, to whom, when, with what outcome. */
export interface AuditReportRow {
  seq: number;
  at: string;
  tenant: string | null;
  client: string | null;
  token: string | null;
  tokenLabel: string | null;
  via: AuditEvent['via'];
  action: string;
  outcome: AuditEvent['outcome'];
  status: number | null;
  persons: string[];
  route: string;
  request: string | null;
  callerRequest: string | null;
}

export const AUDIT_REPORT_COLUMNS = ['seq', 'at', 'tenant', 'client', 'token', 'tokenLabel', 'via', 'action', 'outcome', 'status', 'persons', 'route', 'request', 'callerRequest'] as const;

/**
 * The trail from `since` (to `until`), with tenants' names and tokens' labels, filtered to one tenant (by name) or
 * to the events about one person: "who searched for or enrolled this person, when, with which token".
 */
export async function* auditReport(
  store: Pick<Store, 'audit' | 'clients' | 'tokens'>,
  q: { since: string; until?: string; tenant?: string; person?: string },
): AsyncGenerator<AuditReportRow> {
  const clients = new Map((await store.clients.list()).map((c) => [c.id, c.name]));
  const labels = new Map((await store.tokens.list()).map((t) => [t.id, t.label ?? null]));
  const tenantId = q.tenant === undefined ? undefined : ([...clients].find(([, name]) => name === q.tenant)?.[0] ?? null);
  for await (const e of exportAudit(store, q.since)) {
    if (q.until !== undefined && e.at >= q.until) return;
    if (tenantId !== undefined && e.client !== tenantId) continue;
    const persons = personsOf(e);
    if (q.person !== undefined && !persons.includes(q.person)) continue;
    yield {
      seq: e.seq,
      at: e.at,
      tenant: e.client ? (clients.get(e.client) ?? null) : null,
      client: e.client,
      token: e.token,
      tokenLabel: e.token ? (labels.get(e.token) ?? null) : null,
      via: e.via ?? (e.token ? 'api' : null),
      action: e.action,
      outcome: e.outcome,
      status: e.status,
      persons,
      route: e.route,
      request: e.request,
      callerRequest: e.callerRequest,
    };
  }
}

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled; lists are space-separated; a
 *  field a spreadsheet would run as a formula starts with an apostrophe. */
export function csvLine(values: unknown[]): string {
  return values
    .map((v) => {
      let s = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(' ') : String(v);
      // A tenant name like "=HYPERLINK(…)" must stay text when the file is opened in a spreadsheet.
      if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
      return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(',');
}

/** An operator's action outside a request (`cli tokens revoke`, `startup API_TOKEN`): no request, no caller token. */
export function cliEvent(route: string, action: string, fields: { client: string | null; subject: string | null; details?: Record<string, unknown> }): NewAuditEvent {
  return { client: fields.client, token: null, via: 'operator', request: null, route, action, outcome: 'ok', status: null, subject: fields.subject, details: fields.details ?? null };
}

export type AuditWriter = Pick<Repos, 'audit'>;
