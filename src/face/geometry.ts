// Plane geometry for face crops: similarity transforms fitted to landmarks, and warping image regions with them.
import type { Point } from './types.js';
import { tf } from './tf.js';

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

/**
 * Samples square crops of `size`×`size` from an image: crop pixel (u, v) takes the image value at
 * toImage(u, v) (bilinear, black outside the image). Each crop first cuts the image region it covers and, when
 * that region is much larger than the crop, averages it down by an integer factor so the bilinear sampling does
 * not alias.
 *
 * @param image [H, W, 3] float pixels.
 * @returns [N, size, size, 3] float pixels.
 */
export function warpCrops(image: tf.Tensor3D, toImage: Similarity[], size: number, fill: Fill = 'nearest'): tf.Tensor4D {
  const [H, W] = image.shape;
  return tf.tidy(() => {
    const crops = toImage.map((t) => {
      const corners: Point[] = [[0, 0], [size, 0], [0, size], [size, size]].map((p) => applySimilarity(t, p as Point));
      const x0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p[0]))) - 1);
      const y0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p[1]))) - 1);
      const x1 = Math.min(W, Math.ceil(Math.max(...corners.map((p) => p[0]))) + 2);
      const y1 = Math.min(H, Math.ceil(Math.max(...corners.map((p) => p[1]))) + 2);
      if (x1 - x0 < 2 || y1 - y0 < 2) return tf.zeros([1, size, size, 3]) as tf.Tensor4D;
      let region = tf.expandDims(tf.slice(image, [y0, x0, 0], [y1 - y0, x1 - x0, 3]), 0) as tf.Tensor4D;
      const k = Math.floor(similarityScale(t));
      let scale = 1;
      if (k >= 2 && region.shape[1] >= 2 * k && region.shape[2] >= 2 * k) {
        region = tf.avgPool(region, k, k, 'valid');
        scale = k;
      }
      // The region pixel (i, j) covers source pixels [j·k, (j+1)·k); its centre is at (j + 0.5)·k − 0.5.
      const s: Similarity = {
        a: t.a / scale,
        b: t.b / scale,
        tx: (t.tx - x0 + 0.5) / scale - 0.5,
        ty: (t.ty - y0 + 0.5) / scale - 0.5,
      };
      // tf.image.transform maps output (x, y) to input (a0·x + a1·y + a2, b0·x + b1·y + b2).
      const m = tf.tensor2d([[s.a, -s.b, s.tx, s.b, s.a, s.ty, 0, 0]]);
      return fill === 'nearest'
        ? tf.image.transform(region, m, 'bilinear', 'nearest', 0, [size, size])
        : tf.image.transform(region, m, 'bilinear', 'constant', fill, [size, size]);
    });
    return crops.length === 1 ? crops[0] : (tf.concat(crops, 0) as tf.Tensor4D);
  });
}
