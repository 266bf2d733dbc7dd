// FacegateClient: one method per route of the server (src/routes.ts), typed from its OpenAPI document.
import { queryString, Transport, type Answer, type TransportOptions } from './http.js';
import { ROUTES, type BodyOf, type DataOf, type QueryOf, type RouteName } from './routes.js';

export type ClientOptions = TransportOptions;


export class FacegateClient {
  private readonly http: Transport;

  constructor(options: ClientOptions) {
    this.http = new Transport(options);
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /** Any route by name: path parameters filled in, the query appended, the body sent as JSON. */
  async call<K extends RouteName>(
    route: K,
    req: { params?: Record<string, string>; query?: QueryOf<K>; body?: BodyOf<K> } = {},
  ): Promise<Answer<DataOf<K>>> {
    const [method, template] = ROUTES[route];
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const v = req.params?.[name];
      if (!v) throw new TypeError(`${route}: the path parameter ${name} is required`);
      return encodeURIComponent(v);
    });
    const auth = !(route === 'health' || route === 'jwks');
    return this.http.call<DataOf<K>>(method, path + queryString(req.query as never), req.body, { auth });
  }

  health() { return this.call('health'); }
  /** The public keys that sign answers (see verifyAnswer). */
  async jwks(): Promise<{ keys: Record<string, string>[] }> {
    const a = await this.call('jwks');
    return a as unknown as { keys: Record<string, string>[] };
  }

  // Collections
  createCollection(body: BodyOf<'createCollection'>) { return this.call('createCollection', { body }); }
  listCollections(query: QueryOf<'listCollections'> = {}) { return this.call('listCollections', { query }); }
  getCollection(id: string) { return this.call('getCollection', { params: { id } }); }
  updateCollection(id: string, body: BodyOf<'updateCollection'>) { return this.call('updateCollection', { params: { id }, body }); }
  deleteCollection(id: string) { return this.call('deleteCollection', { params: { id } }); }

  // Face persons
  createPerson(body: BodyOf<'createPerson'>) { return this.call('createPerson', { body }); }
  listPersons(query: QueryOf<'listPersons'> = {}) { return this.call('listPersons', { query }); }
  getPerson(id: string) { return this.call('getPerson', { params: { id } }); }
  updatePerson(id: string, body: BodyOf<'updatePerson'>) { return this.call('updatePerson', { params: { id }, body }); }
  /** With `collection`, takes the person out of that collection only (erased when it was the last). */
  deletePerson(id: string, query: QueryOf<'deletePerson'> = {}) { return this.call('deletePerson', { params: { id }, query }); }

  // Search and compare
  searchActiveUser(body: BodyOf<'searchActiveUser'>) { return this.call('searchActiveUser', { body }); }
  /** Liveness, 1:N de-duplication in `collection_id`, then enrolment (409 duplicated_person when found). */
  searchLiveFace(body: BodyOf<'searchLiveFace'>) { return this.call('searchLiveFace', { body }); }
  /** Liveness then 1:N search, no enrolment. */
  searchLiveFaceOnly(body: BodyOf<'searchLiveFaceOnly'>) { return this.call('searchLiveFaceOnly', { body }); }
  search(body: BodyOf<'search'>) { return this.call('search', { body }); }
  searchCrops(body: BodyOf<'searchCrops'>) { return this.call('searchCrops', { body }); }
  verify(body: BodyOf<'verify'>) { return this.call('verify', { body }); }
  compare(body: BodyOf<'compare'>) { return this.call('compare', { body }); }
  compareLive(body: BodyOf<'compareLive'>) { return this.call('compareLive', { body }); }
  compareWithLiveness(body: BodyOf<'compareWithLiveness'>) { return this.call('compareWithLiveness', { body }); }
  liveness(body: BodyOf<'liveness'>) { return this.call('liveness', { body }); }
  detect(body: BodyOf<'detect'>) { return this.call('detect', { body }); }

  // Liveness sessions
  createLivenessSession(body: BodyOf<'createLivenessSession'> = {} as BodyOf<'createLivenessSession'>) { return this.call('createLivenessSession', { body }); }
  getLivenessSession(sessionId: string) { return this.call('getLivenessSession', { params: { session_id: sessionId } }); }
  postLivenessFrames(sessionId: string, body: BodyOf<'postLivenessFrames'>) { return this.call('postLivenessFrames', { params: { session_id: sessionId }, body }); }

  // Person records
  createRecord(body: BodyOf<'createRecord'>) { return this.call('createRecord', { body }); }
  createRecordWithLiveness(body: BodyOf<'createRecordWithLiveness'>) { return this.call('createRecordWithLiveness', { body }); }
  listRecords(query: QueryOf<'listRecords'> = {}) { return this.call('listRecords', { query }); }
  getRecord(id: string) { return this.call('getRecord', { params: { id } }); }
  updateRecord(id: string, body: BodyOf<'updateRecord'>) { return this.call('updateRecord', { params: { id }, body }); }
  deleteRecord(id: string) { return this.call('deleteRecord', { params: { id } }); }
}

