// Liveness sessions (challenge-response): the relying party's backend creates one (client token) and gets the
// browser's capture credential; the browser posts camera frames and reads the verdict with that credential
// (src/http/captureCredential.ts); the backend reads it with its token. The verdict answer is signed like every
// other, so a third party can check it offline; the session itself is consumed by the flows that accept
// `liveness_session_id` (routes/enrolLive.ts, facePersons.ts, persons.ts).
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { CHALLENGE_STEPS, type ChallengeStep } from '../../domain/challenge.js';
import { SESSION_STATUSES, type LivenessSessionStatus } from '../../domain/livenessSessionStates.js';
import * as sessions from '../../domain/livenessSessions.js';
import type { RouteContext } from '../context.js';
import { envelope } from '../envelope.js';
import { decodeImage } from '../images.js';
import { Base64Image, Envelope, errorResponses } from '../schemas.js';

const Step = Type.Unsafe<ChallengeStep>({
  type: 'string',
  enum: [...CHALLENGE_STEPS],
  description: "turn_left / turn_right: the person's own left and right (the camera sees the nose turn the other way).",
});

const SessionId = Type.Object({ session_id: Type.String({ minLength: 1, maxLength: 64 }) });

export const LivenessSessionSchema = Type.Object(
  {
    session_id: Type.String(),
    status: Type.Unsafe<LivenessSessionStatus>({ type: 'string', enum: [...SESSION_STATUSES] }),
    steps: Type.Array(Step, { description: 'The challenge, in the order it must be performed.' }),
    nonce: Type.String({ description: 'Random value of this session; bind it to your own transaction.' }),
    created_at: Type.String({ format: 'date-time' }),
    expires_at: Type.String({ format: 'date-time' }),
    min_score: Type.Number({ description: 'Passive liveness score the frames must reach together.' }),
    valid_for: Type.Integer({ description: 'Seconds a SUCCEEDED session stays usable by a flow (enrolment, search-live-face), from its success.' }),
    allowed_origin: Type.Union([Type.String(), Type.Null()], { description: 'The one web origin whose pages may use the capture credential; null: any.' }),
    capture_token: Type.Optional(
      Type.String({
        description:
          "In the creation's answer only: the capture credential to hand the browser (the <facegate-liveness> component). Good for this session's frames and status until it expires, nothing else; stored hashed, never shown again.",
      }),
    ),
    attempts_allowed: Type.Integer(),
    attempts_left: Type.Integer({ description: 'Attempts not yet failed; a failed attempt restarts the same challenge with no frames.' }),
    frames_received: Type.Integer({ description: 'Frames of the current attempt (0 once the session is finished).' }),
    score: Type.Union([Type.Number(), Type.Null()], {
      description: "Passive liveness of the attempt's frames together, in [0, 1], once the challenge was completed; null before.",
    }),
    results: Type.Array(Type.Object({ step: Step, passed: Type.Boolean() }), { description: 'Each step of the challenge, in order.' }),
    failure: Type.Optional(
      Type.Object(
        { reason: Type.String(), message: Type.String() },
        { description: 'Why the (last) attempt failed: multiple_faces, face_lost, bad_timestamps, wrong_order, discontinuous, identity_changed, not_a_stream, flat_motion, passive_liveness, too_many_frames.' },
      ),
    ),
    consumed: Type.Boolean({ description: 'A flow (enrolment, search-live-face, person liveness) already used the session.' }),
    reference_image: Type.Optional(Type.String({ contentEncoding: 'base64', description: 'The most frontal neutral frame (JPEG/PNG as posted), once finished.' })),
    audit_images: Type.Optional(
      Type.Array(Type.Object({ step: Step, image: Type.String({ contentEncoding: 'base64' }) }), { description: 'The frame at the peak of each passed step.' }),
    ),
  },
  { description: 'A liveness session' },
);

/** The session as an answer; `forBrowser` (a capture credential's request) leaves the kept images out. */
function present(v: sessions.SessionView, forBrowser = false): Static<typeof LivenessSessionSchema> {
  const s = v.session;
  const results = v.result?.steps ?? s.steps.map((name) => ({ name, passed: false }));
  return {
    session_id: s.id,
    status: s.status,
    steps: s.steps as ChallengeStep[],
    nonce: s.nonce,
    created_at: s.createdAt,
    expires_at: s.expiresAt,
    min_score: s.minScore,
    valid_for: s.validFor,
    allowed_origin: s.allowedOrigin,
    ...(v.captureToken ? { capture_token: v.captureToken } : {}),
    attempts_allowed: s.maxAttempts,
    attempts_left: Math.max(0, s.maxAttempts - s.failedAttempts),
    frames_received: v.framesReceived,
    score: v.result?.score ?? null,
    results: results.map((r) => ({ step: r.name as ChallengeStep, passed: r.passed })),
    ...(v.result?.failure ? { failure: v.result.failure } : {}),
    consumed: s.consumedAt !== null,
    ...(v.referenceImage && !forBrowser ? { reference_image: Buffer.from(v.referenceImage).toString('base64') } : {}),
    ...(v.auditImages.length && !forBrowser ? { audit_images: v.auditImages.map((a) => ({ step: a.step as ChallengeStep, image: Buffer.from(a.image).toString('base64') })) } : {}),
  };
}

