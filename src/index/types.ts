// The vector index's contract: one FaceIndex serves every tenant, each tenant's data kept apart inside.
// Vectors are L2-normalised templates; similarity is the cosine (dot product). Score calibration is the
// face engine's business, not the index's.

export type SearchMode = 'FAST' | 'ACCURATE';

export interface Template {
  /** Unique across the whole store (the template row id). */
  id: number;
  vector: Float32Array;
}

export interface PersonEntry {
  client: string;
  person: string;
  /** Collection ids the person belongs to (a person can be in several). */
  collections: string[];
  templates: Template[];
}

export interface SearchOptions {
  mode: SearchMode;
  /** Maximum number of persons returned. */
  k: number;
  /** Only persons in this collection. */
  collection?: string;
  /** Drop hits below this cosine similarity. */
  minSimilarity?: number;
}

export interface SearchHit {
  person: string;
  /** Best cosine similarity over the person's templates (a person with several images is one identity). */
  similarity: number;
  templateId: number;
}

export interface FaceIndex {
  readonly dim: number;
  /** Adds or replaces all of a person's templates and collections. Visible to the very next search. */
  upsertPerson(entry: PersonEntry): void;
  /** Changes a person's collections without touching templates. */
  setCollections(client: string, person: string, collections: string[]): void;
  removePerson(client: string, person: string): void;
  /** Drops a collection from every person of the client that has it. */
  removeCollection(client: string, collection: string): void;
  /** Best persons first. ACCURATE is exact; FAST is approximate with an exact re-rank of its candidates. */
  search(client: string, query: Float32Array, opts: SearchOptions): SearchHit[];
  /** Number of templates held for a client (or in total). */
  size(client?: string): number;

  // Start-up snapshots of the ANN graphs (a cold rebuild of a 1 M-face graph takes minutes): see docs/index.md.
  /**
   * Writes every tenant's ANN graph to `dir`, tagged with the store's generation (a number that changes on
   * every write to templates, persons or collections). Replaces the snapshot already there.
   */
  saveSnapshot(dir: string, generation: SnapshotGeneration): SnapshotInfo;
  /**
   * Call on an empty index, before the rebuild's upserts. Loads the graphs if `dir` holds a snapshot of exactly
   * this generation made with the same settings; the upserts that follow then reuse their nodes instead of
   * inserting. Returns false and loads nothing otherwise (a stale snapshot is deleted: it can never match again).
   */
  loadSnapshot(dir: string, generation: SnapshotGeneration): boolean;
  /** Call after the rebuild's upserts: drops graph nodes (persons) that no upsert claimed, inserts the rest. */
  completeRestore(): { dropped: number };
}

export type SnapshotGeneration = number | bigint | string;

export interface SnapshotInfo {
  generation: string;
  tenants: number;
  templates: number;
  bytes: number;
  /** Graph slots of removed persons (erased or changed since the graph was built) whose vectors were zeroed. */
  scrubbed: number;
}
