// Generic persons (`/v2/persons`): identity records with optional biometric data and a verification status.
// `biometricData.faceImage` enrols one face template (never stored as an image, never echoed back); the liveness
// flow runs the engine's liveness check and decides `verified` or `failed`.
import { erasePerson } from './erasure.js';
import { newPersonRecordId } from './ids.js';
import type { PersonRecord, Repos, VerificationStatus } from './ports.js';
import { normaliseBirthDate } from './dates.js';
import type { DomainDeps, Paged, Paging } from './deps.js';
import { NotFoundError } from './errors.js';
import { livenessPasses, roundScore } from './scores.js';
import { analyseEnrolment, templateRows, type InputImage } from './faces.js';
import { claimSession } from './livenessSessions.js';

type Details = Pick<PersonRecord, 'firstName' | 'lastName' | 'email' | 'phone' | 'dateOfBirth' | 'documentType' | 'documentNumber'>;

export type PersonInput = { [K in keyof Details]?: string } & { faceImage?: InputImage };
/** PUT: `null` clears a field; a new `faceImage` replaces the template and resets the verification. */
export type PersonPatch = { [K in keyof Details]?: string | null } & { faceImage?: InputImage };

export interface PersonView {
  /** With `verificationStatus` as reported now (`expired` when a verification outlived the TTL). */
  record: PersonRecord;
  /** A face template is enrolled for this person. */
  faceEnrolled: boolean;
}

export interface LivenessOutcome {
  score: number;
  minScore: number;
  passed: boolean;
  signals: Record<string, number>;
}

const DETAIL_FIELDS = ['firstName', 'lastName', 'email', 'phone', 'dateOfBirth', 'documentType', 'documentNumber'] as const;

function cleanDetails(input: { [K in keyof Details]?: string | null }, now: Date): Partial<Details> {
  const out: Partial<Details> = {};
  for (const k of DETAIL_FIELDS) {
    const v = input[k];
    if (v === undefined) continue;
    const t = v === null ? '' : v.trim();
    out[k] = t === '' ? null : k === 'dateOfBirth' ? normaliseBirthDate(t, k, now) : k === 'email' ? t.toLowerCase() : t;
  }
  return out;
}

/** The status a client sees: a verification older than the TTL has expired. */
export function reportedStatus(record: PersonRecord, ttlMs: number, now: Date): VerificationStatus {
  // Verification happens only when the record is created (the liveness flow), so its age is the record's age.
  if (record.verificationStatus === 'verified' && now.getTime() - Date.parse(record.createdAt) > ttlMs) return 'expired';
  return record.verificationStatus;
}

async function view(deps: DomainDeps, repos: Pick<Repos, 'templates'>, record: PersonRecord): Promise<PersonView> {
  const now = deps.now?.() ?? new Date();
  const faceEnrolled = (await repos.templates.listForPerson(record.client, record.id)).length > 0;
  return {
    record: { ...record, verificationStatus: reportedStatus(record, deps.settings.personVerificationTtlMs, now) },
    faceEnrolled,
  };
}

function blankRecord(): Omit<PersonRecord, 'id' | 'client' | 'createdAt' | 'updatedAt'> {
  return {
    firstName: null,
    lastName: null,
    email: null,
    phone: null,
    dateOfBirth: null,
    documentType: null,
    documentNumber: null,
    livenessScore: null,
    verificationStatus: 'pending',
  };
}

export async function createPerson(deps: DomainDeps, client: string, input: PersonInput): Promise<PersonView> {
  const now = deps.now?.() ?? new Date();
  const details = cleanDetails(input, now);
  const faces = input.faceImage ? (await analyseEnrolment(deps.engine, [input.faceImage], { thumbnails: false, tenant: client })).faces : null;
  const id = newPersonRecordId();
  return deps.store.transaction(async (tx) => {
    const record = await tx.persons.create({ ...blankRecord(), ...details, id, client });
    if (faces) for (const row of templateRows(deps.engine, client, id, faces)) await tx.templates.add(row);
    return view(deps, tx, record);
  });
}

/**
 * Creates a person from a live capture: the face must pass the engine's liveness check with at least `minScore`
 * to be `verified`; otherwise the record is kept as `failed` with its score, and no template is enrolled (a
 * presentation attack must not become a reference face).
 */
