// Worker thread of the face engine pool: loads the models once, then analyses one request (all its images) at a time.
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { ImageError } from './errors.js';
import { analyzeImage, loadModels, type ImageAnalysis, type Models } from './pipeline.js';
import { setOnnxThreads } from './onnx.js';
import { antispoofMs } from './antispoof.js';
import { StageClock } from './stages.js';
import { captureLiveness, faceLiveness, loadLivenessModels, type LivenessInput } from './liveness.js';
import type { AnalysisResult, AnalyzeOptions, LivenessResult } from './types.js';
import type { WorkerReply, WorkerRequest } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('the face engine worker must run in a worker thread');
const data = (workerData ?? {}) as { testHooks?: boolean; vipsThreads?: number; ortThreads?: number };
const testHooks = Boolean(data.testHooks);

// Parallelism comes from the pool: with one worker per core, one libvips thread each keeps N workers on N cores;
// a smaller pool lets each decode use the spare cores.
sharp.concurrency(Math.max(1, data.vipsThreads ?? 1));
sharp.cache(false);
// ONNX Runtime's intra-op threads (every network of the worker): the pool's choice, by default the same share.
setOnnxThreads(data.ortThreads ?? data.vipsThreads ?? 1);

let models: Models;

async function analyze(images: Uint8Array[], opts: AnalyzeOptions): Promise<AnalysisResult> {
  const analyses: ImageAnalysis[] = [];
  const clock = new StageClock();
  for (let i = 0; i < images.length; i++) {
    try {
      analyses.push(await analyzeImage(models, images[i], opts, undefined, clock));
    } catch (err) {
      if (err instanceof ImageError) err.index = i;
      throw err;
    }
  }
  const result: AnalysisResult = { images: analyses.map((a) => a.image), stages: clock.ms };
  if (opts.liveness) {
    const frames: { input: LivenessInput; result: LivenessResult }[] = [];
    for (const a of analyses) {
      const face = a.facesInWorking[0]; // largest face
      if (!face) continue;
      const input: LivenessInput = {
        image: { data: a.working.data, width: a.working.width, height: a.working.height },
        box: face.box,
        landmarks: face.landmarks,
      };
      const t0 = performance.now();
      const spoof0 = antispoofMs.total;
      const res = await faceLiveness(input);
      clock.add('antispoof', antispoofMs.total - spoof0);
      clock.add('cues', performance.now() - t0 - (antispoofMs.total - spoof0));
      a.image.faces[0].liveness = res;
      frames.push({ input, result: res });
    }
    if (frames.length) result.liveness = captureLiveness(frames);
  }
  return result;
}

function serialiseError(err: unknown): WorkerReply & { type: 'error' } {
  if (err instanceof ImageError) return { type: 'error', id: -1, name: 'ImageError', code: err.code, message: err.message, index: err.index };
  const message = err instanceof Error ? err.message : String(err);
  return { type: 'error', id: -1, name: 'Error', message };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  models = await loadModels();
  await loadLivenessModels();
  port!.postMessage({ type: 'ready', loadMs: performance.now() - t0 } satisfies WorkerReply);
  port!.on('message', async (msg: WorkerRequest) => {
    if (msg.type === 'crash') {
      if (testHooks) process.exit(70);
      return;
    }
    try {
      const result = await analyze(msg.images, msg.opts);
      const transfer: ArrayBuffer[] = [];
      for (const img of result.images) for (const f of img.faces) {
        transfer.push(f.embedding.buffer as ArrayBuffer);
        if (f.thumbnail) transfer.push(f.thumbnail.buffer as ArrayBuffer);
      }
      port!.postMessage({ type: 'result', id: msg.id, result } satisfies WorkerReply, transfer);
    } catch (err) {
      port!.postMessage({ ...serialiseError(err), id: msg.id } satisfies WorkerReply);
    }
  });
}

main().catch((err) => {
  port.postMessage({ ...serialiseError(err), id: -1, message: `model loading failed: ${(err as Error)?.message ?? err}` } satisfies WorkerReply);
  process.exit(1);
});
