// Verifik's other 1:N searches: on face crops (search/crops) and with a liveness gate on the probe
// (the top-level search-live-face, which enrols nothing). Both end in the same index search as /search.
import sharp from 'sharp';
import type { AnalyzedImage } from '../face/types.js';
import type { SearchMode } from '../index/types.js';
import type { DomainDeps } from './deps.js';
import type { InputImage } from './faces.js';
import { livenessPasses, roundScore } from './scores.js';
import {
  captureLiveness,
  collectionId,
  detect,
  type DetectInput,
  LivenessFailedError,
  matchedPersons,
  search,
  searchIndex,
  type ProbeNote,
  type SearchInput,
  type SearchResult,
} from './search.js';

/** A border of this share of the crop's side on each edge: the detector needs some context around a face. */
const CROP_MARGIN = 0.25;
/** Crops are small (Verifik's page says about 120×120); a large image is searched as sent. */
const CROP_MAX_SIDE = 1024;

/**
 * A tight face crop, framed with a neutral border so that the face detector (which aligns the face for the
 * recogniser) finds a face that fills the whole crop. Anything sharp cannot read, or that is not small, goes on
 * unchanged and the engine judges it (412/413/422 as for every image).
 */
async function framed(image: InputImage): Promise<InputImage> {
  try {
    const meta = await sharp(image.bytes).metadata();
    if (!meta.width || !meta.height || Math.max(meta.width, meta.height) > CROP_MAX_SIDE) return image;
    const m = Math.round(Math.max(meta.width, meta.height) * CROP_MARGIN);
    const bytes = await sharp(image.bytes)
      .rotate()
      .extend({ top: m, bottom: m, left: m, right: m, background: { r: 128, g: 128, b: 128 } })
      .jpeg({ quality: 95 })
      .toBuffer();
    return { field: image.field, bytes };
  } catch {
    return image;
  }
}

/** `POST /v2/face-recognition/search/crops`: /search on face crops. */
export async function searchCrops(deps: DomainDeps, client: string, input: SearchInput): Promise<{ results: SearchResult[]; notes: ProbeNote[] }> {
  const images = await Promise.all(input.images.map(framed));
  return search(deps, client, { ...input, images });
}

export interface SearchLiveInput {
  image: InputImage;
  liveness_min_score: number;
  min_score: number;
  search_mode: SearchMode;
  collection_id?: string;
  max_results: number;
}

/**
 * `POST /v2/face-recognition/search-live-face`: passive liveness of the probe first (409 `liveness_failed` when it
 * is not above liveness_min_score), then the 1:N search. Nothing is stored.
 */
export async function searchLive(
  deps: DomainDeps,
  client: string,
  input: SearchLiveInput,
): Promise<{ results: SearchResult[]; liveness: { score: number; minScore: number }; notes: ProbeNote[] }> {
  const collection = await collectionId(deps, client, input.collection_id, 'collection_id');
  const probe = await captureLiveness(deps, [input.image], { tenant: client });
  const score = roundScore(probe.liveness.score);
  if (!livenessPasses(score, input.liveness_min_score)) throw new LivenessFailedError({ ...probe.liveness, score }, input.liveness_min_score);
  const matches = searchIndex(deps, client, probe.faces, { mode: input.search_mode, minScore: input.min_score, collection, k: input.max_results });
  return { results: await matchedPersons(deps, client, matches), liveness: { score, minScore: input.liveness_min_score }, notes: probe.notes };
}

export interface DetectSearchInput {
  min_score: number;
  search_mode: SearchMode;
  collection_id?: string;
  max_results: number;
}

/**
 * `POST /v2/face-recognition/detect`: every face, largest first; with a `search` (Verifik's older detect body:
 * min_score, search_mode, collection_id, max_results) each face is also searched 1:N and gets its `persons`.
 */
export async function detectFaces(
  deps: DomainDeps,
  client: string,
  input: DetectInput & { search?: DetectSearchInput },
): Promise<{ image: AnalyzedImage; persons?: SearchResult[][] }> {
  const search = input.search;
  const collection = search ? await collectionId(deps, client, search.collection_id, 'collection_id') : undefined;
  const image = await detect(deps, input, client);
  if (!search) return { image };
  const persons: SearchResult[][] = [];
  for (const face of image.faces) {
    const matches = searchIndex(deps, client, [face], { mode: search.search_mode, minScore: search.min_score, collection, k: search.max_results });
    persons.push(await matchedPersons(deps, client, matches));
  }
  return { image, persons };
}
