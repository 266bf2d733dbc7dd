// `npm run bench -- import [--people N] [--rounds R] [--workers W]`
// Throughput of `npm run cli -- import` against the face engine's own, in the same run. The photos: one per person
// (so people/s and images/s count the same photos), the first photo of the first N people of lfw-dev (or, without
// ../shared, photos cut from the face models' demo pictures, each imported under several names with the duplicate
// check off). Alternating rounds, each on a fresh DATA_DIR:
//   engine: createFaceEngine({workers: W}), every photo analysed as an enrolment analyses it (thumbnails, at most 2
//           faces), 2 × W in flight: the ceiling, images/s;
//   import: the real command (runCli(['import', …])) through the domain's use case: read, digest, analysis, the
//           duplicate search, one write transaction, the audit event, the report line: people/s, from the command's
//           own timing (the model load before the first person is not counted, as it is not in the engine's).
// Prints one JSON object (medians over the rounds, and the ratio people/s ÷ images/s; goal ≥ 0.8).
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runCli } from '../src/cli.js';
import { analyseEnrolment } from '../src/domain/faces.js';
import { createFaceEngine } from '../src/face/index.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';

const { values: args } = parseArgs({ options: { people: { type: 'string', default: '120' }, rounds: { type: 'string', default: '2' }, workers: { type: 'string', default: '2' } } });
const people = Math.max(4, Number(args.people));
const rounds = Math.max(1, Number(args.rounds));
const workers = Math.max(1, Number(args.workers));
const log = (msg: string) => process.stderr.write(`[bench import] ${msg}\n`);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lfw = path.resolve(repoRoot, '../shared/faces/lfw-dev/images');

const work = await mkdtemp(path.join(os.tmpdir(), 'facegate-bench-import-'));
const src = path.join(work, 'people');
await mkdir(src);
let dataset: string;
let duplicateCheck = true;
if (existsSync(lfw)) {
  dataset = `lfw-dev, first photo of the first ${people} people`;
  for (const name of readdirSync(lfw).sort().slice(0, people)) {
    const first = readdirSync(path.join(lfw, name)).sort()[0];
    await mkdir(path.join(src, name));
    await symlink(path.join(lfw, name, first), path.join(src, name, first));
  }
} else {
  // The same few faces under many names: the duplicate check would refuse them, so it is off here.
  const { faceJpeg, FACE_NAMES } = await import('../test/support/photos.js');
  dataset = `face-api demo crops (${FACE_NAMES.length} faces) repeated to ${people} people, duplicate check off`;
  duplicateCheck = false;
  for (let i = 0; i < people; i++) {
    const face = FACE_NAMES[i % FACE_NAMES.length];
    await mkdir(path.join(src, `person_${i}`));
    // Re-encoded at a quality of its own, so that no two people share a photo digest (they would be skipped).
    const sharp = (await import('sharp')).default;
    await writeFile(path.join(src, `person_${i}`, `${face}-${i}.jpg`), await sharp(await faceJpeg(face)).jpeg({ quality: 60 + (i % 35) }).withMetadata({ exif: { IFD0: { ImageDescription: `person ${i}` } } }).toBuffer());
  }
}
const photos = await Promise.all(readdirSync(src).sort().map(async (d) => {
  const f = readdirSync(path.join(src, d))[0];
  return { field: f, bytes: new Uint8Array(await readFile(path.join(src, d, f))) };
}));

async function engineRound(): Promise<number> {
  const engine = createFaceEngine({ workers });
  try {
    await engine.ready();
    // One warm-up photo per worker.
    await Promise.all(photos.slice(0, workers).map((p) => analyseEnrolment(engine, [p]).catch(() => null)));
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 2 * workers }, async () => {
        while (next < photos.length) await analyseEnrolment(engine, [photos[next++]]).catch(() => null);
      }),
    );
    return photos.length / ((performance.now() - t0) / 1000);
  } finally {
    await engine.close();
  }
}

async function importRound(i: number): Promise<{ peoplePerSecond: number; summary: string }> {
  const dataDir = path.join(work, `data-${i}`);
  await mkdir(dataDir);
  await openSqliteStore({ dataDir }).close();
  const out: string[] = [];
  const err: string[] = [];
  const argv = ['import', src, '--client', 'bench', '--report', path.join(work, `report-${i}.csv`), ...(duplicateCheck ? [] : ['--no-duplicate-check'])];
  const code = await runCli(argv, { env: { ...process.env, DATA_DIR: dataDir, ENGINE_WORKERS: String(workers) }, out: (l) => out.push(l), err: (l) => err.push(l) });
  if (code !== 0) throw new Error(`import failed: ${err.join('\n')}`);
  const m = /of (\d+) people in ([\d.]+) s/.exec(out[0]);
  if (!m) throw new Error(`unexpected summary: ${out[0]}`);
  return { peoplePerSecond: Number(m[1]) / Number(m[2]), summary: out[0] };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const engineRates: number[] = [];
const importRates: number[] = [];
const summaries: string[] = [];
try {
  for (let r = 0; r < rounds; r++) {
    log(`round ${r + 1}/${rounds}: engine alone on ${photos.length} photos`);
    engineRates.push(await engineRound());
    log(`  ${engineRates.at(-1)!.toFixed(2)} images/s; import of the same ${photos.length} people`);
    const imp = await importRound(r);
    importRates.push(imp.peoplePerSecond);
    summaries.push(imp.summary);
    log(`  ${imp.peoplePerSecond.toFixed(2)} people/s (${imp.summary})`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
const ratios = engineRates.map((e, i) => importRates[i] / e);
process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'import',
      dataset,
      people: photos.length,
      workers,
      cores: os.availableParallelism(),
      rounds,
      engineImagesPerSecond: { median: median(engineRates), runs: engineRates },
      importPeoplePerSecond: { median: median(importRates), runs: importRates },
      ratio: { median: median(ratios), runs: ratios, goal: 0.8 },
      summaries,
    },
    null,
    2,
  )}\n`,
);
