// Does a set of landmarks move like a plane? Fits a similarity and a homography between two frames' landmarks.
// A photo or a screen is a plane: one homography maps every landmark of one frame onto the other, however it is
// tilted. A head is not: when it turns, the nose tip shifts against the face outline (parallax) and no homography
// absorbs that.
import type { Point } from '../types.js';

export type Mat3 = Float64Array; // row-major 3×3

/** Applies a homography to a point. */
export function applyHomography(h: Mat3, [x, y]: Point): Point {
  const w = h[6] * x + h[7] * y + h[8];
  return [(h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w];
}

function centroidAndScale(p: Point[]) {
  let cx = 0, cy = 0;
  for (const [x, y] of p) { cx += x; cy += y; }
  cx /= p.length; cy /= p.length;
  let d = 0;
  for (const [x, y] of p) d += (x - cx) ** 2 + (y - cy) ** 2;
  return { cx, cy, rms: Math.sqrt(d / p.length) };
}

/** Eigenvector of the smallest eigenvalue of a symmetric n×n matrix (cyclic Jacobi; n is 9 here). */
function smallestEigenvector(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p], mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k], mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i < n; i++) if (m[i * n + i] < m[best * n + best]) best = i;
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) out[k] = v[k * n + best];
  return out;
}

/**
 * Least-squares homography mapping src onto dst (normalised DLT, Hartley 1997), or null when the points are
 * degenerate. Needs at least 4 point pairs.
 */
export function fitHomography(src: Point[], dst: Point[]): Mat3 | null {
  const n = Math.min(src.length, dst.length);
  if (n < 4) return null;
  const a = centroidAndScale(src.slice(0, n)), b = centroidAndScale(dst.slice(0, n));
  if (a.rms < 1e-9 || b.rms < 1e-9) return null;
  const sa = Math.SQRT2 / a.rms, sb = Math.SQRT2 / b.rms;
  const ata = new Float64Array(81);
  const row = new Float64Array(9);
  const accumulate = () => {
    for (let i = 0; i < 9; i++) for (let j = 0; j < 9; j++) ata[i * 9 + j] += row[i] * row[j];
  };
  for (let i = 0; i < n; i++) {
    const x = (src[i][0] - a.cx) * sa, y = (src[i][1] - a.cy) * sa;
    const u = (dst[i][0] - b.cx) * sb, v = (dst[i][1] - b.cy) * sb;
    row.set([-x, -y, -1, 0, 0, 0, u * x, u * y, u]); accumulate();
    row.set([0, 0, 0, -x, -y, -1, v * x, v * y, v]); accumulate();
  }
  const h = smallestEigenvector(ata, 9);
  // H = Tb⁻¹ · Ĥ · Ta, with Ta = [sa 0 -sa·cx; 0 sa -sa·cy; 0 0 1].
  const ta = [sa, 0, -sa * a.cx, 0, sa, -sa * a.cy, 0, 0, 1];
  const tbInv = [1 / sb, 0, b.cx, 0, 1 / sb, b.cy, 0, 0, 1];
  const mul = (p: ArrayLike<number>, q: ArrayLike<number>) => {
    const r = new Float64Array(9);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) r[i * 3 + j] += p[i * 3 + k] * q[k * 3 + j];
    return r;
  };
  const hm = mul(mul(tbInv, h), ta);
  if (!Number.isFinite(hm[8]) || Math.abs(hm[8]) < 1e-12) return null;
  for (let i = 0; i < 9; i++) hm[i] /= hm[8];
  return hm;
}

/** RMS residuals, in units of the destination face's RMS radius, of a similarity and of a homography fit. */
export interface PlanarityMeasure {
  /** What a rigid 2-D move (shift, in-plane rotation, zoom) cannot explain: out-of-plane motion, expression, noise. */
  similarityResidual: number;
  /** What even a homography cannot explain: parallax of a 3-D object, expression, noise. */
  homographyResidual: number;
}

export function measurePlanarity(src: Point[], dst: Point[]): PlanarityMeasure | null {
  const n = Math.min(src.length, dst.length);
  if (n < 8) return null;
  const a = centroidAndScale(src.slice(0, n)), b = centroidAndScale(dst.slice(0, n));
  if (a.rms < 1e-9 || b.rms < 1e-9) return null;
  // Similarity in closed form: treat points as complex numbers, q ≈ z·p with z = Σ conj(p)·q / Σ|p|².
  let nr = 0, ni = 0, den = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i][0] - a.cx, py = src[i][1] - a.cy;
    const qx = dst[i][0] - b.cx, qy = dst[i][1] - b.cy;
    nr += px * qx + py * qy;
    ni += px * qy - py * qx;
    den += px * px + py * py;
  }
  const zr = nr / den, zi = ni / den;
  let sim = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i][0] - a.cx, py = src[i][1] - a.cy;
    const ex = zr * px - zi * py - (dst[i][0] - b.cx), ey = zi * px + zr * py - (dst[i][1] - b.cy);
    sim += ex * ex + ey * ey;
  }
  const h = fitHomography(src.slice(0, n), dst.slice(0, n));
  let hom = sim;
  if (h) {
    hom = 0;
    for (let i = 0; i < n; i++) {
      const [x, y] = applyHomography(h, src[i]);
      hom += (x - dst[i][0]) ** 2 + (y - dst[i][1]) ** 2;
    }
    hom = Math.min(hom, sim); // a homography includes every similarity
  }
  return { similarityResidual: Math.sqrt(sim / n) / b.rms, homographyResidual: Math.sqrt(hom / n) / b.rms };
}
