// The nouns of the domain, in one place and in camelCase. Wire casing (`_id`, `date_of_birth`) belongs to the HTTP
// presenters (src/http/presenters.ts); column names belong to the stores (src/store/<backend>/).
import type { FaceQuality } from '../face/types.js';

/** A tenant: every record below belongs to exactly one. */
export interface Client {
  id: string;
  name: string;
  createdAt: string;
}

/** An API token. */
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

/** A named set of face persons to search in. */
export interface Collection {
  /** 24 lowercase hex chars (shaped like a Mongo ObjectId). */
  id: string;
  /** uuid v4, unique within the client. */
  code: string;
  name: string;
  description: string;
  client: string;
  createdAt: string;
  updatedAt: string;
}

/** An identity enrolled from face photos (`/v2/face-recognition/persons`). */
export interface FacePerson {
  /** 24 lowercase hex chars. */
  id: string;
  client: string;
  name: string;
  gender: 'M' | 'F' | null;
  /** YYYY-MM-DD. */
  dateOfBirth: string | null;
  nationality: string | null;
  notes: string | null;
  /** The caller's own identifier for the person (unique per tenant), or null. */
  externalId: string | null;
  /** Collection ids. */
  collections: string[];
  createdAt: string;
  updatedAt: string;
}

/** The quality measures stored with a template: the engine's own (src/face/types.ts). */
export type FaceQualityRecord = FaceQuality;

/** One enrolled face: the embedding the vector index holds, and a small image of it. */
export interface FaceTemplate {
  /** Integer row id: the vector index keys templates by it. */
  id: number;
  client: string;
  /** Owner: a face person id or a generic person id. */
  person: string;
  /** Position of the source image in the enrolment request. */
  imageIndex: number;
  modelVersion: string;
  embedding: Float32Array;
  /** Small JPEG of the aligned face. */
  thumbnail: Uint8Array | null;
  quality: FaceQualityRecord | null;
  /** SHA-256 (hex) of the photo the template was made from, when known: lets a bulk import skip photos already in. */
  sourceDigest: string | null;
  createdAt: string;
}

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

// Inputs of the stores' `create` methods. Ids may be left out: the store then makes them (`id`: 24 random lowercase
// hex chars like a Mongo ObjectId, collection `code`: uuid v4, generic person `id`: `person_` + 24 hex, token `id`:
// 24 hex).
export type NewFaceTemplate = Omit<FaceTemplate, 'id' | 'createdAt' | 'sourceDigest'> & { sourceDigest?: string | null };
export type NewToken = Omit<TokenRecord, 'id' | 'createdAt' | 'revokedAt'> & { id?: string };
export type NewCollection = Omit<Collection, 'id' | 'code' | 'createdAt' | 'updatedAt'> & { id?: string; code?: string };
export type NewFacePerson = Omit<FacePerson, 'id' | 'createdAt' | 'updatedAt' | 'externalId'> & { id?: string; externalId?: string | null };
export type NewPersonRecord = Omit<PersonRecord, 'id' | 'createdAt' | 'updatedAt'> & { id?: string };

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
  /** Token id (never the secret): the bearer token, or the one a console session was opened with; null for operators. */
  token: string | null;
  /** How the action came: `api` (bearer token), `console` (a console session), `operator` (CLI, start-up); null before migration 10 (SQLite) / 5 (PostgreSQL). */
  via: 'api' | 'console' | 'operator' | null;
  /** The server's request id (the envelope's `id` and signed `id`). */
  request: string | null;
  /** The caller's own `x-request-id`, when it sent one: its value, never the record's `request`. */
  callerRequest: string | null;
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

export type NewAuditEvent = Omit<AuditEvent, 'seq' | 'at' | 'via' | 'callerRequest'> & { at?: string; via?: AuditEvent['via']; callerRequest?: string | null };

import type { LivenessSessionStatus } from './livenessSessionStates.js';
export type { LivenessSessionStatus, SessionEvent } from './livenessSessionStates.js';

/** A challenge-response liveness session. */
export interface LivenessSessionRecord {
  id: string;
  client: string;
  status: LivenessSessionStatus;
  steps: string[];
  nonce: string;
  /** Passive liveness score the frames must reach together. */
  minScore: number;
  /** Attempts allowed (the retry budget) and attempts that failed so far. */
  maxAttempts: number;
  failedAttempts: number;
  /** The verdict (or the last failed attempt's), as the domain shapes it. */
  result: unknown;
  createdAt: string;
  updatedAt: string;
  expiresAt: string;
  /** When a flow (enrolment, search-live-face…) used the session; it can be used once. */
  consumedAt: string | null;
  /** When it SUCCEEDED: a flow may use it for `validFor` seconds from then. */
  succeededAt: string | null;
  validFor: number;
  /** SHA-256 of the browser's capture credential (never the credential itself); null for sessions without one. */
  captureTokenHash: string | null;
  /** The one web origin allowed to use the capture credential from a browser; null: any. */
  allowedOrigin: string | null;
}

export interface NewLivenessSession {
  id: string;
  client: string;
  steps: string[];
  nonce: string;
  minScore: number;
  maxAttempts: number;
  createdAt: string;
  expiresAt: string;
  captureTokenHash: string | null;
  validFor: number;
  allowedOrigin?: string | null;
}

/** One frame posted to a liveness session. */
export interface LivenessFrameRecord {
  id: number;
  attempt: number;
  seq: number;
  timestampMs: number;
  /** What the engine measured (pose, landmarks, passive score…), as the domain shapes it. */
  analysis: unknown;
  embedding: Float32Array | null;
  /** The posted image (only when asked for). */
  image?: Uint8Array;
  /** 'reference' or 'audit' once the verdict kept the frame. */
  role: string | null;
}

export type NewLivenessFrame = Omit<LivenessFrameRecord, 'id' | 'role'>;

/** What a transition writes besides the status (src/domain/livenessSessionStates.ts decides the status). */
export type LivenessSessionPatch = Partial<Pick<LivenessSessionRecord, 'failedAttempts' | 'result'>>;

/** One committed change to what the vector index holds for one face person. */
export interface IndexChange {
  /** Strictly increasing; commit order equals seq order. */
  seq: number;
  client: string;
  /** Face person whose index entry must be re-read from the store (gone: remove it). */
  person: string;
  /** ISO time of the write. */
  at: string;
}

/** A response-signing key, shared by every instance on one database. */
export interface SigningKeyRecord {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  /** JWK, as JSON. */
  privateJwk: string;
  /** JWK, as JSON. */
  publicJwk: string;
  createdAt: string;
  /** null: the current key. */
  retiredAt: string | null;
}
