// Where a job's time goes, stage by stage (decode, detection, landmarks, alignment, embedding, anti-spoofing, …):
// the worker times each stage of each job and returns the milliseconds with the result; the pool adds the wait for a
// worker and the hand-over, and keeps running totals that /metrics exports and the benchmarks read.

/**
 * The stages, in pipeline order. `queue` (waiting for a worker) and `handover` (the rest of the round trip: messages
 * to and from the worker, structured cloning, untimed glue) are measured by the pool; the others in the worker.
 */
export const STAGES = [
  'queue',
  'handover',
  'decode',
  'detect',
  'landmarks',
  'align',
  'embed',
  'attributes',
  'quality',
  'thumbnail',
  'antispoof',
  'cues',
] as const;
export type Stage = (typeof STAGES)[number];
export type StageTimes = Partial<Record<Stage, number>>;

/** Adds up milliseconds per stage for one job. */
export class StageClock {
  readonly ms: StageTimes = {};

  add(stage: Stage, ms: number): void {
    this.ms[stage] = (this.ms[stage] ?? 0) + ms;
  }

  /** Runs `fn` and charges its wall time to `stage`. */
  async time<T>(stage: Stage, fn: () => Promise<T> | T): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.add(stage, performance.now() - t0);
    }
  }

  /** Like `time`, for synchronous work. */
  timeSync<T>(stage: Stage, fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.add(stage, performance.now() - t0);
    }
  }
}

/** Running totals over many jobs (seconds per stage, and how many jobs and images they cover). */
export class StageTotals {
  readonly seconds: Record<Stage, number> = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  jobs = 0;
  images = 0;

  add(times: StageTimes, images: number): void {
    for (const [stage, ms] of Object.entries(times) as [Stage, number][]) this.seconds[stage] += ms / 1000;
    this.jobs++;
    this.images += images;
  }
}
