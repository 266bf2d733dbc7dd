// Liveness sessions (challenge-response): create, post camera frames, read the verdict. The verdict answer is
// signed like every other, so a third party can check it offline; the session itself is consumed by the flows
// that accept `liveness_session_id` (routes/enrolLive.ts, facePersons.ts, persons.ts).
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { CHALLENGE_STEPS, type ChallengeStep } from '../../domain/challenge.js';
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
    status: Type.Unsafe<'CREATED' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'EXPIRED'>({
      type: 'string',
      enum: ['CREATED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'EXPIRED'],
    }),
    steps: Type.Array(Step, { description: 'The challenge, in the order it must be performed.' }),
    nonce: Type.String({ description: 'Random value of this session; bind it to your own transaction.' }),
    created_at: Type.String({ format: 'date-time' }),
    expires_at: Type.String({ format: 'date-time' }),
    min_score: Type.Number({ description: 'Passive liveness score the frames must reach together.' }),
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

function present(v: sessions.SessionView): Static<typeof LivenessSessionSchema> {
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
    attempts_allowed: s.maxAttempts,
    attempts_left: Math.max(0, s.maxAttempts - s.failedAttempts),
    frames_received: v.framesReceived,
    score: v.result?.score ?? null,
    results: results.map((r) => ({ step: r.name as ChallengeStep, passed: r.passed })),
    ...(v.result?.failure ? { failure: v.result.failure } : {}),
    consumed: s.consumedAt !== null,
    ...(v.referenceImage ? { reference_image: Buffer.from(v.referenceImage).toString('base64') } : {}),
    ...(v.auditImages.length ? { audit_images: v.auditImages.map((a) => ({ step: a.step as ChallengeStep, image: Buffer.from(a.image).toString('base64') })) } : {}),
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
      min_score: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: `Passive liveness floor; default ${sessions.SESSION_MIN_SCORE} (fitted, docs/liveness.md).` })),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof CreateBody> }>(
    '/face-recognition/liveness/sessions',
    {
      schema: {
        tags,
        summary: 'Create a liveness session',
        description: 'A single-use challenge for the caller: post camera frames to it, then read the verdict. Send `{}` for a random challenge with the defaults.',
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
        description: `Up to ${L.framesPerCall} frames per call, in capture order; call as often as needed. The answer is the session after these frames (status, steps passed so far, failure of the last attempt).`,
        params: SessionId,
        body: FramesBody,
        response: { 200: Envelope(LivenessSessionSchema), ...errorResponses('auth', 'input', 'body', 'notFound', 'images', 'engine') },
      },
    },
    async (req) => {
      const limits = { maxImageBytes: config.maxImageBytes };
      const frames = req.body.frames.map((f, i) => ({ image: decodeImage(f.image, `frames[${i}].image`, limits), timestampMs: f.timestamp_ms }));
      const v = await sessions.postFrames(deps, req.client, req.params.session_id, frames);
      return envelope(req, signer, present(v));
    },
  );

  app.get<{ Params: Static<typeof SessionId> }>(
    '/face-recognition/liveness/sessions/:session_id',
    {
      schema: {
        tags,
        summary: 'Read a liveness session',
        description: 'The status and verdict; once finished, the reference image and the audit images.',
        params: SessionId,
        response: { 200: Envelope(LivenessSessionSchema), ...errorResponses('auth', 'input', 'notFound') },
      },
    },
    async (req) => envelope(req, signer, present(await sessions.getSession(deps, req.client, req.params.session_id))),
  );
};
