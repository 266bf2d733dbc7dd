// Synthetic face templates whose genuine and impostor cosine distributions are fitted to a face model's, for the
// search benchmark (and tests that want realistic score distributions). What makes a 1:N search hard is how
// close the best impostors come to the genuine match, so those two distributions are the parameters.
//
// Model of a template (all vectors unit length):
//   centre  c = √a·m + √(1−a)·z           m: one direction shared by every face (it sets the impostor mean a·E[q₁q₂])
//   z         = normalise(√w·B·g/√r + √(1−w)·u)   B: r fixed random directions, g ~ N(0, I_r); u isotropic.
//                                          Faces differ mostly within a low-dimensional subspace, as real face
//                                          descriptors do; r and w set the spread of impostor cosines.
//   template  x = q·c + √(1−q²)·n         n ⊥ c isotropic, q ~ N(m_q, s_q) (capture quality), so x·c = q.
// Two templates of one identity: x₁·x₂ ≈ q₁q₂. Of two identities: ≈ q₁q₂·(a + (1−a)·z₁·z₂), with
// sd(z₁·z₂) = 1/√d_eff, d_eff = 1/(w²/r + (1−w)²/dim). fitTemplateModel() solves these for the targets;
// measureDistributions() checks the result on generated data, and the benchmark reports both.
import { gaussian, mulberry32, normalize } from './synthetic.js';

export interface Distribution {
  mean: number;
  sd: number;
}

export interface TemplateTargets {
  genuine: Distribution;
  impostor: Distribution;
}

/**
 * Named targets. `arcface512`: the 512-d ArcFace-class engine; its genuine pairs score about 0.4–0.9 and its
 * impostors about 0–0.35, taken here as mean ± 2 sd of those ranges. `resnet128`: the 128-d face-api ResNet,
 * whose impostors sit at 0.7–0.92 and genuine pairs above ~0.91 (docs/calibration.md's knots and extremes).
 */
export const PROFILES: Record<string, TemplateTargets> = {
  arcface512: { genuine: { mean: 0.65, sd: 0.12 }, impostor: { mean: 0.15, sd: 0.085 } },
  resnet128: { genuine: { mean: 0.955, sd: 0.02 }, impostor: { mean: 0.81, sd: 0.055 } },
};

export interface TemplateModel {
  dim: number;
  /** Weight of the shared direction in a centre. */
  a: number;
  /** Latent rank and the latent part's weight in z. */
  r: number;
  w: number;
  /** Capture quality q ~ N(qMean, qSd), clipped to [0.05, 0.999]. */
  qMean: number;
  qSd: number;
  targets: TemplateTargets;
}

/**
 * Solves the model for the targets from the moments above, then corrects the impostor mean and spread twice by
 * measuring generated pairs (the moment equations drop small terms).
 */
export function fitTemplateModel(dim: number, targets: TemplateTargets): TemplateModel {
  let aScale = 1;
  let dScale = 1;
  let model = solve(dim, targets, aScale, dScale);
  for (let it = 0; it < 2; it++) {
    const { impostor } = measureDistributions(model, 3000, 1234 + it);
    aScale *= targets.impostor.mean / impostor.mean;
    dScale *= (impostor.sd / targets.impostor.sd) ** 2;
    model = solve(dim, targets, aScale, dScale);
  }
  return model;
}

function solve(dim: number, targets: TemplateTargets, aScale: number, dScale: number): TemplateModel {
  const { genuine: g, impostor: i } = targets;
  if (!(g.mean > 0 && g.mean < 1 && g.sd > 0)) throw new RangeError('genuine mean must be in (0, 1) and sd > 0');
  if (!(i.mean < g.mean && i.sd > 0)) throw new RangeError('impostor mean must be below the genuine mean, sd > 0');
  // E[q₁q₂] = m² and Var(q₁q₂) = (v + m²)² − m⁴ for iid q with mean m and variance v.
  const qMean = Math.sqrt(g.mean);
  const v = Math.sqrt(g.sd ** 2 + g.mean ** 2) - g.mean;
  const a = Math.min(0.99, Math.max(0, (i.mean / g.mean) * aScale));
  const eQQ2 = (v + g.mean) ** 2; // E[(q₁q₂)²]
  // Var(impostor) ≈ E[(q₁q₂)²]·Var(cc) + Var(q₁q₂)·a² + the two noise parts' product (≈ (1−q²)/dim).
  const noise = (1 - g.mean) ** 2 / dim;
  const varCC = Math.max(1e-6, (i.sd ** 2 - g.sd ** 2 * a * a - noise) / eQQ2);
  const dEff = Math.min(dim, Math.max(1, ((1 - a) ** 2 / varCC) * dScale));
  // Pick the latent rank at half of d_eff (at most 48), then the latent weight w that gives d_eff.
  const r = Math.max(2, Math.min(48, Math.round(dEff / 2)));
  const deff = (w: number) => 1 / ((w * w) / r + ((1 - w) * (1 - w)) / dim);
  let lo = 0;
  let hi = 1;
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    if (deff(mid) > dEff) lo = mid;
    else hi = mid;
  }
  return { dim, a, r, w: (lo + hi) / 2, qMean, qSd: Math.sqrt(v), targets };
}

