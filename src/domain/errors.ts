// Failures of the use cases and of the stores (one home for both), named after what went wrong for the caller. The
// HTTP layer (src/http/errors.ts) maps each class to one status and `code`; nothing here knows about HTTP.
import { selectorField } from './subjectFields.js';

/** An id that does not exist for this client. Foreign ids are reported exactly the same way. */
export class NotFoundError extends Error {
  override readonly name: string = 'NotFoundError';
  constructor(readonly resource: 'collection' | 'person' | 'liveness session') {
    super('not_found');
  }
}

/** A request field refers to a collection the client does not have (`collections[1]`, `collection`). */
export class UnknownCollectionError extends Error {
  override readonly name: string = 'UnknownCollectionError';
  constructor(readonly field: string) {
    super(`collection_not_found: "${field}" does not name a collection of this client`);
  }
}

/** A field is well-typed but its value is unacceptable (e.g. a date that does not exist). */
export class InvalidFieldError extends Error {
  override readonly name: string = 'InvalidFieldError';
  constructor(
    readonly field: string,
    /** Joi-style, e.g. `"date_of_birth" must be a valid date`. */
    message: string,
  ) {
    super(message);
  }
}

export type ImageProblem =
  | 'data_url' // "data:image/jpeg;base64,…" instead of raw base64
  | 'not_base64'
  | 'too_small' // too few bytes or pixels to hold a usable face
  | 'not_an_image'
  | 'unsupported_format'
  | 'too_large' // more bytes than MAX_IMAGE_BYTES
  | 'too_many_pixels'; // decompression bomb or simply too large

/** An image field that cannot be used as a face photo. */
export class ImageInputError extends Error {
  override readonly name: string = 'ImageInputError';
  constructor(
    readonly problem: ImageProblem,
    readonly field: string,
    detail?: string,
  ) {
    super(detail ?? problem);
  }
}

/** An image holds no face, or several faces any of which could be the person where exactly one is required. */
export class FaceCountError extends Error {
  override readonly name: string = 'FaceCountError';
  constructor(
    readonly problem: 'no_face' | 'multiple_faces',
    readonly field: string,
    /** With multiple_faces: how many faces the image holds. */
    readonly faces = 0,
  ) {
    super(
      problem === 'no_face'
        ? `no_face_detected: "${field}" contains no face`
        : `multiple_faces_detected: "${field}" holds ${faces} faces and two of them could each be the person; name the face with "${selectorField(field)}": its index in /detect's answer for this photo (0 is the face used when none is named), or its box {top, left, right, bottom}`,
    );
  }
}

/**
 * The request conflicts with the state of the data (e.g. duplicated_person), or a unique key is taken in the store
 * (`entity` then names the record: a duplicate id, collection `code` within a client, client name or token hash).
 * Message is the client-facing text.
 */
export class ConflictError extends Error {
  override readonly name: string = 'ConflictError';
  constructor(
    message: string,
    readonly entity?: string,
  ) {
    super(message);
  }
}

/**
 * A record refers to something that does not exist for this client (a collection named in `collections`, the
 * owner of a template, the client itself). Foreign rows are reported exactly like missing ones.
 */
export class UnknownReferenceError extends Error {
  override readonly name = 'UnknownReferenceError';
  constructor(
    readonly entity: 'client' | 'collection' | 'person',
    readonly ref: string,
  ) {
    super(`unknown ${entity}: ${ref}`);
  }
}

/**
 * The database cannot be reached (connection refused or lost, pool exhausted past its timeout, server shutting
 * down). Nothing was written; the same request may succeed later (HTTP 503 with Retry-After).
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(
    readonly retryAfterSeconds = 2,
    options?: { cause?: unknown },
  ) {
    super('service_unavailable: the database cannot be reached; retry shortly', options);
  }
}

/** The images of one enrolment do not all show the same person (409 naming the odd image). */
export class DifferentPersonError extends ConflictError {
  override readonly name = 'DifferentPersonError';
  constructor(
    readonly field: string,
    readonly otherField: string,
    readonly score: number,
    readonly minScore: number,
  ) {
    super(`different_person: "${field}" does not show the same person as "${otherField}" (score ${score} < ${minScore})`);
  }
}
