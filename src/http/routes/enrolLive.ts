// persons/search-live-face: a de-duplicating enrolment behind a liveness check.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { searchLiveFace } from '../../domain/liveEnrolment.js';
import type { RouteContext } from '../context.js';
import { SubjectFaces, withFaceChoices } from '../faceChoice.js';
import { decodeImages } from '../images.js';
import { LiveFacePersonSchema, presentLiveFacePerson } from '../matchPresenters.js';
import { LivenessSessionId, oneOf } from '../livenessSessionField.js';
import { Base64Images, BirthDate, GenderEnum } from '../schemas.js';
import { answer, SearchEnvelope } from '../searchAnswer.js';
import { CollectionId, Score, SEARCH_FAILURES, SearchMode, tags } from '../searchFields.js';

export const enrolLiveRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const { deps, signer, config } = ctx;
  const limits = { maxImageBytes: config.maxImageBytes };

  const LiveFaceBody = Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 200, description: 'Digits are stripped.', examples: ['Jane Doe'] }),
      images: Type.Optional(Base64Images(config.maxImages, 'Raw base64 photos of one capture; two or more feed the multi-frame 3-D liveness check.')),
      subject_faces: SubjectFaces('images', config.maxImages),
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
      const { images, subject_faces, ...rest } = req.body;
      oneOf(req.body, 'images');
      const view = await searchLiveFace(deps, req.client, { ...rest, images: images && withFaceChoices(decodeImages(images, 'images', limits), subject_faces, 'subject_faces') });
      return answer(req, signer, presentLiveFacePerson(view));
    },
  );
};
