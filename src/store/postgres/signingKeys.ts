// Response-signing keys shared by every instance on one database (not per tenant).
import type { SigningKeyRecord } from '../../domain/model.js';
import type { SigningKeyRepo } from '../../domain/ports.js';
import type { Scope } from './connection.js';
import { toKey } from '../rows.js';

export class PgSigningKeys implements SigningKeyRepo {
  constructor(private readonly s: Scope) {}

  async list(): Promise<SigningKeyRecord[]> {
    const { rows } = await this.s.read((q) => q('SELECT * FROM signing_keys ORDER BY created_at DESC, kid DESC'));
    return rows.map(toKey);
  }

  async rotate(key: SigningKeyRecord, expectedCurrent: string | null): Promise<boolean> {
    return this.s.write('signing key', async (q) => {
      // Instances rotating at once queue on this lock; each then compares the current kid with what it expected.
      await q(`SELECT pg_advisory_xact_lock(hashtextextended('facegate:signing_keys', 0))`);
      const cur = (await q('SELECT kid FROM signing_keys WHERE retired_at IS NULL')).rows[0] as { kid: string } | undefined;
      if ((cur?.kid ?? null) !== expectedCurrent) return false;
      if (cur) await q('UPDATE signing_keys SET retired_at = $1 WHERE kid = $2', [key.createdAt, cur.kid]);
      await q('INSERT INTO signing_keys (kid, alg, private_jwk, public_jwk, created_at, retired_at) VALUES ($1, $2, $3, $4, $5, NULL)', [
        key.kid,
        key.alg,
        key.privateJwk,
        key.publicJwk,
        key.createdAt,
      ]);
      return true;
    });
  }


  async pruneRetired(before: string): Promise<number> {
    return this.s.write('signing key', async (q) => (await q('DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < $1', [before])).rowCount);
  }
}
