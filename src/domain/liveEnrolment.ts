// persons/search-live-face: an enrolment behind a liveness check (the capture's, or a liveness session's) that
// refuses a face already enrolled in the collection. The search and the write are serialised per collection.
import type { AnalysisResult, DetectedFace } from '../face/types.js';
import type { SearchMode } from '../index/types.js';
import type { DomainDeps } from './deps.js';
import { normaliseBirthDate } from './dates.js';
import { ConflictError, InvalidFieldError } from './errors.js';
import { createAnalysedFacePerson, samePersonMinScore, type FacePersonView } from './facePersons.js';
import { analyseImages, assertOnePerson, oneFacePerImage, type InputImage } from './faces.js';
import { KeyedQueue } from './keyedQueue.js';
import { claimSession } from './livenessSessions.js';
import { livenessPasses, roundScore } from './scores.js';
import { captureLiveness, collectionId, LivenessFailedError, searchIndex, type Match } from './search.js';
import { SUBJECT_CANDIDATES } from './subject.js';

const round = roundScore;

/** search-live-face found the face already enrolled in the collection. */
export class DuplicatedPersonError extends ConflictError {
  override readonly name = 'DuplicatedPersonError';
  constructor(readonly match: Match) {
    super('409:duplicated_person');
  }
}

/**
 * Only one search per (client, collection) may be between "no duplicate found" and "enrolled" at a time. Chains are
 * kept per store, i.e. per server instance (a test may run two instances' use cases in one process).
 */
const enrolQueues = new WeakMap<object, KeyedQueue>();
function enrolQueue(store: object): KeyedQueue {
  let q = enrolQueues.get(store);
  if (!q) enrolQueues.set(store, (q = new KeyedQueue()));
  return q;
}

export interface SearchLiveFaceInput {
  name: string;
  /** The capture, or (instead) a SUCCEEDED liveness session whose reference frame is used. */
  images?: InputImage[];
  liveness_session_id?: string;
  gender: 'M' | 'F';
  date_of_birth: string;
  nationality?: string;
  collection_id: string;
  liveness_min_score: number;
  min_score: number;
  search_mode: SearchMode;
}

/**
 * `POST /v2/face-recognition/persons/search-live-face`: liveness first, then a search inside `collection_id`;
 * a match ≥ min_score is a duplicate (409), otherwise the person is enrolled into that collection.
 */
export async function searchLiveFace(deps: DomainDeps, client: string, input: SearchLiveFaceInput): Promise<FacePersonView> {
  // Verifik strips digits from the name server-side.
  const name = input.name.replace(/\d+/g, '').replace(/\s+/g, ' ').trim();
  // Field checks before the engine runs: a bad date should not cost a liveness check.
  if (name === '') throw new InvalidFieldError('name', '"name" must contain letters');
  normaliseBirthDate(input.date_of_birth, 'date_of_birth', deps.now?.() ?? new Date());
  const collection = (await collectionId(deps, client, input.collection_id, 'collection_id'))!;
  let images: InputImage[];
  let result: AnalysisResult;
  if (input.liveness_session_id !== undefined) {
    // The session's challenge was the liveness check; its score is its frames' passive liveness together.
    // Its verdict is the liveness check: claimSession admits only a SUCCEEDED session whose score reached its own
    // floor (never below LIVENESS_SESSION_MIN_SCORE). `liveness_min_score` is the single-capture threshold: a
    // session's score averages a moving head's frames on the same passive scale and sits far lower
    // (docs/liveness-sessions.md), so comparing it with a photo threshold would refuse every live session.
    const session = await claimSession(deps, client, input.liveness_session_id);
    images = [session.reference];
    result = await analyseImages(deps.engine, images, { maxFaces: SUBJECT_CANDIDATES, thumbnails: true, tenant: client });
    // Used up once the engine has read the frame (a busy engine leaves the session usable).
    await session.consume();
  } else {
    images = input.images ?? [];
    const captured = await captureLiveness(deps, images, { thumbnails: true, tenant: client });
    result = captured.result;
    // One capture, one person, checked before the liveness verdict: images of two people are named as such, not
    // reported as a weak liveness score (the multi-frame check would also fail on them).
    assertOnePerson(deps.engine, captured.faces, images, samePersonMinScore(deps));
    const liveness = captured.liveness;
    if (!livenessPasses(round(liveness.score), input.liveness_min_score)) throw new LivenessFailedError({ ...liveness, score: round(liveness.score) }, input.liveness_min_score);
  }
  // Enrolment needs exactly one face per image, as POST /persons does.
  const faces = oneFacePerImage(result, images);

  return enrolUnlessDuplicate(deps, client, collection, faces, {
    fields: { name, gender: input.gender, date_of_birth: input.date_of_birth, nationality: input.nationality },
    mode: input.search_mode,
    minScore: input.min_score,
  });
}

/**
 * search-live-face's enrolment step, once the faces are analysed: a person already in `collection` scoring at least
 * `minScore` is a duplicate (409), otherwise the person is enrolled into it. The search and the enrolment must not
 * interleave with another enrolment into this collection: in this process (the promise chain), and across
 * instances sharing a database (a lock held by the write transaction, taken before the search, after which this
 * instance's index is brought up to every change committed so far).
 */
export async function enrolUnlessDuplicate(
  deps: DomainDeps,
  client: string,
  collection: string,
  faces: DetectedFace[],
  opts: { fields: Omit<Parameters<typeof createAnalysedFacePerson>[2], 'collections'>; mode: SearchMode; minScore: number },
): Promise<FacePersonView> {
  return enrolQueue(deps.store).run(`${client}\u0000${collection}`, () =>
    createAnalysedFacePerson(deps, client, { ...opts.fields, collections: [collection] }, faces, async (tx) => {
      if (deps.follower) {
        await tx.locks.dedup(client, collection);
        await deps.follower.catchUp(await tx.changes.latest());
      }
      const [duplicate] = searchIndex(deps, client, faces, { mode: opts.mode, minScore: opts.minScore, collection, k: 1 });
      if (duplicate) throw new DuplicatedPersonError(duplicate);
    }),
  );
}
