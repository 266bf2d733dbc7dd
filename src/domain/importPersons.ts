// Bulk enrolment (`npm run cli -- import`, docs/import-export.md): one person of an import at a time, through the
// same steps as POST /v2/face-recognition/persons (the engine's analysis, one face per photo, one person per
// enrolment, createAnalysedFacePerson's single write transaction and index update), with what a bulk load needs on
// top: a photo that fails is refused on its own (the person is enrolled from the others) instead of failing the
// whole person, a person already in (by your id, or by the digest of a photo) is skipped so a run can be repeated,
// and a face that matches someone already enrolled is refused as a duplicate rather than enrolled twice.
import { EngineBusyError } from '../face/errors.js';
import type { DetectedFace } from '../face/types.js';
import { normaliseBirthDate } from './dates.js';
import type { Repos } from './ports.js';
import type { DomainDeps } from './deps.js';
import { ConflictError, DifferentPersonError, FaceCountError, ImageInputError, InvalidFieldError, UnknownCollectionError } from './errors.js';
import { analyseEnrolment, assertOnePerson, imageDigest, type EnrolFace, type InputImage } from './faces.js';
import { createAnalysedFacePerson, samePersonMinScore, type FacePersonInput, type FacePersonView } from './facePersons.js';
import { KeyedQueue } from './keyedQueue.js';
import { searchIndex } from './search.js';

/** Why a photo or a person was not enrolled; every one appears in the import's report. */
export type RefusalReason =
  | 'unreadable_file' // not an image, an unsupported format, or a file that cannot be read
  | 'too_large' // more bytes than MAX_IMAGE_BYTES, or too many pixels
  | 'too_small' // too few pixels to hold a usable face
  | 'no_face'
  | 'several_faces' // two or more faces of comparable size: which one is the person?
  | 'different_person' // does not show the same person as the person's other photos
  | 'too_many_images' // past MAX_IMAGES photos for one person (the API's limit per enrolment)
  | 'no_usable_photo' // every photo of the person was refused
  | 'duplicate' // the face matches someone already enrolled
  | 'invalid_field' // a field the API would refuse (a date of birth that does not exist, a blank name)
  | 'unknown_collection'
  | 'external_id_taken'; // another person got this external id meanwhile

export interface PhotoRefusal {
  /** The photo (its path, as the source named it). */
  photo: string;
  reason: RefusalReason;
  detail?: string;
}

/** One person to import: the API's fields, and its photos (`field` names the photo: its path). */
export interface ImportCandidate extends Omit<FacePersonInput, 'images' | 'liveness_session_id'> {
  images: InputImage[];
  /** Photos the caller could not even read (missing, too large): refused without engine time. */
  unreadable?: PhotoRefusal[];
}

export interface DuplicateOf {
  id: string;
  externalId: string | null;
  score: number;
}

export type ImportOutcome =
  | { status: 'imported'; person: FacePersonView; photos: number; refused: PhotoRefusal[] }
  /** Dry run: what a real run would enrol (the duplicate check runs against what is enrolled now). */
  | { status: 'would_import'; photos: number; refused: PhotoRefusal[] }
  | { status: 'skipped'; person: string; by: 'external_id' | 'photo_digest' }
  | { status: 'refused'; reason: RefusalReason; detail: string; refused: PhotoRefusal[]; duplicateOf?: DuplicateOf };

export interface ImportOptions {
  /** Analyse and check only; write nothing. */
  dryRun?: boolean;
  /**
   * A face scoring at least this against someone already enrolled (in any collection of the client) is a
   * duplicate; null turns the check off. Default 0.8, the API's default search threshold.
   */
  duplicateMinScore?: number | null;
  /** Photos one person may be enrolled from (MAX_IMAGES). Default 5. */
  maxImages?: number;
  /** Audit route name. Default `cli import`. */
  route?: string;
}

export const DEFAULT_DUPLICATE_MIN_SCORE = 0.8;

/** A duplicate found inside the write transaction (aborts it). */
class DuplicateFound extends Error {
  constructor(readonly match: DuplicateOf) {
    super('duplicate');
  }
}

/**
 * The duplicate check and the write must not interleave with another import's of the same client, or two photos of
 * one person in two folders would both pass: one write at a time per client (the analysis, the slow part, runs
 * concurrently). Per store, i.e. per process.
 */
const writeQueues = new WeakMap<object, KeyedQueue>();
function writeQueue(store: object): KeyedQueue {
  let q = writeQueues.get(store);
  if (!q) writeQueues.set(store, (q = new KeyedQueue()));
  return q;
}

function photoRefusal(photo: string, err: unknown): PhotoRefusal | null {
  if (err instanceof FaceCountError) return { photo, reason: err.problem === 'no_face' ? 'no_face' : 'several_faces' };
  if (err instanceof ImageInputError) {
    const reason: RefusalReason =
      err.problem === 'too_small' ? 'too_small' : err.problem === 'too_large' || err.problem === 'too_many_pixels' ? 'too_large' : 'unreadable_file';
    return { photo, reason, detail: err.message };
  }
  return null;
}

/** engine.analyze through analyseEnrolment, waiting while the engine's queue is full (it says for how long). */
async function analyseOne(deps: DomainDeps, client: string, image: InputImage): Promise<DetectedFace> {
  for (;;) {
    try {
      return (await analyseEnrolment(deps.engine, [image], { tenant: client })).faces[0];
    } catch (err) {
      if (!(err instanceof EngineBusyError)) throw err;
      await new Promise((r) => setTimeout(r, Math.max(50, err.retryAfterSeconds * 250)));
    }
  }
}

