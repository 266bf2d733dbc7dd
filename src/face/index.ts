// The face engine: a pool of worker threads, each holding its own TensorFlow.js WASM runtime and models, so
// inference never blocks the event loop. One request (all its images) is one job; jobs wait in one bounded queue per
// tenant, served round-robin, so a tenant sending a flood waits behind its own jobs, not in front of everyone's.
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { cosineForScore, scoreFromCosine, similarity } from './calibration.js';
import { EngineBusyError, EngineFailure, ImageError } from './errors.js';
import { StageTotals } from './stages.js';
import { EMBEDDING_DIM, MODEL_VERSION } from './version.js';
import type { WorkerReply, WorkerRequest } from './protocol.js';
import type { AnalysisResult, AnalyzeOptions, FaceEngine } from './types.js';

export type * from './types.js';
export { EngineBusyError, EngineFailure, ImageError, TemplateVersionError } from './errors.js';
export { assertSameVersion, cosine, cosineForScore, scoreFromCosine, similarity } from './calibration.js';
export { EMBEDDING_DIM, MODEL_VERSION } from './version.js';

export interface EngineOptions {
  /** Worker threads (default: one per core). */
  workers?: number;
  /** Jobs allowed to wait for a worker; beyond it analyze() rejects with EngineBusyError (default 8 per worker). */
  queueLimit?: number;
  /** Jobs one tenant (AnalyzeOptions.tenant) may have waiting; beyond it that tenant gets EngineBusyError while
   *  others still queue (default queueLimit: no bound of its own; the server sets ENGINE_QUEUE_PER_CLIENT). */
  tenantQueueLimit?: number;
  /** A job running longer than this is treated as a hung worker: the worker is replaced (default 120 s). */
  jobTimeoutMs?: number;
  /**
   * ONNX Runtime intra-op threads per worker (default: cores ÷ workers, at least 1). More than that lets one job use
   * cores other workers leave idle (lower latency at low load); idle ORT threads sleep rather than spin.
   */
  threads?: number;
  /** Tests only: lets crashWorkerForTests() make a worker exit. */
  testHooks?: boolean;
}

interface Job {
  id: number;
  images: Uint8Array[];
  opts: AnalyzeOptions;
  resolve(r: AnalysisResult): void;
  reject(e: Error): void;
  timer?: NodeJS.Timeout;
  /** performance.now() when analyze() accepted it, and when a worker got it. */
  queuedAt: number;
  dispatchedAt?: number;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
  /** Set when we end the worker ourselves, so its exit is not taken for a crash. */
  retiring?: boolean;
}

/**
 * How to start the worker: its compiled .js next to this file (dist/), or, when running from TypeScript sources
 * (vitest, tsx), its .ts source through a tiny bootstrap that registers tsx's loader first — Node 20 does not apply
 * a `--import tsx` in a worker's execArgv before loading the worker's own entry file.
 */
function workerEntry(): { entry: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith('.ts')) return { entry: new URL('./worker.js', import.meta.url), eval: false };
  const tsxDir = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsxApi = pathToFileURL(path.join(tsxDir, 'dist/esm/api/index.mjs')).href;
  const source = new URL('./worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(source)}); })`;
  return { entry: code, eval: true };
}

const MAX_START_FAILURES = 3;

export class WorkerFaceEngine implements FaceEngine {
  readonly modelVersion = MODEL_VERSION;
  readonly dim = EMBEDDING_DIM;
  /** Milliseconds each worker took to load its models (for benchmarks and logs). */
  readonly loadTimes: number[] = [];
  /** Seconds spent per stage over every job answered so far (exported by /metrics, read by the benchmarks). */
  readonly stageTotals = new StageTotals();

  private readonly size: number;
  private readonly queueLimit: number;
  private readonly tenantQueueLimit: number;
  private readonly jobTimeoutMs: number;
  private readonly testHooks: boolean;
  private readonly threads: number;
  private readonly entry = workerEntry();
  private readonly slots = new Set<Slot>();
  /** Waiting jobs per tenant. Map order is the round-robin order: a tenant served moves to the back. */
  private readonly queues = new Map<string, Job[]>();
  private waiting = 0;
  private nextId = 1;
  private closed = false;
  private failure?: EngineFailure;
  private startFailures = 0;
  private readyCount = 0;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (e: Error) => void;

