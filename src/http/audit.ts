// The audit trail of the HTTP API: every request that changes data or runs a biometric check, answered or refused,
// becomes one append-only row (src/store/<backend>/audit.ts) before its answer leaves, so an acknowledged
// enrolment or erasure always has its record. Ids, numbers and error codes only: never names, images or templates.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEvent, Store } from '../domain/ports.js';

/** Action names of the routes that have one; any other non-GET /v2 route is recorded under its route. */
const ACTIONS: Record<string, string> = {
  'POST /v2/face-recognition/persons': 'face_person.enrol',
  'PUT /v2/face-recognition/persons/:id': 'face_person.update',
  'DELETE /v2/face-recognition/persons/:id': 'face_person.erase',
  'POST /v2/face-recognition/persons/search-live-face': 'face_person.enrol_live',
  'POST /v2/face-recognition/search-active-user': 'search',
  'POST /v2/face-recognition/search': 'search',
  'POST /v2/face-recognition/search/crops': 'search',
  'POST /v2/face-recognition/search-live-face': 'search_live',
  'POST /v2/face-recognition/compare-live': 'compare_live',
  'POST /v2/face-recognition/compare-with-liveness': 'compare_with_liveness',
  'POST /v2/face-recognition/verify': 'verify',
  'POST /v2/face-recognition/compare': 'compare',
  'POST /v2/face-recognition/liveness': 'liveness',
  'POST /v2/face-recognition/detect': 'detect',
  'POST /v2/face-recognition/collections': 'collection.create',
  'PUT /v2/face-recognition/collections/:id': 'collection.update',
  'DELETE /v2/face-recognition/collections/:id': 'collection.delete',
  'POST /v2/persons': 'person.create',
  'POST /v2/persons/liveness': 'person.create_live',
  'PUT /v2/persons/:id': 'person.update',
  'DELETE /v2/persons/:id': 'person.erase',
  'POST /v2/face-recognition/liveness/sessions': 'liveness_session.create',
  'POST /v2/face-recognition/liveness/sessions/:session_id/frames': 'liveness_session.frames',
};

type Summary = Pick<AuditEvent, 'subject' | 'details'>;

const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** A search's candidates as ids and scores only. */
function hits(list: unknown[]): { id: string | undefined; score: number | undefined }[] {
  return list.map((h) => ({ id: str((h as Record<string, unknown>).id), score: num((h as Record<string, unknown>).score) }));
}

