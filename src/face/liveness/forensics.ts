// Image-forensic measurements of one face: raw numbers, no thresholds. liveness.ts maps them to sub-scores.
import type { Box } from '../types.js';
import { powerSpectrum2d } from './fft.js';
import { luma, samplePatch, type Region, type RgbImage } from './sample.js';

const WIN = 64;
const SPAN = 96;
let hann: Float64Array | undefined;
function hann2d(): Float64Array {
  if (!hann) {
    hann = new Float64Array(WIN * WIN);
    for (let y = 0; y < WIN; y++) {
      const wy = 0.5 - 0.5 * Math.cos((2 * Math.PI * (y + 0.5)) / WIN);
      for (let x = 0; x < WIN; x++) hann[y * WIN + x] = wy * (0.5 - 0.5 * Math.cos((2 * Math.PI * (x + 0.5)) / WIN));
    }
  }
  return hann;
}

export interface MoireMeasure {
  /** Largest isolated spectral peak above its neighbourhood, in dB. */
  peakDb: number;
  /** Its spatial frequency in cycles per sampled pixel. */
  peakFreq: number;
  /** Source pixels per sampled pixel (1 = native resolution). */
  scale: number;
}

/**
 * Periodic structure in the skin region: a screen's pixel grid or a print's halftone, beating against the camera's
 * sensor grid, leaves isolated peaks in the power spectrum where a natural face has a smooth 1/f fall-off.
 * Always 96×96 samples analysed as four overlapping, Hann-windowed 64×64 windows whose spectra are averaged
 * (Welch), so that every face has the same periodogram noise and random fluctuations do not look like peaks.
 * Native pixels when the region is large enough (resampling would blur a pixel grid away), upsampled (which adds
 * no peaks) when it is not.
 */
export function measureMoire(img: RgbImage, region: Region): MoireMeasure {
  const scale = region.side >= SPAN ? 1 : region.side / SPAN;
  const native = scale === 1;
  // Native: align the patch to whole pixels so that sampling does not interpolate.
  const cx = native ? Math.round(region.cx - SPAN / 2) + SPAN / 2 : region.cx;
  const cy = native ? Math.round(region.cy - SPAN / 2) + SPAN / 2 : region.cy;
  const [r, g, b] = samplePatch(img, { cx, cy, side: SPAN * scale }, SPAN);
  const y = luma(r, g, b);
  const w = hann2d();
  const acc = new Float64Array(WIN * WIN);
  const win = new Float64Array(WIN * WIN);
  for (let sy = 0; sy + WIN <= SPAN; sy += WIN / 2) {
    for (let sx = 0; sx + WIN <= SPAN; sx += WIN / 2) {
      let mean = 0;
      for (let j = 0; j < WIN; j++) for (let i = 0; i < WIN; i++) mean += y[(sy + j) * SPAN + sx + i];
      mean /= WIN * WIN;
      for (let j = 0; j < WIN; j++) for (let i = 0; i < WIN; i++) win[j * WIN + i] = (y[(sy + j) * SPAN + sx + i] - mean) * w[j * WIN + i];
      const p = powerSpectrum2d(win, WIN);
      for (let i = 0; i < p.length; i++) acc[i] += p[i];
    }
  }
  // Log spectrum, padded by 3 bins with wrap-around (the spectrum is periodic), and its integral image for the
  // mean of the ring of 24 bins at Chebyshev distance 3 around each bin.
  const P = 3, PW = WIN + 2 * P;
  const logp = new Float64Array(PW * PW);
  for (let j = 0; j < PW; j++) {
    for (let i = 0; i < PW; i++) {
      const v = (j - P + WIN) % WIN, u = (i - P + WIN) % WIN;
      logp[j * PW + i] = Math.log(acc[v * WIN + u] + 1e-9);
    }
  }
  const integral = new Float64Array((PW + 1) * (PW + 1));
  for (let j = 0; j < PW; j++) {
    let row = 0;
    for (let i = 0; i < PW; i++) {
      row += logp[j * PW + i];
      integral[(j + 1) * (PW + 1) + i + 1] = integral[j * (PW + 1) + i + 1] + row;
    }
  }
  const boxSum = (x0: number, y0: number, x1: number, y1: number) =>
    integral[y1 * (PW + 1) + x1] - integral[y0 * (PW + 1) + x1] - integral[y1 * (PW + 1) + x0] + integral[y0 * (PW + 1) + x0];
  const at = (u: number, v: number) => logp[(((v % WIN) + WIN) % WIN + P) * PW + (((u % WIN) + WIN) % WIN) + P];
  let best = 0;
  let bestFreq = 0;
  const half = WIN / 2;
  for (let v = 0; v < half; v++) {
    for (let u = -half + 1; u < half; u++) {
      const rr = Math.hypot(u, v);
      if (rr < 4 || rr > half - 1) continue;
      // The image's own 8×8 JPEG block grid is expected: skip its harmonics.
      if (native && u % 8 === 0 && v % 8 === 0) continue;
      const pu = ((u % WIN) + WIN) % WIN + P, pv = v + P;
      const ring = (boxSum(pu - 3, pv - 3, pu + 4, pv + 4) - boxSum(pu - 2, pv - 2, pu + 3, pv + 3)) / 24;
      // Radial neighbours: lines through the origin (edges of eyes, mouth) fall off smoothly along the radius.
      let radial = 0;
      for (const d of [-3, -2, 2, 3]) {
        const f = (rr + d) / rr;
        radial += at(Math.round(u * f), Math.round(v * f));
      }
      const prominence = at(u, v) - Math.max(ring, radial / 4);
      if (prominence > best) {
        best = prominence;
        bestFreq = rr / WIN;
      }
    }
  }
  return { peakDb: (10 / Math.LN10) * best, peakFreq: bestFreq, scale };
}

