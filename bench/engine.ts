// `npm run bench -- engine [--images N] [--runs R] [--passes P]`
// Times the face engine against face-api's documented pipeline (SSD-MobileNet + 68 landmarks + ResNet descriptor)
// on the same photos in the same run, so the ratios hold on a shared, noisy machine. Phases, in this order:
//   1. 2-worker engine, compiled (dist/), alone in a fresh child process (bench/engine-pool.mjs) as `npm start`
//      runs it: load, RSS when ready, after a warm-up pass and after the throughput run (all images × P passes
//      submitted at once).
//   2. 1-worker engine, likewise: load time (createFaceEngine → ready), per-image latency (one warm-up pass, then
//      R passes of sequential analyze([bytes])), throughput like phase 1.
//   3. Reference in this process's main thread (single-threaded WASM, like one worker): decode + inference per
//      image, one warm-up pass then R passes.
//   4. Second reference: @vladmandic/human's default face pipeline, WASM, in its own child process
//      (bench/human-reference.mjs), decode + inference, likewise.
//   5. End to end over HTTP: the built server (dist/src/main.js, one worker per core) on loopback, one client POSTing
//      each photo to /v2/face-recognition/detect (base64 JSON; every face with its template and thumbnail), one
//      warm-up pass then R passes: p50/p95 per image, time to the first answer after spawning the process, and the
//      engine's per-stage time per image from /metrics (the rest of the request is HTTP, JSON and base64).
// Phase 2 also times every stage of the pipeline per image (worker-side, `stages` of each job).
// Prints one JSON object on stdout; progress goes to stderr.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { detect, engineStageTotals, stagesBetween, startBenchServer } from './http-engine.js';

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

// ---- the engine as `npm start` runs it -----------------------------------------------------------------------------
// Compiled JavaScript in a child process, not the TypeScript sources in this one: under tsx every worker would also
// carry the TypeScript loader (~80 MB of RSS for two workers) that a deployed server does not have.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
log('compiling src/ to dist/ (npm run build)');
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(repoRoot, 'tsconfig.build.json')], { stdio: 'inherit' });
const packageFile = (pkg: string, file: string) => path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);

// ---- the photo set ---------------------------------------------------------------------------------------------
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

