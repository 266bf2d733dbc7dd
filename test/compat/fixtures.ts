// Verifik's documented face-recognition requests, route by route, written out as fixtures: the fields and kinds of
// value of each documentation example (our own names and values; images and ids filled in by the test), and the
// answer shape the same page shows. The page each one comes from is named; docs/api.md has the full table.
import type { Shape } from './shape.js';

/** What a fixture body needs from the running test: real photos and the ids it created. */
export interface Ctx {
  /** Raw base64 of a photo of the enrolled woman (a different photo from her enrolment ones). */
  probe: string;
  /**
   * Raw base64 of a photo of her that the passive liveness check passes at 0.7, for the liveness-gated flows. The
   * anti-spoofing network doubts many of the demo photos (it judges `probe` 0.17: docs/liveness.md); a fixture
   * that needs a pass must send one it passes.
   */
  live: string;
  /** Raw base64 of her two enrolment photos. */
  enrolment: [string, string];
  /** Raw base64 of a tight, small crop of her face. */
  crop: string;
  /** Raw base64 of a photo of somebody else. */
  stranger: string;
  collection: { _id: string; code: string };
  /** The `_id` of the enrolled woman. */
  person: string;
  /** A second person and a second collection, for the removals. */
  spare?: { person: string; collection: string };
}

export interface Fixture {
  /** The documentation page the request and answer come from. */
  page: string;
  method: 'POST' | 'GET' | 'PUT' | 'DELETE';
  path: (c: Ctx) => string;
  body?: (c: Ctx) => Record<string, unknown>;
  /** The answer's `data`, as the page shows it. */
  data: Shape;
}

// Shapes shared by several pages.
const thumbnails: Shape = { arrayOf: { id: 'uuid', thumbnail: 'base64Jpeg' }, minItems: 1 };
const candidate: Shape = { id: 'objectId', name: 'string', score: 'score', thumbnails };
const livenessVerdict: Shape = { liveness_score: 'score', min_score: 'score', passed: 'boolean' };
const collection: Shape = { _id: 'objectId', code: 'uuid', name: 'string', description: 'string', client: 'string', createdAt: 'dateTime', updatedAt: 'dateTime' };
const facePerson: Shape = {
  _id: 'objectId',
  name: 'string',
  gender: { anyOf: [{ literal: 'M' }, { literal: 'F' }, 'null'] },
  date_of_birth: { anyOf: ['date', 'null'] },
  nationality: { anyOf: ['string', 'null'] },
  thumbnails,
  collections: { arrayOf: 'objectId' },
  notes: { anyOf: ['string', 'null'] },
  client: 'string',
  createdAt: 'dateTime',
  updatedAt: 'dateTime',
};

