// Passive liveness of one capture (/face-recognition/liveness).
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import * as flows from '../../domain/search.js';
import { livenessDefault } from '../../domain/thresholds.js';
import type { RouteContext } from '../context.js';
import { missingParameter } from '../errors.js';
import { decodeImage, decodeImages } from '../images.js';
import { Base64Image, Base64Images } from '../schemas.js';
import { answer, SearchEnvelope } from '../searchAnswer.js';
import { ANALYSIS_FAILURES, CollectionId, Os, tags } from '../searchFields.js';

export const livenessRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const { deps, signer, config } = ctx;
  const limits = { maxImageBytes: config.maxImageBytes };

  const LivenessBody = Type.Object(
    {
      os: Os,
      image: Type.Optional(Base64Image('Raw base64 photo.')),
      images: Type.Optional(Base64Images(config.maxImages, 'Several photos of one capture (multi-frame 3-D check).')),
      liveness_min_score: Type.Optional(Type.Number({ minimum: 0.5, maximum: 1, default: livenessDefault(config), description: 'Default: the server\'s LIVENESS_MIN_SCORE.' })),
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
              reason: Type.Optional(
                Type.Union([Type.Literal('no_context'), Type.Literal('face_too_small'), Type.Literal('too_blurred')], {
                  description:
                    'Beyond Verifik: present when the capture gave no usable liveness evidence (then `passed` is false and `liveness_score` 0, whatever the threshold): `no_context` (the image is cut too tight around the face: send the whole camera frame), `face_too_small`, `too_blurred`.',
                }),
              ),
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
      const res = await flows.liveness(deps, { images, min_score: b.liveness_min_score ?? livenessDefault(config), collection_id: b.collection_id }, req.client);
      req.log.debug({ livenessSignals: res.signals, score: res.score }, 'liveness sub-scores');
      const data = { liveness_score: res.score, min_score: res.minScore, passed: res.passed, ...(res.reason ? { reason: res.reason } : {}), ...(config.livenessDetails ? { signals: res.signals } : {}) };
      return answer(req, signer, data, res.notes);
    },
  );
};
