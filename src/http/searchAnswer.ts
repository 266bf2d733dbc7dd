// The answer of the search and comparison routes: Verifik's `{id, data, signature}` plus `warnings` naming each probe
// photo that held several faces.
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { ProbeNote } from '../domain/search.js';
import { selectorField } from '../domain/subjectFields.js';
import { envelope } from './envelope.js';
import { Signature } from './schemas.js';
import type { ResponseSigner } from './signing.js';

export const Warning = Type.Object({
  field: Type.String(),
  message: Type.String(),
  faces_detected: Type.Integer(),
  face_used: Type.Optional(
    Type.Object(
      { top: Type.Number(), left: Type.Number(), right: Type.Number(), bottom: Type.Number() },
      { description: 'Box of the face that was used: the first face of /detect\'s answer for this photo.' },
    ),
  ),
});

/** `{id, data, signature}` plus `warnings` when a probe held several faces and the server chose one. */
export const SearchEnvelope = <T extends TSchema>(data: T) =>
  Type.Object({
    id: Type.String(),
    data,
    warnings: Type.Optional(Type.Array(Warning)),
    signature: Signature,
  });

export async function answer<T>(req: FastifyRequest, signer: ResponseSigner, data: T, notes: ProbeNote[] = []) {
  const env = await envelope(req, signer, data);
  if (notes.length === 0) return env;
  const r = (x: number) => Math.round(x * 100) / 100;
  const warnings = notes.map((n) => ({
    field: n.field,
    message: n.ambiguous
      ? `multiple_faces: ${n.facesDetected} faces detected and two of them could each be the person; face 0 of /detect's answer was used: name the face you mean with "${selectorField(n.field)}" (its index in /detect's answer, or its box)`
      : `multiple_faces: ${n.facesDetected} faces detected; the photo's subject (face 0 of /detect's answer) was used`,
    faces_detected: n.facesDetected,
    face_used: { top: r(n.used.y), left: r(n.used.x), right: r(n.used.x + n.used.width), bottom: r(n.used.y + n.used.height) },
  }));
  return { id: env.id, data: env.data, warnings, signature: env.signature };
}
