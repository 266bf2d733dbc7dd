// Keeps this instance's in-memory vector index coherent with writes made by every instance on a shared database.
//
// The store appends one row to its change feed (strictly increasing `seq`, commit order == seq order) for each
// face person whose index entry a transaction changed. The follower keeps a cursor (the highest seq applied) and,
// on each wake-up, reads the changes after it and re-reads each changed person from the store: its current
// templates and collections are upserted, or it is removed when gone. Re-reading makes a change idempotent and
// order-insensitive within a batch (the store's current state wins), so a notification that never arrived, a
// dropped connection or a restart loses nothing: the next pass catches up by seq. Wake-ups come from the store's
// watchChanges (LISTEN/NOTIFY on PostgreSQL) and from a timer, the safety net.
import type { FaceIndex } from '../index/types.js';
import type { IndexChange, Store } from './ports.js';
import { refreshIndexEntry } from './reindex.js';

/** What the follower needs from the store. */
export type FollowedStore = Pick<Store, 'facePersons' | 'templates' | 'changes' | 'watchChanges'>;

export interface FollowerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface IndexFollowerOptions {
  store: FollowedStore;
  index: FaceIndex;
  /** Templates of other model versions are not indexed (as at start-up). */
  modelVersion: string;
  /** The seq the index already reflects: changes.latest() read before the index was loaded. */
  from: number;
  /** Safety-net poll interval. Default 500 ms. */
  pollMs?: number;
  /** Changes read per query. Default 1000. */
  batch?: number;
  /** Feed rows older than this (and already applied here) are pruned, hourly. Default 7 days; 0 never prunes. */
  retentionMs?: number;
  log?: FollowerLog;
}

export class IndexFollower {
  private cursorSeq: number;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private watch: { close(): Promise<void> } | null = null;
  private failingSince: number | null = null;
  /** Changes applied since start (for tests and metrics). */
  applied = 0;
  /** Milliseconds from a change's write to its application here, of the latest change applied. */
  lastLagMs: number | null = null;

  constructor(private readonly opts: IndexFollowerOptions) {
    this.cursorSeq = opts.from;
  }

  /** The highest seq this index reflects. */
  get cursor(): number {
    return this.cursorSeq;
  }

  /** Subscribes to wake-ups, starts the safety-net timer and catches up once. */
  async start(): Promise<void> {
    this.watch = await this.opts.store.watchChanges(() => this.wake());
    this.timer = setInterval(() => this.wake(), this.opts.pollMs ?? 500);
    this.timer.unref();
    const retention = this.opts.retentionMs ?? 7 * 24 * 3600_000;
    if (retention > 0) {
      this.pruneTimer = setInterval(() => void this.prune(retention), 3600_000);
      this.pruneTimer.unref();
    }
    await this.pass();
  }

  /** Runs a pass now, or right after the one in progress (wake-ups never overlap, none is lost). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.pass();
  }

  /**
   * Resolves once the index reflects every change up to `target` (default: the feed's latest). Used before a
   * decision that must see other instances' writes (de-duplicating enrolment). Throws if the store fails.
   */
  async catchUp(target?: number): Promise<void> {
    const want = target ?? (await this.opts.store.changes.latest());
    while (this.cursorSeq < want && !this.stopped) {
      if (this.running) await this.running;
      else {
        const before = this.cursorSeq;
        await this.pass(true);
        // Nothing more to read although `want` was committed: the feed was pruned past it (or rolled back).
        if (this.cursorSeq === before) break;
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.running?.catch(() => undefined);
    await this.watch?.close();
  }

  /** One pass: read and apply batches until the feed is exhausted. `rethrow` lets catchUp see a failure. */
  private pass(rethrow = false): Promise<void> {
    const run = (async () => {
      try {
        do {
          this.again = false;
          while (!this.stopped && (await this.step())) {
            // keep reading while full batches come back
          }
        } while (this.again && !this.stopped);
        if (this.failingSince !== null) {
          this.opts.log?.info({ cursor: this.cursorSeq, downMs: Date.now() - this.failingSince }, 'change feed reachable again; index caught up');
          this.failingSince = null;
        }
      } catch (err) {
        if (this.failingSince === null) {
          this.failingSince = Date.now();
          this.opts.log?.warn({ err, cursor: this.cursorSeq }, 'could not read the change feed; retrying (this index may lag other instances meanwhile)');
        }
        if (rethrow) throw err;
      } finally {
        this.running = null;
      }
    })();
    this.running = run;
    return run;
  }

  /** Applies one batch; true when the batch was full (more may follow). */
  private async step(): Promise<boolean> {
    const batch = this.opts.batch ?? 1000;
    const changes = await this.opts.store.changes.since(this.cursorSeq, batch);
    if (changes.length === 0) return false;
    // A person changed several times in the batch is re-read once: the store's current state covers them all.
    const persons = new Map<string, IndexChange>();
    for (const c of changes) persons.set(`${c.client}\u0000${c.person}`, c);
    for (const c of persons.values()) {
      await refreshIndexEntry(this.opts.store, this.opts.index, this.opts.modelVersion, c.client, c.person);
    }
    const last = changes[changes.length - 1];
    this.cursorSeq = last.seq;
    this.applied += changes.length;
    const at = Date.parse(last.at);
    if (Number.isFinite(at)) this.lastLagMs = Date.now() - at;
    return changes.length === batch;
  }

  private async prune(retentionMs: number): Promise<void> {
    try {
      const n = await this.opts.store.changes.prune(this.cursorSeq, new Date(Date.now() - retentionMs).toISOString());
      if (n > 0) this.opts.log?.info({ changes: n }, 'change feed rows past retention pruned');
    } catch (err) {
      this.opts.log?.warn({ err }, 'could not prune the change feed');
    }
  }
}
