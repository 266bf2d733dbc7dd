// 1:N search: search-active-user (Verifik's bare answer) and search (names and thumbnails). Contracts: ../shared/spec
// pages where they exist, Verifik's public docs otherwise (docs/api.md).
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import * as flows from '../../domain/search.js';
import type { RouteContext } from '../context.js';
import { SubjectFace, SubjectFaces, withFaceChoices } from '../faceChoice.js';
import { decodeImage, decodeImages } from '../images.js';
import { MatchedPersonSchema, presentMatchedPerson } from '../matchPresenters.js';
import { Base64Image } from '../schemas.js';
import { answer, SearchEnvelope } from '../searchAnswer.js';
import { MATCH_DEFAULTS } from '../../domain/thresholds.js';
import { CollectionId, Os, Score, SEARCH_FAILURES, SearchMode, tags, thresholdNote } from '../searchFields.js';

export const searchRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const { deps, signer, config } = ctx;
  const limits = { maxImageBytes: config.maxImageBytes };

  const ActiveUserBody = Type.Object(
    {
      image: Base64Image('Raw base64 probe photo.'),
      subject_face: SubjectFace('image'),
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
        description: 'Searches the probe\'s subject (the first face /detect answers, or the one named in subject_face) among the client\'s persons (optionally one collection), without liveness. Best first, only scores ≥ min_score.',
        body: ActiveUserBody,
        response: { 200: SearchEnvelope(Type.Array(Type.Object({ id: Type.String(), score: Type.Number() }))), ...SEARCH_FAILURES },
      },
    },
    async (req) => {
      const { image, subject_face, ...rest } = req.body;
      const [probe] = withFaceChoices([decodeImage(image, 'image', limits)], subject_face, 'subject_face');
      const res = await flows.searchActiveUser(deps, req.client, { ...rest, image: probe });
      return answer(req, signer, res.matches, res.notes);
    },
  );

  const SearchBody = Type.Object(
    {
      images: Type.Array(Base64Image('Raw base64 probe photo.'), { minItems: 1, maxItems: 3, description: '1 to 3 photos of the same person.' }),
      subject_faces: SubjectFaces('images', 3),
      min_score: Type.Optional(Score(`Match threshold (Verifik allows 0.2–1 here). Default: ${thresholdNote(MATCH_DEFAULTS.search)}.`, { default: MATCH_DEFAULTS.search.minScore, minimum: 0.2 })),
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
        images: withFaceChoices(decodeImages(b.images, 'images', limits), b.subject_faces, 'subject_faces'),
        min_score: b.min_score ?? MATCH_DEFAULTS.search.minScore,
        search_mode: b.search_mode ?? 'ACCURATE',
        collection_id: b.collection_id,
        max_results: b.max_results ?? 10,
      });
      const data = res.results.map((r) => presentMatchedPerson(r, r.score));
      return answer(req, signer, data, res.notes);
    },
  );
};