export async function createPersonWithLiveness(
  deps: DomainDeps,
  client: string,
  input: PersonInput & ({ faceImage: InputImage } | { livenessSessionId: string }),
  minScore: number = deps.settings.livenessMinScore,
): Promise<PersonView & { liveness: LivenessOutcome }> {
  const now = deps.now?.() ?? new Date();
  const details = cleanDetails(input, now);
  let faces, raw;
  if ('livenessSessionId' in input) {
    // A SUCCEEDED session (used up here): its challenge was the liveness check, its reference frame the face.
    const session = await claimSession(deps, client, input.livenessSessionId);
    faces = (await analyseEnrolment(deps.engine, [session.reference], { thumbnails: false, tenant: client })).faces;
    await session.consume(); // only once the engine has read the frame
    raw = { score: session.score, signals: {} };
  } else {
    const analysed = await analyseEnrolment(deps.engine, [input.faceImage], { thumbnails: false, liveness: true, tenant: client });
    faces = analysed.faces;
    raw = analysed.analysis.liveness ?? faces[0].liveness;
  }
  if (!raw) throw new Error('face engine returned no liveness result');
  // Rounded as /face-recognition/liveness rounds it, before the comparison, so the stored score decides.
  const result = { score: roundScore(raw.score), signals: Object.fromEntries(Object.entries(raw.signals).map(([k, v]) => [k, roundScore(v)])) };
  // A session's verdict is its own (claimSession admits only one that SUCCEEDED at its floor, see liveEnrolment.ts);
  // `minScore` is the threshold of a single photo.
  const passed = 'livenessSessionId' in input ? true : livenessPasses(result.score, minScore);
  const id = newPersonRecordId();
  const created = await deps.store.transaction(async (tx) => {
    const record = await tx.persons.create({
      ...blankRecord(),
      ...details,
      id,
      client,
      livenessScore: result.score,
      verificationStatus: passed ? 'verified' : 'failed',
    });
    if (passed) for (const row of templateRows(deps.engine, client, id, faces)) await tx.templates.add(row);
    return view(deps, tx, record);
  });
  return { ...created, liveness: { score: result.score, minScore, passed, signals: result.signals } };
}

export async function getPerson(deps: DomainDeps, client: string, id: string): Promise<PersonView> {
  const record = await deps.store.persons.get(client, id);
  if (!record) throw new NotFoundError('person');
  return view(deps, deps.store, record);
}

export async function listPersons(deps: DomainDeps, client: string, q: Paging): Promise<Paged<PersonView>> {
  const page = await deps.store.persons.list(client, q);
  const items: PersonView[] = [];
  for (const r of page.items) items.push(await view(deps, deps.store, r));
  return { items, total: page.total, page: q.page, limit: q.limit };
}

export async function updatePerson(deps: DomainDeps, client: string, id: string, patch: PersonPatch): Promise<PersonView> {
  const now = deps.now?.() ?? new Date();
  const fields: Parameters<Repos['persons']['update']>[2] = cleanDetails(patch, now);
  if (!(await deps.store.persons.get(client, id))) throw new NotFoundError('person');
  const faces = patch.faceImage ? (await analyseEnrolment(deps.engine, [patch.faceImage], { thumbnails: false, tenant: client })).faces : null;
  if (faces) {
    // A new face voids the old verification: it was about another capture.
    fields.livenessScore = null;
    fields.verificationStatus = 'pending';
  }
  return deps.store.transaction(async (tx) => {
    const record = Object.keys(fields).length > 0 ? await tx.persons.update(client, id, fields) : await tx.persons.get(client, id);
    if (!record) throw new NotFoundError('person');
    if (faces) {
      await tx.templates.deleteForPerson(client, id);
      for (const row of templateRows(deps.engine, client, id, faces)) await tx.templates.add(row);
    }
    return view(deps, tx, record);
  });
}

/** Erases the record with every copy of its face (src/domain/erasure.ts names them). */
export async function deletePerson(deps: DomainDeps, client: string, id: string): Promise<void> {
  await erasePerson(deps, client, 'person_record', id);
}
