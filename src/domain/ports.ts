// The domain's repository ports, implemented side by side by SQLite (src/store/sqlite/, better-sqlite3) and PostgreSQL
// (src/store/postgres/, pg). Every method is async so that a networked store fits, and all writes of one request go
// through one `transaction` call. A database that cannot be reached throws StoreUnavailableError (src/domain/errors.ts).
// Every query is scoped by `client` (the tenant): a row of another client is indistinguishable from a missing one.
import type {
  AuditEvent,
  Client,
  Collection,
  FacePerson,
  FaceTemplate,
  IndexChange,
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
  SigningKeyRecord,
  TokenRecord,
  VerificationStatus,
} from './model.js';

import type { LivenessSessionRepo } from './livenessSessionRepo.js';

// The nouns live in the domain; the stores' callers may keep importing them from here.
export type * from './model.js';

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
  /**
   * Every face person's templates with its collections, for rebuilding the vector index at start-up: batches by
   * keyset from one consistent snapshot, never the whole table in memory. Not available inside a transaction.
   */
  iterateIndexEntries(): AsyncIterable<IndexEntry>;
  /** How many templates belong to face persons (what iterateIndexEntries() yields), for progress logging. */
  countIndexEntries(): Promise<number>;
}

/** What the vector index holds for one face person. */
export interface IndexEntry {
  client: string;
  person: string;
  collections: string[];
  templates: Pick<FaceTemplate, 'id' | 'embedding' | 'modelVersion'>[];
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

/**
 * The change feed: one row per face person whose index entry changed, appended by the repositories in the writing
 * transaction; commit order equals seq order, so a follower reading `since(cursor)` never skips a change.
 */
export interface ChangeFeedRepo {
  /** Highest committed seq (0 when none). */
  latest(): Promise<number>;
  /** Changes with seq > after, ascending, at most `limit`. */
  since(after: number, limit: number): Promise<IndexChange[]>;
  /** Retention: deletes changes with seq <= `upTo` and older than `olderThan` (ISO); returns how many. The newest
   *  change is always kept, so latest() never goes back. */
  prune(upTo: number, olderThan: string): Promise<number>;
}

export interface LockRepo {
  /**
   * Inside `store.transaction` only: blocks until no other transaction (of any instance) holds the same key; released
   * at commit or rollback. Throws outside a transaction.
   */
  dedup(client: string, collection: string): Promise<void>;
}

/** Response-signing keys, shared by every instance on one database (not per tenant). */
export interface SigningKeyRepo {
  /** Newest first. */
  list(): Promise<SigningKeyRecord[]>;
  /**
   * Inserts `key` as current and retires the previous current one, atomically. Returns false when another instance
   * rotated first (compare-and-set on the current kid `expectedCurrent`, null when there is none yet).
   */
  rotate(key: SigningKeyRecord, expectedCurrent: string | null): Promise<boolean>;
  /** Deletes retired keys retired before `before` (ISO); returns how many. */
  pruneRetired(before: string): Promise<number>;
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
  changes: ChangeFeedRepo;
  locks: LockRepo;
  signingKeys: SigningKeyRepo;
}

export interface Store extends Repos {
  readonly backend: 'sqlite' | 'postgres';
  /**
   * Runs `fn` in one transaction: all its writes land, or none. Do the slow work (face analysis) before calling
   * it; inside, only repository calls.
   */
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  /** True while the database is open and answering (readiness); false while it cannot be reached. */
  healthy(): Promise<boolean>;
  /**
   * A number that changes with every committed write to what the vector index holds (templates, face persons,
   * collection memberships), whoever writes it. Tags the index's graph snapshots (docs/index.md).
   */
  indexGeneration(): Promise<number>;
  /**
   * Calls `onWake` whenever changes may have been appended to the feed (by any instance); the consumer then reads
   * `changes.since(cursor)`. A wake-up may be spurious or coalesce several commits; after a lost connection it is
   * called once reconnected, so a missed notification loses nothing.
   */
  watchChanges(onWake: () => void): Promise<{ close(): Promise<void> }>;
  close(): Promise<void>;
}
