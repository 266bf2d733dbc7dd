// /v2/persons and /v2/persons/liveness (Verifik's generic person records)
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import * as persons from '../../domain/persons.js';
import type { RouteContext } from '../context.js';
import { envelope, listEnvelope } from '../envelope.js';
import { decodeImage } from '../images.js';
import { missingParameter } from '../errors.js';
import { LivenessSessionId } from '../livenessSessionField.js';
import { PersonSchema, presentPerson } from '../presenters.js';
import { Base64Image, BirthDate, DATE_PATTERN, describedPattern, Envelope, errorResponses, IdParams, ListEnvelope, NullableString, PageQuery, withPaging } from '../schemas.js';

const FACE_IMAGE_FIELD = 'biometricData.faceImage';

const text = (max: number, extra: object = {}) => Type.String({ minLength: 1, maxLength: max, ...extra });
const EMAIL = { format: 'email' };
const PHONE = describedPattern('^\\+?[0-9][0-9 ().-]{2,31}$', 'a phone number: digits, spaces and ( ) . -, with an optional leading +');

/** PUT fields: optional, and `null` clears. */
const nullable = (max: number, extra: object = {}) => Type.Optional(NullableString({ minLength: 1, maxLength: max, ...extra }));

const BiometricData = (faceImageRequired: boolean) =>
  Type.Object(
    {
      faceImage: faceImageRequired ? Base64Image('Raw base64 photo holding exactly one face.') : Type.Optional(Base64Image('Raw base64 photo holding exactly one face.')),
      livenessDetection: Type.Optional(Type.Boolean({ description: 'On POST /v2/persons: run the liveness flow, as /v2/persons/liveness does.' })),
    },
    { additionalProperties: false },
  );

/** The person's details on create (the spec marks nothing required; both of its examples send the two names). */
const details = {
  firstName: text(100),
  lastName: text(100),
  email: Type.Optional(text(254, EMAIL)),
  phone: Type.Optional(text(32, PHONE)),
  dateOfBirth: Type.Optional(BirthDate()),
  documentType: Type.Optional(text(64)),
  documentNumber: Type.Optional(text(64)),
};

const LivenessMinScore = Type.Optional(
  Type.Number({ minimum: 0.5, maximum: 1, description: 'Score `verified` needs. Default: LIVENESS_MIN_SCORE (0.6).' }),
);

const CreateBody = Type.Object(
  { ...details, biometricData: Type.Optional(BiometricData(false)), liveness_min_score: LivenessMinScore },
  { additionalProperties: false },
);

