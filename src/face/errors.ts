// Typed failures the HTTP layer maps to precise 4xx/503 answers.

export type ImageErrorCode =
  | 'not_an_image' // bytes are not a decodable image
  | 'unsupported_format'
  | 'too_many_pixels' // decompression bomb or simply too large
  | 'too_small'; // below the minimum useful size

export class ImageError extends Error {
  constructor(
    readonly code: ImageErrorCode,
    message: string,
    /** Index of the offending image in the request, when known. */
    public index?: number,
  ) {
    super(message);
    this.name = 'ImageError';
  }
}

/** The engine's queue is full: callers should retry later (HTTP 503 + Retry-After). */
export class EngineBusyError extends Error {
  constructor(readonly retryAfterSeconds = 1) {
    super('face engine is busy');
    this.name = 'EngineBusyError';
  }
}

/** A worker died or an inference failed unexpectedly (HTTP 500). */
export class EngineFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineFailure';
  }
}

/** Templates produced by different model/pipeline versions cannot be compared. */
export class TemplateVersionError extends Error {
  constructor(readonly expected: string, readonly actual: string) {
    super(`template version ${actual} cannot be compared with ${expected}; re-enrol the person`);
    this.name = 'TemplateVersionError';
  }
}
