// The biometric flows: 1:N search, de-duplicating enrolment, 1:1 verify, compare, liveness, detect.
// Scores are the engine's calibrated match scores in [0, 1]; the vector index works in cosine similarity, and
// `engine.cosineForScore(min_score)` turns a threshold into a similarity bound the index can prune with.
import type { AnalysisResult, AnalyzedImage, DetectedFace, LivenessResult } from '../face/types.js';
import { TemplateVersionError } from '../face/errors.js';
import type { SearchMode } from '../index/types.js';
import type { FacePerson } from './ports.js';
import { resolveCollection } from './collections.js';
import type { DomainDeps } from './deps.js';
import { normaliseBirthDate } from './dates.js';
import { livenessPasses, roundScore } from './scores.js';
import { ConflictError, FaceCountError, InvalidFieldError, NotFoundError } from './errors.js';
import { analyseImages, assertOnePerson, oneFacePerImage, type InputImage } from './faces.js';
import { KeyedQueue } from './keyedQueue.js';
import { createAnalysedFacePerson, samePersonMinScore, type FacePersonView } from './facePersons.js';
import { consumeSession } from './livenessSessions.js';

export type Os = 'ANDROID' | 'IOS' | 'DESKTOP';

/** Said to the caller when a probe holds several faces and only the largest was used. */
export interface ProbeNote {
  field: string;
  facesDetected: number;
}

export interface Match {
  id: string;
  score: number;
}

/**
 * A liveness check that did not reach the requested score. The message holds the score only: sub-scores would let
 * an attacker tune a spoof cue by cue (the HTTP layer adds them when the operator sets LIVENESS_DETAILS=true).
 */
export class LivenessFailedError extends ConflictError {
  override readonly name = 'LivenessFailedError';
  constructor(readonly liveness: LivenessResult, readonly minScore: number) {
    super(`liveness_failed: score ${liveness.score.toFixed(3)} <= ${minScore}`);
  }
}

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

/** The largest face of each image (the engine returns faces largest first); no face fails naming the image. */
function largestFaces(result: AnalysisResult, images: InputImage[]): { faces: DetectedFace[]; notes: ProbeNote[] } {
  const notes: ProbeNote[] = [];
  const faces = result.images.map((img, i) => {
    if (img.faces.length === 0) throw new FaceCountError('no_face', images[i].field);
    if (img.faces.length > 1) notes.push({ field: images[i].field, facesDetected: img.faces.length });
    return img.faces[0];
  });
  return { faces, notes };
}

/** Probe faces need no thumbnails; a few faces are enough to say "several" and pick the largest. */
const PROBE_MAX_FACES = 10;

export async function probeFaces(deps: DomainDeps, client: string, images: InputImage[]): Promise<{ faces: DetectedFace[]; notes: ProbeNote[] }> {
  const result = await analyseImages(deps.engine, images, { maxFaces: PROBE_MAX_FACES, tenant: client });
  return largestFaces(result, images);
}

export async function collectionId(deps: DomainDeps, client: string, ref: string | undefined, field: string): Promise<string | undefined> {
  if (ref === undefined) return undefined;
  return resolveCollection(deps.store, client, ref, field);
}