const LivenessBody = Type.Object(
  { ...details, biometricData: Type.Optional(BiometricData(true)), liveness_session_id: Type.Optional(LivenessSessionId), liveness_min_score: LivenessMinScore },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    firstName: nullable(100),
    lastName: nullable(100),
    email: nullable(254, EMAIL),
    phone: nullable(32, PHONE),
    dateOfBirth: nullable(40, { minLength: 10, ...DATE_PATTERN }),
    documentType: nullable(64),
    documentNumber: nullable(64),
    biometricData: Type.Optional(
      Type.Object(
        { faceImage: Type.Optional(Base64Image('Replaces the enrolled face; the verification goes back to pending.')) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const ListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });

type CreateBodyT = Static<typeof LivenessBody> | Static<typeof CreateBody>;

const tags = ['Persons'];

export const personRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const { deps, signer, config } = ctx;
  const limits = { maxImageBytes: config.maxImageBytes };

  function input(body: CreateBodyT): persons.PersonInput {
    const { biometricData, liveness_min_score: _min, liveness_session_id: _session, ...rest } = body as Static<typeof LivenessBody>;
    const out: persons.PersonInput = { ...rest };
    if (biometricData?.faceImage !== undefined) out.faceImage = decodeImage(biometricData.faceImage, FACE_IMAGE_FIELD, limits);
    return out;
  }

  async function createWithLiveness(client: string, body: CreateBodyT) {
    const session = (body as Static<typeof LivenessBody>).liveness_session_id;
    const inp = session !== undefined
      ? { ...input(body), livenessSessionId: session }
      : (input(body) as persons.PersonInput & { faceImage: NonNullable<persons.PersonInput['faceImage']> });
    const res = await persons.createPersonWithLiveness(deps, client, inp, body.liveness_min_score ?? config.livenessMinScore);
    return presentPerson(res);
  }

  app.post<{ Body: Static<typeof CreateBody> }>(
    '/persons',
    {
      schema: {
        tags,
        summary: 'Create a person',
        description:
          '`biometricData.faceImage` enrols one face template (the image is not kept). With `biometricData.livenessDetection: true` the capture goes through the liveness flow of /v2/persons/liveness.',
        body: CreateBody,
        response: { 200: Envelope(PersonSchema), ...errorResponses('auth', 'input', 'body', 'images', 'faces', 'engine') },
      },
    },
    async (req) => {
      const body = req.body;
      if (body.biometricData?.livenessDetection === true && body.biometricData.faceImage !== undefined) {
        return envelope(req, signer, await createWithLiveness(req.client, body));
      }
      return envelope(req, signer, presentPerson(await persons.createPerson(deps, req.client, input(body))));
    },
  );

  app.post<{ Body: Static<typeof LivenessBody> }>(
    '/persons/liveness',
    {
      schema: {
        tags,
        summary: 'Create a person with liveness detection',
        description:
          'Runs passive liveness on `biometricData.faceImage`: `verificationStatus` is `verified` when the score reaches `liveness_min_score`, else `failed` (and no face template is kept). Instead of `biometricData`, `liveness_session_id` names a SUCCEEDED liveness session (used up here): its reference frame is the face and its score the liveness score.',
        body: LivenessBody,
        // notFound: a liveness_session_id this client does not have (found by the fuzzer: it was undocumented).
        response: { 200: Envelope(PersonSchema), ...errorResponses('auth', 'input', 'body', 'notFound', 'images', 'faces', 'engine') },
      },
    },
    async (req) => {
      if (req.body.biometricData?.faceImage === undefined && req.body.liveness_session_id === undefined) {
        throw missingParameter('"biometricData" is required', 'biometricData');
      }
      if (req.body.biometricData !== undefined && req.body.liveness_session_id !== undefined) {
        throw missingParameter('"biometricData" and "liveness_session_id" cannot be sent together', 'liveness_session_id');
      }
      return envelope(req, signer, await createWithLiveness(req.client, req.body));
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/persons',
    { schema: { tags, summary: 'List persons', querystring: ListQuery, response: { 200: ListEnvelope(PersonSchema), ...errorResponses('auth', 'input') } } },
    async (req) => {
      const res = await persons.listPersons(deps, req.client, withPaging(req.query));
      return listEnvelope(req, signer, { ...res, items: res.items.map(presentPerson) });
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/persons/:id',
    { schema: { tags, summary: 'Retrieve a person', params: IdParams, response: { 200: Envelope(PersonSchema), ...errorResponses('auth', 'input', 'notFound') } } },
    async (req) => envelope(req, signer, presentPerson(await persons.getPerson(deps, req.client, req.params.id))),
  );

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof UpdateBody> }>(
    '/persons/:id',
    {
      schema: {
        tags,
        summary: 'Update a person',
        description: 'Partial update; `null` clears a field.',
        params: IdParams,
        body: UpdateBody,
        response: { 200: Envelope(PersonSchema), ...errorResponses('auth', 'input', 'body', 'notFound', 'images', 'faces', 'engine') },
      },
    },
    async (req) => {
      const { biometricData, ...rest } = req.body;
      const patch: persons.PersonPatch = rest as persons.PersonPatch;
      if (biometricData?.faceImage !== undefined) patch.faceImage = decodeImage(biometricData.faceImage, FACE_IMAGE_FIELD, limits);
      return envelope(req, signer, presentPerson(await persons.updatePerson(deps, req.client, req.params.id, patch)));
    },
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/persons/:id',
    {
      schema: {
        tags,
        summary: 'Delete a person',
        description: 'Erases the record and its face template.',
        params: IdParams,
        response: { 200: Envelope(Type.Object({ id: Type.String(), deleted: Type.Literal(true) })), ...errorResponses('auth', 'input', 'body', 'notFound') },
      },
    },
    async (req) => {
      await persons.deletePerson(deps, req.client, req.params.id);
      return envelope(req, signer, { id: req.params.id, deleted: true as const });
    },
  );
};
