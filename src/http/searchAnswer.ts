// The answer of the search and comparison routes: Verifik's `{id, data, signature}` plus `warnings` naming each probe
// photo that held several faces.
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { ProbeNote } from '../domain/search.js';
import { envelope } from './envelope.js';
import { Signature } from './schemas.js';
import type { ResponseSigner } from './signing.js';

export const Warning = Type.Object({
  field: Type.String(),
  message: Type.String(),
  faces_detected: Type.Integer(),
});

/** `{id, data, signature}` plus `warnings` when a probe held several faces and only the largest was used. */
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
  const warnings = notes.map((n) => ({
    field: n.field,
    message: `multiple_faces: ${n.facesDetected} faces detected; the largest one was used`,
    faces_detected: n.facesDetected,
  }));
  return { id: env.id, data: env.data, warnings, signature: env.signature };
}
