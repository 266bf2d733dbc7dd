// `npm run eval -- lfw` (JSON on stdout, progress on stderr): recognition accuracy on ../shared/faces/lfw-dev, end to
// end through the engine (decode → detection → landmarks → alignment → template), as the server computes it.
//
// - Pairs: LFW's View 2 protocol on the two folds present (3 and 4): the threshold that is best on one fold is
//   applied to the other, accuracy averaged over both; AUC, TAR at FAR 1 % and 0.1 %, the pairs it gets wrong.
// - Open set (1:N): every person with two or more photos is enrolled from the first (file-name order), the others
//   are probes; people with one photo are strangers. DIR = share of probes whose best match is the right person
//   with a score above the threshold that lets 1 % of strangers through.
// - Gallery growth: strangers against galleries of 300, 3 k and 30 k templates (the real enrolled templates plus
//   synthetic templates drawn from a Gaussian fitted to the real ones, checked against the real impostor tail):
//   the share of strangers whose best match reaches each min_score.
// Options: --limit N (first N people, for a quick look), --dump FILE (templates as JSON, to refit calibration).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createFaceEngine } from '../src/face/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(repoRoot, '../shared/faces/lfw-dev');
const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'lfw'),
  options: { limit: { type: 'string' }, dump: { type: 'string' }, workers: { type: 'string', default: '1' } },
});
if (!existsSync(root)) {
  console.error(`eval lfw needs the LFW folds in ${root}`);
  process.exit(2);
}
const log = (...a: unknown[]) => console.error('[eval-lfw]', ...a);
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
const MIN_SCORES = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];

type Pair = { fold: number; a: string; b: string; same: boolean };
const pairs: Pair[] = readFileSync(path.join(root, 'pairs.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(','))
  .map(([fold, a, b, same]) => ({ fold: Number(fold), a, b, same: same === '1' }));

let people = readdirSync(path.join(root, 'images')).sort();
if (args.limit) people = people.slice(0, Number(args.limit));
const files = people.flatMap((p) => readdirSync(path.join(root, 'images', p)).sort().map((f) => `images/${p}/${f}`));

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function auc(pos: number[], neg: number[]): number {
  const all = [...pos.map((s) => [s, 1] as const), ...neg.map((s) => [s, 0] as const)].sort((x, y) => x[0] - y[0]);
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j][0] === all[i][0]) j++;
    const mid = (i + j + 1) / 2; // average 1-based rank of ties
    for (let k = i; k < j; k++) if (all[k][1]) rankSum += mid;
    i = j;
  }
  return (rankSum - (pos.length * (pos.length + 1)) / 2) / (pos.length * neg.length);
}

/** Deterministic normal samples (Box–Muller over a seeded LCG). */
function gaussian(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const u = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  return () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
}

