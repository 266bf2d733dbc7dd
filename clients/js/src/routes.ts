// Every route the client calls, by method name. test/clients/js.test.ts walks the server's OpenAPI document and
// fails when a route is missing here or named here but gone from the server; the types below come from the same
// document (src/schema.d.ts), so a renamed field fails the type check.
import type { paths } from './schema.js';

export const ROUTES = {
  health: ['GET', '/health'],
  jwks: ['GET', '/.well-known/jwks.json'],
  // Collections
  createCollection: ['POST', '/v2/face-recognition/collections'],
  listCollections: ['GET', '/v2/face-recognition/collections'],
  getCollection: ['GET', '/v2/face-recognition/collections/{id}'],
  updateCollection: ['PUT', '/v2/face-recognition/collections/{id}'],
  deleteCollection: ['DELETE', '/v2/face-recognition/collections/{id}'],
  // Face persons (enrolled faces)
  createPerson: ['POST', '/v2/face-recognition/persons'],
  listPersons: ['GET', '/v2/face-recognition/persons'],
  getPerson: ['GET', '/v2/face-recognition/persons/{id}'],
  updatePerson: ['PUT', '/v2/face-recognition/persons/{id}'],
  deletePerson: ['DELETE', '/v2/face-recognition/persons/{id}'],
  // Search, verify, compare, liveness, detect
  searchActiveUser: ['POST', '/v2/face-recognition/search-active-user'],
  searchLiveFace: ['POST', '/v2/face-recognition/persons/search-live-face'],
  searchLiveFaceOnly: ['POST', '/v2/face-recognition/search-live-face'],
  search: ['POST', '/v2/face-recognition/search'],
  searchCrops: ['POST', '/v2/face-recognition/search/crops'],
  verify: ['POST', '/v2/face-recognition/verify'],
  compare: ['POST', '/v2/face-recognition/compare'],
  compareLive: ['POST', '/v2/face-recognition/compare-live'],
  compareWithLiveness: ['POST', '/v2/face-recognition/compare-with-liveness'],
  liveness: ['POST', '/v2/face-recognition/liveness'],
  detect: ['POST', '/v2/face-recognition/detect'],
  // Liveness sessions
  createLivenessSession: ['POST', '/v2/face-recognition/liveness/sessions'],
  getLivenessSession: ['GET', '/v2/face-recognition/liveness/sessions/{session_id}'],
  postLivenessFrames: ['POST', '/v2/face-recognition/liveness/sessions/{session_id}/frames'],
  // Person records (/v2/persons)
  createRecord: ['POST', '/v2/persons'],
  createRecordWithLiveness: ['POST', '/v2/persons/liveness'],
  listRecords: ['GET', '/v2/persons'],
  getRecord: ['GET', '/v2/persons/{id}'],
  updateRecord: ['PUT', '/v2/persons/{id}'],
  deleteRecord: ['DELETE', '/v2/persons/{id}'],
} as const satisfies Record<string, readonly [string, keyof paths]>;

export type RouteName = keyof typeof ROUTES;
type PathOf<K extends RouteName> = (typeof ROUTES)[K][1];
type MethodOf<K extends RouteName> = Lowercase<(typeof ROUTES)[K][0]>;
export type Operation<K extends RouteName> = MethodOf<K> extends keyof paths[PathOf<K>] ? paths[PathOf<K>][MethodOf<K>] : never;

type Json<C> = C extends { content: { 'application/json': infer B } } ? B : never;
/** The JSON body a route takes (`never` when it takes none). */
export type BodyOf<K extends RouteName> = Operation<K> extends { requestBody?: infer R } ? Json<NonNullable<R>> : never;
/** The query parameters a route takes. */
export type QueryOf<K extends RouteName> = Operation<K> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
/** The path parameters a route takes. */
export type ParamsOf<K extends RouteName> = Operation<K> extends { parameters: { path: infer P } } ? P : never;
type Success<R> = R extends { 200: infer S } ? Json<S> : R extends { 201: infer S } ? Json<S> : unknown;
/** The whole success answer of a route, as the document describes it. */
export type AnswerOf<K extends RouteName> = Operation<K> extends { responses: infer R } ? Success<R> : unknown;
/** Its `data`. */
export type DataOf<K extends RouteName> = AnswerOf<K> extends { data: infer D } ? D : AnswerOf<K>;