export interface SkinMeasure {
  grayscale: boolean;
  /** Fraction of skin-region pixels inside the YCbCr skin locus of Chai & Ngan (1999). */
  skinLocus: number;
  saturation: number;
  /** Mean Cr − Cb: skin is red-shifted; a display's blue-heavy white point pulls it down. */
  redness: number;
  /** Fraction of uniform LBP codes on luma: near 1 for flat, detail-less skin. */
  lbpUniform: number;
  /** Laplacian energy over luma variance: low for a blurred face. */
  laplacianRatio: number;
}

function lbpUniformFraction(p: Float64Array, n: number): number {
  let uniform = 0, total = 0;
  const offsets = [-n - 1, -n, -n + 1, 1, n + 1, n, n - 1, -1];
  for (let y = 1; y < n - 1; y++) {
    for (let x = 1; x < n - 1; x++) {
      const o = y * n + x;
      const c = p[o];
      let code = 0;
      for (let k = 0; k < 8; k++) if (p[o + offsets[k]] >= c) code |= 1 << k;
      let t = code ^ (((code << 1) | (code >> 7)) & 0xff), transitions = 0;
      while (t) { transitions += t & 1; t >>= 1; }
      if (transitions <= 2) uniform++;
      total++;
    }
  }
  return uniform / total;
}

function laplacianRatio(y: Float64Array, n: number): number {
  let mean = 0;
  for (const v of y) mean += v;
  mean /= y.length;
  let variance = 0;
  for (const v of y) variance += (v - mean) ** 2;
  variance /= y.length;
  let lap = 0, c = 0;
  for (let j = 1; j < n - 1; j++) {
    for (let i = 1; i < n - 1; i++) {
      const o = j * n + i;
      const l = y[o - 1] + y[o + 1] + y[o - n] + y[o + n] - 4 * y[o];
      lap += l * l;
      c++;
    }
  }
  return lap / c / (variance + 1);
}

/** Colour, texture and focus of the skin region, from one 64×64 sample of it. */
export function measureSkin(img: RgbImage, region: Region): SkinMeasure {
  const n = 64;
  const [r, g, b] = samplePatch(img, region, n);
  let sat = 0, gray = 0, locus = 0, redness = 0;
  // Colour statistics on 2×2-averaged pixels (32×32): less sensor noise in the chroma.
  for (let j = 0; j < n; j += 2) {
    for (let i = 0; i < n; i += 2) {
      const o = j * n + i;
      const R = (r[o] + r[o + 1] + r[o + n] + r[o + n + 1]) / 4;
      const G = (g[o] + g[o + 1] + g[o + n] + g[o + n + 1]) / 4;
      const B = (b[o] + b[o + 1] + b[o + n] + b[o + n + 1]) / 4;
      const cb = 128 - 0.168736 * R - 0.331264 * G + 0.5 * B;
      const cr = 128 + 0.5 * R - 0.418688 * G - 0.081312 * B;
      const mx = Math.max(R, G, B), mn = Math.min(R, G, B);
      sat += mx > 0 ? (mx - mn) / mx : 0;
      gray += Math.abs(R - G) + Math.abs(G - B);
      redness += cr - cb;
      if (cr >= 133 && cr <= 173 && cb >= 77 && cb <= 127) locus++;
    }
  }
  const N = (n / 2) ** 2;
  const y = luma(r, g, b);
  return {
    grayscale: gray / N < 2,
    skinLocus: locus / N,
    saturation: sat / N,
    redness: redness / N,
    lbpUniform: lbpUniformFraction(y, n),
    laplacianRatio: laplacianRatio(y, n),
  };
}

