// Schemas shared by the routes: the envelope, errors, paging, images. The same objects validate requests,
// serialise responses and produce the OpenAPI document.
import { Type, type TSchema, type SchemaOptions } from '@sinclair/typebox';
import { EXAMPLE_FACE_BASE64 } from './exampleFace.js';

/** A string or null (one JSON Schema `type` array, so Ajv reports one clear error instead of an anyOf). */
export const NullableString = (opts: SchemaOptions & { minLength?: number; maxLength?: number; format?: string; pattern?: string } = {}) =>
  Type.Unsafe<string | null>({ ...opts, type: ['string', 'null'] });


/** One raw base64 image (no `data:` prefix); its example in /docs is a real face the engine reads. */
export const Base64Image = (description = 'Raw base64 image (JPEG, PNG or WebP); no data: URL prefix.') =>
  Type.String({ minLength: 1, description, contentEncoding: 'base64', examples: [EXAMPLE_FACE_BASE64] });

/** Named in the description of image lists whose length MAX_IMAGES limits; validation.ts points to the setting. */
export const MAX_IMAGES_NOTE = "the server's MAX_IMAGES setting";

export const Base64Images = (maxImages: number, description?: string) =>
  Type.Array(Base64Image(description), { minItems: 1, maxItems: maxImages, description: `1 to ${maxImages} images (${MAX_IMAGES_NOTE}).` });

export const GenderEnum = Type.Unsafe<'M' | 'F'>({ type: 'string', enum: ['M', 'F'] });
export const NullableGender = Type.Unsafe<'M' | 'F' | null>({ type: ['string', 'null'], enum: ['M', 'F', null] });

/** What each `pattern` used in a schema means, so a validation error can name the expected format. */
const PATTERN_MEANINGS = new Map<string, string>();

/** A `pattern` keyword with its meaning in words (`a date in the format YYYY-MM-DD`). */
export function describedPattern(pattern: string, meaning: string): { pattern: string } {
  PATTERN_MEANINGS.set(pattern, meaning);
  return { pattern };
}

export const patternMeaning = (pattern: string): string | undefined => PATTERN_MEANINGS.get(pattern);

/** The start of a birth date: `YYYY-MM-DD` (the domain checks the rest, and that the date exists). */
export const DATE_PATTERN = describedPattern('^\\d{4}-\\d{2}-\\d{2}', 'a date in the format YYYY-MM-DD (e.g. 1990-01-15)');

/** `YYYY-MM-DD` (an ISO date-time is accepted and cut to its date). */
export const BirthDate = (opts: SchemaOptions = {}) =>
  Type.String({ minLength: 10, maxLength: 40, ...DATE_PATTERN, description: 'YYYY-MM-DD', examples: ['1990-01-15'], ...opts });

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false });

// Optional in the document (a caller may leave them out); validation fills the defaults, so handlers see numbers.
export const PageQuery = {
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: '1-based page number.' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'Page size (default 10, at most 100).' })),
};

/** A validated query with PageQuery's fields, its paging filled in (validation already applied the defaults). */
export function withPaging<Q extends { page?: number; limit?: number }>(q: Q): Q & { page: number; limit: number } {
  return { ...q, page: q.page ?? 1, limit: q.limit ?? 10 };
}

export const ErrorBody = Type.Object(
  {
    message: Type.String(),
    code: Type.String(),
    field: Type.Optional(Type.String({ description: 'The request field at fault, when there is one.' })),
    details: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'Facts behind a 409: `{id, score}` of the duplicated person, or `{liveness_score, min_score, signals}`.',
      }),
    ),
    hint: Type.Optional(
      Type.String({ description: 'What was wrong and what to do about it (the expected Authorization header, the allowed fields, the limit and the setting that changes it).' }),
    ),
  },
  { description: 'Error' },
);

export const Signature = Type.Object({
  message: Type.String(),
  dateTime: Type.String({ format: 'date-time' }),
  jws: Type.Optional(
    Type.String({
      description:
        'Compact JWS (EdDSA/Ed25519) whose payload is the canonical JSON (RFC 8785) of `data`; verify it with /.well-known/jwks.json.',
    }),
  ),
});

/** `{id, data, signature}` */
export const Envelope = <T extends TSchema>(data: T) =>
  Type.Object({
    id: Type.String({ description: 'Request id (also in the x-request-id header and the server log).' }),
    data,
    signature: Signature,
  });

