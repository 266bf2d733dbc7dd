// The biometric flows: 1:N search, de-duplicating enrolment with liveness, verify, compare, liveness,
// detect. Contracts: ../shared/spec pages where they exist, Verifik's public docs otherwise (docs/api.md).
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import * as flows from '../../domain/search.js';
import type { DetectedFace } from '../../face/types.js';
import type { RouteContext } from '../context.js';
import { envelope } from '../envelope.js';
import { missingParameter } from '../errors.js';
import { decodeImage, decodeImages } from '../images.js';
import { FacePersonSchema, presentFacePerson } from '../presenters.js';
import type { ResponseSigner } from '../signing.js';
import { LivenessSessionId, oneOf } from '../livenessSessionField.js';
import { Base64Image, Base64Images, BirthDate, ErrorBody, errorResponses, GenderEnum, imageErrors, Signature } from '../schemas.js';

const Score = (description: string, extra: { default?: number } = {}) => Type.Number({ minimum: 0.5, maximum: 1, description, ...extra });
const SearchMode = Type.Unsafe<'FAST' | 'ACCURATE'>({
  type: 'string',
  enum: ['FAST', 'ACCURATE'],
  description: 'FAST: approximate nearest neighbours with an exact re-rank; ACCURATE: exact scan of every template.',
});
const Os = Type.Unsafe<flows.Os>({ type: 'string', enum: ['ANDROID', 'IOS', 'DESKTOP'] });
const CollectionId = Type.String({ minLength: 1, maxLength: 128, description: 'Collection `_id` or `code`.' });

const Warning = Type.Object({
  field: Type.String(),
  message: Type.String(),
  faces_detected: Type.Integer(),
});

/** `{id, data, signature}` plus `warnings` when a probe held several faces and only the largest was used. */
const SearchEnvelope = <T extends TSchema>(data: T) =>
  Type.Object({
    id: Type.String(),
    data,
    warnings: Type.Optional(Type.Array(Warning)),
    signature: Signature,
  });

async function answer<T>(req: FastifyRequest, signer: ResponseSigner, data: T, notes: flows.ProbeNote[] = []) {
  const env = await envelope(req, signer, data);
  if (notes.length === 0) return env;
  const warnings = notes.map((n) => ({
    field: n.field,
    message: `multiple_faces: ${n.facesDetected} faces detected; the largest one was used`,
    faces_detected: n.facesDetected,
  }));
  return { id: env.id, data: env.data, warnings, signature: env.signature };
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

const Box = Type.Object({ x: Type.Number(), y: Type.Number(), width: Type.Number(), height: Type.Number() });
const Quality = Type.Object({
  faceSize: Type.Number(),
  sharpness: Type.Number(),
  yaw: Type.Number(),
  pitch: Type.Number(),
  roll: Type.Number(),
  brightness: Type.Number(),
});
const DetectedFaceSchema = Type.Object({
  box: Box,
  detection_score: Type.Number(),
  quality: Quality,
  landmarks: Type.Optional(Type.Array(Type.Array(Type.Number(), { minItems: 2, maxItems: 2 }), { description: '68 iBUG points, [x, y] in pixels.' })),
  attributes: Type.Optional(
    Type.Object({
      age: Type.Optional(Type.Number()),
      gender: Type.Optional(Type.Unsafe<'M' | 'F'>({ type: 'string', enum: ['M', 'F'] })),
      gender_score: Type.Optional(Type.Number()),
    }),
  ),
});

function presentDetected(f: DetectedFace, landmarks: boolean, attributes: boolean) {
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    box: { x: r(f.box.x), y: r(f.box.y), width: r(f.box.width), height: r(f.box.height) },
    detection_score: round(f.detectionScore),
    quality: {
      faceSize: r(f.quality.faceSize),
      sharpness: round(f.quality.sharpness),
      yaw: r(f.quality.yaw),
      pitch: r(f.quality.pitch),
      roll: r(f.quality.roll),
      brightness: round(f.quality.brightness),
    },
    ...(landmarks ? { landmarks: f.landmarks.map(([x, y]) => [r(x), r(y)]) } : {}),
    ...(attributes
      ? { attributes: { age: f.age === undefined ? undefined : Math.round(f.age), gender: f.gender, gender_score: f.genderScore === undefined ? undefined : round(f.genderScore) } }
      : {}),
  };
}

const tags = ['Search'];
/** Photos analysed, nothing looked up: compare, liveness. */
const ANALYSIS_FAILURES = errorResponses('auth', 'input', 'body', 'images', 'faces', 'engine');
/** Plus a collection or person looked up (404). */
const SEARCH_FAILURES = errorResponses('auth', 'input', 'body', 'notFound', 'images', 'faces', 'engine');

