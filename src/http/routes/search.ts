// The biometric flows: 1:N search, de-duplicating enrolment with liveness, verify, compare, liveness,
// detect. Contracts: ../shared/spec pages where they exist, Verifik's public docs otherwise (docs/api.md).
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import * as flows from '../../domain/search.js';
import * as variants from '../../domain/searchVariants.js';
import type { DetectedFace } from '../../face/types.js';
import type { RouteContext } from '../context.js';
import { envelope } from '../envelope.js';
import { missingParameter } from '../errors.js';
import { decodeImage, decodeImages } from '../images.js';
import { LiveFacePersonSchema, MatchedPersonSchema, presentLiveFacePerson, presentMatchedPerson } from '../matchPresenters.js';
import type { ResponseSigner } from '../signing.js';
import { LivenessSessionId, oneOf } from '../livenessSessionField.js';
import { Base64Image, Base64Images, BirthDate, ErrorBody, errorResponses, GenderEnum, imageErrors, Signature } from '../schemas.js';

export const Score = (description: string, extra: { default?: number; minimum?: number; maximum?: number } = {}) =>
  Type.Number({ minimum: 0.5, maximum: 1, description, ...extra });
export const SearchMode = Type.Unsafe<'FAST' | 'ACCURATE'>({
  type: 'string',
  enum: ['FAST', 'ACCURATE'],
  description: 'FAST: approximate nearest neighbours with an exact re-rank; ACCURATE: exact scan of every template.',
});
export const Os = Type.Unsafe<flows.Os>({ type: 'string', enum: ['ANDROID', 'IOS', 'DESKTOP'] });
export const CollectionId = Type.String({ minLength: 1, maxLength: 128, description: 'Collection `_id` or `code`.', examples: ['6650c0f1a2b3c4d5e6f70812'] });

const Warning = Type.Object({
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

export async function answer<T>(req: FastifyRequest, signer: ResponseSigner, data: T, notes: flows.ProbeNote[] = []) {
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

/** Verifik's face box: pixel edges in the (EXIF-oriented) image. */
const Box = Type.Object({ top: Type.Number(), left: Type.Number(), right: Type.Number(), bottom: Type.Number() });
const Point = Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: '[x, y] in pixels.' });
/** Verifik's five landmarks; `left_eye` is the eye on the image's left (the person's right eye). */
const Landmarks = Type.Object({ nose: Point, left_eye: Point, right_eye: Point, left_mouth: Point, right_mouth: Point });
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
  landmarks: Type.Optional(Landmarks),
  thumbnail: Type.String({ contentEncoding: 'base64', contentMediaType: 'image/jpeg', description: 'The aligned face, base64 JPEG.' }),
  persons: Type.Optional(Type.Array(MatchedPersonSchema, { description: 'Only when the request has `min_score`: the face searched 1:N.' })),
  quality: Quality,
  attributes: Type.Optional(
    Type.Object({
      age: Type.Optional(Type.Number()),
      gender: Type.Optional(Type.Unsafe<'M' | 'F'>({ type: 'string', enum: ['M', 'F'] })),
      gender_score: Type.Optional(Type.Number()),
    }),
  ),
});

/** The mean of some of the 68 iBUG points (0-based): an eye's centre from its six points. */
function mean(points: [number, number][], from: number, to: number): [number, number] {
  let x = 0;
  let y = 0;
  for (let i = from; i <= to; i++) {
    x += points[i][0];
    y += points[i][1];
  }
  const n = to - from + 1;
  return [x / n, y / n];
}

