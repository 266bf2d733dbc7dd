// Errors the store throws for conditions a caller can act on (the HTTP layer maps them to 409 / 404). Anything else
// escaping the store is a bug or an I/O failure (500).

/** A unique key is taken: a duplicate `_id`, collection `code` within a client, client name or token hash. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
  constructor(
    readonly entity: string,
    message: string,
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