/** One engine pool in a fresh Node process (bench/engine-pool.mjs); its JSON report. */
interface PoolReport {
  workers: number;
  load_ms: number;
  load_times_worker_ms: number[];
  latency_ms?: number[];
  faces_found?: number;
  stage_ms_per_image?: Record<string, number>;
  images_per_s: number;
  rss_mb: { process_start: number; ready: number; warm: number; after_throughput: number };
}
function runPool(workers: number, latency: boolean): PoolReport {
  const input = JSON.stringify({ workers, files: chosen, runs, passes, latency });
  const stdout = execFileSync(process.execPath, [path.join(repoRoot, 'bench/engine-pool.mjs'), input], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 2 ** 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as PoolReport;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

// ---- 1. two workers: load, RSS, throughput ------------------------------------------------------------------------
log('2-worker engine (child process): load, warm-up, throughput');
const two = runPool(2, false);
log(`2 workers: ${two.images_per_s.toFixed(2)} images/s, RSS ${JSON.stringify(two.rss_mb)}`);

// ---- 2. one worker: load, latency, throughput ---------------------------------------------------------------------
log('1-worker engine (child process): load, latency, throughput');
const one = runPool(1, true);
const ours = summary(one.latency_ms!);
log(`1 worker: p50 ${ours.p50_ms} ms p95 ${ours.p95_ms} ms, ${one.images_per_s.toFixed(2)} images/s`);

// ---- 3. the face-api reference, main thread -----------------------------------------------------------------------
log('loading the face-api reference');
const sharp = (await import('sharp')).default;
const { initTf, tf } = await import('../src/face/tf.js');
await initTf();
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
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

// ---- 4. @vladmandic/human's default face pipeline, its own process ------------------------------------------------
log('second reference: Human (child process)');
const human = JSON.parse(
  execFileSync(process.execPath, [path.join(repoRoot, 'bench/human-reference.mjs'), JSON.stringify({ files: chosen, runs })], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .trim()
    .split('\n')
    .pop()!,
) as { p50_ms: number; p95_ms: number; n: number; faces_found: number; load_ms: number };
log(`human: p50 ${human.p50_ms} ms`);

// ---- 5. end to end over HTTP ----------------------------------------------------------------------------------------
log('HTTP: built server, one client, /v2/face-recognition/detect');
const b64 = images.map((b) => Buffer.from(b).toString('base64'));
const bench = await startBenchServer({ clients: 1, firstImage: b64[0] });
const httpMs: number[] = [];
let httpFaces = 0;
let stagesHttp: Record<string, number> = {};
try {
  for (const img of b64) await detect(bench.server.base, bench.tokens[0], img); // warm-up
  const before = await engineStageTotals(bench.server.base);
  for (let r = 1; r <= runs; r++) {
    for (const img of b64) {
      const res = await detect(bench.server.base, bench.tokens[0], img);
      if (res.status !== 200) throw new Error(`detect answered ${res.status}`);
      httpMs.push(res.ms);
      if (r === 1) httpFaces += res.faces;
    }
  }
  stagesHttp = stagesBetween(before, await engineStageTotals(bench.server.base));
} finally {
  await bench.stop();
}
const http = summary(httpMs);
const httpMean = httpMs.reduce((a, b) => a + b, 0) / httpMs.length;
const engineMean = Object.values(stagesHttp).reduce((a, b) => a + b, 0);
log(`HTTP: p50 ${http.p50_ms} ms, first answer ${Math.round(bench.firstAnswerMs)} ms after spawn`);

// ---- result ------------------------------------------------------------------------------------------------------
const ratioP50 = round2(ours.p50_ms / ref.p50_ms);
const ratioHttpHuman = round2(http.p50_ms / human.p50_ms);
const ratioHuman = round2(ours.p50_ms / human.p50_ms);
const speedup = round2(two.images_per_s / one.images_per_s);
const rssTwo = Math.max(two.rss_mb.ready, two.rss_mb.warm, two.rss_mb.after_throughput);
console.log(
  JSON.stringify({
    images: images.length,
    image_sets: sharedPresent ? ['face-api demo 1-6', 'shared/faces highres', 'shared/faces groups'] : ['face-api demo 1-6'],
    runs,
    throughput_passes: passes,
    load_ms: one.load_ms,
    load_times_worker_ms: one.load_times_worker_ms,
    load_ms_two_workers: two.load_ms,
    load_times_two_workers_ms: two.load_times_worker_ms,
    ours: { ...ours, faces_found: one.faces_found, timed: 'engine pool of one worker, analyze([bytes], {thumbnails}) per image' },
    stage_ms_per_image: {
      ...one.stage_ms_per_image,
      measured: 'one worker, mean per image over every photo (0 where an image skips a stage); antispoof and cues from the same photo analysed again with liveness',
    },
    http: {
      ...http,
      faces_found: httpFaces,
      first_answer_ms: Math.round(bench.firstAnswerMs),
      stage_ms_per_image: stagesHttp,
      http_json_base64_ms_per_image: Math.round((httpMean - engineMean) * 10) / 10,
      timed: 'built server, one worker per core, one client, POST /v2/face-recognition/detect per photo (loopback)',
    },
    ratio_http_p50_vs_human: ratioHttpHuman,
    reference: { ...ref, faces_found: refFaces, load_ms: refLoadMs, timed: 'decode + inference, main thread' },
    ratio_p50: ratioP50,
    reference_human: { ...human, timed: 'decode + inference, own process, WASM, default face models, every face' },
    ratio_p50_vs_human: ratioHuman,
    throughput: { one_worker_ips: round2(one.images_per_s), two_workers_ips: round2(two.images_per_s), speedup_2_vs_1: speedup },
    rss_mb_two_workers: rssTwo,
    rss_mb_two_workers_detail: {
      ...two.rss_mb,
      measured: 'compiled engine (dist/) alone in a fresh Node process: after load, after one warm-up pass, after the throughput run',
    },
    rss_mb_one_worker: one.rss_mb,
    rss_mb_bench_process_with_reference: rssMb(),
    targets: {
      http_p50_le_40ms: http.p50_ms <= 40,
      ratio_http_p50_vs_human_le_0_27: ratioHttpHuman <= 0.27,
      rss_two_workers_le_400mb: rssTwo <= 400,
      ratio_p50_le_0_3: ratioP50 <= 0.3,
      ratio_p50_vs_human_le_0_3: ratioHuman <= 0.3,
      speedup_2_vs_1_ge_1_7: speedup >= 1.7,
      rss_two_workers_le_600mb: rssTwo <= 600,
    },
  }),
);
