import { randomBytes, randomUUID } from 'node:crypto';

/** 24 lowercase hex chars, shaped like a Mongo ObjectId but fully random (no creation time leaked). */
export function newObjectId(): string {
  return randomBytes(12).toString('hex');
}

/** Generic `/v2/persons` id. */
export function newPersonRecordId(): string {
  return `person_${newObjectId()}`;
}

/** Collection `code`: uuid v4. */
export function newCollectionCode(): string {
  return randomUUID();
}

export const OBJECT_ID_RE = /^[0-9a-f]{24}$/;
