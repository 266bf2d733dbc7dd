// One place that turns every failure into the API's `{message, code}` answer with the spec's status. Anything
// not recognised is a 500 `internal_error` whose details stay in the server log.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EngineBusyError, EngineFailure, ImageError, TemplateVersionError } from '../face/errors.js';
import {
  ConflictError,
  DifferentPersonError,
  FaceCountError,
  ImageInputError,
  InvalidFieldError,
  NotFoundError,
  StoreUnavailableError,
  UnknownCollectionError,
  UnknownReferenceError,
} from '../domain/errors.js';
import { DuplicatedPersonError } from '../domain/liveEnrolment.js';
import { LivenessFailedError } from '../domain/search.js';
import { validationFailure } from './validation.js';

export interface ApiErrorBody {
  message: string;
  code: string;
  /** The request field at fault, when one is (`images[1]`). */
  field?: string;
  /** Machine-readable facts behind the error (the duplicate's id and score, liveness sub-scores). */
  details?: Record<string, unknown>;
  /** What to do about it, where the message alone does not say (authentication mistakes). */
  hint?: string;
}

/** An answer the HTTP layer decides itself (authentication, body parsing). */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
    readonly details?: Record<string, unknown>,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const unauthorized = (hint?: string) => new ApiError(401, 'UNAUTHORIZED', 'Authentication required', undefined, {}, undefined, hint);
export const tokenExpired = () =>
  new ApiError(403, 'FORBIDDEN', 'token_expired', undefined, {}, undefined, 'issue a new token with `npm run cli -- tokens create --client NAME`');
export const missingParameter = (message: string, field?: string) => new ApiError(409, 'MissingParameter', message, field);

/**
 * What a person whose real face was refused can do (a real webcam frame in dim light can score under a strict
 * threshold, docs/liveness.md): the capture, then stronger evidence than one still, then the threshold itself.
 */
export const LIVENESS_FAILED_HINT =
  'retake the photo facing the camera in even, bright light (no backlight, no glare), the whole head in the frame; ' +
  'send two or more frames of one capture in "images" (the multi-frame check), or run a liveness session ' +
  '(POST /v2/face-recognition/liveness/sessions, a challenge the person performs); what each liveness_min_score ' +
  'refuses is in docs/liveness.md';

const imageStatus = (problem: ImageInputError['problem']) => (problem === 'too_large' || problem === 'too_many_pixels' ? 413 : 412);

/** `26214400` → `25 MB`: limits are quoted in the unit operators set them in. */
export function formatBytes(n: number): string {
  const mb = n / 1024 / 1024;
  if (mb >= 1) return `${Math.round(mb * 10) / 10} MB`;
  const kb = n / 1024;
  return kb >= 1 ? `${Math.round(kb * 10) / 10} KB` : `${n} bytes`;
}

/** What the error handler knows about the request beyond the error itself. */
export interface ErrorContext {
  /** The body limit of the route (BODY_LIMIT), for the 413's message. */
  bodyLimit?: number;
}

/** Maps an error to status + body (+ headers). Exported for tests and for plugins that answer by hand. */
export interface ErrorOptions {
  /** Liveness sub-scores in 409 details (LIVENESS_DETAILS). */
  livenessDetails?: boolean;
}

