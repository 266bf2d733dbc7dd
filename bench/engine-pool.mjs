// Child process of `npm run bench -- engine`: one engine pool, compiled (dist/), alone in a fresh Node process, as
// `npm start` runs it: no TypeScript loader, no reference pipeline, nothing else holding memory.
// Input: JSON on argv[2] {workers, files, runs, passes, latency}. Output: one JSON line on stdout.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const { workers, files, runs, passes, latency } = JSON.parse(process.argv[2]);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { createFaceEngine } = await import(pathToFileURL(path.join(root, 'dist/src/face/index.js')).href);
const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const images = files.map((f) => new Uint8Array(readFileSync(f)));
const out = { workers, rss_mb: { process_start: rssMb() } };

const t0 = performance.now();
const engine = createFaceEngine({ workers, queueLimit: images.length * passes + 16 });
await engine.ready();
out.load_ms = Math.round(performance.now() - t0);
out.load_times_worker_ms = engine.loadTimes.map(Math.round);
out.rss_mb.ready = rssMb();

if (latency) {
  // One warm-up pass, then `runs` passes of one image at a time.
  // Each image as the server's detect route asks for it (every face, thumbnails), and once more with liveness
  // (the largest face), so every stage of the pipeline is timed.
  out.latency_ms = [];
  out.faces_found = 0;
  const stages = {};
  const opts = [{ thumbnails: true }, { thumbnails: true, liveness: true, maxFaces: 1 }];
  for (let r = 0; r <= runs; r++) {
    for (const img of images) {
      for (const [k, o] of opts.entries()) {
        const s = performance.now();
        const res = await engine.analyze([img], o);
        if (r === 0) continue;
        if (k === 0) out.latency_ms.push(performance.now() - s);
        if (r === 1 && k === 0) out.faces_found += res.images[0].faces.length;
        // Per stage: the detect-route job's stages, plus the anti-spoofing network and cues of the liveness job.
        for (const [stage, ms] of Object.entries(res.stages ?? {})) {
          if ((k === 0) === ['antispoof', 'cues'].includes(stage)) continue;
          (stages[stage] ??= []).push(ms);
        }
      }
    }
  }
  // Mean per image over every timed image (a stage an image does not need counts as 0 for it).
  const n = images.length * runs;
  out.stage_ms_per_image = Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, Math.round((v.reduce((a, b) => a + b, 0) / n) * 10) / 10]));
} else {
  // Warm every worker on every image before the throughput run.
  await Promise.all(images.map((img) => engine.analyze([img])));
}
out.rss_mb.warm = rssMb();

// Throughput: all images × passes submitted at once.
const jobs = [];
const s = performance.now();
for (let p = 0; p < passes; p++) for (const img of images) jobs.push(engine.analyze([img]));
await Promise.all(jobs);
out.images_per_s = (images.length * passes) / ((performance.now() - s) / 1000);
out.rss_mb.after_throughput = rssMb();
await engine.close();
process.stdout.write(JSON.stringify(out) + '\n');
