// /v2/face-recognition/persons (persons/search-live-face lives in routes/enrolLive.ts)
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { removeFromCollection } from '../../domain/detachPerson.js';
import * as facePersons from '../../domain/facePersons.js';
import type { RouteContext } from '../context.js';
import { envelope, listEnvelope } from '../envelope.js';
import { withFaceChoices, SubjectFaces } from '../faceChoice.js';
import { decodeImages } from '../images.js';
import { LivenessSessionId, oneOf } from '../livenessSessionField.js';
import { FacePersonSchema, presentFacePerson } from '../presenters.js';
import {
  Base64Images,
  BirthDate,
  DATE_PATTERN,
  Deleted,
  Envelope,
  errorResponses,
  GenderEnum,
  IdParams,
  ListEnvelope,
  NullableGender,
  NullableString,
  PageQuery,
  withPaging,
} from '../schemas.js';

const CollectionRefs = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
  maxItems: 100,
  description: 'Collections by `_id` or `code`; an unknown one is a 404.',
});

const ExternalId = Type.String({
  minLength: 1,
  maxLength: 128,
  description: 'Your own id for the person (an employee number, a CRM key), unique within your client; 409 when another person has it. Beyond Verifik.',
});

function bodies(maxImages: number) {
  const images = Base64Images(maxImages, 'Raw base64 photo holding exactly one face.');
  const create = Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 200, examples: ['Jane Doe'] }),
      images: Type.Optional(images),
      subject_faces: SubjectFaces('images', maxImages),
      liveness_session_id: Type.Optional(LivenessSessionId),
      gender: Type.Optional(GenderEnum),
      date_of_birth: Type.Optional(BirthDate()),
      nationality: Type.Optional(Type.String({ maxLength: 64 })),
      collections: Type.Optional(CollectionRefs),
      notes: Type.Optional(Type.String({ maxLength: 4000 })),
      external_id: Type.Optional(ExternalId),
    },
    { additionalProperties: false },
  );
  const update = Type.Object(
    {
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      images: Type.Optional({ ...images, description: `${images.description} Replaces every enrolled face (re-enrolment).` }),
      subject_faces: SubjectFaces('images', maxImages),
      gender: Type.Optional(NullableGender),
      date_of_birth: Type.Optional(NullableString({ minLength: 10, maxLength: 40, ...DATE_PATTERN })),
      nationality: Type.Optional(NullableString({ maxLength: 64 })),
      collections: Type.Optional({ ...CollectionRefs, description: 'Replaces the memberships.' }),
      notes: Type.Optional(NullableString({ maxLength: 4000 })),
      external_id: Type.Optional(NullableString({ minLength: 1, maxLength: 128, description: `${ExternalId.description} \`null\` clears it.` })),
    },
    { additionalProperties: false },
  );
  return { create, update };
}

const ListQuery = Type.Object(
  {
    ...PageQuery,
    collection: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Only members of this collection (`_id` or `code`).' })),
    name: Type.Optional(Type.String({ maxLength: 200, description: 'Only persons whose name contains this text.' })),
    external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Only the person with this `external_id` (your own id; beyond Verifik).' })),
    photo_sha256: Type.Optional(
      Type.String({
        pattern: '^[0-9a-fA-F]{64}$',
        description: 'Only the person enrolled from the photo with this SHA-256 (hex), as a bulk import run again asks; other filters are then ignored. Beyond Verifik.',
      }),
    ),
    after: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'Keyset paging: the `_id` of the last person of the previous page; the answer starts right after it (`page` then counts from there). Unknown → 404.',
      }),
    ),
  },
  { additionalProperties: false },
);

const tags = ['Face persons'];

