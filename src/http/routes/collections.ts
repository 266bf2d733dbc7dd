// /v2/face-recognition/collections
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { setCollectionMembers } from '../../domain/collectionMembers.js';
import * as collections from '../../domain/collections.js';
import type { RouteContext } from '../context.js';
import { envelope, listEnvelope } from '../envelope.js';
import { missingParameter } from '../errors.js';
import { CollectionSchema, presentCollection } from '../presenters.js';
import { Deleted, Envelope, errorResponses, IdParams, ListEnvelope, PageQuery, withPaging } from '../schemas.js';

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, examples: ['Staff'] }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);

/** A person as Verifik's update page sends it in `people`: any object with its `_id` (or `id`). */
const PersonRef = Type.Object(
  { _id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })), id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) },
  { description: 'A person object (e.g. from a list answer): only its `_id` or `id` is read.' },
);

const UpdateBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    people: Type.Optional(
      Type.Array(PersonRef, { maxItems: 10_000, description: 'When sent, exactly these persons are the members: those listed join, members not listed leave (and stay enrolled).' }),
    ),
  },
  { additionalProperties: false },
);

const ListQuery = Type.Object(
  { ...PageQuery, name: Type.Optional(Type.String({ maxLength: 200, description: 'Only collections whose name contains this text.' })) },
  { additionalProperties: false },
);

const tags = ['Collections'];
const idParams = { params: IdParams };
const ID_DOC = 'The collection `_id` or its `code`.';

export const collectionRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const { deps, signer } = ctx;

  app.post<{ Body: Static<typeof CreateBody> }>(
    '/face-recognition/collections',
    { schema: { tags, summary: 'Create a collection', body: CreateBody, response: { 200: Envelope(CollectionSchema), ...errorResponses('auth', 'input', 'body') } } },
    async (req) => envelope(req, signer, presentCollection(await collections.createCollection(deps, req.client, req.body))),
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/face-recognition/collections',
    { schema: { tags, summary: 'List collections', querystring: ListQuery, response: { 200: ListEnvelope(CollectionSchema), ...errorResponses('auth', 'input') } } },
    async (req) => {
      const { page, limit, name } = withPaging(req.query);
      const res = await collections.listCollections(deps, req.client, { page, limit, search: name?.trim() || undefined });
      return listEnvelope(req, signer, { ...res, items: res.items.map(presentCollection) });
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/face-recognition/collections/:id',
    {
      schema: { tags, summary: 'Retrieve a collection', description: ID_DOC, ...idParams, response: { 200: Envelope(CollectionSchema), ...errorResponses('auth', 'input', 'notFound') } },
    },
    async (req) => envelope(req, signer, presentCollection(await collections.getCollection(deps, req.client, req.params.id))),
  );

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof UpdateBody> }>(
    '/face-recognition/collections/:id',
    {
      schema: {
        tags,
        summary: 'Update a collection',
        description: ID_DOC,
        ...idParams,
        body: UpdateBody,
        response: { 200: Envelope(CollectionSchema), ...errorResponses('auth', 'input', 'body', 'notFound') },
      },
    },
    async (req) => {
      const { people, ...patch } = req.body;
      if (people) {
        const ids = people.map((p, i) => {
          const id = p._id ?? p.id;
          if (id === undefined) throw missingParameter(`"people[${i}]._id" is required`, `people[${i}]._id`);
          return id;
        });
        await setCollectionMembers(deps, req.client, req.params.id, ids);
      }
      return envelope(req, signer, presentCollection(await collections.updateCollection(deps, req.client, req.params.id, patch)));
    },
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/face-recognition/collections/:id',
    {
      schema: {
        tags,
        summary: 'Delete a collection',
        description: `${ID_DOC} Its persons stay, minus this membership.`,
        ...idParams,
        // DELETE reads a body when one is sent (Fastify parses it), hence 413/415.
        response: { 200: Envelope(Deleted), ...errorResponses('auth', 'input', 'body', 'notFound') },
      },
    },
    async (req) => {
      const c = await collections.deleteCollection(deps, req.client, req.params.id);
      return envelope(req, signer, { _id: c.id, deleted: true as const });
    },
  );
};