function presentDetected(f: DetectedFace, landmarks: boolean, attributes: boolean) {
  const r = (x: number) => Math.round(x * 100) / 100;
  const pt = ([x, y]: [number, number]) => [r(x), r(y)];
  const lm = f.landmarks as [number, number][];
  return {
    box: { top: r(f.box.y), left: r(f.box.x), right: r(f.box.x + f.box.width), bottom: r(f.box.y + f.box.height) },
    detection_score: round(f.detectionScore),
    // iBUG 68: 30 nose tip, 36–41 and 42–47 the eyes on the image's left and right, 48 and 54 the mouth corners.
    ...(landmarks
      ? { landmarks: { nose: pt(lm[30]), left_eye: pt(mean(lm, 36, 41)), right_eye: pt(mean(lm, 42, 47)), left_mouth: pt(lm[48]), right_mouth: pt(lm[54]) } }
      : {}),
    thumbnail: f.thumbnail ? Buffer.from(f.thumbnail.buffer, f.thumbnail.byteOffset, f.thumbnail.byteLength).toString('base64') : '',
    quality: {
      faceSize: r(f.quality.faceSize),
      sharpness: round(f.quality.sharpness),
      yaw: r(f.quality.yaw),
      pitch: r(f.quality.pitch),
      roll: r(f.quality.roll),
      brightness: round(f.quality.brightness),
    },
    ...(attributes
      ? { attributes: { age: f.age === undefined ? undefined : Math.round(f.age), gender: f.gender, gender_score: f.genderScore === undefined ? undefined : round(f.genderScore) } }
      : {}),
  };
}