export const facePersonRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const { deps, signer, config } = ctx;
  const { create: CreateBody, update: UpdateBody } = bodies(config.maxImages);
  const limits = { maxImageBytes: config.maxImageBytes };

  app.post<{ Body: Static<typeof CreateBody> }>(
    '/face-recognition/persons',
    {
      schema: {
        tags,
        summary: 'Create a person',
        description: 'Enrols a person from 1 or more photos, each holding exactly one face; one template per photo. Instead of `images`, `liveness_session_id` enrols the reference frame of a SUCCEEDED liveness session (used up here).',
        body: CreateBody,
        response: { 200: Envelope(FacePersonSchema), ...errorResponses('auth', 'input', 'body', 'notFound', 'images', 'faces', 'engine') },
      },
    },
    async (req) => {
      const { images, subject_faces, ...rest } = req.body;
      oneOf(req.body, 'images');
      const decoded = images ? withFaceChoices(decodeImages(images, 'images', limits), subject_faces, 'subject_faces') : [];
      const view = await facePersons.createFacePerson(deps, req.client, { ...rest, images: decoded });
      return envelope(req, signer, presentFacePerson(view));
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/face-recognition/persons',
    { schema: { tags, summary: 'List persons', querystring: ListQuery, response: { 200: ListEnvelope(FacePersonSchema), ...errorResponses('auth', 'input', 'notFound') } } },
    async (req) => {
      const res = await facePersons.listFacePersons(deps, req.client, withPaging(req.query));
      return listEnvelope(req, signer, { ...res, items: res.items.map(presentFacePerson) });
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/face-recognition/persons/:id',
    { schema: { tags, summary: 'Retrieve a person', params: IdParams, response: { 200: Envelope(FacePersonSchema), ...errorResponses('auth', 'input', 'notFound') } } },
    async (req) => envelope(req, signer, presentFacePerson(await facePersons.getFacePerson(deps, req.client, req.params.id))),
  );

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof UpdateBody> }>(
    '/face-recognition/persons/:id',
    {
      schema: {
        tags,
        summary: 'Update a person',
        description: 'Partial update; `null` clears an optional field; `images` re-enrols (replaces every template).',
        params: IdParams,
        body: UpdateBody,
        response: { 200: Envelope(FacePersonSchema), ...errorResponses('auth', 'input', 'body', 'notFound', 'images', 'faces', 'engine') },
      },
    },
    async (req) => {
      const { images, subject_faces, ...rest } = req.body;
      const patch: facePersons.FacePersonPatch = { ...rest };
      if (images) patch.images = withFaceChoices(decodeImages(images, 'images', limits), subject_faces, 'subject_faces');
      return envelope(req, signer, presentFacePerson(await facePersons.updateFacePerson(deps, req.client, req.params.id, patch)));
    },
  );

  const DeleteQuery = Type.Object(
    { collection: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Remove the person from this collection (`_id` or `code`) only.' })) },
    { additionalProperties: false },
  );
  const Detached = Type.Object({
    _id: Type.String(),
    deleted: Type.Boolean({ description: 'true: the person is erased; false: it only left `collection` and keeps `collections`.' }),
    collections: Type.Optional(Type.Array(Type.String(), { description: 'Only when the person was kept: the collections it still belongs to.' })),
  });
  app.delete<{ Params: Static<typeof IdParams>; Querystring: Static<typeof DeleteQuery> }>(
    '/face-recognition/persons/:id',
    {
      schema: {
        tags,
        summary: 'Delete a person',
        description:
          'Erases the person, its templates and thumbnails. With `?collection=`, as Verifik does, the person only leaves that collection, and is erased when it belonged to no other.',
        params: IdParams,
        querystring: DeleteQuery,
        response: { 200: Envelope(Detached), ...errorResponses('auth', 'input', 'body', 'notFound') },
      },
    },
    async (req) => {
      if (req.query.collection !== undefined) {
        const res = await removeFromCollection(deps, req.client, req.params.id, req.query.collection);
        return envelope(req, signer, res.deleted ? { _id: req.params.id, deleted: true } : { _id: req.params.id, deleted: false, collections: res.collections });
      }
      await facePersons.deleteFacePerson(deps, req.client, req.params.id);
      return envelope(req, signer, { _id: req.params.id, deleted: true as const });
    },
  );
};
