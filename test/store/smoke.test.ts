import { afterEach, describe, expect, it } from 'vitest';
import { openTemp } from './helpers.js';

describe('sqlite store smoke', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => cleanup?.());

  it('creates a client, collection, person and template, and rolls a failed transaction back', async () => {
    const t = openTemp();
    cleanup = t.cleanup;
    const { store } = t;
    const c = await store.clients.create('acme');
    const col = await store.collections.create({ client: c.id, name: 'staff', description: '' });
    const p = await store.facePersons.create({ client: c.id, name: 'Ann', gender: 'F', date_of_birth: null, nationality: null, notes: null, collections: [col.code] });
    expect(p.collections).toEqual([col._id]);
    await expect(
      store.transaction(async (tx) => {
        await tx.collections.create({ client: c.id, name: 'tmp', description: '' });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await store.collections.list(c.id, { page: 1, limit: 10 })).total).toBe(1);
    expect(await store.healthy()).toBe(true);
  });
});
