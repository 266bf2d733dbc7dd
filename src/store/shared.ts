// Helpers both backends share: paging arguments, LIKE patterns and the embedding's byte layout.

export function checkPage(q: { page: number; limit: number }): { limit: number; offset: number } {
  if (!Number.isInteger(q.page) || q.page < 1) throw new RangeError(`page must be an integer >= 1 (got ${q.page})`);
  if (!Number.isInteger(q.limit) || q.limit < 1) throw new RangeError(`limit must be an integer >= 1 (got ${q.limit})`);
  return { limit: q.limit, offset: (q.page - 1) * q.limit };
}

/** A LIKE pattern matching `search` anywhere, with `\` as the escape character. */
export function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Float32 values, little-endian, 4 bytes each: compact (no text encoding) and the same bytes on both backends.
 * Copies: the caller's array may be a view into a larger buffer.
 */
export function embeddingToBytes(v: Float32Array): Buffer {
  if (!(v instanceof Float32Array) || v.length === 0) throw new TypeError('embedding must be a non-empty Float32Array');
  return Buffer.from(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}

export function bytesToEmbedding(b: Uint8Array): Float32Array {
  // Copy into a fresh, aligned ArrayBuffer (drivers' Buffers may sit at any offset).
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export const isoNow = (): string => new Date().toISOString();

/** PersonRecord fields and their columns (the same on both backends). */
export const PERSON_RECORD_COLUMNS = {
  firstName: 'first_name',
  lastName: 'last_name',
  email: 'email',
  phone: 'phone',
  dateOfBirth: 'date_of_birth',
  documentType: 'document_type',
  documentNumber: 'document_number',
  livenessScore: 'liveness_score',
  verificationStatus: 'verification_status',
} as const;
