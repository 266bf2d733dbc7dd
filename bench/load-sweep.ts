// `npm run bench -- load --sweep …` (see bench/load.ts): images/s and latency of the engine behind the real server
// at 1, 2, 4, 8 concurrent clients, optionally against a baseline checkout in the same run. Prints JSON.
import os from 'node:os';
import path from 'node:path';
import { benchPhotos, build, photoBase64, startBenchServer, sweep, type SweepLevel } from './http-engine.js';

const log = (msg: string) => process.stderr.write(`[bench load --sweep] ${msg}\n`);

export async function main(opts: { levels: number[]; seconds: number; workers?: number; threads?: number; baseline?: string }): Promise<void> {
  const { files, sets } = benchPhotos();
  const photos = files.map(photoBase64);
  const clients = Math.max(...opts.levels);
  const env: Record<string, string> = opts.threads ? { ENGINE_THREADS: String(opts.threads) } : {};
  const run = async (root: string | undefined, label: string) => {
    log(`${label}: starting the built server`);
    const server = await startBenchServer({ root, workers: opts.workers, clients, firstImage: photos[0], env });
    try {
      const rssReady = server.server.rssMb();
      const levels = await sweep(server, photos, opts.levels, opts.seconds, Math.min(5, opts.seconds / 4));
      for (const l of levels) log(`${label}: ${l.clients} clients ${l.images_per_s} images/s p50 ${l.p50_ms} p99 ${l.p99_ms}`);
      return { first_answer_ms: Math.round(server.firstAnswerMs), rss_mb: { ready: rssReady, end: server.server.rssMb() }, levels };
    } finally {
      await server.stop();
    }
  };
  log('compiling src/ to dist/');
  build();
  const ours = await run(undefined, 'this tree');
  let baseline: Awaited<ReturnType<typeof run>> | undefined;
  if (opts.baseline) {
    const root = path.resolve(opts.baseline);
    log(`compiling ${root}`);
    build(root);
    baseline = await run(root, 'baseline');
  }
  const ratio = (a: SweepLevel, b?: SweepLevel) => (b && b.images_per_s ? Math.round((a.images_per_s / b.images_per_s) * 100) / 100 : null);
  const best = (ls: SweepLevel[]) => Math.max(...ls.map((l) => l.images_per_s));
  console.log(
    JSON.stringify({
      bench: 'load --sweep',
      images: photos.length,
      image_sets: sets,
      route: 'POST /v2/face-recognition/detect (every face, template, thumbnail)',
      seconds_per_level: opts.seconds,
      cpus: os.availableParallelism(),
      engine_workers: opts.workers ?? os.availableParallelism(),
      engine_threads: opts.threads ?? 'default',
      ours,
      baseline: baseline && { root: opts.baseline, ...baseline },
      images_per_s_ratio_vs_baseline: baseline ? Object.fromEntries(ours.levels.map((l, i) => [l.clients, ratio(l, baseline!.levels[i])])) : undefined,
      best_images_per_s: best(ours.levels),
      targets: {
        rss_le_400mb: (ours.rss_mb.end ?? Infinity) <= 400,
        best_images_per_s_ge_2_5x_baseline: baseline ? best(ours.levels) >= 2.5 * best(baseline.levels) : undefined,
      },
    }),
  );
}
