// `npm run bench -- engine [--images N] [--runs R] [--passes P]`
// Times the face engine against face-api's documented pipeline (SSD-MobileNet + 68 landmarks + ResNet descriptor)
// on the same photos in the same process, so the ratios hold on a shared, noisy machine. Phases, in this order:
//   1. 2-worker engine: load, RSS once loaded, throughput (all images × P passes submitted at once), RSS after.
//      It runs first, in a fresh process, so neither the reference nor a closed engine's freed heaps count in RSS.
//   2. 1-worker engine: load time (createFaceEngine → ready), per-image latency (one warm-up pass, then R passes
//      of sequential analyze([bytes])), throughput like phase 1.
//   3. Reference in the main thread (single-threaded WASM, like one worker): decode + inference per image, one
//      warm-up pass then R passes.
// Prints one JSON object on stdout; progress goes to stderr.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createFaceEngine, type WorkerFaceEngine } from '../src/face/index.js';
import { initTf, packageFile, tf } from '../src/face/tf.js';

const { values: args } = parseArgs({
  options: {
    images: { type: 'string' },
    runs: { type: 'string', default: '1' },
    passes: { type: 'string', default: '4' },
  },
});
const runs = Math.max(1, Number(args.runs));
const passes = Math.max(1, Number(args.passes));
const log = (msg: string) => process.stderr.write(`[bench engine] ${msg}\n`);
const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);

// ---- the photo set ---------------------------------------------------------------------------------------------
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const facesDir = path.resolve(repoRoot, '../shared/faces');
const files: string[] = [];
for (let i = 1; i <= 6; i++) files.push(packageFile('@vladmandic/face-api', `demo/sample${i}.jpg`));
const sharedPresent = existsSync(facesDir);
if (sharedPresent) {
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(jpe?g|png|webp)$/i.test(name)) files.push(p);
    }
  };
  walk(path.join(facesDir, 'highres'));
  walk(path.join(facesDir, 'groups'));
} else {
  log(`${facesDir} is missing: using the six face-api demo photos only`);
}
const chosen = args.images ? files.slice(0, Math.max(1, Number(args.images))) : files;
const images = chosen.map((f) => new Uint8Array(readFileSync(f)));
log(`${images.length} images, ${runs} timed run(s), ${passes} throughput passes`);

// ---- helpers -----------------------------------------------------------------------------------------------------
function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
function summary(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  return { p50_ms: Math.round(percentile(s, 50)), p95_ms: Math.round(percentile(s, 95)), n: s.length };
}

async function load(workers: number): Promise<{ engine: WorkerFaceEngine; ms: number }> {
  const t0 = performance.now();
  // A deep queue: the throughput phase submits every job at once.
  const engine = createFaceEngine({ workers, queueLimit: images.length * passes + 16 });
  await engine.ready();
  return { engine, ms: Math.round(performance.now() - t0) };
}

/** All images × passes submitted at once; images per second over the whole batch. */
async function throughput(engine: WorkerFaceEngine): Promise<number> {
  const jobs: Promise<unknown>[] = [];
  const t0 = performance.now();
  for (let p = 0; p < passes; p++) for (const img of images) jobs.push(engine.analyze([img]));
  await Promise.all(jobs);
  return (images.length * passes) / ((performance.now() - t0) / 1000);
}

const round2 = (x: number) => Math.round(x * 100) / 100;

// ---- 1. two workers: RSS and throughput ------------------------------------------------------------------------
log('loading the 2-worker engine');
const two = await load(2);
const rssTwoReady = rssMb();
// Warm both workers (first inference compiles WASM kernels / allocates) before measuring anything.
await Promise.all(images.map((img) => two.engine.analyze([img])));
const rssTwoLoaded = rssMb();
log(`2 workers ready in ${two.ms} ms, RSS ${rssTwoLoaded} MB; throughput run`);
const twoIps = await throughput(two.engine);
const rssTwoAfter = rssMb();
log(`2 workers: ${twoIps.toFixed(2)} images/s, RSS ${rssTwoAfter} MB`);
const twoLoadTimes = [...two.engine.loadTimes];
await two.engine.close();