/** Best persons for several probe faces of one identity: a person's score is its best over every probe. */
export function searchIndex(
  deps: DomainDeps,
  client: string,
  probes: DetectedFace[],
  opts: { mode: SearchMode; minScore: number; collection?: string; k: number },
): Match[] {
  const minSimilarity = deps.engine.cosineForScore(opts.minScore);
  const best = new Map<string, number>();
  for (const face of probes) {
    for (const hit of deps.index.search(client, face.embedding, { mode: opts.mode, k: opts.k, collection: opts.collection, minSimilarity })) {
      const score = deps.engine.scoreFromCosine(hit.similarity);
      if (score >= opts.minScore && score > (best.get(hit.person) ?? -1)) best.set(hit.person, score);
    }
  }
  return [...best.entries()]
    .map(([id, score]) => ({ id, score: round(score) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, opts.k);
}

const round = roundScore;

export interface SearchActiveUserInput {
  image: InputImage;
  collection_id?: string;
  os: Os;
  min_score: number;
  search_mode: SearchMode;
}

/** `POST /v2/face-recognition/search-active-user`: 1:N with one probe, no liveness. */
export async function searchActiveUser(
  deps: DomainDeps,
  client: string,
  input: SearchActiveUserInput,
  maxResults = 10,
): Promise<{ matches: Match[]; notes: ProbeNote[] }> {
  const collection = await collectionId(deps, client, input.collection_id, 'collection_id');
  const { faces, notes } = await probeFaces(deps, client, [input.image]);
  const matches = searchIndex(deps, client, faces, { mode: input.search_mode, minScore: input.min_score, collection, k: maxResults });
  return { matches, notes };
}

export interface SearchInput {
  images: InputImage[];
  min_score: number;
  search_mode: SearchMode;
  collection_id?: string;
  max_results: number;
}

export interface SearchResult {
  person: FacePerson;
  score: number;
  thumbnails: Uint8Array[];
}

/** `POST /v2/face-recognition/search`: 1:N with 1–3 probe images of one person, with names and thumbnails. */
export async function search(deps: DomainDeps, client: string, input: SearchInput): Promise<{ results: SearchResult[]; notes: ProbeNote[] }> {
  const collection = await collectionId(deps, client, input.collection_id, 'collection_id');
  const { faces, notes } = await probeFaces(deps, client, input.images);
  const matches = searchIndex(deps, client, faces, { mode: input.search_mode, minScore: input.min_score, collection, k: input.max_results });
  return { results: await matchedPersons(deps, client, matches), notes };
}

/** The persons behind index matches, with their thumbnails, best first. */
export async function matchedPersons(deps: DomainDeps, client: string, matches: Match[]): Promise<SearchResult[]> {
  const results: SearchResult[] = [];
  for (const m of matches) {
    const person = await deps.store.facePersons.get(client, m.id);
    if (!person) continue; // deleted between the search and this read
    results.push({ person, score: m.score, thumbnails: await thumbnailsOf(deps, client, m.id) });
  }
  return results;
}

async function thumbnailsOf(deps: DomainDeps, client: string, person: string): Promise<Uint8Array[]> {
  const templates = await deps.store.templates.listForPerson(client, person);
  return templates.sort((a, b) => a.imageIndex - b.imageIndex).flatMap((t) => (t.thumbnail ? [t.thumbnail] : []));
}

export interface VerifyInput {
  id: string;
  images: InputImage[];
  min_score: number;
  /** Scope: the person must be in this collection (`_id` or `code`), else it is not found. */
  collection_id?: string;
}

/** `POST /v2/face-recognition/verify`: 1:1 against one enrolled person (exact, whatever the search mode). */
export async function verify(
  deps: DomainDeps,
  client: string,
  input: VerifyInput,
): Promise<{ match: boolean; score: number; notes: ProbeNote[]; person: FacePersonView }> {
  const collection = await collectionId(deps, client, input.collection_id, 'collection_id');
  const person = await deps.store.facePersons.get(client, input.id);
  if (!person || (collection !== undefined && !person.collections.includes(collection))) throw new NotFoundError('person');
  const templates = await deps.store.templates.listForPerson(client, input.id);
  const { faces, notes } = await probeFaces(deps, client, input.images);
  let best = 0;
  for (const t of templates) {
    if (t.modelVersion !== deps.engine.modelVersion) throw new TemplateVersionError(deps.engine.modelVersion, t.modelVersion);
    for (const f of faces) best = Math.max(best, deps.engine.similarity(f.embedding, t.embedding));
  }
  const score = round(best);
  const thumbnails = templates.sort((a, b) => a.imageIndex - b.imageIndex).flatMap((t) => (t.thumbnail ? [t.thumbnail] : []));
  return { match: templates.length > 0 && score >= input.min_score, score, notes, person: { person, thumbnails } };
}

export interface CompareInput {
  probe: InputImage[];
  gallery: InputImage[];
  min_score: number;
}

/** `POST /v2/face-recognition/compare`: the best probe–gallery pair of faces, no enrolment involved. */
export async function compare(deps: DomainDeps, input: CompareInput, client?: string): Promise<{ score: number; passed: boolean; notes: ProbeNote[] }> {
  const all = [...input.probe, ...input.gallery];
  const result = await analyseImages(deps.engine, all, { maxFaces: PROBE_MAX_FACES, tenant: client });
  const { faces, notes } = largestFaces(result, all);
  const probe = faces.slice(0, input.probe.length);
  const gallery = faces.slice(input.probe.length);
  const score = bestPairScore(deps, probe, gallery);
  return { score, passed: score >= input.min_score, notes };
}

/** The score of the best probe–gallery pair of faces (rounded as it leaves the API). */
export function bestPairScore(deps: DomainDeps, probe: DetectedFace[], gallery: DetectedFace[]): number {
  let best = 0;
  for (const p of probe) for (const g of gallery) best = Math.max(best, deps.engine.similarity(p.embedding, g.embedding));
  return round(best);
}

export interface LivenessInput {
  images: InputImage[];
  min_score: number;
  /** Verifik lets a liveness attempt name a collection; it must be the client's (404 otherwise) and changes nothing else. */
  collection_id?: string;
}

export interface LivenessOutcome {
  score: number;
  minScore: number;
  passed: boolean;
  signals: Record<string, number>;
  notes: ProbeNote[];
}

/** Runs the engine's passive liveness over one capture (several images feed the multi-frame 3-D check). */
export async function captureLiveness(deps: DomainDeps, images: InputImage[], extra: { thumbnails?: boolean; tenant?: string } = {}) {
  const result = await analyseImages(deps.engine, images, { liveness: true, maxFaces: PROBE_MAX_FACES, ...extra });
  const { faces, notes } = largestFaces(result, images);
  if (!result.liveness) throw new Error('face engine returned no liveness result');
  return { result, faces, notes, liveness: result.liveness };
}

/** `POST /v2/face-recognition/liveness`. */
export async function liveness(deps: DomainDeps, input: LivenessInput, client?: string): Promise<LivenessOutcome> {
  if (input.collection_id !== undefined && client !== undefined) await collectionId(deps, client, input.collection_id, 'collection_id');
  const { liveness, notes } = await captureLiveness(deps, input.images, { tenant: client });
  const score = round(liveness.score);
  return { score, minScore: input.min_score, passed: livenessPasses(score, input.min_score), signals: roundAll(liveness.signals), notes };
}

function roundAll(signals: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(signals).map(([k, v]) => [k, round(v)]));
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
    const session = await consumeSession(deps, client, input.liveness_session_id);
    if (!livenessPasses(session.score, input.liveness_min_score)) throw new LivenessFailedError({ score: session.score, signals: {} }, input.liveness_min_score);
    images = [session.reference];
    result = await analyseImages(deps.engine, images, { maxFaces: 2, thumbnails: true, tenant: client });
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

export interface DetectInput {
  image: InputImage;
  return_landmarks: boolean;
  return_attributes: boolean;
}

/** `POST /v2/face-recognition/detect`: every face, largest first. */
export async function detect(deps: DomainDeps, input: DetectInput, client?: string): Promise<AnalyzedImage> {
  const result = await analyseImages(deps.engine, [input.image], { attributes: input.return_attributes, thumbnails: true, tenant: client });
  return result.images[0];
}
