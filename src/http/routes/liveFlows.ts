// Verifik's comparison-with-liveness and search variants: compare-live, compare-with-liveness, search/crops and the
// top-level search-live-face (a liveness-gated search that enrols nothing). Contracts and decisions: docs/api.md.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import * as live from '../../domain/liveCompare.js';
import * as variants from '../../domain/searchVariants.js';
import { livenessDefault, MATCH_DEFAULTS } from '../../domain/thresholds.js';
import type { RouteContext } from '../context.js';
import { decodeImage, decodeImages } from '../images.js';
import { MatchedPersonSchema, presentMatchedPerson } from '../matchPresenters.js';
import { Base64Image } from '../schemas.js';
import { answer, SearchEnvelope } from '../searchAnswer.js';
import { ANALYSIS_FAILURES, CollectionId, Os, Score, SEARCH_FAILURES, SearchMode, tags, thresholdNote } from '../searchFields.js';

/** Verifik's bounds on the compare threshold of the live comparisons (0.67–0.95). */
const CompareMinScore = (description: string, extra: { default?: number } = {}) => Score(description, { minimum: 0.67, maximum: 0.95, ...extra });
/** Verifik's bounds on the liveness threshold of the live comparisons (0.52–1). */
const LivenessMinScore = (extra: { default?: number } = {}) => Score('Liveness threshold: the probe passes when its score is above it.', { minimum: 0.52, ...extra });
const Gallery = Type.Array(Base64Image('Raw base64 photo to compare the probe with.'), { minItems: 1, maxItems: 3 });
const Probe = Base64Image('Raw base64 live capture: liveness runs on it.');

const LivenessVerdict = Type.Object({
  liveness_score: Type.Number(),
  min_score: Type.Number(),
  passed: Type.Boolean(),
  reason: Type.Optional(
    Type.Union([Type.Literal('no_context'), Type.Literal('face_too_small'), Type.Literal('too_blurred')], {
      description: 'Beyond Verifik: the probe gave no usable liveness evidence (then `passed` is false): see /liveness.',
    }),
  ),
});

