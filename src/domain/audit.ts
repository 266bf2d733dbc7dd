// The audit trail's use cases outside requests: retention, export, and recording operators' token actions.
import type { AuditEvent, NewAuditEvent, Repos, Store } from '../store/types.js';

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

/** An operator's action outside a request (`cli tokens revoke`, `startup API_TOKEN`): no request, no caller token. */
export function cliEvent(route: string, action: string, fields: { client: string | null; subject: string | null; details?: Record<string, unknown> }): NewAuditEvent {
  return { client: fields.client, token: null, request: null, route, action, outcome: 'ok', status: null, subject: fields.subject, details: fields.details ?? null };
}

export type AuditWriter = Pick<Repos, 'audit'>;
