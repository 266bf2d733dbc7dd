// PUT /collections/{id} with `people`: Verifik's way of setting who is in a collection. The persons listed become
// members, members not listed leave (they stay enrolled, in their other collections if any).
import type { DomainDeps } from './deps.js';
import { NotFoundError, UnknownReferenceError } from './errors.js';
import { updateFacePerson } from './facePersons.js';

const PAGE = 100;

/** Makes `personIds` exactly the members of the collection. Unknown (or foreign) persons fail before any change. */
export async function setCollectionMembers(deps: DomainDeps, client: string, collectionRef: string, personIds: string[]): Promise<void> {
  const collection = await deps.store.collections.get(client, collectionRef);
  if (!collection) throw new NotFoundError('collection');
  const wanted = new Map<string, string[]>();
  for (const id of personIds) {
    const person = await deps.store.facePersons.get(client, id);
    if (!person) throw new UnknownReferenceError('person', id);
    wanted.set(person.id, person.collections);
  }
  const leaving: { id: string; collections: string[] }[] = [];
  for (let page = 1; ; page++) {
    const members = await deps.store.facePersons.list(client, { page, limit: PAGE, collection: collection.id });
    for (const p of members.items) if (!wanted.has(p.id)) leaving.push({ id: p.id, collections: p.collections });
    if (members.items.length < PAGE) break;
  }
  // Each change goes through the one person update, so the search index follows every membership at once.
  for (const p of leaving) await updateFacePerson(deps, client, p.id, { collections: p.collections.filter((c) => c !== collection.id) });
  for (const [id, collections] of wanted) {
    if (!collections.includes(collection.id)) await updateFacePerson(deps, client, id, { collections: [...collections, collection.id] });
  }
}