export const liveFlowRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const { deps, signer, config } = ctx;
  const limits = { maxImageBytes: config.maxImageBytes };

  const CompareLiveBody = Type.Object(
    {
      probe: Probe,
      gallery: Gallery,
      os: Os,
      search_mode: { ...SearchMode, description: 'Required as Verifik requires it; comparing photos is always exact.' },
      liveness_min_score: LivenessMinScore(),
      compare_min_score: Type.Optional(CompareMinScore(`Comparison threshold. Default: ${thresholdNote(MATCH_DEFAULTS.compareLive)}.`, { default: MATCH_DEFAULTS.compareLive.minScore })),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof CompareLiveBody> }>(
    '/face-recognition/compare-live',
    {
      schema: {
        tags,
        summary: 'Compare 1:1 with liveness on the probe',
        description:
          'Passive liveness of `probe`, and the score of its best pair with the `gallery` photos. A failed liveness check is an answer (`liveness.passed: false`), not an error.',
        body: CompareLiveBody,
        response: {
          200: SearchEnvelope(
            Type.Object({
              score: Type.Number(),
              passed: Type.Boolean({ description: 'score ≥ compare_min_score (beyond Verifik).' }),
              compare_min_score: Type.Number({ description: 'The threshold applied (beyond Verifik).' }),
              liveness: LivenessVerdict,
            }),
          ),
          ...ANALYSIS_FAILURES,
        },
      },
    },
    async (req) => {
      const b = req.body;
      const compareMin = b.compare_min_score ?? MATCH_DEFAULTS.compareLive.minScore;
      const res = await live.compareLive(deps, req.client, {
        probe: decodeImage(b.probe, 'probe', limits),
        gallery: decodeImages(b.gallery, 'gallery', limits),
        liveness_min_score: b.liveness_min_score,
        compare_min_score: compareMin,
      });
      return answer(req, signer, { score: res.score, passed: res.passed, compare_min_score: compareMin, liveness: res.liveness }, res.notes);
    },
  );

  const CompareWithLivenessBody = Type.Object(
    {
      probe: Probe,
      gallery: Gallery,
      search_mode: { ...SearchMode, description: 'Required as Verifik requires it; comparing photos is always exact.' },
      liveness_min_score: Type.Optional(LivenessMinScore({ default: livenessDefault(config) })),
      compare_min_score: Type.Optional(CompareMinScore('When given and not reached, no liveness verdict is given (`liveness: null`).')),
      cropFace: Type.Optional(Type.Boolean({ description: 'Accepted for compatibility: every photo\'s subject (the first face /detect answers) is always found and cropped before comparing.' })),
      os: Type.Optional(Os),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof CompareWithLivenessBody> }>(
    '/face-recognition/compare-with-liveness',
    {
      schema: {
        tags,
        summary: 'Compare 1:1, then liveness on the probe',
        description:
          'The comparison first; when compare_min_score is given and not reached, `liveness` is `null`. Otherwise the probe\'s passive liveness verdict follows.',
        body: CompareWithLivenessBody,
        response: {
          200: SearchEnvelope(
            Type.Object({
              comparison: Type.Object({ score: Type.Number(), passed: Type.Boolean({ description: 'score ≥ compare_min_score; true without one (beyond Verifik).' }) }),
              liveness: Type.Union([LivenessVerdict, Type.Null()]),
            }),
          ),
          ...ANALYSIS_FAILURES,
        },
      },
    },
    async (req) => {
      const b = req.body;
      const res = await live.compareWithLiveness(deps, req.client, {
        probe: decodeImage(b.probe, 'probe', limits),
        gallery: decodeImages(b.gallery, 'gallery', limits),
        liveness_min_score: b.liveness_min_score ?? livenessDefault(config),
        compare_min_score: b.compare_min_score,
      });
      return answer(req, signer, { comparison: res.comparison, liveness: res.liveness }, res.notes);
    },
  );

  const CropsBody = Type.Object(
    {
      images: Type.Array(Base64Image('Raw base64 face crop (about 120×120 works best).'), { minItems: 1, maxItems: 3, description: '1 to 3 crops of the same person.' }),
      min_score: Score('Match threshold.'),
      search_mode: SearchMode,
      collection_id: Type.Optional(CollectionId),
      max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof CropsBody> }>(
    '/face-recognition/search/crops',
    {
      schema: {
        tags,
        summary: 'Face search 1:N on face crops',
        description: 'As /search, for tight face crops: each crop is framed with a neutral border so that a face filling the whole crop is still found and aligned.',
        body: CropsBody,
        response: { 200: SearchEnvelope(Type.Array(MatchedPersonSchema)), ...SEARCH_FAILURES },
      },
    },
    async (req) => {
      const b = req.body;
      const res = await variants.searchCrops(deps, req.client, {
        images: decodeImages(b.images, 'images', limits),
        min_score: b.min_score,
        search_mode: b.search_mode,
        collection_id: b.collection_id,
        max_results: b.max_results ?? 10,
      });
      return answer(req, signer, res.results.map((r) => presentMatchedPerson(r, r.score)), res.notes);
    },
  );

  const SearchLiveBody = Type.Object(
    {
      image: Base64Image('Raw base64 live capture.'),
      os: Os,
      liveness_min_score: Score('Liveness threshold: the probe must score above it.'),
      min_score: Score('Match threshold.'),
      search_mode: SearchMode,
      collection_id: Type.Optional(CollectionId),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof SearchLiveBody> }>(
    '/face-recognition/search-live-face',
    {
      schema: {
        tags,
        summary: 'Face search 1:N with liveness',
        description:
          'Passive liveness of the probe first (409 `liveness_failed …` when it is not above liveness_min_score), then the 1:N search, best first, at most 10. Nothing is enrolled: to sign someone up, use persons/search-live-face.',
        body: SearchLiveBody,
        response: {
          200: SearchEnvelope(
            Type.Object({
              persons: Type.Array(MatchedPersonSchema),
              liveness: Type.Object({ liveness_score: Type.Number(), min_score: Type.Number(), passed: Type.Literal(true) }, { description: 'Beyond Verifik: the verdict the search went ahead on.' }),
            }),
          ),
          ...SEARCH_FAILURES,
        },
      },
    },
    async (req) => {
      const b = req.body;
      const res = await variants.searchLive(deps, req.client, {
        image: decodeImage(b.image, 'image', limits),
        liveness_min_score: b.liveness_min_score,
        min_score: b.min_score,
        search_mode: b.search_mode,
        collection_id: b.collection_id,
        max_results: 10,
      });
      const data = {
        persons: res.results.map((r) => presentMatchedPerson(r, r.score)),
        liveness: { liveness_score: res.liveness.score, min_score: res.liveness.minScore, passed: true as const },
      };
      return answer(req, signer, data, res.notes);
    },
  );
};