export function toApiError(err: unknown, ctx: ErrorContext & ErrorOptions = {}): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err instanceof NotFoundError) return new ApiError(404, 'NOT_FOUND', 'not_found');
  if (err instanceof UnknownCollectionError) return new ApiError(404, 'NOT_FOUND', err.message, err.field);
  if (err instanceof InvalidFieldError) return missingParameter(err.message, err.field);
  if (err instanceof ImageInputError) {
    const status = imageStatus(err.problem);
    // Verifik's message stays as it is (callers match on it); the hint says what is wrong with this field and what
    // to do. Neither ever holds image data.
    const message = status === 413 ? `image_too_large: "${err.field}" is too large` : 'only_images_in_base64';
    return new ApiError(status, status === 413 ? 'PAYLOAD_TOO_LARGE' : 'ERROR', message, err.field, {}, undefined, `"${err.field}": ${err.message}`);
  }
  if (err instanceof ImageError) {
    // The engine's own error when a caller did not go through analyseImages: no field name to give.
    const status = err.code === 'too_many_pixels' ? 413 : 412;
    return new ApiError(status, status === 413 ? 'PAYLOAD_TOO_LARGE' : 'ERROR', status === 413 ? 'image_too_large' : 'only_images_in_base64');
  }
  if (err instanceof FaceCountError) {
    return new ApiError(422, err.problem === 'no_face' ? 'NO_FACE' : 'MULTIPLE_FACES', err.message, err.field);
  }
  if (err instanceof DuplicatedPersonError) {
    return new ApiError(409, 'ERROR', err.message, undefined, {}, { id: err.match.id, score: err.match.score });
  }
  if (err instanceof LivenessFailedError) {
    const { score, signals } = err.liveness;
    const details: Record<string, unknown> = { liveness_score: score, min_score: err.minScore };
    if (err.liveness.reason) details.reason = err.liveness.reason;
    if (ctx.livenessDetails) details.signals = signals;
    return new ApiError(409, 'ERROR', err.message, undefined, {}, details, LIVENESS_FAILED_HINT);
  }
  if (err instanceof DifferentPersonError) {
    return new ApiError(409, 'DIFFERENT_PERSON', err.message, err.field, {}, { other: err.otherField, score: err.score, min_score: err.minScore });
  }
  if (err instanceof ConflictError) return new ApiError(409, 'ERROR', err.message);
  if (err instanceof UnknownReferenceError) return new ApiError(404, 'NOT_FOUND', err.entity === 'collection' ? 'collection_not_found' : 'not_found');
  if (err instanceof TemplateVersionError) return new ApiError(409, 'ERROR', 'template_version_mismatch: re-enrol the person');
  if (err instanceof EngineBusyError) {
    return new ApiError(503, 'ERROR', 'engine_busy', undefined, { 'retry-after': String(Math.max(1, Math.ceil(err.retryAfterSeconds))) });
  }
  if (err instanceof StoreUnavailableError) {
    const headers = { 'retry-after': String(err.retryAfterSeconds) };
    return new ApiError(503, 'ERROR', 'service_unavailable', undefined, headers, undefined, 'the database cannot be reached; retry shortly');
  }
  if (err instanceof EngineFailure) return null;

  const fe = err as FastifyError & { validation?: unknown[]; validationContext?: string };
  if (fe && Array.isArray(fe.validation)) {
    const { message, field, hint } = validationFailure(fe.validation as never, fe.validationContext);
    return new ApiError(409, 'MissingParameter', message, field, {}, undefined, hint);
  }
  switch (fe?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = ctx.bodyLimit === undefined ? '' : ` of ${formatBytes(ctx.bodyLimit)}`;
      const hint = `the request body is over the limit${limit}; the server's BODY_LIMIT setting changes it`;
      return new ApiError(413, 'PAYLOAD_TOO_LARGE', 'payload_too_large', undefined, {}, undefined, hint);
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return missingParameter('"body" is required', 'body');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, 'BAD_REQUEST', 'invalid content-length');
  }
  // JSON.parse failures from the body parser.
  if (fe instanceof SyntaxError || fe?.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return missingParameter('"body" must be valid JSON', 'body');
  // Fastify's own 4xx (e.g. malformed URLs) keep their status, with a neutral message.
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ApiError(fe.statusCode, 'BAD_REQUEST', 'bad_request');
  }
  return null;
}

export function sendError(reply: FastifyReply, e: ApiError): FastifyReply {
  const body: ApiErrorBody = { message: e.message, code: e.code };
  if (e.field !== undefined) body.field = e.field;
  if (e.details !== undefined) body.details = e.details;
  if (e.hint !== undefined) body.hint = e.hint;
  return reply.code(e.statusCode).headers(e.headers).type('application/json; charset=utf-8').send(body);
}

/**
 * Why a request got a 4xx, for whoever reads the server log. The messages this module builds name fields, limits
 * and settings, never the values sent (no names, no images), so they are safe to log as they are.
 */
function logRejection(req: FastifyRequest, e: ApiError): void {
  req.log.info({ status: e.statusCode, code: e.code, field: e.field, hint: e.hint }, `request rejected: ${e.message}`);
}

export function installErrorHandling(app: FastifyInstance, opts: ErrorOptions = {}): void {
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    // Sub-scores stay in the server's log (debug) whatever the answer shows.
    if (err instanceof LivenessFailedError) req.log.debug({ livenessSignals: err.liveness.signals, score: err.liveness.score }, 'liveness failed');
    const mapped = toApiError(err, { ...opts, bodyLimit: req.routeOptions?.bodyLimit });
    if (mapped) {
      if (mapped.statusCode >= 500) req.log.warn({ code: mapped.code }, mapped.message);
      else logRejection(req, mapped);
      return sendError(reply, mapped);
    }
    // Logged with its stack here; the client learns nothing beyond "internal_error".
    req.log.error({ err }, 'unhandled error');
    return sendError(reply, new ApiError(500, 'ERROR', 'internal_error'));
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new ApiError(404, 'NOT_FOUND', 'route_not_found');
    logRejection(req, e);
    return sendError(reply, e);
  });
}
