// The `liveness_session_id` field the enrolment and liveness flows accept instead of images.
import { Type } from '@sinclair/typebox';
import { missingParameter } from './errors.js';

/** Instead of images: a SUCCEEDED liveness session (POST /v2/face-recognition/liveness/sessions), usable once. */
export const LivenessSessionId = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'A SUCCEEDED liveness session of this client, instead of images: its reference frame is the face. Used up by the request; FAILED or EXPIRED sessions answer 409.',
});

/** Exactly one of `field` and `liveness_session_id` (409 MissingParameter otherwise, like every missing field). */
export function oneOf(body: object, field: string): void {
  const has = (k: string) => (body as Record<string, unknown>)[k] !== undefined;
  // Verifik's message when neither is sent: integrations written for it match on it.
  if (!has(field) && !has('liveness_session_id')) throw missingParameter(`"${field}" is required`, field);
  if (has(field) && has('liveness_session_id')) throw missingParameter(`"${field}" and "liveness_session_id" cannot be sent together`, 'liveness_session_id');
}