  constructor(opts: EngineOptions = {}) {
    this.size = Math.max(1, Math.floor(opts.workers ?? os.availableParallelism()));
    this.threads = Math.max(1, Math.floor(opts.threads || os.availableParallelism() / this.size));
    this.queueLimit = Math.max(0, Math.floor(opts.queueLimit ?? 8 * this.size));
    this.tenantQueueLimit = Math.max(1, Math.floor(opts.tenantQueueLimit ?? this.queueLimit));
    this.jobTimeoutMs = opts.jobTimeoutMs ?? 120_000;
    this.testHooks = Boolean(opts.testHooks);
    this.readyPromise = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.readyPromise.catch(() => {}); // callers see it through ready(); no unhandled rejection meanwhile
    for (let i = 0; i < this.size; i++) this.spawn();
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  isReady(): boolean {
    return !this.closed && !this.failure && this.readyCount >= this.size;
  }

  /** Jobs waiting for a worker. */
  get queued(): number {
    return this.waiting;
  }

  /** Jobs waiting for a worker, per tenant (tenants with none are left out). */
  queuedByTenant(): Map<string, number> {
    return new Map([...this.queues].map(([t, q]) => [t, q.length]));
  }

  analyze(images: Uint8Array[], options: AnalyzeOptions = {}): Promise<AnalysisResult> {
    if (this.closed) return Promise.reject(new EngineFailure('the face engine is closed'));
    if (this.failure) return Promise.reject(this.failure);
    // The tenant only chooses the queue; the worker never sees it.
    const { tenant = '', ...opts } = options;
    const idle = [...this.slots].some((s) => s.ready && !s.job);
    const own = this.queues.get(tenant)?.length ?? 0;
    if (!idle && (this.waiting >= this.queueLimit || own >= this.tenantQueueLimit)) return Promise.reject(new EngineBusyError(1));
    return new Promise<AnalysisResult>((resolve, reject) => {
      const job: Job = { id: this.nextId++, images, opts, resolve, reject, queuedAt: performance.now() };
      const q = this.queues.get(tenant);
      if (q) q.push(job);
      else this.queues.set(tenant, [job]);
      this.waiting++;
      this.dispatch();
    });
  }

  /** Every waiting job, removed from the queues (close, or a pool that cannot start). */
  private drainQueues(): Job[] {
    const all = [...this.queues.values()].flat();
    this.queues.clear();
    this.waiting = 0;
    return all;
  }

  /** The next job round-robin: the first tenant in line gives one job and goes to the back of the line. */
  private nextJob(): Job | undefined {
    const first = this.queues.entries().next();
    if (first.done) return undefined;
    const [tenant, q] = first.value;
    const job = q.shift()!;
    this.queues.delete(tenant);
    if (q.length > 0) this.queues.set(tenant, q);
    this.waiting--;
    return job;
  }

  similarity(a: Float32Array, b: Float32Array): number {
    return similarity(a, b);
  }

  scoreFromCosine(cosine: number): number {
    return scoreFromCosine(cosine);
  }

  cosineForScore(score: number): number {
    return cosineForScore(score);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.drainQueues()) job.reject(new EngineFailure('the face engine was closed'));
    this.rejectReady(new EngineFailure('the face engine was closed'));
    await Promise.all(
      [...this.slots].map((slot) => {
        slot.retiring = true;
        if (slot.job) this.finish(slot, slot.job).reject(new EngineFailure('the face engine was closed'));
        return slot.worker.terminate();
      }),
    );
    this.slots.clear();
  }