export class FittedTemplateGenerator {
  readonly model: TemplateModel;
  readonly random: () => number;
  readonly gauss: () => number;
  private readonly shared: Float32Array;
  private readonly basis: Float32Array[];

  constructor(model: TemplateModel, seed: number) {
    this.model = model;
    this.random = mulberry32(seed);
    this.gauss = gaussian(this.random);
    this.shared = this.randomUnit();
    this.basis = Array.from({ length: model.r }, () => this.randomUnit());
  }


  randomUnit(): Float32Array {
    const v = new Float32Array(this.model.dim);
    for (let j = 0; j < v.length; j++) v[j] = this.gauss();
    return normalize(v);
  }

  /** A new identity's centre. */
  identity(): Float32Array {
    const { dim, a, r, w } = this.model;
    const z = new Float32Array(dim);
    const lat = Math.sqrt(w / r);
    for (let i = 0; i < r; i++) {
      const gi = this.gauss() * lat;
      const b = this.basis[i];
      for (let j = 0; j < dim; j++) z[j] += gi * b[j];
    }
    const iso = Math.sqrt((1 - w) / dim);
    for (let j = 0; j < dim; j++) z[j] += iso * this.gauss();
    normalize(z);
    const c = new Float32Array(dim);
    const sa = Math.sqrt(a);
    const sz = Math.sqrt(1 - a);
    for (let j = 0; j < dim; j++) c[j] = sa * this.shared[j] + sz * z[j];
    return normalize(c);
  }

  /** A template of the identity: x = q·c + √(1−q²)·n with n ⊥ c, so x·c = q exactly. */
  sample(centre: Float32Array): Float32Array {
    const { dim, qMean, qSd } = this.model;
    const q = Math.min(0.999, Math.max(0.05, qMean + qSd * this.gauss()));
    const n = this.randomUnit();
    let d = 0;
    for (let j = 0; j < dim; j++) d += n[j] * centre[j];
    for (let j = 0; j < dim; j++) n[j] -= d * centre[j];
    normalize(n);
    const s = Math.sqrt(1 - q * q);
    const x = new Float32Array(dim);
    for (let j = 0; j < dim; j++) x[j] = q * centre[j] + s * n[j];
    return normalize(x);
  }
}

export interface MeasuredDistribution extends Distribution {
  p01: number;
  p50: number;
  p99: number;
}

function summarise(xs: number[]): MeasuredDistribution {
  const s = [...xs].sort((x, y) => x - y);
  const mean = s.reduce((t, x) => t + x, 0) / s.length;
  const sd = Math.sqrt(s.reduce((t, x) => t + (x - mean) ** 2, 0) / s.length);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const r = (x: number) => Number(x.toFixed(4));
  return { mean: r(mean), sd: r(sd), p01: r(at(0.01)), p50: r(at(0.5)), p99: r(at(0.99)) };
}

const dot = (x: Float32Array, y: Float32Array) => {
  let s = 0;
  for (let j = 0; j < x.length; j++) s += x[j] * y[j];
  return s;
};

/** Genuine and impostor cosines of `pairs` fresh pairs from a generator of this model (its own seed). */
export function measureDistributions(model: TemplateModel, pairs = 4000, seed = 99): { genuine: MeasuredDistribution; impostor: MeasuredDistribution } {
  const g = new FittedTemplateGenerator(model, seed);
  const gen: number[] = [];
  const imp: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const c1 = g.identity();
    const c2 = g.identity();
    gen.push(dot(g.sample(c1), g.sample(c1)));
    imp.push(dot(g.sample(c1), g.sample(c2)));
  }
  return { genuine: summarise(gen), impostor: summarise(imp) };
}

export { summarise as summariseDistribution };