const tags = ['Liveness sessions'];

export const livenessSessionRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const { deps, signer, config } = ctx;
  const L = sessions.SESSION_LIMITS;

  const CreateBody = Type.Object(
    {
      steps: Type.Optional(Type.Array(Step, { minItems: 1, maxItems: 6, description: 'The challenge; default: 2-4 distinct random steps.' })),
      expires_in: Type.Optional(
        Type.Integer({ minimum: L.minExpirySeconds, maximum: L.maxExpirySeconds, default: L.defaultExpirySeconds, description: 'Seconds until the session expires.' }),
      ),
      max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: L.maxAttempts, default: L.defaultAttempts, description: 'Retry budget.' })),
      min_score: Type.Optional(
        Type.Number({
          minimum: 0,
          maximum: 1,
          description: `Passive liveness floor; default ${sessions.SESSION_MIN_SCORE} (fitted, docs/liveness-sessions.md). Below the server's floor (LIVENESS_SESSION_MIN_SCORE): 409.`,
        }),
      ),
      valid_for: Type.Optional(
        Type.Integer({
          minimum: L.minValidForSeconds,
          maximum: L.maxValidForSeconds,
          default: L.defaultValidForSeconds,
          description: 'Seconds the session stays usable by a flow once it SUCCEEDED; later, flows answer 409 liveness_session_expired.',
        }),
      ),
      allowed_origin: Type.Optional(
        Type.String({ maxLength: 256, description: 'The web origin (e.g. https://shop.example) of the page running the capture: browsers on other origins cannot use the credential.' }),
      ),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof CreateBody> }>(
    '/face-recognition/liveness/sessions',
    {
      schema: {
        tags,
        summary: 'Create a liveness session',
        description:
          "Called by the relying party's backend with its client token: a single-use challenge, and `capture_token`, the credential to hand the browser for this session's frames (nothing else). Send `{}` for a random challenge with the defaults. The server's floors (LIVENESS_SESSION_MIN_SCORE, LIVENESS_SESSION_MIN_STEPS, one head movement) cannot be lowered: 409.",
        body: CreateBody,
        response: { 200: Envelope(LivenessSessionSchema), ...errorResponses('auth', 'input', 'body') },
      },
    },
    async (req) => {
      const v = await sessions.createSession(deps, req.client, req.body);
      return envelope(req, signer, present(v));
    },
  );

  const FramesBody = Type.Object(
    {
      frames: Type.Array(
        Type.Object(
          {
            image: Base64Image('Raw base64 camera frame (JPEG, PNG or WebP).'),
            timestamp_ms: Type.Integer({ minimum: 0, description: 'Capture time in ms on any monotonic client clock; must increase.' }),
          },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: L.framesPerCall },
      ),
    },
    { additionalProperties: false },
  );
  app.post<{ Params: Static<typeof SessionId>; Body: Static<typeof FramesBody> }>(
    '/face-recognition/liveness/sessions/:session_id/frames',
    {
      schema: {
        tags,
        summary: 'Post camera frames to a session',
        description: `With the session's capture credential (the browser) or the client token. Up to ${L.framesPerCall} frames per call, in capture order; call as often as needed. The answer is the session after these frames (status, steps passed so far, failure of the last attempt).`,
        params: SessionId,
        body: FramesBody,
        response: { 200: Envelope(LivenessSessionSchema), ...errorResponses('auth', 'input', 'body', 'notFound', 'images', 'engine') },
      },
      config: { captureCredential: true },
    },
    async (req) => {
      const limits = { maxImageBytes: config.maxImageBytes };
      const frames = req.body.frames.map((f, i) => ({ image: decodeImage(f.image, `frames[${i}].image`, limits), timestampMs: f.timestamp_ms }));
      const v = await sessions.postFrames(deps, req.client, req.params.session_id, frames);
      return envelope(req, signer, present(v, req.captureSession !== null));
    },
  );

  app.get<{ Params: Static<typeof SessionId> }>(
    '/face-recognition/liveness/sessions/:session_id',
    {
      schema: {
        tags,
        summary: 'Read a liveness session',
        description: 'The status and verdict; once finished, the reference image and the audit images (not to the capture credential).',
        params: SessionId,
        response: { 200: Envelope(LivenessSessionSchema), ...errorResponses('auth', 'input', 'notFound') },
      },
      config: { captureCredential: true },
    },
    async (req) => envelope(req, signer, present(await sessions.getSession(deps, req.client, req.params.session_id), req.captureSession !== null)),
  );
};
