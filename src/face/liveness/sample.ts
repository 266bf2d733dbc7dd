// Resampling a square face region out of an RGB image into small float planes.
import type { Box, Point } from '../types.js';

export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface Region {
  cx: number;
  cy: number;
  /** Side of the square region in source pixels. */
  side: number;
}

/**
 * The central skin region of a face: the square around the nose and cheeks, which carries the skin texture that
 * moiré and colour statistics need and little hair or background.
 */
export function skinRegion(box: Box, landmarks: Point[]): Region {
  if (landmarks.length === 68) {
    // Centre between the eye corners and the mouth; side from the outer eye corners (36, 45).
    let sx = 0, sy = 0;
    for (const i of [36, 45, 48, 54, 30]) { sx += landmarks[i][0]; sy += landmarks[i][1]; }
    const eyes = Math.hypot(landmarks[45][0] - landmarks[36][0], landmarks[45][1] - landmarks[36][1]);
    return { cx: sx / 5, cy: sy / 5, side: Math.max(8, 1.1 * eyes) };
  }
  return { cx: box.x + box.width / 2, cy: box.y + box.height * 0.55, side: Math.max(8, 0.6 * Math.min(box.width, box.height)) };
}

/**
 * Samples an n×n patch of the region, three float planes (R, G, B in 0..255). Downscaling averages every source
 * pixel that falls into an output cell (no aliasing); upscaling is bilinear. Outside the image, edge pixels repeat.
 */
export function samplePatch(img: RgbImage, r: Region, n: number): [Float64Array, Float64Array, Float64Array] {
  const out: [Float64Array, Float64Array, Float64Array] = [new Float64Array(n * n), new Float64Array(n * n), new Float64Array(n * n)];
  const { data, width, height } = img;
  const scale = r.side / n;
  const x0 = r.cx - r.side / 2;
  const y0 = r.cy - r.side / 2;
  const clampX = (x: number) => (x < 0 ? 0 : x >= width ? width - 1 : x);
  const clampY = (y: number) => (y < 0 ? 0 : y >= height ? height - 1 : y);
  if (scale > 1) {
    // At most ~4×4 taps per output pixel: a large face costs what a small one does, and the box filter still
    // suppresses the aliasing that would fake or hide periodic patterns.
    const step = Math.max(1, Math.ceil(scale / 4));
    for (let oy = 0; oy < n; oy++) {
      const sy0 = Math.floor(y0 + oy * scale);
      const sy1 = Math.max(sy0 + 1, Math.floor(y0 + (oy + 1) * scale));
      for (let ox = 0; ox < n; ox++) {
        const sx0 = Math.floor(x0 + ox * scale);
        const sx1 = Math.max(sx0 + 1, Math.floor(x0 + (ox + 1) * scale));
        let r0 = 0, g0 = 0, b0 = 0, c = 0;
        for (let y = sy0; y < sy1; y += step) {
          const row = clampY(y) * width;
          for (let x = sx0; x < sx1; x += step) {
            const p = (row + clampX(x)) * 3;
            r0 += data[p]; g0 += data[p + 1]; b0 += data[p + 2]; c++;
          }
        }
        const o = oy * n + ox;
        out[0][o] = r0 / c; out[1][o] = g0 / c; out[2][o] = b0 / c;
      }
    }
  } else {
    for (let oy = 0; oy < n; oy++) {
      const fy = y0 + (oy + 0.5) * scale - 0.5;
      const iy = Math.floor(fy);
      const wy = fy - iy;
      const ya = clampY(iy) * width, yb = clampY(iy + 1) * width;
      for (let ox = 0; ox < n; ox++) {
        const fx = x0 + (ox + 0.5) * scale - 0.5;
        const ix = Math.floor(fx);
        const wx = fx - ix;
        const xa = clampX(ix), xb = clampX(ix + 1);
        const o = oy * n + ox;
        for (let c = 0; c < 3; c++) {
          const v00 = data[(ya + xa) * 3 + c], v01 = data[(ya + xb) * 3 + c];
          const v10 = data[(yb + xa) * 3 + c], v11 = data[(yb + xb) * 3 + c];
          out[c][o] = (v00 * (1 - wx) + v01 * wx) * (1 - wy) + (v10 * (1 - wx) + v11 * wx) * wy;
        }
      }
    }
  }
  return out;
}

export function luma(r: Float64Array, g: Float64Array, b: Float64Array): Float64Array {
  const y = new Float64Array(r.length);
  for (let i = 0; i < r.length; i++) y[i] = 0.299 * r[i] + 0.587 * g[i] + 0.114 * b[i];
  return y;
}
