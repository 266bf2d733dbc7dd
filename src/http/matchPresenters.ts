// The person as Verifik's matching routes show it (search, search/crops, search-live-face, verify), and the
// person answered by persons/search-live-face. Built on presentFacePerson so every route shows one person alike.
import { Type } from '@sinclair/typebox';
import type { FacePersonView } from '../domain/facePersons.js';
import { FacePersonSchema, presentFacePerson } from './presenters.js';

/** A candidate of a 1:N search or the subject of a verify: `{id, name, score, …, thumbnails}`. */
export const MatchedPersonSchema = Type.Object({
  id: Type.String({ description: 'The person `_id`.' }),
  name: Type.String(),
  score: Type.Number({ minimum: 0, maximum: 1 }),
  gender: FacePersonSchema.properties.gender,
  date_of_birth: FacePersonSchema.properties.date_of_birth,
  nationality: FacePersonSchema.properties.nationality,
  notes: FacePersonSchema.properties.notes,
  external_id: FacePersonSchema.properties.external_id,
  collections: FacePersonSchema.properties.collections,
  thumbnails: FacePersonSchema.properties.thumbnails,
});

export function presentMatchedPerson(view: FacePersonView, score: number) {
  const p = presentFacePerson(view);
  return {
    id: p._id,
    name: p.name,
    score,
    gender: p.gender,
    date_of_birth: p.date_of_birth,
    nationality: p.nationality,
    notes: p.notes,
    external_id: p.external_id,
    collections: p.collections,
    thumbnails: p.thumbnails,
  };
}

/** persons/search-live-face's person: the page's `date_of_birth` date-time and `deleted: false`, plus the rest. */
export const LiveFacePersonSchema = Type.Object({
  ...FacePersonSchema.properties,
  date_of_birth: Type.String({ format: 'date-time', description: 'Midnight UTC of the date of birth, as Verifik\'s page shows it.' }),
  deleted: Type.Literal(false),
});

export function presentLiveFacePerson(view: FacePersonView) {
  const p = presentFacePerson(view);
  // The route requires a date of birth, so it is always there.
  return { ...p, date_of_birth: `${p.date_of_birth}T00:00:00.000Z`, deleted: false as const };
}
