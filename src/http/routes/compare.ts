// 1:1: verify (photos against an enrolled person) and compare (photos against photos, nothing stored).
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import * as flows from '../../domain/search.js';
import type { RouteContext } from '../context.js';
import { SubjectFaces, withFaceChoices } from '../faceChoice.js';
import { decodeImages } from '../images.js';
import { MatchedPersonSchema, presentMatchedPerson } from '../matchPresenters.js';
import { Base64Image } from '../schemas.js';
import { answer, SearchEnvelope } from '../searchAnswer.js';
import { MATCH_DEFAULTS } from '../../domain/thresholds.js';
import { ANALYSIS_FAILURES, CollectionId, Score, SEARCH_FAILURES, SearchMode, tags, thresholdNote } from '../searchFields.js';

export const compareRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const { deps, signer, config } = ctx;
  const limits = { maxImageBytes: config.maxImageBytes };

  const VerifyBody = Type.Object(
    {
      id: Type.String({ minLength: 1, maxLength: 128, description: 'The enrolled person `_id`.', examples: ['6650c1a9b8c7d6e5f4a3b201'] }),
      images: Type.Array(Base64Image('Raw base64 probe photo.'), { minItems: 1, maxItems: 3 }),
      subject_faces: SubjectFaces('images', 3),
      min_score: Type.Optional(Score(`Match threshold. Default: ${thresholdNote(MATCH_DEFAULTS.verify)}.`, { default: MATCH_DEFAULTS.verify.minScore })),
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
        images: withFaceChoices(decodeImages(b.images, 'images', limits), b.subject_faces, 'subject_faces'),
        min_score: b.min_score ?? MATCH_DEFAULTS.verify.minScore,
        collection_id: b.collection_id,
      });
      return answer(req, signer, { match: res.match ? presentMatchedPerson(res.person, res.score) : null, score: res.score }, res.notes);
    },
  );

  const CompareBody = Type.Object(
    {
      probe: Type.Array(Base64Image('Raw base64 photo.'), { minItems: 1, maxItems: 3 }),
      gallery: Type.Array(Base64Image('Raw base64 photo.'), { minItems: 1, maxItems: 3 }),
      probe_faces: SubjectFaces('probe', 3),
      gallery_faces: SubjectFaces('gallery', 3),
      search_mode: Type.Optional({ ...SearchMode, description: 'Accepted for compatibility: comparing photos is always exact.' }),
      compare_min_score: Type.Optional(Score(`Pass threshold. Default: ${thresholdNote(MATCH_DEFAULTS.compare)}.`, { default: MATCH_DEFAULTS.compare.minScore })),
      cropFace: Type.Optional(Type.Boolean({ description: 'Accepted for compatibility: every photo\'s subject (the first face /detect answers) is always found and cropped before comparing.' })),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof CompareBody> }>(
    '/face-recognition/compare',
    {
      schema: {
        tags,
        summary: 'Compare photos 1:1',
        description: 'Score of the best probe–gallery pair (each photo\'s subject: the first face /detect answers for it, or the face named in probe_faces / gallery_faces); nothing is stored.',
        body: CompareBody,
        response: { 200: SearchEnvelope(Type.Object({ score: Type.Number(), passed: Type.Boolean(), min_score: Type.Number() })), ...ANALYSIS_FAILURES },
      },
    },
    async (req) => {
      const b = req.body;
      const minScore = b.compare_min_score ?? MATCH_DEFAULTS.compare.minScore;
      const res = await flows.compare(deps, {
        probe: withFaceChoices(decodeImages(b.probe, 'probe', limits), b.probe_faces, 'probe_faces'),
        gallery: withFaceChoices(decodeImages(b.gallery, 'gallery', limits), b.gallery_faces, 'gallery_faces'),
        min_score: minScore,
      }, req.client);
      return answer(req, signer, { score: res.score, passed: res.passed, min_score: minScore }, res.notes);
    },
  );
};
