// `npm run eval` (JSON on stdout, progress on stderr): the face engine end to end on the labelled photos of
// ../shared/faces — verification AUC and false-accept / false-reject rates per min_score on highres/ and tv-crops/
// (each photo's face and template as the search and compare use cases make them), face counts on groups/, liveness
// APCER/BPCER on liveness-crops/. Options: --no-liveness, --liveness-step N (use
// every Nth crop).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createFaceEngine } from '../src/face/index.js';
import type { FaceEngine } from '../src/face/types.js';
import { FaceCountError } from '../src/domain/errors.js';
import { probeFaces } from '../src/domain/search.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/faces');
const { values: args } = parseArgs({ options: { 'no-liveness': { type: 'boolean' }, 'liveness-step': { type: 'string', default: '1' } } });
if (!existsSync(root)) {
  console.error(`eval needs the labelled photos in ${root}`);
  process.exit(2);
}

const THRESHOLDS = [0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];
const LIVENESS_THRESHOLDS = [0.5, 0.65, 0.8];
const log = (...a: unknown[]) => console.error(...a);

function auc(pos: number[], neg: number[]): number {
  let s = 0;
  for (const p of pos) for (const n of neg) s += p > n ? 1 : p === n ? 0.5 : 0;
  return s / (pos.length * neg.length);
}

const rate = (xs: number[], pred: (x: number) => boolean) => (xs.length ? xs.filter(pred).length / xs.length : 0);
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

async function verification(engine: FaceEngine, items: { file: string; id: string }[]) {
  const embeddings: (Float32Array | undefined)[] = [];
  const noFace: string[] = [];
  for (const it of items) {
    // The face the search and compare routes would use (the subject rule), with the routes' own failure on none.
    const face = await probeFaces({ engine }, 'eval', [{ field: it.file, bytes: readFileSync(path.join(root, it.file)) }]).then(
      (r) => r.faces[0],
      (err) => {
        if (err instanceof FaceCountError) return undefined;
        throw err;
      },
    );
    if (!face) noFace.push(it.file);
    embeddings.push(face?.embedding);
  }
  const same: number[] = [];
  const diff: number[] = [];
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      const a = embeddings[i];
      const b = embeddings[j];
      if (!a || !b) continue;
      (items[i].id === items[j].id ? same : diff).push(engine.similarity(a, b));
    }
  }
  return {
    images: items.length,
    no_face: noFace,
    same_pairs: same.length,
    different_pairs: diff.length,
    auc: r4(auc(same, diff)),
    min_same_score: r4(Math.min(...same)),
    max_different_score: r4(Math.max(...diff)),
    per_min_score: THRESHOLDS.map((t) => ({ min_score: t, far: r4(rate(diff, (s) => s >= t)), frr: r4(rate(same, (s) => s < t)) })),
  };
}

async function main() {
  const t0 = Date.now();
  const engine = createFaceEngine({ workers: 1 });
  await engine.ready();
  const out: Record<string, unknown> = { model_version: engine.modelVersion, load_ms: Date.now() - t0 };

  const highres = readFileSync(path.join(root, 'highres/identities.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => {
      const [file, id] = l.split(',');
      return { file: `highres/${file}`, id };
    });
  log('highres…');
  out.highres = await verification(engine, highres);

  const tv = readdirSync(path.join(root, 'tv-crops')).flatMap((p) =>
    readdirSync(path.join(root, 'tv-crops', p)).map((f) => ({ file: `tv-crops/${p}/${f}`, id: p })),
  );
  log('tv-crops…');
  out.tv_crops = await verification(engine, tv);

  log('groups…');
  const counts = readFileSync(path.join(root, 'groups/counts.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const groups = [];
  for (const [file, n] of counts) {
    const res = await engine.analyze([readFileSync(path.join(root, 'groups', file))]);
    groups.push({ file, expected: Number(n), detected: res.images[0].faces.length });
  }
  out.groups = { correct: groups.filter((g) => g.detected === g.expected).length, of: groups.length, photos: groups };

  if (!args['no-liveness']) {
    log('liveness-crops…');
    const step = Math.max(1, Number(args['liveness-step']));
    const labels = readFileSync(path.join(root, 'liveness-crops/labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const live: number[] = [];
    const spoof: number[] = [];
    let noFace = 0;
    for (let i = 0; i < labels.length; i += step) {
      const [file, label] = labels[i];
      const res = await engine.analyze([readFileSync(path.join(root, 'liveness-crops', file))], { liveness: true });
      if (!res.liveness || res.images[0].faces.length === 0) {
        noFace++;
        continue;
      }
      (label === 'live' ? live : spoof).push(res.liveness.score);
    }
    out.liveness = {
      live: live.length,
      spoof: spoof.length,
      no_face: noFace,
      auc: r4(auc(live, spoof)),
      // APCER: attacks accepted; BPCER: live faces rejected.
      per_min_score: LIVENESS_THRESHOLDS.map((t) => ({ liveness_min_score: t, apcer: r4(rate(spoof, (s) => s >= t)), bpcer: r4(rate(live, (s) => s < t)) })),
    };
  }
  out.elapsed_s = Math.round((Date.now() - t0) / 1000);
  await engine.close();
  console.log(JSON.stringify(out));
}

await main();
