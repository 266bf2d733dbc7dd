// /face-recognition/detect: every face of a photo; with min_score (Verifik's older body) each face searched 1:N.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import * as variants from '../../domain/searchVariants.js';
import type { RouteContext } from '../context.js';
import { DetectedFaceSchema, presentDetected } from '../detectPresenter.js';
import { missingParameter } from '../errors.js';
import { decodeImage } from '../images.js';
import { presentMatchedPerson } from '../matchPresenters.js';
import { Base64Image, errorResponses, Signature } from '../schemas.js';
import { answer, Warning } from '../searchAnswer.js';
import { CollectionId, Score, SearchMode, tags } from '../searchFields.js';

export const detectRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const { deps, signer, config } = ctx;
  const limits = { maxImageBytes: config.maxImageBytes };

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
        description: 'Every face, the photo\'s subject first (the face every other route uses; a face\'s index here is what subject_face(s) name), with its box, detection score, thumbnail and quality; an image with no face answers an empty list.',
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