export const FIXTURES: Record<string, Fixture> = {
  'create a collection': {
    page: 'https://docs.verifik.co/verifik-biometrics-apis/search/face-detect (the collection example it shows)',
    method: 'POST',
    path: () => '/v2/face-recognition/collections',
    body: () => ({ name: 'Front desk', description: 'Visitors signed in at reception' }),
    data: collection,
  },
  'list collections': {
    page: 'https://docs.verifik.co/resources/list-all-collections',
    method: 'GET',
    path: () => '/v2/face-recognition/collections',
    data: { arrayOf: collection, minItems: 1 },
  },
  'retrieve a collection': {
    page: 'https://docs.verifik.co/resources/the-collection-object (retrieve a collection)',
    method: 'GET',
    path: (c) => `/v2/face-recognition/collections/${c.collection._id}`,
    data: collection,
  },
  'update a collection': {
    page: 'https://docs.verifik.co/resources/update-a-collection',
    method: 'PUT',
    path: (c) => `/v2/face-recognition/collections/${c.collection._id}`,
    body: () => ({ name: 'Front desk (north)', description: 'Visitors signed in at the north entrance' }),
    data: { ...collection, name: { literal: 'Front desk (north)' } },
  },
  'create a person': {
    page: 'https://docs.verifik.co/resources/create-a-person (../shared/spec/face-recognition-create-person.txt)',
    method: 'POST',
    path: () => '/v2/face-recognition/persons',
    body: (c) => ({
      name: 'Lucía Vega',
      images: c.enrolment,
      gender: 'F',
      date_of_birth: '1987-06-21',
      nationality: 'PE',
      collections: [c.collection.code],
      notes: 'Night shift',
    }),
    data: { ...facePerson, gender: { literal: 'F' }, date_of_birth: { literal: '1987-06-21' }, nationality: { literal: 'PE' }, notes: { literal: 'Night shift' } },
  },
  'list persons': {
    page: 'https://docs.verifik.co/resources/persons (list all persons)',
    method: 'GET',
    path: (c) => `/v2/face-recognition/persons?collection=${c.collection._id}`,
    data: { arrayOf: facePerson, minItems: 1 },
  },
  'retrieve a person': {
    page: 'https://docs.verifik.co/resources/persons (retrieve a person)',
    method: 'GET',
    path: (c) => `/v2/face-recognition/persons/${c.person}`,
    data: facePerson,
  },
  'search 1:N (active user)': {
    page: 'https://docs.verifik.co/biometrics/search-active-user (../shared/spec/face-search-1-to-n-active-user.txt)',
    method: 'POST',
    path: () => '/v2/face-recognition/search-active-user',
    body: (c) => ({ image: c.probe, collection_id: c.collection._id, os: 'ANDROID', min_score: 0.75, search_mode: 'ACCURATE' }),
    data: { arrayOf: { id: 'objectId', score: 'score' }, minItems: 1 },
  },
  'search 1:N': {
    page: 'https://docs.verifik.co/biometrics/search',
    method: 'POST',
    path: () => '/v2/face-recognition/search',
    body: (c) => ({ images: [c.probe], collection_id: c.collection._id, min_score: 0.75, search_mode: 'FAST', max_results: 5 }),
    data: { arrayOf: candidate, minItems: 1 },
  },
  'search 1:N, a low threshold': {
    page: 'https://docs.verifik.co/biometrics/search (min_score 0.2–1)',
    method: 'POST',
    path: () => '/v2/face-recognition/search',
    body: (c) => ({ images: [c.probe], min_score: 0.25, search_mode: 'ACCURATE' }),
    data: { arrayOf: candidate, minItems: 1 },
  },
  'search 1:N on crops': {
    page: 'https://docs.verifik.co/biometrics/search-crops',
    method: 'POST',
    path: () => '/v2/face-recognition/search/crops',
    body: (c) => ({ images: [c.crop], collection_id: c.collection._id, min_score: 0.7, search_mode: 'ACCURATE', max_results: 10 }),
    data: { arrayOf: candidate, minItems: 1 },
  },
  'search 1:N with liveness': {
    page: 'https://demos.verifik.co/demos/search-live-person (docs.verifik.co/biometrics/search-live-face); https://docs.verifik.co/verifik-biometrics-apis/search/search-1-n',
    method: 'POST',
    path: () => '/v2/face-recognition/search-live-face',
    body: (c) => ({ image: c.live, os: 'IOS', liveness_min_score: 0.6, min_score: 0.75, search_mode: 'FAST', collection_id: c.collection._id }),
    data: { persons: { arrayOf: candidate, minItems: 1 } },
  },
  'verify a face': {
    page: 'https://docs.verifik.co/biometrics/verify-face',
    method: 'POST',
    path: () => '/v2/face-recognition/verify',
    body: (c) => ({ id: c.person, images: [c.probe], min_score: 0.75, search_mode: 'FAST', collection_id: c.collection._id }),
    data: {
      match: {
        id: 'objectId',
        name: 'string',
        score: 'score',
        gender: { literal: 'F' },
        date_of_birth: 'date',
        thumbnails,
        collections: { arrayOf: 'objectId', minItems: 1 },
      },
    },
  },
  'compare 1:1': {
    page: 'https://docs.verifik.co/biometrics/compare',
    method: 'POST',
    path: () => '/v2/face-recognition/compare',
    body: (c) => ({ probe: [c.probe], gallery: [c.enrolment[0], c.stranger], search_mode: 'ACCURATE', cropFace: true }),
    data: { score: 'score' },
  },
  'compare 1:1, live': {
    page: 'https://docs.verifik.co/biometrics/compare-live',
    method: 'POST',
    path: () => '/v2/face-recognition/compare-live',
    body: (c) => ({ probe: c.live, gallery: [c.enrolment[0]], os: 'ANDROID', search_mode: 'FAST', liveness_min_score: 0.6, compare_min_score: 0.85 }),
    data: { score: 'score', liveness: livenessVerdict },
  },
  'compare, then liveness': {
    page: 'https://docs.verifik.co/biometrics/compare-with-liveness',
    method: 'POST',
    path: () => '/v2/face-recognition/compare-with-liveness',
    body: (c) => ({ probe: c.live, gallery: [c.enrolment[1]], search_mode: 'ACCURATE', liveness_min_score: 0.55, compare_min_score: 0.7, cropFace: false }),
    data: { comparison: { score: 'score' }, liveness: livenessVerdict },
  },
  'liveness': {
    page: 'https://docs.verifik.co/verifik-biometrics-apis/liveness/liveness-detection',
    method: 'POST',
    path: () => '/v2/face-recognition/liveness',
    body: (c) => ({ os: 'ANDROID', image: c.live, liveness_min_score: 0.7, collection_id: c.collection.code }),
    data: livenessVerdict,
  },
  'detect faces': {
    page: 'https://docs.verifik.co/verifik-biometrics-apis/liveness/face-detection',
    method: 'POST',
    path: () => '/v2/face-recognition/detect',
    body: (c) => ({ image: c.probe, return_landmarks: true, return_attributes: false }),
    data: {
      arrayOf: {
        box: { top: 'number', left: 'number', right: 'number', bottom: 'number' },
        landmarks: {
          nose: { arrayOf: 'number', minItems: 2 },
          left_eye: { arrayOf: 'number', minItems: 2 },
          right_eye: { arrayOf: 'number', minItems: 2 },
          left_mouth: { arrayOf: 'number', minItems: 2 },
          right_mouth: { arrayOf: 'number', minItems: 2 },
        },
        thumbnail: 'base64Jpeg',
        detection_score: 'score',
      },
      minItems: 1,
    },
  },
  'detect faces and search them': {
    page: 'https://docs.verifik.co/verifik-biometrics-apis/search/face-detect (the older body with min_score)',
    method: 'POST',
    path: () => '/v2/face-recognition/detect',
    body: (c) => ({ image: c.probe, min_score: 0.75, search_mode: 'FAST', collection_id: c.collection.code, max_results: 20 }),
    data: {
      arrayOf: {
        box: { top: 'number', left: 'number', right: 'number', bottom: 'number' },
        persons: { arrayOf: candidate, minItems: 1 },
        thumbnail: 'base64Jpeg',
        detection_score: 'score',
      },
      minItems: 1,
    },
  },
  'update a person': {
    page: 'https://docs.verifik.co/resources/persons (update a person)',
    method: 'PUT',
    path: (c) => `/v2/face-recognition/persons/${c.person}`,
    body: () => ({ notes: 'Moved to the day shift' }),
    data: { ...facePerson, notes: { literal: 'Moved to the day shift' } },
  },
};

