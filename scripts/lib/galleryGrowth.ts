// Strangers against galleries grown with synthetic templates (scripts/eval-lfw.ts): how often a stranger matches
// somebody at each min_score as the gallery grows from the real enrolled templates to 30 k. The synthetic templates
// are drawn from a Gaussian fitted to the real ones (mean, the top principal axes by power iteration, an isotropic
// rest), its spread widened until the synthetic-vs-real impostor tail reaches the real 1-in-10⁴ quantile.
import type { FaceEngine } from '../../src/face/types.js';

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Deterministic normal samples (Box–Muller over a seeded LCG). */
function gaussian(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const u = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  return () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
}

export function galleryGrowth(
  engine: Pick<FaceEngine, 'dim' | 'scoreFromCosine'>,
  gv: Float32Array[],
  strangers: Float32Array[],
  everyPhoto: { person: string; v: Float32Array }[],
  minScores: number[],
  log: (...a: unknown[]) => void,
) {
  const best = (q: Float32Array, g: Float32Array[]) => {
    let b = -2;
    for (const v of g) b = Math.max(b, dot(q, v));
    return { cos: b };
  };
  const all = everyPhoto.map((p) => p.v);
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
  const realImp: number[] = [];
  for (let i = 0; i < everyPhoto.length; i++) {
    for (let j = i + 1; j < everyPhoto.length; j++) {
      if (everyPhoto[i].person !== everyPhoto[j].person) realImp.push(dot(everyPhoto[i].v, everyPhoto[j].v));
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
  for (const size of [gv.length, 300, 3000, 30000]) {
    const g = size <= gv.length ? gv.slice(0, size) : [...gv, ...synth(size - gv.length, size)];
    const bestOf = strangers.map((q) => best(q, g).cos);
    growth.push({
      gallery_templates: size,
      synthetic: Math.max(0, size - gv.length),
      strangers_matched: minScores.map((m) => ({ min_score: m, rate: r4(bestOf.filter((c) => engine.scoreFromCosine(c) >= m).length / bestOf.length) })),
      stranger_best_cosine_p50_p99: [r4(quant(bestOf, 0.5)), r4(quant(bestOf, 0.99))],
    });
    log(`gallery ${size} done`);
  }
  return {
    fit: { principal_axes: K, spread_widened: r4(widen), real_impostor_pairs: realImp.length, impostor_cosine_quantiles: qs, real: qs.map((q) => r4(quant(realImp, q))), synthetic: qs.map((q) => r4(quant(synthImp, q))) },
    strangers: strangers.length,
    sizes: growth,
  };
}