export const searchRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const { deps, signer, config } = ctx;
  const limits = { maxImageBytes: config.maxImageBytes };

  const ActiveUserBody = Type.Object(
    {
      image: Base64Image('Raw base64 probe photo.'),
      collection_id: Type.Optional(CollectionId),
      os: Os,
      min_score: Score('Match threshold.'),
      search_mode: SearchMode,
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof ActiveUserBody> }>(
    '/face-recognition/search-active-user',
    {
      schema: {
        tags,
        summary: 'Face search 1:N (active user)',
        description: 'Searches the probe\'s largest face among the client\'s persons (optionally one collection), without liveness. Best first, only scores ≥ min_score.',
        body: ActiveUserBody,
        response: { 200: SearchEnvelope(Type.Array(Type.Object({ id: Type.String(), score: Type.Number() }))), ...SEARCH_FAILURES },
      },
    },
    async (req) => {
      const { image, ...rest } = req.body;
      const res = await flows.searchActiveUser(deps, req.client, { ...rest, image: decodeImage(image, 'image', limits) });
      return answer(req, signer, res.matches, res.notes);
    },
  );

  const LiveFaceBody = Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 200, description: 'Digits are stripped.' }),
      images: Type.Optional(Base64Images(config.maxImages, 'Raw base64 photos of one capture; two or more feed the multi-frame 3-D liveness check.')),
      liveness_session_id: Type.Optional(LivenessSessionId),
      gender: GenderEnum,
      date_of_birth: BirthDate(),
      nationality: Type.Optional(Type.String({ maxLength: 64 })),
      collection_id: CollectionId,
      liveness_min_score: Score('Minimum liveness score.'),
      min_score: Score('A face already in collection_id scoring at least this is a duplicate.'),
      search_mode: SearchMode,
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof LiveFaceBody> }>(
    '/face-recognition/persons/search-live-face',
    {
      schema: {
        tags,
        summary: 'Create a person with liveness',
        description:
          'Liveness first (409 `liveness_failed …` below liveness_min_score; or, with `liveness_session_id` instead of `images`, a SUCCEEDED liveness session, used up here, whose reference frame is the face), then a search inside collection_id (409 `409:duplicated_person` naming the match in `details`), then enrolment into that collection.',
        body: LiveFaceBody,
        response: { 200: SearchEnvelope(FacePersonSchema), ...SEARCH_FAILURES },
      },
    },
    async (req) => {
      const { images, ...rest } = req.body;
      oneOf(req.body, 'images');
      const view = await flows.searchLiveFace(deps, req.client, { ...rest, images: images && decodeImages(images, 'images', limits) });
      return answer(req, signer, presentFacePerson(view));
    },
  );

  const SearchBody = Type.Object(
    {
      images: Type.Array(Base64Image('Raw base64 probe photo.'), { minItems: 1, maxItems: 3, description: '1 to 3 photos of the same person.' }),
      min_score: Type.Optional(Score('Match threshold.', { default: 0.8 })),
      search_mode: Type.Optional({ ...SearchMode, default: 'ACCURATE' }),
      collection_id: Type.Optional(CollectionId),
      max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
    },
    { additionalProperties: false },
  );
  const SearchHit = Type.Object({
    id: Type.String(),
    name: Type.String(),
    score: Type.Number(),
    thumbnails: FacePersonSchema.properties.thumbnails,
  });
  app.post<{ Body: Static<typeof SearchBody> }>(
    '/face-recognition/search',
    {
      schema: {
        tags,
        summary: 'Face search 1:N',
        description: 'A person\'s score is its best over every probe and every enrolled face.',
        body: SearchBody,
        response: { 200: SearchEnvelope(Type.Array(SearchHit)), ...SEARCH_FAILURES },
      },
    },
    async (req) => {
      const b = req.body;
      const res = await flows.search(deps, req.client, {
        images: decodeImages(b.images, 'images', limits),
        min_score: b.min_score ?? 0.8,
        search_mode: b.search_mode ?? 'ACCURATE',
        collection_id: b.collection_id,
        max_results: b.max_results ?? 10,
      });
      const data = res.results.map((r) => {
        const p = presentFacePerson({ person: r.person, thumbnails: r.thumbnails });
        return { id: p._id, name: p.name, score: r.score, thumbnails: p.thumbnails };
      });
      return answer(req, signer, data, res.notes);
    },
  );

  const VerifyBody = Type.Object(
    {
      id: Type.String({ minLength: 1, maxLength: 128, description: 'The enrolled person `_id`.' }),
      images: Type.Array(Base64Image('Raw base64 probe photo.'), { minItems: 1, maxItems: 3 }),
      min_score: Type.Optional(Score('Match threshold.', { default: 0.8 })),
      search_mode: Type.Optional({ ...SearchMode, description: 'Accepted for compatibility: a 1:1 comparison is always exact.' }),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof VerifyBody> }>(
    '/face-recognition/verify',
    {
      schema: {
        tags,
        summary: 'Verify 1:1 against an enrolled person',
        body: VerifyBody,
        response: { 200: SearchEnvelope(Type.Object({ match: Type.Boolean(), score: Type.Number() })), ...SEARCH_FAILURES },
      },
    },
    async (req) => {
      const b = req.body;
      const res = await flows.verify(deps, req.client, { id: b.id, images: decodeImages(b.images, 'images', limits), min_score: b.min_score ?? 0.8 });
      return answer(req, signer, { match: res.match, score: res.score }, res.notes);
    },
  );

  const CompareBody = Type.Object(
    {
      probe: Type.Array(Base64Image('Raw base64 photo.'), { minItems: 1, maxItems: 3 }),
      gallery: Type.Array(Base64Image('Raw base64 photo.'), { minItems: 1, maxItems: 3 }),
      search_mode: Type.Optional({ ...SearchMode, description: 'Accepted for compatibility: comparing photos is always exact.' }),
      compare_min_score: Type.Optional(Score('Pass threshold.', { default: 0.8 })),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof CompareBody> }>(
    '/face-recognition/compare',
    {
      schema: {
        tags,
        summary: 'Compare photos 1:1',
        description: 'Score of the best probe–gallery pair (largest face of each photo); nothing is stored.',
        body: CompareBody,
        response: { 200: SearchEnvelope(Type.Object({ score: Type.Number(), passed: Type.Boolean(), min_score: Type.Number() })), ...ANALYSIS_FAILURES },
      },
    },
    async (req) => {
      const b = req.body;
      const minScore = b.compare_min_score ?? 0.8;
      const res = await flows.compare(deps, {
        probe: decodeImages(b.probe, 'probe', limits),
        gallery: decodeImages(b.gallery, 'gallery', limits),
        min_score: minScore,
      }, req.client);
      return answer(req, signer, { score: res.score, passed: res.passed, min_score: minScore }, res.notes);
    },
  );

  const LivenessBody = Type.Object(
    {
      os: Os,
      image: Type.Optional(Base64Image('Raw base64 photo.')),
      images: Type.Optional(Base64Images(config.maxImages, 'Several photos of one capture (multi-frame 3-D check).')),
      liveness_min_score: Type.Optional(Type.Number({ minimum: 0.5, maximum: 1, default: 0.6 })),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof LivenessBody> }>(
    '/face-recognition/liveness',
    {
      schema: {
        tags,
        summary: 'Passive liveness',
        description: 'Send `image`, or `images` from one capture. `passed` is liveness_score ≥ liveness_min_score.',
        body: LivenessBody,
        response: {
          200: SearchEnvelope(
            Type.Object({
              liveness_score: Type.Number(),
              min_score: Type.Number(),
              passed: Type.Boolean(),
              signals: Type.Optional(Type.Record(Type.String(), Type.Number(), { description: 'Sub-scores, only when the server runs with LIVENESS_DETAILS=true.' })),
            }),
          ),
          ...ANALYSIS_FAILURES,
        },
      },
    },
    async (req) => {
      const b = req.body;
      if (b.image === undefined && b.images === undefined) throw missingParameter('"image" is required', 'image');
      if (b.image !== undefined && b.images !== undefined) throw missingParameter('"image" and "images" cannot be sent together', 'images');
      const images = b.image !== undefined ? [decodeImage(b.image, 'image', limits)] : decodeImages(b.images!, 'images', limits);
      const res = await flows.liveness(deps, { images, min_score: b.liveness_min_score ?? 0.6 }, req.client);
      req.log.debug({ livenessSignals: res.signals, score: res.score }, 'liveness sub-scores');
      const data = { liveness_score: res.score, min_score: res.minScore, passed: res.passed, ...(config.livenessDetails ? { signals: res.signals } : {}) };
      return answer(req, signer, data, res.notes);
    },
  );

  const DetectBody = Type.Object(
    {
      image: Base64Image('Raw base64 photo.'),
      return_landmarks: Type.Optional(Type.Boolean({ default: false })),
      return_attributes: Type.Optional(Type.Boolean({ default: false, description: 'Age and gender estimates.' })),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof DetectBody> }>(
    '/face-recognition/detect',
    {
      schema: {
        tags,
        summary: 'Detect faces',
        description: 'Every face, largest first, with its box, detection score and quality; an image with no face answers an empty list.',
        body: DetectBody,
        // An image without a face is an empty list here, not a 422.
        response: { 200: SearchEnvelope(Type.Object({ width: Type.Integer(), height: Type.Integer(), faces: Type.Array(DetectedFaceSchema) })), ...errorResponses('auth', 'input', 'body', 'images', 'engine') },
      },
    },
    async (req) => {
      const b = req.body;
      const landmarks = b.return_landmarks ?? false;
      const attributes = b.return_attributes ?? false;
      const res = await flows.detect(deps, { image: decodeImage(b.image, 'image', limits), return_landmarks: landmarks, return_attributes: attributes }, req.client);
      return answer(req, signer, { width: res.width, height: res.height, faces: res.faces.map((f) => presentDetected(f, landmarks, attributes)) });
    },
  );
};
