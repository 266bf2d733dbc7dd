// Plane geometry for face crops: similarity transforms fitted to landmarks, and warping image regions with them.
import type { Point } from './types.js';

/** x' = a·x − b·y + tx, y' = b·x + a·y + ty (rotation + uniform scale + translation). */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

export function applySimilarity(t: Similarity, [x, y]: Point): Point {
  return [t.a * x - t.b * y + t.tx, t.b * x + t.a * y + t.ty];
}

export function invertSimilarity(t: Similarity): Similarity {
  const d = t.a * t.a + t.b * t.b;
  const a = t.a / d;
  const b = -t.b / d;
  return { a, b, tx: -(a * t.tx - b * t.ty), ty: -(b * t.tx + a * t.ty) };
}

/** Scale factor of a similarity (source units per destination unit when it maps destination → source). */
export function similarityScale(t: Similarity): number {
  return Math.hypot(t.a, t.b);
}

/** Least-squares similarity mapping `from[i]` onto `to[i]` (Umeyama without reflection). */
export function fitSimilarity(from: Point[], to: Point[]): Similarity {
  const n = from.length;
  let fx = 0, fy = 0, tx = 0, ty = 0;
  for (let i = 0; i < n; i++) {
    fx += from[i][0]; fy += from[i][1]; tx += to[i][0]; ty += to[i][1];
  }
  fx /= n; fy /= n; tx /= n; ty /= n;
  let sxx = 0, sxy = 0, var_ = 0;
  for (let i = 0; i < n; i++) {
    const ux = from[i][0] - fx, uy = from[i][1] - fy;
    const vx = to[i][0] - tx, vy = to[i][1] - ty;
    sxx += ux * vx + uy * vy;
    sxy += ux * vy - uy * vx;
    var_ += ux * ux + uy * uy;
  }
  const a = sxx / var_;
  const b = sxy / var_;
  return { a, b, tx: tx - (a * fx - b * fy), ty: ty - (b * fx + a * fy) };
}

/** Outside the image: repeat the edge pixels, or a constant grey level. */
export type Fill = 'nearest' | number;

/** An RGB image, 3 bytes per pixel, row-major. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Samples a `size`×`size` crop: crop pixel (u, v) takes the image value at toImage(u, v), in pixel-index
 * coordinates (pixel centres on integers). Bilinear; when the crop shrinks the image, each crop pixel averages an
 * n×n grid of bilinear samples over its footprint (n = the shrink factor rounded, at most `maxSamples`) so fine texture
 * does not alias. Plain JavaScript on the decoded bytes: for a few 112–256 px crops this costs a few milliseconds,
 * an order of magnitude less than slicing and transforming tensors in the WASM backend.
 *
 * @returns float pixels 0..255, [size, size, 3], written into `out` at `offset` when given.
 */
export function warpImage(
  img: RgbImage,
  toImage: Similarity,
  size: number,
  fill: Fill = 'nearest',
  maxSamples = 2,
  out: Float32Array = new Float32Array(size * size * 3),
  offset = 0,
): Float32Array {
  const { data, width: W, height: H } = img;
  const n = Math.max(1, Math.min(maxSamples, Math.ceil(similarityScale(toImage) - 0.25)));
  const { a, b, tx, ty } = toImage;
  const inv = 1 / (n * n);
  const constant = fill === 'nearest' ? -1 : fill;
  let o = offset;
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      let r = 0, g = 0, bl = 0;
      for (let sy = 0; sy < n; sy++) {
        const vv = v + (sy + 0.5) / n - 0.5;
        for (let sx = 0; sx < n; sx++) {
          const uu = u + (sx + 0.5) / n - 0.5;
          let x = a * uu - b * vv + tx;
          let y = b * uu + a * vv + ty;
          if (x < -0.5 || y < -0.5 || x > W - 0.5 || y > H - 0.5) {
            if (constant >= 0) {
              r += constant;
              g += constant;
              bl += constant;
              continue;
            }
          }
          x = x < 0 ? 0 : x > W - 1 ? W - 1 : x;
          y = y < 0 ? 0 : y > H - 1 ? H - 1 : y;
          const x0 = Math.floor(x), y0 = Math.floor(y);
          const x1 = x0 + 1 < W ? x0 + 1 : x0, y1 = y0 + 1 < H ? y0 + 1 : y0;
          const fx = x - x0, fy = y - y0;
          const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
          const i00 = (y0 * W + x0) * 3, i01 = (y0 * W + x1) * 3, i10 = (y1 * W + x0) * 3, i11 = (y1 * W + x1) * 3;
          r += w00 * data[i00] + w01 * data[i01] + w10 * data[i10] + w11 * data[i11];
          g += w00 * data[i00 + 1] + w01 * data[i01 + 1] + w10 * data[i10 + 1] + w11 * data[i11 + 1];
          bl += w00 * data[i00 + 2] + w01 * data[i01 + 2] + w10 * data[i10 + 2] + w11 * data[i11 + 2];
        }
      }
      out[o++] = r * inv;
      out[o++] = g * inv;
      out[o++] = bl * inv;
    }
  }
  return out;
}

/**
 * Several crops of one image, concatenated ([N, size, size, 3] float pixels): one batch for a network.
 * Two samples per axis at most: 3 or 4 changed no decision and no landmark on ../shared/faces, and cost 2–4× more.
 */
export function warpAll(img: RgbImage, toImage: Similarity[], size: number, fill: Fill = 'nearest', maxSamples = 2): Float32Array {
  const per = size * size * 3;
  const out = new Float32Array(per * toImage.length);
  toImage.forEach((t, i) => warpImage(img, t, size, fill, maxSamples, out, i * per));
  return out;
}
