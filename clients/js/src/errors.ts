// Typed errors: every refusal the server sends is `{message, code}` (plus `field`, `hint`, `details` where it has
// them); the client raises it as a FacegateError carrying those, so callers branch on `code`, not on text.

export interface ErrorBody {
  message: string;
  code: string;
  field?: string;
  hint?: string;
  details?: Record<string, unknown>;
}

export class FacegateError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;
  /** The server's request id (x-request-id), to quote when asking about this error. */
  readonly requestId?: string;
  /** Seconds the server asked to wait (Retry-After on 429 and 503), when it said. */
  readonly retryAfter?: number;

  constructor(status: number, body: ErrorBody, opts: { requestId?: string; retryAfter?: number } = {}) {
    super(body.message);
    this.name = 'FacegateError';
    this.status = status;
    this.code = body.code;
    this.field = body.field;
    this.hint = body.hint;
    this.details = body.details;
    this.requestId = opts.requestId;
    this.retryAfter = opts.retryAfter;
  }
}

/** The answer was not what a Facegate server sends (a proxy's HTML page, a cut connection): no server code to give. */
export class FacegateProtocolError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'FacegateProtocolError';
    this.status = status;
  }
}

/** A signed answer failed verification: `reason` says which check (signature, request, data, client, freshness). */
export class SignatureError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = 'SignatureError';
    this.reason = reason;
  }
}