/** Is the person already in? By external id when it has one, else by the digest of any of its photos. */
export async function findImported(deps: DomainDeps, client: string, c: Pick<ImportCandidate, 'external_id' | 'images'>): Promise<{ person: string; by: 'external_id' | 'photo_digest' } | null> {
  if (c.external_id !== undefined && c.external_id.trim() !== '') {
    const p = await deps.store.facePersons.getByExternalId(client, c.external_id.trim());
    return p ? { person: p.id, by: 'external_id' } : null;
  }
  const found = await deps.store.templates.personsBySource(client, c.images.map((i) => imageDigest(i.bytes)));
  const [person] = found.values();
  return person ? { person, by: 'photo_digest' } : null;
}

async function duplicateOf(deps: DomainDeps, repos: Pick<Repos, 'facePersons'>, client: string, faces: DetectedFace[], minScore: number): Promise<DuplicateOf | null> {
  const [hit] = searchIndex(deps, client, faces, { mode: 'ACCURATE', minScore, k: 1 });
  if (!hit) return null;
  const p = await repos.facePersons.get(client, hit.id);
  return { id: hit.id, externalId: p?.externalId ?? null, score: hit.score };
}

/** Imports one person (see the module comment). Never throws for a refusal: the outcome says it. */
export async function importPerson(deps: DomainDeps, client: string, c: ImportCandidate, opts: ImportOptions = {}): Promise<ImportOutcome> {
  const refused: PhotoRefusal[] = [...(c.unreadable ?? [])];
  const existing = await findImported(deps, client, c);
  if (existing) return { status: 'skipped', ...existing };
  // Fields first, as the API checks them: a date that does not exist should cost no engine time.
  try {
    if (c.name.trim() === '') throw new InvalidFieldError('name', '"name" is not allowed to be empty');
    if (c.date_of_birth !== undefined) normaliseBirthDate(c.date_of_birth, 'date_of_birth', deps.now?.() ?? new Date());
  } catch (err) {
    if (err instanceof InvalidFieldError) return { status: 'refused', reason: 'invalid_field', detail: err.message, refused };
    throw err;
  }

  // Each photo analysed on its own, so that one bad photo is refused alone.
  const analysed = await Promise.all(
    c.images.map(async (image) => {
      try {
        return { image, face: await analyseOne(deps, client, image) };
      } catch (err) {
        const r = photoRefusal(image.field, err);
        if (!r) throw err;
        refused.push(r);
        return null;
      }
    }),
  );
  let usable = analysed.filter((a): a is { image: InputImage; face: DetectedFace } => a !== null);
  const maxImages = opts.maxImages ?? 5;
  for (const extra of usable.slice(maxImages)) refused.push({ photo: extra.image.field, reason: 'too_many_images', detail: `only ${maxImages} photos per person (MAX_IMAGES)` });
  usable = usable.slice(0, maxImages);
  // One person per enrolment: the photo that disagrees with the others goes, until the rest agree.
  for (;;) {
    try {
      assertOnePerson(deps.engine, usable.map((u) => u.face), usable.map((u) => u.image), samePersonMinScore(deps));
      break;
    } catch (err) {
      if (!(err instanceof DifferentPersonError)) throw err;
      refused.push({ photo: err.field, reason: 'different_person', detail: err.message });
      usable = usable.filter((u) => u.image.field !== err.field);
    }
  }
  if (usable.length === 0) return { status: 'refused', reason: 'no_usable_photo', detail: 'every photo was refused', refused };

  const faces: EnrolFace[] = usable.map((u) => ({ ...u.face, sourceDigest: imageDigest(u.image.bytes) }));
  const minScore = opts.duplicateMinScore === undefined ? DEFAULT_DUPLICATE_MIN_SCORE : opts.duplicateMinScore;
  const { images: _images, unreadable: _unreadable, ...fields } = c;
  if (opts.dryRun) {
    const dup = minScore === null ? null : await duplicateOf(deps, deps.store, client, faces, minScore);
    if (dup) return { status: 'refused', reason: 'duplicate', detail: duplicateDetail(dup), refused, duplicateOf: dup };
    return { status: 'would_import', photos: faces.length, refused };
  }
  try {
    const person = await writeQueue(deps.store).run(client, () =>
      createAnalysedFacePerson(deps, client, fields, faces, async (tx) => {
        if (minScore === null) return;
        if (deps.follower) {
          // Instances sharing a database: see every enrolment committed so far before deciding.
          await tx.locks.dedup(client, '');
          await deps.follower.catchUp(await tx.changes.latest());
        }
        const dup = await duplicateOf(deps, tx, client, faces, minScore);
        if (dup) throw new DuplicateFound(dup);
      }),
    );
    await deps.store.audit.append({
      client,
      token: null,
      request: null,
      route: opts.route ?? 'cli import',
      action: 'face_person.enrol',
      outcome: 'ok',
      status: null,
      subject: person.person.id,
      details: { images: faces.length },
    });
    return { status: 'imported', person, photos: faces.length, refused };
  } catch (err) {
    if (err instanceof DuplicateFound) return { status: 'refused', reason: 'duplicate', detail: duplicateDetail(err.match), refused, duplicateOf: err.match };
    if (err instanceof InvalidFieldError) return { status: 'refused', reason: 'invalid_field', detail: err.message, refused };
    if (err instanceof UnknownCollectionError) return { status: 'refused', reason: 'unknown_collection', detail: err.message, refused };
    if (err instanceof ConflictError && err.entity === 'external id') return { status: 'refused', reason: 'external_id_taken', detail: err.message, refused };
    if (err instanceof ConflictError && /external_id_taken/.test(err.message)) return { status: 'refused', reason: 'external_id_taken', detail: err.message, refused };
    throw err;
  }
}

function duplicateDetail(d: DuplicateOf): string {
  return `matches person ${d.id}${d.externalId ? ` (external_id ${d.externalId})` : ''} with score ${d.score}`;
}
