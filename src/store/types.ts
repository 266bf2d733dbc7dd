// Repository contracts. SQLite (better-sqlite3) implements them now, PostgreSQL next: every method is async so
// that a networked store fits, and all writes of one request go through one `transaction` call.
// Every query is scoped by `client` (the tenant): a row of another client is indistinguishable from a missing one.
import type {
  AuditEvent,
  Client,
  Collection,
  FacePerson,
  FaceTemplate,
  LivenessFrameRecord,
  LivenessSessionPatch,
  LivenessSessionRecord,
  LivenessSessionStatus,
  NewAuditEvent,
  NewCollection,
  NewFacePerson,
  NewFaceTemplate,
  NewLivenessFrame,
  NewLivenessSession,
  NewPersonRecord,
  NewToken,
  PersonRecord,
  TokenRecord,
  VerificationStatus,
} from '../domain/model.js';

import type { LivenessSessionRepo } from './livenessSessions.js';

// The nouns live in the domain; the stores' callers may keep importing them from here.
export type * from '../domain/model.js';

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
  /** `client` is a Client `id`. Throws ConflictError when `id` or (client, `code`) is taken. */
  create(c: NewCollection): Promise<Collection>;
  /** Looks a collection up by `id` or `code`. */
  get(client: string, idOrCode: string): Promise<Collection | null>;
  list(client: string, q: PageQuery & { search?: string }): Promise<Page<Collection>>;
  update(client: string, id: string, patch: Partial<Pick<Collection, 'name' | 'description'>>): Promise<Collection | null>;
  /** Deletes the collection and its memberships (persons stay). */
  delete(client: string, id: string): Promise<boolean>;
}

export interface FacePersonRepo {
  /**
   * `collections` may name collections by `id` or `code` (the stored and returned list holds `id`s); an unknown or
   * foreign one throws UnknownReferenceError.
   */
  create(p: NewFacePerson): Promise<FacePerson>;
  get(client: string, id: string): Promise<FacePerson | null>;
  /** `after`: a person `id`; the page then starts right after that person (keyset paging). */
  list(client: string, q: PageQuery & { collection?: string; search?: string; after?: string }): Promise<Page<FacePerson>>;
  update(
    client: string,
    id: string,
    patch: Partial<Pick<FacePerson, 'name' | 'gender' | 'dateOfBirth' | 'nationality' | 'notes' | 'collections'>>,
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
