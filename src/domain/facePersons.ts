// Face persons (`/v2/face-recognition/persons`): identities enrolled from face photos, searchable by collection.
//
// Every write follows the same order: analyse the images (slow, engine, outside any transaction), then write the
// person and its templates in ONE store transaction, then update the vector index synchronously right after the
// commit, so the next search sees exactly what the store holds.
import { erasePerson } from './erasure.js';
import { newObjectId } from './ids.js';
import type { FacePerson, FaceTemplate, Repos } from './ports.js';
import type { DetectedFace } from '../face/types.js';
import type { PersonEntry } from '../index/types.js';
import { resolveCollections } from './collections.js';
import { normaliseBirthDate } from './dates.js';
import { DEFAULT_SAME_PERSON_MIN_SCORE, type DomainDeps, type Paged, type Paging } from './deps.js';
import { InvalidFieldError, NotFoundError, UnknownCollectionError } from './errors.js';
import { analyseEnrolment, assertOnePerson, templateRows, type InputImage } from './faces.js';
import { consumeSession } from './livenessSessions.js';

export interface FacePersonInput {
  name: string;
  images: InputImage[];
  gender?: 'M' | 'F';
  date_of_birth?: string;
  nationality?: string;
  /** Collection `id`s or `code`s. */
  collections?: string[];
  notes?: string;
  /** A SUCCEEDED liveness session whose reference frame is enrolled instead of `images` (used up by this). */
  liveness_session_id?: string;
}

/** PUT: every field optional; `null` clears an optional field; `images` replaces all templates. */
export interface FacePersonPatch {
  name?: string;
  images?: InputImage[];
  gender?: 'M' | 'F' | null;
  date_of_birth?: string | null;
  nationality?: string | null;
  collections?: string[];
  notes?: string | null;
}

/** A face person as the API shows it: the record plus the thumbnails of its enrolled faces, in image order. */
export interface FacePersonView {
  person: FacePerson;
  thumbnails: Uint8Array[];
}

function nonBlank(value: string, field: string): string {
  const v = value.trim();
  if (v === '') throw new InvalidFieldError(field, `"${field}" is not allowed to be empty`);
  return v;
}

function blankToNull(value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return value;
  const v = value.trim();
  return v === '' ? null : v;
}

function thumbnailsOf(templates: Pick<FaceTemplate, 'imageIndex' | 'thumbnail'>[]): Uint8Array[] {
  return [...templates]
    .sort((a, b) => a.imageIndex - b.imageIndex)
    .flatMap((t) => (t.thumbnail ? [t.thumbnail] : []));
}

function indexEntry(person: FacePerson, templates: FaceTemplate[]): PersonEntry {
  return {
    client: person.client,
    person: person.id,
    collections: person.collections,
    templates: templates.map((t) => ({ id: t.id, vector: t.embedding })),
  };
}

async function addTemplates(deps: DomainDeps, tx: Repos, client: string, person: string, faces: DetectedFace[]): Promise<FaceTemplate[]> {
  const out: FaceTemplate[] = [];
  for (const row of templateRows(deps.engine, client, person, faces)) out.push(await tx.templates.add(row));
  return out;
}

export async function createFacePerson(deps: DomainDeps, client: string, input: FacePersonInput): Promise<FacePersonView> {
  const { images: given, liveness_session_id: session, ...fields } = input;
  // Cheap checks first: a bad date or an unknown collection should not cost an engine run (nor a liveness session).
  checkFields(deps, fields);
  await resolveCollections(deps.store, client, fields.collections ?? [], 'collections');
  const images = session !== undefined ? [(await consumeSession(deps, client, session)).reference] : given;
  const { faces } = await analyseEnrolment(deps.engine, images, { tenant: client });
  assertOnePerson(deps.engine, faces, images, samePersonMinScore(deps));
  return createAnalysedFacePerson(deps, client, fields, faces);
}

/** The match score an enrolment's images must reach pairwise (operator setting, else the API's default). */
export function samePersonMinScore(deps: DomainDeps): number {
  return deps.settings.samePersonMinScore ?? DEFAULT_SAME_PERSON_MIN_SCORE;
}

function checkFields(deps: DomainDeps, fields: Omit<FacePersonInput, 'images'>): { name: string; dob: string | null } {
  const now = deps.now?.() ?? new Date();
  return {
    name: nonBlank(fields.name, 'name'),
    dob: fields.date_of_birth === undefined ? null : normaliseBirthDate(fields.date_of_birth, 'date_of_birth', now),
  };
}

/**
 * Writes a person whose faces were already analysed (one face per image, with thumbnails, in image order) and
 * indexes it. Shared with the search-live-face flow, which analyses the images itself.
 */