  /** Tests only: makes one busy (or else any) worker exit as if it crashed. */
  crashWorkerForTests(): void {
    if (!this.testHooks) throw new Error('crashWorkerForTests needs an engine created with testHooks');
    const slots = [...this.slots];
    const slot = slots.find((s) => s.job) ?? slots[0];
    slot?.worker.postMessage({ type: 'crash' } satisfies WorkerRequest);
  }

  private spawn(): void {
    const worker = new Worker(this.entry.entry, {
      eval: this.entry.eval,
      // V8's default young generation (up to 3 × 16 MB semi-spaces) stays resident in every worker; the pipeline's
      // short-lived objects are small (pixels live in typed arrays), so 8 MB is plenty: ~25 MB less RSS a worker.
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
      // libvips threads are process-wide: give the pool's workers the cores between them.
      workerData: { testHooks: this.testHooks, vipsThreads: Math.max(1, Math.floor(os.availableParallelism() / this.size)), ortThreads: this.threads },
    });
    const slot: Slot = { worker, ready: false };
    this.slots.add(slot);
    worker.on('message', (msg: WorkerReply) => this.onMessage(slot, msg));
    worker.on('error', (err) => this.onExit(slot, `crashed: ${err.message}`));
    worker.on('exit', (code) => this.onExit(slot, `exited with code ${code}`));
  }

  private onMessage(slot: Slot, msg: WorkerReply): void {
    if (msg.type === 'ready') {
      slot.ready = true;
      this.startFailures = 0;
      this.loadTimes.push(msg.loadMs);
      if (++this.readyCount === this.size) this.resolveReady();
      this.dispatch();
      return;
    }
    const job = slot.job;
    if (!job || msg.id !== job.id) return;
    const { resolve, reject } = this.finish(slot, job);
    if (msg.type === 'result') {
      // Structured clone turns Float32Array/Uint8Array into plain typed arrays again; nothing to revive.
      const stages = (msg.result.stages ??= {});
      const now = performance.now();
      stages.queue = (job.dispatchedAt ?? now) - job.queuedAt;
      const inWorker = Object.values(stages).reduce((a, b) => a + (b ?? 0), 0) - stages.queue;
      stages.handover = Math.max(0, now - (job.dispatchedAt ?? now) - inWorker);
      this.stageTotals.add(stages, job.images.length);
      resolve(msg.result);
    } else if (msg.name === 'ImageError') {
      reject(new ImageError(msg.code ?? 'not_an_image', msg.message, msg.index));
    } else {
      reject(new EngineFailure(`face analysis failed: ${msg.message}`));
    }
    this.dispatch();
  }

  private onExit(slot: Slot, why: string): void {
    if (!this.slots.has(slot)) return; // 'error' is followed by 'exit': handle once
    this.slots.delete(slot);
    if (slot.ready) this.readyCount--;
    if (slot.job) this.finish(slot, slot.job).reject(new EngineFailure(`a face engine worker ${why}`));
    if (this.closed || slot.retiring) return;
    if (!slot.ready && ++this.startFailures >= MAX_START_FAILURES) {
      this.failure = new EngineFailure(`face engine workers cannot start (${why})`);
      this.rejectReady(this.failure);
      for (const job of this.drainQueues()) job.reject(this.failure);
      for (const s of this.slots) {
        s.retiring = true;
        void s.worker.terminate();
      }
      return;
    }
    this.spawn();
  }

  private finish(slot: Slot, job: Job): Job {
    clearTimeout(job.timer);
    slot.job = undefined;
    return job;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.waiting === 0) return;
      if (!slot.ready || slot.job) continue;
      const job = this.nextJob()!;
      slot.job = job;
      job.dispatchedAt = performance.now();
      job.timer = setTimeout(() => {
        // A hung worker: end it; its exit rejects the job and starts a replacement.
        void slot.worker.terminate();
      }, this.jobTimeoutMs);
      job.timer.unref();
      slot.worker.postMessage({ type: 'analyze', id: job.id, images: job.images, opts: job.opts } satisfies WorkerRequest);
    }
  }
}

export function createFaceEngine(opts: EngineOptions = {}): WorkerFaceEngine {
  return new WorkerFaceEngine(opts);
}