export interface SpecularMeasure {
  /** Fraction of face pixels that are near white and colourless (glare on glass or glossy paper, or clipping). */
  glare: number;
  /** Fraction of face pixels with a clipped channel. */
  clipped: number;
}

export function measureSpecular(img: RgbImage, box: Box): SpecularMeasure {
  const n = 96;
  const x0 = box.x + box.width * 0.1, y0 = box.y + box.height * 0.1;
  const sw = (box.width * 0.8) / n, sh = (box.height * 0.8) / n;
  let glare = 0, clipped = 0, total = 0;
  for (let j = 0; j < n; j++) {
    const y = Math.floor(y0 + (j + 0.5) * sh);
    if (y < 0 || y >= img.height) continue;
    for (let i = 0; i < n; i++) {
      const x = Math.floor(x0 + (i + 0.5) * sw);
      if (x < 0 || x >= img.width) continue;
      const p = (y * img.width + x) * 3;
      const r = img.data[p], g = img.data[p + 1], b = img.data[p + 2];
      const mx = Math.max(r, g, b), mn = Math.min(r, g, b);
      if (mx >= 235 && (mx - mn) / mx <= 0.12) glare++;
      if (mx >= 254) clipped++;
      total++;
    }
  }
  return { glare: total ? glare / total : 0, clipped: total ? clipped / total : 0 };
}

export interface BorderMeasure {
  /** Sides of the face (left, right, top, bottom) that have room around them to look for a border. */
  sidesChecked: number;
  /** Sides with a long straight edge parallel to them, outside the face: a phone's bezel or a photo's edge. */
  sidesWithLine: number;
  /** Best line coverage per side (fraction of the expected border length that has a matching edge), 0 if unchecked. */
  coverage: [number, number, number, number];
  /** Tilt of the best line per side in degrees; the four sides of one rotated rectangle have about the same. */
  angles: [number, number, number, number];
}

/**
 * Looks for the straight edges of a phone, tablet or paper photo held up around the face. A real background has
 * straight lines too (doors, shelves), so one side alone says little; edges on two or more sides enclosing the face
 * are what a held-up picture looks like.
 */