/** What the answer says, reduced to ids and numbers (no names, thumbnails or signatures). */
function summarise(action: string, req: FastifyRequest, payload: Record<string, unknown>): Summary {
  const params = (req.params ?? {}) as Record<string, unknown>;
  const body = (req.body ?? {}) as Record<string, unknown>;
  let subject = str(params.id) ?? null;
  const details: Record<string, unknown> = {};
  if ('code' in payload && 'message' in payload && !('data' in payload)) {
    // An error: its code, the field at fault, and the ids/scores of a duplicate or a failed liveness check.
    details.code = payload.code;
    if (typeof payload.field === 'string') details.field = payload.field;
    const d = (payload.details ?? {}) as Record<string, unknown>;
    if (str(d.id)) details.duplicate = { id: d.id, score: num(d.score) };
    if (num(d.liveness_score) !== undefined) details.liveness = { score: d.liveness_score, min_score: num(d.min_score), passed: false };
  } else {
    const data = payload.data as unknown;
    if (Array.isArray(data) && req.routeOptions.url === DETECT) {
      details.faces = data.length;
      // A detect with min_score searched every face 1:N: an identification, recorded as one (face index, id, score).
      if (action === 'search') {
        details.results = data.flatMap((f, face) => hits(((f as Record<string, unknown>).persons as unknown[] | undefined) ?? []).map((h) => ({ face, ...h })));
      }
    } else if (Array.isArray(data)) {
      // Search answers: the ids returned, with their scores.
      if (action === 'search') details.results = hits(data);
    } else if (data && typeof data === 'object') {
      const d = data as Record<string, unknown>;
      subject = str(d._id) ?? str(d.id) ?? subject;
      if (action === 'verify') {
        subject = str(body.id) ?? null;
        // Verifik's match is the person (name, thumbnails): the log keeps only whether there was one.
        details.match = d.match !== null && d.match !== undefined;
        details.score = d.score;
      }
      if (action === 'compare') Object.assign(details, { score: d.score, passed: d.passed });
      if (action === 'liveness') details.liveness = { score: d.liveness_score, min_score: d.min_score, passed: d.passed };
      if (action === 'search_live' && Array.isArray(d.persons)) details.results = hits(d.persons);
      const live = (d.liveness ?? null) as Record<string, unknown> | null;
      if ((action === 'search_live' || action === 'compare_live' || action === 'compare_with_liveness') && live) {
        details.liveness = { score: live.liveness_score, min_score: live.min_score, passed: live.passed };
      }
      if (action === 'compare_live') Object.assign(details, { score: d.score, passed: d.passed });
      if (action === 'compare_with_liveness') {
        const c = (d.comparison ?? {}) as Record<string, unknown>;
        Object.assign(details, { score: c.score, passed: c.passed });
      }
      if (action === 'person.create_live' || action === 'person.create') {
        const bio = (d.biometricData ?? {}) as Record<string, unknown>;
        if (bio.livenessScore !== undefined) details.liveness = { score: bio.livenessScore, verification: d.verificationStatus };
      }
      if (action === 'face_person.enrol_live') details.liveness = { passed: true };
      if (action.startsWith('liveness_session.')) {
        subject = str(d.session_id) ?? subject;
        details.liveness_session = { status: d.status, score: num(d.score) };
      }
    }
  }
  return { subject, details: Object.keys(details).length > 0 ? details : null };
}

const summaries = new WeakMap<FastifyRequest, Summary>();

const DETECT = '/v2/face-recognition/detect';

function auditedAction(req: FastifyRequest): { route: string; action: string } | null {
  const url = req.routeOptions.url;
  if (!url || !url.startsWith('/v2/') || req.method === 'GET' || req.method === 'HEAD') return null;
  const route = `${req.method} ${url}`;
  // With min_score, /detect searches each face against the tenant's persons: who looked for whom must show.
  if (url === DETECT && (req.body as Record<string, unknown> | undefined)?.min_score !== undefined) return { route, action: 'search' };
  return { route, action: ACTIONS[route] ?? route };
}

/**
 * Not recorded: throttled answers (429) and requests refused for want of a valid token (no client): a flood of
 * either would otherwise turn into a flood of synchronous database writes, and stand in line with every tenant's
 * real writes. Both stay in the request log (status, request id, address).
 */
function unrecorded(req: FastifyRequest, status: number): boolean {
  return status === 429 || !req.client;
}

export function installAudit(app: FastifyInstance, store: Pick<Store, 'audit'>): void {
  app.addHook('preSerialization', async (req: FastifyRequest, _reply: FastifyReply, payload: unknown) => {
    const a = auditedAction(req);
    if (a && payload && typeof payload === 'object') summaries.set(req, summarise(a.action, req, payload as Record<string, unknown>));
    return payload;
  });
  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const a = auditedAction(req);
    if (!a || unrecorded(req, reply.statusCode)) return payload;
    const summary = summaries.get(req) ?? { subject: null, details: null };
    const status = reply.statusCode;
    try {
      await store.audit.append({
        client: req.client,
        token: req.tokenId || null,
        via: req.viaConsole ? 'console' : 'api',
        request: req.id,
        callerRequest: req.callerRequestId || null,
        route: a.route,
        action: a.action,
        outcome: status < 400 ? 'ok' : status < 500 ? 'rejected' : 'failed',
        status,
        subject: summary.subject,
        details: summary.details,
      });
    } catch (err) {
      // The answer still goes out (its write is committed); the missing record must be noticed.
      req.log.error({ err, action: a.action }, 'could not write the audit record');
    }
    return payload;
  });
}