export const Pagination = Type.Object({
  page: Type.Integer(),
  limit: Type.Integer(),
  total: Type.Integer(),
  pages: Type.Integer(),
});

/** List answer: `{id, data: [...], pagination, signature}` (Verifik's list shape). */
export const ListEnvelope = <T extends TSchema>(item: T) =>
  Type.Object({
    id: Type.String(),
    data: Type.Array(item),
    pagination: Pagination,
    signature: Signature,
  });

export const Deleted = Type.Object({
  _id: Type.String(),
  deleted: Type.Literal(true),
});

/**
 * What can go wrong on a route, each with the statuses it answers. A route declares its failures once, in
 * `errorResponses(...)`: that one list makes the route's documented responses, and test/http/openapi.test.ts
 * triggers them (and checks that the route answers no status it does not declare).
 */
export const FAILURES = {
  /** Every /v2 route: no valid bearer token (401), an expired one (403). */
  auth: { 401: 'No valid bearer token; `hint` says what was wrong.', 403: 'The token has expired.' },
  /** A body, query string or path parameter that fails validation. */
  input: { 409: 'A field fails validation (`MissingParameter`), or a conflict with stored data.' },
  /** The route reads a request body (any method but GET): too large, or not JSON. */
  body: { 413: 'The body is over BODY_LIMIT (or one image over MAX_IMAGE_BYTES).', 415: 'The body is not `application/json`.' },
  /** An id or a collection named in the request that the client does not have. */
  notFound: { 404: 'No such id or collection for this client.' },
  /** Image fields: not raw base64 of a usable image (412), over MAX_IMAGE_BYTES or too many pixels (413). */
  images: { 412: 'An image is not raw base64 of a JPEG, PNG or WebP (`hint` says why).', 413: 'The body is over BODY_LIMIT or an image over MAX_IMAGE_BYTES.' },
  /** Photos that must show a face (exactly one, on enrolment). */
  faces: { 422: 'An image holds no face (or several where one is required).' },
  /** The face engine's queue is full. */
  engine: { 503: 'The face engine is busy (ENGINE_QUEUE); retry after `Retry-After` seconds.' },
  /** Console sign-in: the token, the origin, the throttle, the session slots. */
  signIn: {
    401: 'The token is unknown or revoked.',
    403: 'The token has expired, the request came from another origin, or over plain http to a host that is not this machine.',
    429: 'Too many sign-in attempts from this address or with this token; retry after `Retry-After` seconds.',
    503: 'Every console session slot is in use.',
  },
  /** A console session that is missing, expired, or whose token was revoked. */
  session: { 401: 'No live console session.', 403: 'The token behind the session has expired, or a CSRF/origin check failed.' },
  /** /metrics: off without METRICS_TOKEN (404), its own bearer token otherwise (401). */
  metrics: { 401: 'No `Authorization: Bearer <METRICS_TOKEN>`.', 404: 'METRICS_TOKEN is not set: metrics are off.' },
} as const;

export type Failure = keyof typeof FAILURES;

/** The error responses of a route that can fail in these ways, plus 500 (any route). */
export function errorResponses(...failures: Failure[]): Record<number, TSchema> {
  const descriptions = new Map<number, string[]>();
  for (const f of failures) {
    for (const [status, text] of Object.entries(FAILURES[f])) {
      const list = descriptions.get(Number(status)) ?? [];
      if (!list.includes(text)) list.push(text);
      descriptions.set(Number(status), list);
    }
  }
  descriptions.set(500, ['Unexpected error; details are in the server log under the request id.']);
  const out: Record<number, TSchema> = {};
  for (const [status, texts] of [...descriptions.entries()].sort((a, b) => a[0] - b[0])) {
    out[status] = Type.Object(ErrorBody.properties, { description: texts.join(' ') });
  }
  return out;
}

/** Error responses every authenticated route can give. Kept for routes not yet declared with errorResponses(). */
export const commonErrors = {
  401: ErrorBody,
  403: ErrorBody,
  409: ErrorBody,
  429: ErrorBody,
  500: ErrorBody,
};

/** Plus the ones of routes that take images. Kept for routes not yet declared with errorResponses(). */
export const imageErrors = {
  ...commonErrors,
  412: ErrorBody,
  413: ErrorBody,
  422: ErrorBody,
  503: ErrorBody,
};
