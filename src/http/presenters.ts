// Records → API objects. Binary data leaves as base64; embeddings never leave.
import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FacePersonView } from '../domain/facePersons.js';
import type { PersonView } from '../domain/persons.js';
import { roundScore } from '../domain/scores.js';
import type { Collection } from '../domain/ports.js';
import { NullableString } from './schemas.js';

export const CollectionSchema = Type.Object({
  _id: Type.String(),
  code: Type.String({ format: 'uuid' }),
  name: Type.String(),
  description: Type.String(),
  client: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export function presentCollection(c: Collection) {
  return {
    _id: c.id,
    code: c.code,
    name: c.name,
    description: c.description,
    client: c.client,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

/** Verifik's thumbnail object: an id and the base64 JPEG of one enrolled face. */
export const Thumbnail = Type.Object({
  id: Type.String({ format: 'uuid', description: 'Stable while the face is enrolled; a re-enrolment gives new ids.' }),
  thumbnail: Type.String({ contentEncoding: 'base64', contentMediaType: 'image/jpeg' }),
});

/**
 * A thumbnail's id, derived (UUID-shaped) from the person, the position and the image itself: stable across reads,
 * new after a re-enrolment, and revealing no row number.
 */
export function presentThumbnails(personId: string, thumbnails: Uint8Array[]): { id: string; thumbnail: string }[] {
  return thumbnails.map((t, i) => {
    const bytes = Buffer.from(t.buffer, t.byteOffset, t.byteLength);
    const h = createHash('sha256').update(`${personId}:${i}:`).update(bytes).digest('hex');
    const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
    return { id, thumbnail: bytes.toString('base64') };
  });
}

export const FacePersonSchema = Type.Object({
  _id: Type.String(),
  name: Type.String(),
  gender: Type.Unsafe<'M' | 'F' | null>({ type: ['string', 'null'], enum: ['M', 'F', null] }),
  date_of_birth: NullableString({ description: 'YYYY-MM-DD' }),
  nationality: NullableString(),
  thumbnails: Type.Array(Thumbnail, {
    description: 'Each enrolled face, in the order of the images it was enrolled from (Verifik\'s `{id, thumbnail}` objects).',
  }),
  collections: Type.Array(Type.String(), { description: 'Collection `_id`s.' }),
  notes: NullableString(),
  client: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export function presentFacePerson(v: FacePersonView) {
  const p = v.person;
  return {
    _id: p.id,
    name: p.name,
    gender: p.gender,
    date_of_birth: p.dateOfBirth,
    nationality: p.nationality,
    thumbnails: presentThumbnails(p.id, v.thumbnails),
    collections: p.collections,
    notes: p.notes,
    client: p.client,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

export const PersonSchema = Type.Object({
  id: Type.String(),
  firstName: NullableString(),
  lastName: NullableString(),
  email: NullableString(),
  phone: NullableString(),
  dateOfBirth: NullableString({ description: 'YYYY-MM-DD' }),
  documentType: NullableString(),
  documentNumber: NullableString(),
  biometricData: Type.Object({
    livenessScore: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    faceEnrolled: Type.Boolean({ description: 'A face template was enrolled from biometricData.faceImage (the image itself is not kept).' }),
  }),
  verificationStatus: Type.Union([Type.Literal('pending'), Type.Literal('verified'), Type.Literal('failed'), Type.Literal('expired')]),
  client: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export function presentPerson(v: PersonView) {
  const r = v.record;
  const biometricData: { livenessScore?: number; faceEnrolled: boolean } = { faceEnrolled: v.faceEnrolled };
  // Records written before scores were rounded on the way in still leave with 4 decimals, as every route's do.
  if (r.livenessScore !== null) biometricData.livenessScore = roundScore(r.livenessScore);
  return {
    id: r.id,
    firstName: r.firstName,
    lastName: r.lastName,
    email: r.email,
    phone: r.phone,
    dateOfBirth: r.dateOfBirth,
    documentType: r.documentType,
    documentNumber: r.documentNumber,
    biometricData,
    verificationStatus: r.verificationStatus,
    client: r.client,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
