// Rows → the domain's nouns, and the defaults of new records, shared by both backends: their tables and columns are
// the same (./sqlite/migrations.ts, ./postgres/migrations.ts), and both drivers hand back text as strings and NULL
// as null.
import type {
  Client,
  Collection,
  FacePerson,
  NewCollection,
  NewToken,
  PersonRecord,
  SigningKeyRecord,
  TokenRecord,
  VerificationStatus,
} from '../domain/model.js';
import { newCollectionCode, newObjectId } from '../domain/ids.js';
import { isoNow } from './shared.js';

type Row = Record<string, unknown>;

export const toClient = (r: Row): Client => ({ id: r.id as string, name: r.name as string, createdAt: r.created_at as string });

export const toToken = (r: Row): TokenRecord => ({
  id: r.id as string,
  client: r.client_id as string,
  hash: r.hash as string,
  label: (r.label as string | null) ?? null,
  createdAt: r.created_at as string,
  expiresAt: (r.expires_at as string | null) ?? null,
  revokedAt: (r.revoked_at as string | null) ?? null,
});

export const toCollection = (r: Row): Collection => ({
  id: r.id as string,
  code: r.code as string,
  name: r.name as string,
  description: r.description as string,
  client: r.client_id as string,
  createdAt: r.created_at as string,
  updatedAt: r.updated_at as string,
});

export const toFacePerson = (r: Row, collections: string[]): FacePerson => ({
  id: r.id as string,
  client: r.client_id as string,
  name: r.name as string,
  gender: (r.gender as 'M' | 'F' | null) ?? null,
  dateOfBirth: (r.date_of_birth as string | null) ?? null,
  nationality: (r.nationality as string | null) ?? null,
  notes: (r.notes as string | null) ?? null,
  collections,
  createdAt: r.created_at as string,
  updatedAt: r.updated_at as string,
});

export const toPersonRecord = (r: Row): PersonRecord => ({
  id: r.id as string,
  client: r.client_id as string,
  firstName: (r.first_name as string | null) ?? null,
  lastName: (r.last_name as string | null) ?? null,
  email: (r.email as string | null) ?? null,
  phone: (r.phone as string | null) ?? null,
  dateOfBirth: (r.date_of_birth as string | null) ?? null,
  documentType: (r.document_type as string | null) ?? null,
  documentNumber: (r.document_number as string | null) ?? null,
  livenessScore: (r.liveness_score as number | null) ?? null,
  verificationStatus: r.verification_status as VerificationStatus,
  createdAt: r.created_at as string,
  updatedAt: r.updated_at as string,
});

export const toKey = (r: Row): SigningKeyRecord => ({
  kid: r.kid as string,
  alg: r.alg as SigningKeyRecord['alg'],
  privateJwk: r.private_jwk as string,
  publicJwk: r.public_jwk as string,
  createdAt: r.created_at as string,
  retiredAt: (r.retired_at as string | null) ?? null,
});

/** A collection as `create` stores it: ids made when not given, an empty description by default. */
export function newCollectionRecord(c: NewCollection): Collection {
  const now = isoNow();
  return {
    id: c.id ?? newObjectId(),
    code: c.code ?? newCollectionCode(),
    name: c.name,
    description: c.description ?? '',
    client: c.client,
    createdAt: now,
    updatedAt: now,
  };
}

/** A token as `create` stores it (the hash only; never the secret). */
export function newTokenRecord(t: NewToken): TokenRecord {
  return {
    id: t.id ?? newObjectId(),
    client: t.client,
    hash: t.hash,
    label: t.label ?? null,
    createdAt: isoNow(),
    expiresAt: t.expiresAt ?? null,
    revokedAt: null,
  };
}