// ---- 2. one worker: load, latency, throughput -------------------------------------------------------------------
log('loading the 1-worker engine');
const one = await load(1);
log(`1 worker ready in ${one.ms} ms (worker reported ${one.engine.loadTimes.join(', ')} ms)`);
const oursMs: number[] = [];
let oursFaces = 0;
for (let r = 0; r <= runs; r++) {
  for (const img of images) {
    const t0 = performance.now();
    const res = await one.engine.analyze([img]);
    const ms = performance.now() - t0;
    if (r > 0) {
      oursMs.push(ms);
      if (r === 1) oursFaces += res.images[0]!.faces.length;
    }
  }
  log(r === 0 ? 'ours: warm-up pass done' : `ours: run ${r} done`);
}
const ours = summary(oursMs);
log(`ours p50 ${ours.p50_ms} ms p95 ${ours.p95_ms} ms; 1-worker throughput run`);
const oneIps = await throughput(one.engine);
log(`1 worker: ${oneIps.toFixed(2)} images/s`);
const oneLoadTimes = [...one.engine.loadTimes];
await one.engine.close();

// ---- 3. the face-api reference, main thread -----------------------------------------------------------------------
log('loading the face-api reference');
await initTf();
const faceapi = createRequire(import.meta.url)('@vladmandic/face-api/dist/face-api.node-wasm.js');
const modelDir = packageFile('@vladmandic/face-api', 'model');
const refLoad0 = performance.now();
await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
const refLoadMs = Math.round(performance.now() - refLoad0);
const refOptions = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 });
async function reference(bytes: Uint8Array): Promise<number> {
  const { data, info } = await sharp(bytes)
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const t = tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], 'int32');
  try {
    const res = await faceapi.detectAllFaces(t, refOptions).withFaceLandmarks().withFaceDescriptors();
    return res.length;
  } finally {
    t.dispose();
  }
}
const refMs: number[] = [];
let refFaces = 0;
for (let r = 0; r <= runs; r++) {
  for (const img of images) {
    const t0 = performance.now();
    const n = await reference(img);
    const ms = performance.now() - t0;
    if (r > 0) {
      refMs.push(ms);
      if (r === 1) refFaces += n;
    }
  }
  log(r === 0 ? 'reference: warm-up pass done' : `reference: run ${r} done`);
}
const ref = summary(refMs);

// ---- result ------------------------------------------------------------------------------------------------------
const ratioP50 = round2(ours.p50_ms / ref.p50_ms);
const speedup = round2(twoIps / oneIps);
const rssTwo = Math.max(rssTwoReady, rssTwoLoaded, rssTwoAfter);
console.log(
  JSON.stringify({
    images: images.length,
    image_sets: sharedPresent ? ['face-api demo 1-6', 'shared/faces highres', 'shared/faces groups'] : ['face-api demo 1-6'],
    runs,
    throughput_passes: passes,
    load_ms: one.ms,
    load_times_worker_ms: oneLoadTimes.map(Math.round),
    load_ms_two_workers: two.ms,
    load_times_two_workers_ms: twoLoadTimes.map(Math.round),
    ours: { ...ours, faces_found: oursFaces },
    reference: { ...ref, faces_found: refFaces, load_ms: refLoadMs, timed: 'decode + inference, main thread' },
    ratio_p50: ratioP50,
    throughput: { one_worker_ips: round2(oneIps), two_workers_ips: round2(twoIps), speedup_2_vs_1: speedup },
    rss_mb_two_workers: rssTwo,
    rss_mb_two_workers_detail: {
      ready_before_warmup: rssTwoReady,
      loaded_after_warmup: rssTwoLoaded,
      after_throughput: rssTwoAfter,
      measured: 'first phase of a fresh process, before any other engine or the reference was loaded',
    },
    rss_mb_end_with_reference: rssMb(),
    targets: {
      ratio_p50_le_0_3: ratioP50 <= 0.3,
      speedup_2_vs_1_ge_1_7: speedup >= 1.7,
      rss_two_workers_le_600mb: rssTwo <= 600,
    },
  }),
);
