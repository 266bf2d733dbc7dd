// Response-signing keys shared by every instance on one database (not per tenant).
import type { SigningKeyRecord } from '../../domain/model.js';
import type { SigningKeyRepo } from '../../domain/ports.js';
import type { Row, Scope } from './connection.js';
import { toKey } from '../rows.js';

export class SqliteSigningKeys implements SigningKeyRepo {
  constructor(private readonly s: Scope) {}

  async list(): Promise<SigningKeyRecord[]> {
    return this.s.read((q) => (q('SELECT * FROM signing_keys ORDER BY created_at DESC, rowid DESC').all() as Row[]).map(toKey));
  }

  async rotate(key: SigningKeyRecord, expectedCurrent: string | null): Promise<boolean> {
    return this.s.write('signing key', (q) => {
      const cur = q('SELECT kid FROM signing_keys WHERE retired_at IS NULL').get() as { kid: string } | undefined;
      if ((cur?.kid ?? null) !== expectedCurrent) return false;
      if (cur) q('UPDATE signing_keys SET retired_at = ? WHERE kid = ?').run(key.createdAt, cur.kid);
      q('INSERT INTO signing_keys (kid, alg, private_jwk, public_jwk, created_at, retired_at) VALUES (?, ?, ?, ?, ?, NULL)').run(
        key.kid,
        key.alg,
        key.privateJwk,
        key.publicJwk,
        key.createdAt,
      );
      return true;
    });
  }

  async pruneRetired(before: string): Promise<number> {
    return this.s.write('signing key', (q) => q('DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?').run(before).changes);
  }
}
