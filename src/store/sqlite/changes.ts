// The change feed's reads and retention (rows are appended by SqliteConnection right before each COMMIT).
import type { IndexChange } from '../../domain/model.js';
import type { ChangeFeedRepo } from '../../domain/ports.js';
import type { Row, Scope } from './connection.js';

export class SqliteChanges implements ChangeFeedRepo {
  constructor(private readonly s: Scope) {}

  async latest(): Promise<number> {
    return this.s.read((q) => (q('SELECT coalesce(max(seq), 0) AS n FROM index_changes').get() as { n: number }).n);
  }

  async since(after: number, limit: number): Promise<IndexChange[]> {
    return this.s.read((q) =>
      (q('SELECT seq, client_id, person_id, at FROM index_changes WHERE seq > ? ORDER BY seq LIMIT ?').all(after, limit) as Row[]).map((r) => ({
        seq: r.seq as number,
        client: r.client_id as string,
        person: r.person_id as string,
        at: r.at as string,
      })),
    );
  }

  async prune(upTo: number, olderThan: string): Promise<number> {
    // The newest row stays, so latest() never goes back.
    return this.s.write('index change', (q) =>
      q('DELETE FROM index_changes WHERE seq <= ? AND at < ? AND seq < (SELECT max(seq) FROM index_changes)').run(upTo, olderThan).changes,
    );
  }
}

export class SqliteLocks {
  constructor(private readonly s: Scope) {}

  /** One process, one writer: a transaction already excludes every other writer, so there is nothing to take. */
  async dedup(_client: string, _collection: string): Promise<void> {
    if (!this.s.inTransaction) throw new Error('locks.dedup is only valid inside store.transaction()');
  }
}
