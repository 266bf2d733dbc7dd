// Collections: named groups of face persons that searches can be limited to.
import { newCollectionCode, newObjectId } from './ids.js';
import type { Collection, Repos } from './ports.js';
import type { DomainDeps, Paged, Paging } from './deps.js';
import { NotFoundError, UnknownCollectionError } from './errors.js';

export interface CollectionInput {
  name: string;
  description?: string;
}

export async function createCollection(deps: DomainDeps, client: string, input: CollectionInput): Promise<Collection> {
  return deps.store.collections.create({
    id: newObjectId(),
    code: newCollectionCode(),
    client,
    name: input.name.trim(),
    description: input.description?.trim() ?? '',
  });
}

export async function listCollections(deps: DomainDeps, client: string, q: Paging & { search?: string }): Promise<Paged<Collection>> {
  const page = await deps.store.collections.list(client, q);
  return { items: page.items, total: page.total, page: q.page, limit: q.limit };
}

/** `idOrCode` is the collection's `id` or its `code`. */
export async function getCollection(deps: DomainDeps, client: string, idOrCode: string): Promise<Collection> {
  const c = await deps.store.collections.get(client, idOrCode);
  if (!c) throw new NotFoundError('collection');
  return c;
}

export async function updateCollection(
  deps: DomainDeps,
  client: string,
  idOrCode: string,
  patch: Partial<CollectionInput>,
): Promise<Collection> {
  return deps.store.transaction(async (tx) => {
    const c = await tx.collections.get(client, idOrCode);
    if (!c) throw new NotFoundError('collection');
    const clean: Partial<CollectionInput> = {};
    if (patch.name !== undefined) clean.name = patch.name.trim();
    if (patch.description !== undefined) clean.description = patch.description.trim();
    if (Object.keys(clean).length === 0) return c;
    const updated = await tx.collections.update(client, c.id, clean);
    if (!updated) throw new NotFoundError('collection');
    return updated;
  });
}

/** Deletes the collection and its memberships; its persons stay (in their other collections, if any). */
export async function deleteCollection(deps: DomainDeps, client: string, idOrCode: string): Promise<Collection> {
  const deleted = await deps.store.transaction(async (tx) => {
    const c = await tx.collections.get(client, idOrCode);
    if (!c || !(await tx.collections.delete(client, c.id))) throw new NotFoundError('collection');
    return c;
  });
  // Right after commit, with no await in between, so the next search no longer sees the collection.
  deps.index.removeCollection(client, deleted.id);
  return deleted;
}

/** Resolves one collection reference (`id` or `code`) to its `id`; `field` names the request field as it is. */
export async function resolveCollection(repos: Pick<Repos, 'collections'>, client: string, ref: string, field: string): Promise<string> {
  const c = await repos.collections.get(client, ref);
  if (!c) throw new UnknownCollectionError(field);
  return c.id;
}

/**
 * Resolves collection references (`id` or `code`) to `id`s, in the order given, without duplicates. `field`
 * names the request field, for the error (`collections` → `collections[1]`).
 */
export async function resolveCollections(repos: Pick<Repos, 'collections'>, client: string, refs: string[], field: string): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, ref] of refs.entries()) {
    const c = await repos.collections.get(client, ref);
    if (!c) throw new UnknownCollectionError(`${field}[${i}]`);
    if (!ids.includes(c.id)) ids.push(c.id);
  }
  return ids;
}
