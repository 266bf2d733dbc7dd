// The model-upgrade path: re-embeds every template made by an earlier model version from the face image stored with
// it (the aligned face the API shows as a thumbnail), so a database written by an older release keeps working after
// the recognition model changes. Templates of another version are never compared with this version's probes: until
// a person is re-embedded the index simply does not hold them (src/app.ts rebuildIndex skips them).
//
// Resumable by construction: only templates whose version differs are visited, each is rewritten in its own short
// transaction, and a run that stops half-way leaves the rest for the next run.
import type { FaceEngine } from '../face/types.js';
import type { FaceIndex } from '../index/types.js';
import type { FaceTemplate, Store } from './ports.js';

export interface ReindexProgress {
  /** Templates visited so far in this run (re-embedded or failed). */
  done: number;
  /** Stale templates when the run started. */
  total: number;
  reembedded: number;
  failed: number;
}

export interface ReindexFailure {
  templateId: number;
  client: string;
  /** The owner: a face person `id` or a generic person `id` (re-enrol it). */
  person: string;
  reason: 'no_stored_face_image' | 'no_face_in_stored_image' | 'unreadable_stored_image';
}

export interface ReindexResult extends ReindexProgress {
  failures: ReindexFailure[];
}

export interface ReindexOptions {
  /** Templates read and re-embedded per step (several in flight keep every engine worker busy). Default 16. */
  batch?: number;
  onProgress?: (p: ReindexProgress) => void;
  /** Called after a step with the face persons it changed, so a running server can refresh them in its index. */
  onPersonsChanged?: (persons: { client: string; person: string }[]) => Promise<void> | void;
  /** Stops between steps when aborted; what was done stays done. */
  signal?: AbortSignal;
}

async function reembedOne(store: Store, engine: FaceEngine, t: FaceTemplate): Promise<ReindexFailure['reason'] | null> {
  if (!t.thumbnail) return 'no_stored_face_image';
  let face;
  try {
    // The stored image is a tight crop around one face: the largest face found in it is that face.
    face = (await engine.analyze([t.thumbnail], { thumbnails: true, maxFaces: 1 })).images[0].faces[0];
  } catch {
    return 'unreadable_stored_image';
  }
  if (!face) return 'no_face_in_stored_image';
  const q = face.quality;
  // The original photo's face size is kept: the stored crop's own size says nothing about the capture.
  const quality = { faceSize: t.quality?.faceSize ?? q.faceSize, sharpness: q.sharpness, yaw: q.yaw, pitch: q.pitch, roll: q.roll, brightness: q.brightness };
  await store.templates.reembed(t.id, { modelVersion: engine.modelVersion, embedding: face.embedding, thumbnail: face.thumbnail ?? t.thumbnail, quality });
  return null;
}

export async function reindexTemplates(store: Store, engine: FaceEngine, opts: ReindexOptions = {}): Promise<ReindexResult> {
  const batch = Math.max(1, opts.batch ?? 16);
  const total = await store.templates.countStale(engine.modelVersion);
  const result: ReindexResult = { done: 0, total, reembedded: 0, failed: 0, failures: [] };
  let after = 0;
  while (!opts.signal?.aborted) {
    const page = await store.templates.listStale(engine.modelVersion, after, batch);
    if (page.length === 0) break;
    after = page[page.length - 1].id;
    const outcomes = await Promise.all(page.map((t) => reembedOne(store, engine, t)));
    const changed = new Map<string, { client: string; person: string }>();
    outcomes.forEach((reason, i) => {
      const t = page[i];
      result.done++;
      if (reason) {
        result.failed++;
        result.failures.push({ templateId: t.id, client: t.client, person: t.person, reason });
      } else {
        result.reembedded++;
        changed.set(`${t.client}\u0000${t.person}`, { client: t.client, person: t.person });
      }
    });
    if (changed.size) await opts.onPersonsChanged?.([...changed.values()]);
    opts.onProgress?.({ done: result.done, total, reembedded: result.reembedded, failed: result.failed });
  }
  return result;
}

/**
 * Brings a face person's entry in the index up to date with the store: its current-version templates and its
 * collections (or removes it when it has none, or no longer exists).
 */
export async function refreshIndexedPerson(store: Store, index: FaceIndex, engine: FaceEngine, client: string, person: string): Promise<void> {
  return refreshIndexEntry(store, index, engine.modelVersion, client, person);
}

/** refreshIndexedPerson for callers that know the model version only (the change-feed follower). */
export async function refreshIndexEntry(
  store: Pick<Store, 'facePersons' | 'templates'>,
  index: FaceIndex,
  modelVersion: string,
  client: string,
  person: string,
): Promise<void> {
  const p = await store.facePersons.get(client, person);
  if (!p) {
    index.removePerson(client, person);
    return;
  }
  const templates = (await store.templates.listForPerson(client, person)).filter((t) => t.modelVersion === modelVersion);
  if (!templates.length) {
    index.removePerson(client, person);
    return;
  }
  index.upsertPerson({ client, person, collections: p.collections, templates: templates.map((t) => ({ id: t.id, vector: t.embedding })) });
}
