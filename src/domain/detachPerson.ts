// DELETE /persons/{id}?collection=…: Verifik's "remove from this collection" form of a delete. The person leaves
// that collection; a person left in no collection is erased, as a plain delete would.
import { resolveCollection } from './collections.js';
import type { DomainDeps } from './deps.js';
import { NotFoundError } from './errors.js';
import { deleteFacePerson, updateFacePerson } from './facePersons.js';

/** `deleted`: the whole person was erased; otherwise `collections` are the ones it still belongs to. */
export async function removeFromCollection(
  deps: DomainDeps,
  client: string,
  id: string,
  collectionRef: string,
): Promise<{ deleted: boolean; collections: string[] }> {
  const collection = await resolveCollection(deps.store, client, collectionRef, 'collection');
  const person = await deps.store.facePersons.get(client, id);
  // Outside the named collection the person is not found there: the same 404 as an unknown id.
  if (!person || !person.collections.includes(collection)) throw new NotFoundError('person');
  const rest = person.collections.filter((c) => c !== collection);
  if (rest.length === 0) {
    await deleteFacePerson(deps, client, id);
    return { deleted: true, collections: [] };
  }
  const view = await updateFacePerson(deps, client, id, { collections: rest });
  return { deleted: false, collections: view.person.collections };
}
