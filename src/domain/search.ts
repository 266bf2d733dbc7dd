// The biometric flows: 1:N search, 1:1 verify, compare, liveness, detect (the de-duplicating enrolment of
// persons/search-live-face is in liveEnrolment.ts).
// Scores are the engine's calibrated match scores in [0, 1]; the vector index works in cosine similarity, and
// `engine.cosineForScore(min_score)` turns a threshold into a similarity bound the index can prune with.
import type { AnalysisResult, AnalyzedImage, Box, DetectedFace, LivenessResult } from '../face/types.js';
import { TemplateVersionError } from '../face/errors.js';
import { NO_EVIDENCE_HINT } from '../face/liveness/evidence.js';
import type { SearchMode } from '../index/types.js';
import type { FacePerson } from './ports.js';
import { resolveCollection } from './collections.js';
import type { DomainDeps } from './deps.js';
import { livenessPasses, roundScore } from './scores.js';
import { ConflictError, NotFoundError } from './errors.js';
import { analyseImages, type InputImage } from './faces.js';
import type { FacePersonView } from './facePersons.js';
import { chooseSubject, SUBJECT_CANDIDATES, subjectOrder } from './subject.js';

export type Os = 'ANDROID' | 'IOS' | 'DESKTOP';

/** Said to the caller when a probe holds several faces and the server chose one (the subject rule, subject.ts). */
export interface ProbeNote {
  field: string;
  facesDetected: number;
  /** The face used (the first of /detect's answer for this photo). */
  used: Box;
  /** Another face was nearly as prominent: the caller should name the face it means. */
  ambiguous: boolean;
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
    super(
      liveness.reason
        ? `liveness_failed: no usable liveness evidence (${liveness.reason}): ${NO_EVIDENCE_HINT[liveness.reason]}`
        : `liveness_failed: score ${liveness.score.toFixed(3)} <= ${minScore}`,
    );
  }
}

/** The subject of each image (or the face the caller named); no face fails naming the image. */
function subjects(result: AnalysisResult, images: InputImage[]): { faces: DetectedFace[]; notes: ProbeNote[] } {
  const notes: ProbeNote[] = [];
  const faces = result.images.map((img, i) => {
    const choice = chooseSubject(img, images[i].field, images[i].subject);
    if (choice.faces > 1 && !choice.selected) notes.push({ field: images[i].field, facesDetected: choice.faces, used: choice.face.box, ambiguous: choice.ambiguous });
    return choice.face;
  });
  return { faces, notes };
}

/** Probe faces need no thumbnails. */
export async function probeFaces(deps: Pick<DomainDeps, 'engine'>, client: string, images: InputImage[]): Promise<{ faces: DetectedFace[]; notes: ProbeNote[] }> {
  const result = await analyseImages(deps.engine, images, { maxFaces: SUBJECT_CANDIDATES, tenant: client });
  return subjects(result, images);
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
  const result = await analyseImages(deps.engine, all, { maxFaces: SUBJECT_CANDIDATES, tenant: client });
  const { faces, notes } = subjects(result, all);
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
  /** Why the capture gave no usable evidence (then it did not pass, whatever min_score); absent when it did. */
  reason?: LivenessResult['reason'];
  notes: ProbeNote[];
}

/** Runs the engine's passive liveness over one capture (several images feed the multi-frame 3-D check). */
export async function captureLiveness(deps: DomainDeps, images: InputImage[], extra: { thumbnails?: boolean; tenant?: string } = {}) {
  const result = await analyseImages(deps.engine, images, { liveness: true, maxFaces: SUBJECT_CANDIDATES, ...extra });
  const { faces, notes } = subjects(result, images);
  if (!result.liveness) throw new Error('face engine returned no liveness result');
  return { result, faces, notes, liveness: result.liveness };
}

/** `POST /v2/face-recognition/liveness`. */
export async function liveness(deps: DomainDeps, input: LivenessInput, client?: string): Promise<LivenessOutcome> {
  if (input.collection_id !== undefined && client !== undefined) await collectionId(deps, client, input.collection_id, 'collection_id');
  const { liveness, notes } = await captureLiveness(deps, input.images, { tenant: client });
  return { ...livenessVerdict(liveness, input.min_score), signals: roundAll(liveness.signals), notes };
}

/** The answer /liveness gives for the engine's capture result: rounded score, and no pass without evidence. */
export function livenessVerdict(liveness: LivenessResult, minScore: number): Pick<LivenessOutcome, 'score' | 'minScore' | 'passed' | 'reason'> {
  const score = round(liveness.score);
  const passed = !liveness.reason && livenessPasses(score, minScore);
  return { score, minScore, passed, ...(liveness.reason ? { reason: liveness.reason } : {}) };
}

function roundAll(signals: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(signals).map(([k, v]) => [k, round(v)]));
}

export interface DetectInput {
  image: InputImage;
  return_landmarks: boolean;
  return_attributes: boolean;
}

/** `POST /v2/face-recognition/detect`: every face, the subject first (the order a face index in other requests refers to). */
export async function detect(deps: DomainDeps, input: DetectInput, client?: string): Promise<AnalyzedImage> {
  const result = await analyseImages(deps.engine, [input.image], { attributes: input.return_attributes, thumbnails: true, tenant: client });
  const image = result.images[0];
  return { ...image, faces: subjectOrder(image) };
}