/** Run last: they remove what the others use. */
export const REMOVALS: Record<string, Fixture> = {
  'delete a person from one collection (?collection=)': {
    page: 'https://docs.verifik.co/resources/persons/delete-a-person (the collection query)',
    method: 'DELETE',
    path: (c) => `/v2/face-recognition/persons/${c.spare!.person}?collection=${c.spare!.collection}`,
    data: { _id: 'objectId' },
  },
  'delete a person': {
    page: 'https://docs.verifik.co/resources/persons/delete-a-person',
    method: 'DELETE',
    path: (c) => `/v2/face-recognition/persons/${c.person}`,
    data: { _id: 'objectId' },
  },
  'delete a collection': {
    page: 'https://docs.verifik.co/resources/the-collection-object (delete a collection)',
    method: 'DELETE',
    path: (c) => `/v2/face-recognition/collections/${c.spare!.collection}`,
    data: { _id: 'objectId' },
  },
};

/** persons/search-live-face: the page's request, and its answer (date-time date of birth, `deleted: false`). */
export const CREATE_WITH_LIVENESS = {
  page: 'https://docs.verifik.co/resources/create-a-person-with-liveness (../shared/spec/face-recognition-create-person-with-liveness.txt)',
  body: (c: Ctx, collectionId: string, image: string) => ({
    name: 'Tomás Ibarra 3',
    gender: 'M',
    date_of_birth: '1979-11-30',
    nationality: 'AR',
    collection_id: collectionId,
    liveness_min_score: 0.6,
    min_score: 0.8,
    search_mode: 'FAST',
    images: [image],
  }),
  data: {
    _id: 'objectId',
    name: { literal: 'Tomás Ibarra' },
    gender: { literal: 'M' },
    date_of_birth: { literal: '1979-11-30T00:00:00.000Z' },
    collections: { arrayOf: 'objectId', minItems: 1 },
    deleted: { literal: false },
    createdAt: 'dateTime',
    updatedAt: 'dateTime',
  } as Shape,
};