async function main() {
  const t0 = Date.now();
  const engine = createFaceEngine({ workers: Number(args.workers) });
  await engine.ready();
  const emb = new Map<string, Float32Array>();
  const noFace: string[] = [];
  const several: string[] = [];
  let done = 0;
  // A few requests in flight keep every worker busy.
  const queue = [...files];
  await Promise.all(
    Array.from({ length: Number(args.workers) * 2 }, async () => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        const res = await engine.analyze([readFileSync(path.join(root, f))]);
        const faces = res.images[0].faces;
        // LFW's subject is the face at the centre of the 250×250 frame; a bystander can be larger when cut off.
        const centre = (b: { x: number; y: number; width: number; height: number }) =>
          Math.hypot(b.x + b.width / 2 - res.images[0].width / 2, b.y + b.height / 2 - res.images[0].height / 2);
        const face = [...faces].sort((x, y) => centre(x.box) - centre(y.box))[0];
        if (!face) noFace.push(f);
        else emb.set(f, face.embedding);
        if (faces.length > 1) several.push(f);
        if (++done % 200 === 0) log(`${done}/${files.length} images, ${((Date.now() - t0) / done).toFixed(0)} ms each`);
      }
    }),
  );
  const ms = (Date.now() - t0) / files.length;
  const out: Record<string, unknown> = { model_version: engine.modelVersion, images: files.length, people: people.length, no_face: noFace, several_faces: several.length };

  // ---- pairs
  const scored = pairs
    .filter((p) => emb.has(p.a) && emb.has(p.b))
    .map((p) => ({ ...p, cos: dot(emb.get(p.a)!, emb.get(p.b)!) }));
  const accuracyAt = (xs: typeof scored, t: number) => xs.filter((p) => p.cos >= t === p.same).length / xs.length;
  const bestThreshold = (xs: typeof scored) => {
    const cands = [...new Set(xs.map((p) => p.cos))].sort((a, b) => a - b);
    let best = cands[0], acc = 0;
    for (const t of cands) {
      const a = accuracyAt(xs, t);
      if (a > acc) [acc, best] = [a, t];
    }
    return best;
  };
  const folds = [...new Set(scored.map((p) => p.fold))];
  let correct = 0;
  const wrong: string[] = [];
  const thresholds: number[] = [];
  for (const f of folds) {
    const t = bestThreshold(scored.filter((p) => p.fold !== f));
    thresholds.push(r4(t));
    for (const p of scored.filter((q) => q.fold === f)) {
      if (p.cos >= t === p.same) correct++;
      else wrong.push(`${p.same ? 'same' : 'different'} cos ${p.cos.toFixed(3)} score ${engine.scoreFromCosine(p.cos).toFixed(3)}: ${p.a} ${p.b}`);
    }
  }
  const genuine = scored.filter((p) => p.same).map((p) => p.cos);
  const impostor = scored.filter((p) => !p.same).map((p) => p.cos).sort((a, b) => b - a);
  const tarAt = (far: number) => {
    const t = impostor[Math.max(0, Math.ceil(far * impostor.length) - 1)];
    return r4(genuine.filter((s) => s > t).length / genuine.length);
  };
  out.pairs = {
    pairs: pairs.length,
    scored: scored.length,
    accuracy: r4(correct / scored.length),
    fold_thresholds_cosine: thresholds,
    auc: r4(auc(genuine, impostor)),
    tar_at_far_1pct: tarAt(0.01),
    tar_at_far_0_1pct: tarAt(0.001),
    per_min_score: MIN_SCORES.map((m) => ({
      min_score: m,
      far: r4(impostor.filter((c) => engine.scoreFromCosine(c) >= m).length / impostor.length),
      frr: r4(genuine.filter((c) => engine.scoreFromCosine(c) < m).length / genuine.length),
    })),
    wrong,
  };

  // ---- open set
  const byPerson = new Map<string, string[]>();
  for (const f of [...emb.keys()].sort()) byPerson.set(f.split('/')[1], [...(byPerson.get(f.split('/')[1]) ?? []), f]);
  const gallery: { person: string; v: Float32Array }[] = [];
  const probes: { person: string; v: Float32Array }[] = [];
  const strangers: Float32Array[] = [];
  for (const [person, fs] of byPerson) {
    if (fs.length === 1) strangers.push(emb.get(fs[0])!);
    else {
      gallery.push({ person, v: emb.get(fs[0])! });
      for (const f of fs.slice(1)) probes.push({ person, v: emb.get(f)! });
    }
  }
  const best = (q: Float32Array, g: Float32Array[]) => {
    let b = -2, at = -1;
    for (let i = 0; i < g.length; i++) {
      const s = dot(q, g[i]);
      if (s > b) [b, at] = [s, i];
    }
    return { cos: b, at };
  };
  const gv = gallery.map((g) => g.v);
  const strangerBest = strangers.map((q) => best(q, gv).cos).sort((a, b) => b - a);
  const probeBest = probes.map((p) => ({ ...best(p.v, gv), person: p.person }));
  const dirAt = (fpir: number) => {
    const t = strangerBest[Math.max(0, Math.ceil(fpir * strangerBest.length) - 1)];
    return { fpir, cosine: r4(t), dir: r4(probeBest.filter((p) => gallery[p.at].person === p.person && p.cos > t).length / probes.length) };
  };
  out.open_set = {
    gallery: gallery.length,
    probes: probes.length,
    strangers: strangers.length,
    rank1: r4(probeBest.filter((p) => gallery[p.at].person === p.person).length / probes.length),
    at_1pct_strangers: dirAt(0.01),
    at_5pct_strangers: dirAt(0.05),
    per_min_score: MIN_SCORES.map((m) => ({
      min_score: m,
      strangers_matched: r4(strangerBest.filter((c) => engine.scoreFromCosine(c) >= m).length / strangers.length),
      probes_found: r4(probeBest.filter((p) => gallery[p.at].person === p.person && engine.scoreFromCosine(p.cos) >= m).length / probes.length),
    })),
  };

  // ---- gallery growth: synthetic templates from a Gaussian fitted to the real ones (mean + per-axis spread along
  // the principal directions is overkill for a tail check; a full-covariance fit needs more photos than we have).
  // We fit mean and a diagonal covariance in the templates' own PCA basis via power iterations on the top axes.
  const all = [...emb.values()];
  const dim = engine.dim;
  const mean = new Float64Array(dim);
  for (const v of all) for (let i = 0; i < dim; i++) mean[i] += v[i] / all.length;
  const centred = all.map((v) => Float64Array.from(v, (x, i) => x - mean[i]));
  // Top-k principal axes by power iteration with deflation.
  const K = Math.min(64, all.length - 1);
  const axes: Float64Array[] = [];
  const spreads: number[] = [];
  const rnd = gaussian(7);
  for (let k = 0; k < K; k++) {
    let u: Float64Array = Float64Array.from({ length: dim }, () => rnd());
    for (let it = 0; it < 30; it++) {
      const next = new Float64Array(dim);
      for (const c of centred) {
        let p = 0;
        for (let i = 0; i < dim; i++) p += c[i] * u[i];
        for (let i = 0; i < dim; i++) next[i] += p * c[i];
      }
      for (const a of axes) {
        let p = 0;
        for (let i = 0; i < dim; i++) p += next[i] * a[i];
        for (let i = 0; i < dim; i++) next[i] -= p * a[i];
      }
      const n = Math.hypot(...next);
      u = next.map((x) => x / n);
    }
    let varK = 0;
    for (const c of centred) {
      let p = 0;
      for (let i = 0; i < dim; i++) p += c[i] * u[i];
      varK += (p * p) / centred.length;
    }
    axes.push(u);
    spreads.push(Math.sqrt(varK));
  }
  let total = 0;
  for (const c of centred) for (let i = 0; i < dim; i++) total += (c[i] * c[i]) / centred.length;
  const residual = Math.sqrt(Math.max(0, total - spreads.reduce((s, x) => s + x * x, 0)) / (dim - K));
  let widen = 1; // spread multiplier, fitted below so the synthetic impostor tail matches the real one
  const synth = (n: number, seed: number) => {
    const g = gaussian(seed);
    return Array.from({ length: n }, () => {
      const v = new Float64Array(dim);
      for (let i = 0; i < dim; i++) v[i] = mean[i] + widen * residual * g();
      for (let k = 0; k < K; k++) {
        const c = widen * spreads[k] * g();
        for (let i = 0; i < dim; i++) v[i] += c * axes[k][i];
      }
      const n2 = Math.hypot(...v);
      return Float32Array.from(v, (x) => x / n2);
    });
  };
  // The Gaussian's tail is lighter than the real one: widen its spread until synthetic-vs-real impostor cosines reach
  // the real 1-in-10⁴ quantile (all pairs of different people's photos), then check the other quantiles.
  const quant = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
  const allFiles = [...emb.keys()];
  const realImp: number[] = [];
  for (let i = 0; i < allFiles.length; i++) {
    for (let j = i + 1; j < allFiles.length; j++) {
      if (allFiles[i].split('/')[1] !== allFiles[j].split('/')[1]) realImp.push(dot(emb.get(allFiles[i])!, emb.get(allFiles[j])!));
    }
  }
  const synthVsReal = () => {
    const sv = synth(400, 11);
    const out: number[] = [];
    for (const a of sv) for (const b of gv) out.push(dot(a, b));
    return out;
  };
  const target = quant(realImp, 0.9999);
  let [lo, hi] = [0.8, 2];
  for (let it = 0; it < 10; it++) {
    widen = (lo + hi) / 2;
    if (quant(synthVsReal(), 0.9999) < target) lo = widen;
    else hi = widen;
  }
  const synthImp = synthVsReal();
  const qs = [0.5, 0.99, 0.999, 0.9999];
  const growth = [];
  for (const size of [gallery.length, 300, 3000, 30000]) {
    const g = size <= gv.length ? gv.slice(0, size) : [...gv, ...synth(size - gv.length, size)];
    const bestOf = strangers.map((q) => best(q, g).cos);
    growth.push({
      gallery_templates: size,
      synthetic: Math.max(0, size - gv.length),
      strangers_matched: MIN_SCORES.map((m) => ({ min_score: m, rate: r4(bestOf.filter((c) => engine.scoreFromCosine(c) >= m).length / bestOf.length) })),
      stranger_best_cosine_p50_p99: [r4(quant(bestOf, 0.5)), r4(quant(bestOf, 0.99))],
    });
    log(`gallery ${size} done`);
  }
  out.gallery_growth = {
    fit: { principal_axes: K, spread_widened: r4(widen), real_impostor_pairs: realImp.length, impostor_cosine_quantiles: qs, real: qs.map((q) => r4(quant(realImp, q))), synthetic: qs.map((q) => r4(quant(synthImp, q))) },
    strangers: strangers.length,
    sizes: growth,
  };
  out.ms_per_image_in_eval = Math.round(ms);
  out.elapsed_s = Math.round((Date.now() - t0) / 1000);
  if (args.dump) writeFileSync(args.dump, JSON.stringify(Object.fromEntries([...emb].map(([k, v]) => [k, Array.from(v, r4)]))));
  await engine.close();
  console.log(JSON.stringify(out, null, 1));
}

await main();
