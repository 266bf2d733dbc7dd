// Response-signing keys shared through the store: every instance signs with the same current key and publishes the
// same JWKS; a rotation by one reaches the others without a restart, and retired keys stay published until their
// retention ends. Real stores: SQLite here (two handles on one file), PostgreSQL in the multi-instance tests.
import { compactVerify, createLocalJWKSet } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateSigner, loadSharedSigner, rotateSharedKey, rotateSigningKey, type SharedSigner } from '../../src/http/signing.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/store.js';
import { tempDir } from '../store/helpers.js';

const claims = { id: 'req-1', dateTime: '2026-01-01T00:00:00.000Z', client: 'c', route: 'POST /x', request: '0'.repeat(64), data: { ok: true } };

describe('shared signing keys', () => {
  const opened: { stores: SqliteStore[]; signers: SharedSigner[]; cleanup: () => void }[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0)) {
      for (const s of o.signers) s.close();
      for (const s of o.stores) await s.close();
      o.cleanup();
    }
  });
  function twoHandles() {
    const t = tempDir('facegate-keys-');
    const a = openSqliteStore({ dataDir: t.dir });
    const b = openSqliteStore({ dataDir: t.dir });
    const o = { stores: [a, b], signers: [] as SharedSigner[], cleanup: t.cleanup, dir: t.dir };
    opened.push(o);
    return o;
  }

  it('instances starting at once agree on one key, sign with it and publish the same JWKS', async () => {
    const o = twoHandles();
    const [a, b] = await Promise.all(o.stores.map((s) => loadSharedSigner(s.signingKeys)));
    o.signers.push(a, b);
    expect(a.kid).toBe(b.kid);
    expect(b.jwks()).toEqual(a.jwks());
    expect(a.jwks().keys).toHaveLength(1);
    expect(a.jwks().keys[0]).not.toHaveProperty('d');
    const jws = await a.sign(claims);
    await compactVerify(jws, createLocalJWKSet(b.jwks()));
  });

  it('a rotation reaches the other instance on refresh; answers signed with the old key keep verifying', async () => {
    const o = twoHandles();
    const a = await loadSharedSigner(o.stores[0].signingKeys);
    const b = await loadSharedSigner(o.stores[1].signingKeys);
    o.signers.push(a, b);
    const before = await b.sign(claims);
    const r = await rotateSharedKey(o.stores[0].signingKeys);
    expect(r.retired).toBe(b.kid);
    await b.refresh();
    await a.refresh();
    expect(b.kid).toBe(r.current);
    expect(a.kid).toBe(r.current);
    expect(b.jwks().keys.map((k) => k.kid)).toEqual([r.current, r.retired]);
    await compactVerify(before, createLocalJWKSet(a.jwks()));
    const after = await b.sign(claims);
    expect(JSON.parse(Buffer.from(after.split('.')[0], 'base64url').toString()).kid).toBe(r.current);
  });

  it('retired keys leave the JWKS after the retention period', async () => {
    const o = twoHandles();
    let t = Date.parse('2026-01-01T00:00:00Z');
    const now = () => new Date(t);
    const a = await loadSharedSigner(o.stores[0].signingKeys, { now, retentionMs: 1000 });
    o.signers.push(a);
    const first = a.kid;
    await rotateSharedKey(o.stores[0].signingKeys, { now, retentionMs: 1000 });
    await a.refresh();
    expect(a.jwks().keys.map((k) => k.kid)).toContain(first);
    t += 5000;
    await a.refresh();
    expect(a.jwks().keys.map((k) => k.kid)).not.toContain(first);
  });

  it("imports a lone server's DATA_DIR key (and its retired keys) once, keeping its kid", async () => {
    const o = twoHandles();
    const old = (await loadOrCreateSigner(o.dir)).kid;
    await rotateSigningKey(o.dir);
    const fileSigner = await loadOrCreateSigner(o.dir);
    const a = await loadSharedSigner(o.stores[0].signingKeys, { dataDir: o.dir });
    const b = await loadSharedSigner(o.stores[1].signingKeys, { dataDir: o.dir });
    o.signers.push(a, b);
    expect(a.kid).toBe(fileSigner.kid);
    expect(b.kid).toBe(fileSigner.kid);
    expect(a.jwks().keys.map((k) => k.kid)).toEqual([fileSigner.kid, old]);
    expect((await o.stores[0].signingKeys.list()).length).toBe(2);
    const jws = await fileSigner.sign(claims);
    await compactVerify(jws, createLocalJWKSet(b.jwks()));
  });
});