export async function createAnalysedFacePerson(
  deps: DomainDeps,
  client: string,
  fields: Omit<FacePersonInput, 'images'>,
  faces: DetectedFace[],
  /** Runs first inside the write transaction; throwing aborts the enrolment with nothing written. */
  before?: (tx: Repos) => Promise<void>,
): Promise<FacePersonView> {
  const { name, dob } = checkFields(deps, fields);
  const refs = fields.collections ?? [];
  const id = newObjectId();
  const { person, templates } = await deps.store.transaction(async (tx) => {
    await before?.(tx);
    // Resolved inside the transaction: a collection deleted meanwhile must not be written.
    const collections = await resolveCollections(tx, client, refs, 'collections');
    const person = await tx.facePersons.create({
      id,
      client,
      name,
      gender: fields.gender ?? null,
      dateOfBirth: dob,
      nationality: blankToNull(fields.nationality) ?? null,
      notes: blankToNull(fields.notes) ?? null,
      collections,
    });
    return { person, templates: await addTemplates(deps, tx, client, id, faces) };
  });
  // Synchronously right after the commit (no await in between): the very next search sees the person.
  deps.index.upsertPerson(indexEntry(person, templates));
  return { person, thumbnails: thumbnailsOf(templates) };
}

async function view(repos: Pick<Repos, 'templates'>, person: FacePerson): Promise<FacePersonView> {
  return { person, thumbnails: thumbnailsOf(await repos.templates.listForPerson(person.client, person.id)) };
}

export async function getFacePerson(deps: DomainDeps, client: string, id: string): Promise<FacePersonView> {
  const person = await deps.store.facePersons.get(client, id);
  if (!person) throw new NotFoundError('person');
  return view(deps.store, person);
}

export async function listFacePersons(
  deps: DomainDeps,
  client: string,
  q: Paging & { collection?: string; name?: string; after?: string },
): Promise<Paged<FacePersonView>> {
  let collection: string | undefined;
  if (q.collection !== undefined) {
    const c = await deps.store.collections.get(client, q.collection);
    if (!c) throw new UnknownCollectionError('collection');
    collection = c.id;
  }
  // A cursor naming a person that does not exist (erased since, or another tenant's) cannot say where to resume.
  if (q.after !== undefined && !(await deps.store.facePersons.get(client, q.after))) throw new NotFoundError('person');
  const search = q.name?.trim() || undefined;
  const page = await deps.store.facePersons.list(client, { page: q.page, limit: q.limit, collection, search, after: q.after });
  const items: FacePersonView[] = [];
  for (const p of page.items) items.push(await view(deps.store, p));
  return { items, total: page.total, page: q.page, limit: q.limit };
}

export async function updateFacePerson(deps: DomainDeps, client: string, id: string, patch: FacePersonPatch): Promise<FacePersonView> {
  const now = deps.now?.() ?? new Date();
  const fields: Parameters<Repos['facePersons']['update']>[2] = {};
  if (patch.name !== undefined) fields.name = nonBlank(patch.name, 'name');
  if (patch.gender !== undefined) fields.gender = patch.gender;
  if (patch.date_of_birth !== undefined) {
    fields.dateOfBirth = patch.date_of_birth === null ? null : normaliseBirthDate(patch.date_of_birth, 'date_of_birth', now);
  }
  if (patch.nationality !== undefined) fields.nationality = blankToNull(patch.nationality) ?? null;
  if (patch.notes !== undefined) fields.notes = blankToNull(patch.notes) ?? null;

  // Collections are resolved once, inside the transaction that writes them. Only when new photos are to be analysed
  // does a missing person or collection get checked before too: it must not cost engine time.
  if (patch.images) {
    if (!(await deps.store.facePersons.get(client, id))) throw new NotFoundError('person');
    if (patch.collections) await resolveCollections(deps.store, client, patch.collections, 'collections');
  }
  const faces = patch.images ? (await analyseEnrolment(deps.engine, patch.images, { tenant: client })).faces : null;
  if (faces && patch.images) assertOnePerson(deps.engine, faces, patch.images, samePersonMinScore(deps));

  const { person, templates } = await deps.store.transaction(async (tx) => {
    if (patch.collections) fields.collections = await resolveCollections(tx, client, patch.collections, 'collections');
    // New faces change the person even when no field does: the update also moves updatedAt.
    const person = Object.keys(fields).length > 0 || faces ? await tx.facePersons.update(client, id, fields) : await tx.facePersons.get(client, id);
    if (!person) throw new NotFoundError('person');
    let templates: FaceTemplate[];
    if (faces) {
      // Re-enrolment replaces the old faces: their templates and thumbnails are erased, not kept aside.
      await tx.templates.deleteForPerson(client, id);
      templates = await addTemplates(deps, tx, client, id, faces);
    } else {
      templates = await tx.templates.listForPerson(client, id);
    }
    return { person, templates };
  });
  if (faces) deps.index.upsertPerson(indexEntry(person, templates));
  else if (patch.collections) deps.index.setCollections(client, id, person.collections);
  return { person, thumbnails: thumbnailsOf(templates) };
}

/** Erases the person with every copy of its face (src/domain/erasure.ts names them). */
export async function deleteFacePerson(deps: DomainDeps, client: string, id: string): Promise<void> {
  await erasePerson(deps, client, 'face_person', id);
}