export function measureBorder(img: RgbImage, box: Box): BorderMeasure {
  const face = Math.max(box.width, box.height);
  const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  // Context: 2.4 face sizes around the face centre, clipped to the image, sampled at most 192 px wide.
  const half = 1.2 * face;
  const left = Math.max(0, Math.floor(cx - half)), right = Math.min(img.width, Math.ceil(cx + half));
  const top = Math.max(0, Math.floor(cy - half)), bottom = Math.min(img.height, Math.ceil(cy + half));
  const k = Math.max(1, (2 * half) / 192);
  const w = Math.max(1, Math.floor((right - left) / k)), h = Math.max(1, Math.floor((bottom - top) / k));
  const coverage: [number, number, number, number] = [0, 0, 0, 0];
  const angles: [number, number, number, number] = [0, 0, 0, 0];
  if (w < 16 || h < 16) return { sidesChecked: 0, sidesWithLine: 0, coverage, angles };
  const [r, g, b] = samplePatchRect(img, left, top, k, w, h);
  const y = luma(r, g, b);
  const gx = new Float64Array(w * h), gy = new Float64Array(w * h);
  for (let j = 1; j < h - 1; j++) {
    for (let i = 1; i < w - 1; i++) {
      const o = j * w + i;
      gx[o] = (y[o - w + 1] + 2 * y[o + 1] + y[o + w + 1] - y[o - w - 1] - 2 * y[o - 1] - y[o + w - 1]) / 8;
      gy[o] = (y[o + w - 1] + 2 * y[o + w] + y[o + w + 1] - y[o - w - 1] - 2 * y[o - w] - y[o - w + 1]) / 8;
    }
  }
  // Face box in context coordinates.
  const fx0 = (box.x - left) / k, fx1 = (box.x + box.width - left) / k;
  const fy0 = (box.y - top) / k, fy1 = (box.y + box.height - top) / k;
  const fw = fx1 - fx0, fh = fy1 - fy0;
  // Edge pixels whose gradient is within 25° of horizontal (they belong to vertical lines) and vice versa, split by
  // polarity (a bezel or a photo edge is darker, or lighter, than what surrounds it all along its length), widened
  // by one pixel across the line so that a slightly slanted line still hits them.
  const maps = [new Uint8Array(w * h), new Uint8Array(w * h), new Uint8Array(w * h), new Uint8Array(w * h)];
  for (let o = 0; o < w * h; o++) {
    const m = Math.hypot(gx[o], gy[o]);
    if (m < 10) continue;
    if (Math.abs(gx[o]) >= 0.9 * m) {
      const map = maps[gx[o] > 0 ? 0 : 1];
      map[o] = 1; if (o % w > 0) map[o - 1] = 1; if (o % w < w - 1) map[o + 1] = 1;
    }
    if (Math.abs(gy[o]) >= 0.9 * m) {
      const map = maps[gy[o] > 0 ? 2 : 3];
      map[o] = 1; if (o >= w) map[o - w] = 1; if (o + w < w * h) map[o + w] = 1;
    }
  }
  const edgeAt = (x: number, yy: number, map: Uint8Array): boolean => {
    const px = Math.round(x), py = Math.round(yy);
    return px >= 0 && py >= 0 && px < w && py < h && map[py * w + px] === 1;
  };
  let checked = 0, withLine = 0;
  // side 0 left, 1 right: vertical lines; 2 top, 3 bottom: horizontal lines.
  for (let side = 0; side < 4; side++) {
    const vertical = side < 2;
    const extent = vertical ? fh : fw;
    const dirSign = side === 0 || side === 2 ? -1 : 1;
    const edge = side === 0 ? fx0 : side === 1 ? fx1 : side === 2 ? fy0 : fy1;
    const limit = side === 0 || side === 2 ? 0 : vertical ? w - 1 : h - 1;
    const startOff = 0.08 * (vertical ? fw : fh);
    const room = Math.abs(limit - edge) - startOff;
    if (room < 0.1 * extent) continue;
    checked++;
    const centre = vertical ? (fy0 + fy1) / 2 : (fx0 + fx1) / 2;
    // The border must run past the face: 1.3 face extents long, centred on the face, clipped to the context.
    const lo = Math.max(1, centre - 0.65 * extent), hi = Math.min((vertical ? h : w) - 2, centre + 0.65 * extent);
    const needed = 1.3 * extent;
    let best = 0, bestDeg = 0;
    for (let deg = -10; deg <= 10; deg += 2.5) {
      const t = Math.tan((deg * Math.PI) / 180);
      // Step 2: edge maps are widened by a pixel each side, so no line falls between two offsets.
      for (let off = startOff; off <= room + startOff; off += 2) {
        const base = edge + dirSign * off;
        for (const map of vertical ? [maps[0], maps[1]] : [maps[2], maps[3]]) {
          // Longest run of edge pixels along the line, bridging gaps of up to 3 samples.
          let run = 0, gap = 0, longest = 0;
          for (let s = lo; s <= hi; s += 1) {
            const across = base + (s - centre) * t;
            if (vertical ? edgeAt(across, s, map) : edgeAt(s, across, map)) {
              run += gap + 1;
              gap = 0;
              if (run > longest) longest = run;
            } else if (++gap > 3) {
              run = 0;
              gap = 0;
            }
          }
          if (longest / needed > best) { best = longest / needed; bestDeg = deg; }
        }
      }
    }
    coverage[side] = Math.min(1, best);
    // x = c + y·tan(a) for vertical sides and y = c + x·tan(a) for horizontal ones: the four sides of one
    // rectangle rotated in the image plane come out with nearly the same a.
    angles[side] = bestDeg;
    if (best >= 0.75) withLine++;
  }
  return { sidesChecked: checked, sidesWithLine: withLine, coverage, angles };
}

/** Area-averaged w×h sample of the image starting at (left, top), k source pixels per sample. */
function samplePatchRect(img: RgbImage, left: number, top: number, k: number, w: number, h: number) {
  const planes: [Float64Array, Float64Array, Float64Array] = [new Float64Array(w * h), new Float64Array(w * h), new Float64Array(w * h)];
  const step = Math.max(1, Math.floor(k / 4));
  for (let j = 0; j < h; j++) {
    const y0 = Math.floor(top + j * k), y1 = Math.min(img.height, Math.max(y0 + 1, Math.floor(top + (j + 1) * k)));
    for (let i = 0; i < w; i++) {
      const x0 = Math.floor(left + i * k), x1 = Math.min(img.width, Math.max(x0 + 1, Math.floor(left + (i + 1) * k)));
      let r = 0, g = 0, b = 0, c = 0;
      for (let y = y0; y < y1; y += step) {
        for (let x = x0; x < x1; x += step) {
          const p = (y * img.width + x) * 3;
          r += img.data[p]; g += img.data[p + 1]; b += img.data[p + 2]; c++;
        }
      }
      const o = j * w + i;
      planes[0][o] = r / c; planes[1][o] = g / c; planes[2][o] = b / c;
    }
  }
  return planes;
}