export const tags = ['Search'];
/** Photos analysed, nothing looked up: compare, liveness. */
export const ANALYSIS_FAILURES = errorResponses('auth', 'input', 'body', 'images', 'faces', 'engine');
/** Plus a collection or person looked up (404). */
export const SEARCH_FAILURES = errorResponses('auth', 'input', 'body', 'notFound', 'images', 'faces', 'engine');

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
      name: Type.String({ minLength: 1, maxLength: 200, description: 'Digits are stripped.', examples: ['Jane Doe'] }),
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
        response: { 200: SearchEnvelope(LiveFacePersonSchema), ...SEARCH_FAILURES },
      },
    },
    async (req) => {
      const { images, ...rest } = req.body;
      oneOf(req.body, 'images');
      const view = await flows.searchLiveFace(deps, req.client, { ...rest, images: images && decodeImages(images, 'images', limits) });
      return answer(req, signer, presentLiveFacePerson(view));
    },
  );

  const SearchBody = Type.Object(
    {
      images: Type.Array(Base64Image('Raw base64 probe photo.'), { minItems: 1, maxItems: 3, description: '1 to 3 photos of the same person.' }),
      min_score: Type.Optional(Score('Match threshold (Verifik allows 0.2–1 here).', { default: 0.8, minimum: 0.2 })),
      search_mode: Type.Optional({ ...SearchMode, default: 'ACCURATE' }),
      collection_id: Type.Optional(CollectionId),
      max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof SearchBody> }>(
    '/face-recognition/search',
    {
      schema: {
        tags,
        summary: 'Face search 1:N',
        description: 'A person\'s score is its best over every probe and every enrolled face.',
        body: SearchBody,
        response: { 200: SearchEnvelope(Type.Array(MatchedPersonSchema)), ...SEARCH_FAILURES },
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
      const data = res.results.map((r) => presentMatchedPerson(r, r.score));
      return answer(req, signer, data, res.notes);
    },
  );

  const VerifyBody = Type.Object(
    {
      id: Type.String({ minLength: 1, maxLength: 128, description: 'The enrolled person `_id`.', examples: ['6650c1a9b8c7d6e5f4a3b201'] }),
      images: Type.Array(Base64Image('Raw base64 probe photo.'), { minItems: 1, maxItems: 3 }),
      min_score: Type.Optional(Score('Match threshold.', { default: 0.8 })),
      search_mode: Type.Optional({ ...SearchMode, description: 'Accepted for compatibility: a 1:1 comparison is always exact.' }),
      collection_id: Type.Optional({ ...CollectionId, description: 'Scope: a person outside this collection (`_id` or `code`) is not found (404).' }),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof VerifyBody> }>(
    '/face-recognition/verify',
    {
      schema: {
        tags,
        summary: 'Verify 1:1 against an enrolled person',
        description: '`match` is the person with its score when the best score over its enrolled faces reaches min_score, else `null`; `score` is that best score either way.',
        body: VerifyBody,
        response: {
          200: SearchEnvelope(Type.Object({ match: Type.Union([MatchedPersonSchema, Type.Null()]), score: Type.Number() })),
          ...SEARCH_FAILURES,
        },
      },
    },
    async (req) => {
      const b = req.body;
      const res = await flows.verify(deps, req.client, {
        id: b.id,
        images: decodeImages(b.images, 'images', limits),
        min_score: b.min_score ?? 0.8,
        collection_id: b.collection_id,
      });
      return answer(req, signer, { match: res.match ? presentMatchedPerson(res.person, res.score) : null, score: res.score }, res.notes);
    },
  );

  const CompareBody = Type.Object(
    {
      probe: Type.Array(Base64Image('Raw base64 photo.'), { minItems: 1, maxItems: 3 }),
      gallery: Type.Array(Base64Image('Raw base64 photo.'), { minItems: 1, maxItems: 3 }),
      search_mode: Type.Optional({ ...SearchMode, description: 'Accepted for compatibility: comparing photos is always exact.' }),
      compare_min_score: Type.Optional(Score('Pass threshold.', { default: 0.8 })),
      cropFace: Type.Optional(Type.Boolean({ description: 'Accepted for compatibility: every photo\'s largest face is always found and cropped before comparing.' })),
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
      collection_id: Type.Optional({ ...CollectionId, description: 'Accepted as Verifik does: it must be one of the client\'s collections (404 otherwise); it does not change the analysis.' }),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof LivenessBody> }>(
    '/face-recognition/liveness',
    {
      schema: {
        tags,
        summary: 'Passive liveness',
        description: 'Send `image`, or `images` from one capture. `passed` is liveness_score > liveness_min_score (Verifik\'s rule).',
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
      const res = await flows.liveness(deps, { images, min_score: b.liveness_min_score ?? 0.6, collection_id: b.collection_id }, req.client);
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
      // Verifik's older detect page: with min_score, each face is also searched 1:N.
      min_score: Type.Optional(Score('With it, each face is searched 1:N and answers its `persons`.')),
      // No schema defaults here: they would make these look sent, and they only mean something with min_score.
      search_mode: Type.Optional({ ...SearchMode, description: 'With min_score; ACCURATE when left out.' }),
      collection_id: Type.Optional(CollectionId),
      max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'With min_score: candidates per face, 10 when left out.' })),
    },
    { additionalProperties: false },
  );
  const DetectEnvelope = Type.Object({
    id: Type.String(),
    data: Type.Array(DetectedFaceSchema),
    image: Type.Object({ width: Type.Integer(), height: Type.Integer() }, { description: 'Size of the oriented image the boxes refer to (beyond Verifik).' }),
    warnings: Type.Optional(Type.Array(Warning)),
    signature: Signature,
  });
  app.post<{ Body: Static<typeof DetectBody> }>(
    '/face-recognition/detect',
    {
      schema: {
        tags,
        summary: 'Detect faces',
        description: 'Every face, largest first, with its box, detection score, thumbnail and quality; an image with no face answers an empty list.',
        body: DetectBody,
        // An image without a face is an empty list here, not a 422.
        response: { 200: DetectEnvelope, ...errorResponses('auth', 'input', 'body', 'notFound', 'images', 'engine') },
      },
    },
    async (req) => {
      const b = req.body;
      const landmarks = b.return_landmarks ?? false;
      const attributes = b.return_attributes ?? false;
      const search =
        b.min_score === undefined
          ? undefined
          : { min_score: b.min_score, search_mode: b.search_mode ?? 'ACCURATE', collection_id: b.collection_id, max_results: b.max_results ?? 10 };
      if (!search && (b.search_mode !== undefined || b.collection_id !== undefined || b.max_results !== undefined)) {
        throw missingParameter('"min_score" is required', 'min_score');
      }
      const res = await variants.detectFaces(deps, req.client, {
        image: decodeImage(b.image, 'image', limits),
        return_landmarks: landmarks,
        return_attributes: attributes,
        search,
      });
      const data = res.image.faces.map((f, i) => {
        const face = presentDetected(f, landmarks, attributes);
        return res.persons ? { ...face, persons: res.persons[i].map((m) => presentMatchedPerson(m, m.score)) } : face;
      });
      const env = await answer(req, signer, data);
      return { id: env.id, data: env.data, image: { width: res.image.width, height: res.image.height }, signature: env.signature };
    },
  );
};
