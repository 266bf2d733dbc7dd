// Synthetic face-template-like vectors for the index tests and bench/search.ts.
//
// An identity is a centre; its templates are noisy samples of it. Sample noise is drawn so that two samples of
// one identity have cosine ≈ 0.6–0.9. Centres are either
//  - 'hierarchical' (default): global mean + one of 8 broad groups + one of 64 sub-groups per group + an
//    individual part, weights² 0.03 / 0.09 / 0.16 / 0.72. Different identities then score ≈ 0 (other group) to
//    ≈ 0.3 (same sub-group), like real face descriptors, whose identities are not spread uniformly over the
//    sphere (they cluster by demographics; intrinsic dimension far below 128);
//  - 'isotropic': global mean + individual part (weights² 0.176 / 0.824): every impostor ≈ 0.15 ± 0.08. A stress
//    case for graph indexes (no structure to navigate), reported separately in docs/index.md.

export type CentreStructure = 'hierarchical' | 'isotropic';

/** Standard normal samples from a uniform source (Box–Muller, both values of each pair used in turn). */
export function gaussian(random: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = random();
    const r = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * random();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

/** Deterministic uniform [0, 1) generator (mulberry32). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < v.length; i++) v[i] *= inv;
  return v;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export class FaceLikeGenerator {
  readonly dim: number;
  readonly random: () => number;
  readonly gauss: () => number;
  private readonly structure: CentreStructure;
  private readonly mean: Float32Array;
  private readonly groups: Float32Array[];
  private readonly subgroups: Float32Array[];

  constructor(opts: { dim: number; seed: number; structure?: CentreStructure }) {
    this.dim = opts.dim;
    this.random = mulberry32(opts.seed);
    this.gauss = gaussian(this.random);
    this.structure = opts.structure ?? 'hierarchical';
    this.mean = this.randomUnit();
    this.groups = Array.from({ length: 8 }, () => this.randomUnit());
    this.subgroups = Array.from({ length: 8 * 64 }, () => this.randomUnit());
  }


  randomUnit(): Float32Array {
    const v = new Float32Array(this.dim);
    for (let i = 0; i < this.dim; i++) v[i] = this.gauss();
    return normalize(v);
  }

  /** A new identity's centre. */
  identity(): Float32Array {
    const u = this.randomUnit();
    const c = new Float32Array(this.dim);
    if (this.structure === 'isotropic') {
      const [wm, wu] = [Math.sqrt(0.176), Math.sqrt(0.824)];
      for (let j = 0; j < this.dim; j++) c[j] = wm * this.mean[j] + wu * u[j];
    } else {
      const g = Math.floor(this.random() * 8);
      const sg = this.subgroups[g * 64 + Math.floor(this.random() * 64)];
      const gv = this.groups[g];
      const [wm, wg, ws, wu] = [0.03, 0.09, 0.16, 0.72].map(Math.sqrt);
      for (let j = 0; j < this.dim; j++) c[j] = wm * this.mean[j] + wg * gv[j] + ws * sg[j] + wu * u[j];
    }
    return normalize(c);
  }

  /**
   * A template of the identity: centre plus Gaussian noise of total power t ∈ [0.1, 0.6], so two samples with
   * noise t1, t2 have cosine ≈ 1/√((1+t1)(1+t2)) ∈ [0.62, 0.91].
   */
  sample(centre: Float32Array, out = new Float32Array(this.dim)): Float32Array {
    const t = 0.1 + 0.5 * this.random();
    const sigma = Math.sqrt(t / this.dim);
    for (let j = 0; j < this.dim; j++) out[j] = centre[j] + sigma * this.gauss();
    return normalize(out);
  }
}
