// The change feed's reads and retention (rows are appended by PgConnection right before each COMMIT), and the
// cross-instance de-duplication lock.
import type { IndexChange } from '../../domain/model.js';
import type { ChangeFeedRepo, LockRepo } from '../../domain/ports.js';
import type { Scope } from './connection.js';

export class PgChanges implements ChangeFeedRepo {
  constructor(private readonly s: Scope) {}

  async latest(): Promise<number> {
    const { rows } = await this.s.read((q) => q('SELECT coalesce(max(seq), 0)::bigint AS n FROM index_changes'));
    return Number(rows[0].n);
  }

  async since(after: number, limit: number): Promise<IndexChange[]> {
    const { rows } = await this.s.read((q) => q('SELECT seq, client_id, person_id, at FROM index_changes WHERE seq > $1 ORDER BY seq LIMIT $2', [after, limit]));
    return rows.map((r) => ({ seq: Number(r.seq), client: r.client_id as string, person: r.person_id as string, at: r.at as string }));
  }

  async prune(upTo: number, olderThan: string): Promise<number> {
    // The newest row stays, so latest() never goes back.
    return this.s.write('index change', async (q) =>
      (await q('DELETE FROM index_changes WHERE seq <= $1 AND at < $2 AND seq < (SELECT max(seq) FROM index_changes)', [upTo, olderThan])).rowCount,
    );
  }
}

export class PgLocks implements LockRepo {
  constructor(private readonly s: Scope) {}

  /** Held until this transaction commits or rolls back, across every instance on the database. */
  async dedup(client: string, collection: string): Promise<void> {
    if (!this.s.inTransaction) throw new Error('locks.dedup is only valid inside store.transaction()');
    await this.s.read((q) => q(`SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))`, [client, collection]));
  }
}
