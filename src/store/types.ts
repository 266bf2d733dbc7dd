// Repository contracts. SQLite (better-sqlite3) implements them now, PostgreSQL next: every method is async so
// that a networked store fits, and all writes of one request go through one `transaction` call.
// Every query is scoped by `client` (the tenant): a row of another client is indistinguishable from a missing one.
import type { LivenessSessionRepo } from './livenessSessions.js';

export type * from './livenessSessions.js';

export interface Client {
  id: string;
  name: string;
  createdAt: string;
}

export interface TokenRecord {
  id: string;
  client: string;
  /** Hash of the secret (the secret itself is never stored). */
  hash: string;
  label: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface Collection {
  _id: string;
  code: string;
  name: string;
  description: string;
  client: string;
  createdAt: string;
  updatedAt: string;
}

export interface FacePerson {
  _id: string;
  client: string;
  name: string;
  gender: 'M' | 'F' | null;
  date_of_birth: string | null;
  nationality: string | null;
  notes: string | null;
  /** Collection `_id`s. */
  collections: string[];
  createdAt: string;
  updatedAt: string;
}

export interface FaceQualityRecord {
  faceSize: number;
  sharpness: number;
  yaw: number;
  pitch: number;
  roll: number;
  brightness: number;
}

export interface FaceTemplate {
  /** Integer row id: the vector index keys templates by it. */
  id: number;
  client: string;
  /** Owner: a face person `_id` or a generic person `id`. */
  person: string;
  /** Position of the source image in the enrolment request. */
  imageIndex: number;
  modelVersion: string;
  embedding: Float32Array;
  /** Small JPEG of the aligned face. */
  thumbnail: Uint8Array | null;
  quality: FaceQualityRecord | null;
  createdAt: string;
}

export type NewFaceTemplate = Omit<FaceTemplate, 'id' | 'createdAt'>;

// Inputs of the `create` methods. Ids may be left out: the store then makes them (`_id`: 24 random lowercase hex
// chars like a Mongo ObjectId, collection `code`: uuid v4, generic person `id`: `person_` + 24 hex, token `id`: 24 hex).
export type NewToken = Omit<TokenRecord, 'id' | 'createdAt' | 'revokedAt'> & { id?: string };
export type NewCollection = Omit<Collection, '_id' | 'code' | 'createdAt' | 'updatedAt'> & { _id?: string; code?: string };
export type NewFacePerson = Omit<FacePerson, '_id' | 'createdAt' | 'updatedAt'> & { _id?: string };
export type NewPersonRecord = Omit<PersonRecord, 'id' | 'createdAt' | 'updatedAt'> & { id?: string };

export type VerificationStatus = 'pending' | 'verified' | 'failed' | 'expired';

/** The generic `/v2/persons` record. */
export interface PersonRecord {
  id: string;
  client: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  phone: string | null;
  dateOfBirth: string | null;
  documentType: string | null;
  documentNumber: string | null;
  livenessScore: number | null;
  verificationStatus: VerificationStatus;
  createdAt: string;
  updatedAt: string;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface PageQuery {
  page: number; // 1-based
  limit: number;
}

export interface ClientRepo {
  create(name: string): Promise<Client>;
  getByName(name: string): Promise<Client | null>;
  get(id: string): Promise<Client | null>;
  /** Every client, oldest first (operators' CLI). */
  list(): Promise<Client[]>;
}

export interface TokenRepo {
  create(t: NewToken): Promise<TokenRecord>;
  findByHash(hash: string): Promise<TokenRecord | null>;
  list(client?: string): Promise<TokenRecord[]>;
  /** Returns false when no such (unrevoked) token exists. */
  revoke(id: string): Promise<boolean>;
}

export interface CollectionRepo {
  /** `client` is a Client `id`. Throws ConflictError when `_id` or (client, `code`) is taken. */
  create(c: NewCollection): Promise<Collection>;
  /** Looks a collection up by `_id` or `code`. */
  get(client: string, idOrCode: string): Promise<Collection | null>;
  list(client: string, q: PageQuery & { search?: string }): Promise<Page<Collection>>;
  update(client: string, id: string, patch: Partial<Pick<Collection, 'name' | 'description'>>): Promise<Collection | null>;
  /** Deletes the collection and its memberships (persons stay). */
  delete(client: string, id: string): Promise<boolean>;
}

export interface FacePersonRepo {
  /**
   * `collections` may name collections by `_id` or `code` (the stored and returned list holds `_id`s); an unknown or
   * foreign one throws UnknownReferenceError.
   */
  create(p: NewFacePerson): Promise<FacePerson>;
  get(client: string, id: string): Promise<FacePerson | null>;
  /** `after`: a person `_id`; the page then starts right after that person (keyset paging). */
  list(client: string, q: PageQuery & { collection?: string; search?: string; after?: string }): Promise<Page<FacePerson>>;
  update(
    client: string,
    id: string,
    patch: Partial<Pick<FacePerson, 'name' | 'gender' | 'date_of_birth' | 'nationality' | 'notes' | 'collections'>>,
  ): Promise<FacePerson | null>;
  /** Deletes the person, its memberships and its templates (biometric data erased, not flagged). */
  delete(client: string, id: string): Promise<boolean>;
}

export interface TemplateRepo {
  add(t: NewFaceTemplate): Promise<FaceTemplate>;
  listForPerson(client: string, person: string): Promise<FaceTemplate[]>;
  deleteForPerson(client: string, person: string): Promise<number>;
  /** Templates made by another model version than `modelVersion`, in id order after `afterId` (all tenants). */
  listStale(modelVersion: string, afterId: number, limit: number): Promise<FaceTemplate[]>;
  /** How many templates were made by another model version than `modelVersion`. */
  countStale(modelVersion: string): Promise<number>;
  /**
   * Replaces a template's embedding, model version, quality and stored face image in place (same id, same owner):
   * the model-upgrade path. False when the template no longer exists (its person was erased meanwhile).
   */
  reembed(id: number, t: Pick<FaceTemplate, 'modelVersion' | 'embedding' | 'thumbnail' | 'quality'>): Promise<boolean>;
  /** Every face person's templates with its collections, for rebuilding the vector index at start-up. */
  iterateIndexEntries(): AsyncIterable<{ client: string; person: string; collections: string[]; templates: Pick<FaceTemplate, 'id' | 'embedding' | 'modelVersion'>[] }>;
}

export interface PersonRecordRepo {
  create(p: NewPersonRecord): Promise<PersonRecord>;
  get(client: string, id: string): Promise<PersonRecord | null>;
  list(client: string, q: PageQuery & { status?: VerificationStatus }): Promise<Page<PersonRecord>>;
  update(client: string, id: string, patch: Partial<Omit<PersonRecord, 'id' | 'client' | 'createdAt' | 'updatedAt'>>): Promise<PersonRecord | null>;
  delete(client: string, id: string): Promise<boolean>;
}

/**
 * One security-relevant action (docs/audit.md). Ids only: never names, images or templates, so the record can
 * outlive an erasure.
 */
export interface AuditEvent {
  /** Increasing, never reused. */
  seq: number;
  /** ISO 8601 UTC. */
  at: string;
  /** Client (tenant) id; null when unauthenticated. */
  client: string | null;
  /** Token id (never the secret); null when unauthenticated or from the CLI. */
  token: string | null;
  /** Request id (the envelope's `id`). */
  request: string | null;
  /** `POST /v2/face-recognition/persons` or `cli tokens create`. */
  route: string;
  /** e.g. `face_person.enrol`, `search`, `token.revoke`. */
  action: string;
  /** `ok`, `rejected` (4xx), `failed` (5xx). */
  outcome: 'ok' | 'rejected' | 'failed';
  /** HTTP status, when there is one. */
  status: number | null;
  /** Id of the record acted on (person, collection, token). */
  subject: string | null;
  /** Further facts: ids a search returned, a liveness verdict, an error code. Ids and numbers only. */
  details: Record<string, unknown> | null;
}

export type NewAuditEvent = Omit<AuditEvent, 'seq' | 'at'> & { at?: string };

export interface AuditRepo {
  append(e: NewAuditEvent): Promise<AuditEvent>;
  /** Events at or after `since` (ISO), oldest first, after sequence number `after`, at most `limit`. */
  list(q: { since: string; after?: number; limit: number }): Promise<AuditEvent[]>;
  /** Retention: deletes events older than `before` (ISO, at least a day ago); returns how many. */
  prune(before: string): Promise<number>;
}

export interface Repos {
  audit: AuditRepo;
  clients: ClientRepo;
  tokens: TokenRepo;
  collections: CollectionRepo;
  facePersons: FacePersonRepo;
  templates: TemplateRepo;
  persons: PersonRecordRepo;
  livenessSessions: LivenessSessionRepo;
}

export interface Store extends Repos {
  /**
   * Runs `fn` in one transaction: all its writes land, or none. Do the slow work (face analysis) before calling
   * it; inside, only repository calls.
   */
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  /** True while the database is open and answering (readiness). */
  healthy(): Promise<boolean>;
  /**
   * A number that changes with every committed write to what the vector index holds (templates, face persons,
   * collection memberships), whoever writes it. Tags the index's graph snapshots (docs/index.md).
   */
  indexGeneration(): Promise<number>;
  close(): Promise<void>;
}
