// Face quality measures: head pose from the 68 landmarks, focus and brightness from the aligned face chip.
import { LANDMARK_CROP_TEMPLATE } from './templates.js';
import type { Point } from './types.js';

// A generic head (mm, x right, y up, z towards the camera) at six stable landmarks: nose tip, chin, outer eye
// corners, mouth corners.
const HEAD_INDEX = [30, 8, 36, 45, 48, 54];
const HEAD_MODEL: [number, number, number][] = [
  [0, 0, 0],
  [0, -330, -65],
  [-225, 170, -135],
  [225, 170, -135],
  [-150, -150, -125],
  [150, -150, -125],
];

function solve3(m: number[][], v: number[]): number[] {
  // Cramer's rule on a 3×3 system.
  const det = (a: number[][]) =>
    a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
    a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
    a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
  const d = det(m);
  return [0, 1, 2].map((c) => det(m.map((row, r) => row.map((x, k) => (k === c ? v[r] : x)))) / d);
}

function fitPose(landmarks: Point[]): { yaw: number; pitch: number; roll: number } {
  const X = HEAD_MODEL;
  const P = HEAD_INDEX.map((i) => [landmarks[i][0], -landmarks[i][1]]); // image y points down; the model's up
  const n = X.length;
  const mx = [0, 1, 2].map((k) => X.reduce((s, p) => s + p[k], 0) / n);
  const mp = [0, 1].map((k) => P.reduce((s, p) => s + p[k], 0) / n);
  const Xc = X.map((p) => p.map((v, k) => v - mx[k]));
  const Pc = P.map((p) => p.map((v, k) => v - mp[k]));
  const XXt = [0, 1, 2].map((a) => [0, 1, 2].map((b) => Xc.reduce((s, p) => s + p[a] * p[b], 0)));
  // Rows of the 2×3 projection M = Pcᵀ Xc (Xcᵀ Xc)⁻¹.
  const rows = [0, 1].map((r) => solve3(XXt, [0, 1, 2].map((a) => Xc.reduce((s, p, i) => s + Pc[i][r] * p[a], 0))));
  const norm = (v: number[]) => Math.hypot(v[0], v[1], v[2]) || 1;
  let r1 = rows[0].map((v) => v / norm(rows[0]));
  let r2 = rows[1].map((v) => v / norm(rows[1]));
  // Make the two rows orthogonal by splitting their disagreement evenly.
  const dot = r1[0] * r2[0] + r1[1] * r2[1] + r1[2] * r2[2];
  const a = r1.map((v, k) => v - (dot / 2) * r2[k]);
  const b = r2.map((v, k) => v - (dot / 2) * r1[k]);
  r1 = a.map((v) => v / norm(a));
  r2 = b.map((v) => v / norm(b));
  const r3 = [r1[1] * r2[2] - r1[2] * r2[1], r1[2] * r2[0] - r1[0] * r2[2], r1[0] * r2[1] - r1[1] * r2[0]];
  const deg = 180 / Math.PI;
  return {
    yaw: -Math.asin(Math.max(-1, Math.min(1, r3[0]))) * deg,
    pitch: -Math.asin(Math.max(-1, Math.min(1, r3[1]))) * deg,
    roll: -Math.atan2(r2[0], r2[1]) * deg,
  };
}

// The generic head's proportions read the average face of our reference photos as pitched down by ~9°: take that
// average face as the frontal reference.
const PITCH_BIAS = fitPose(LANDMARK_CROP_TEMPLATE).pitch;

/**
 * Head pose in degrees from a scaled-orthographic fit of a generic head to the landmarks. yaw > 0: the face turns
 * towards the image's right (its nose points right); pitch > 0: the face looks up; roll > 0: the head tilts
 * clockwise in the image.
 */
export function headPose(landmarks: Point[]): { yaw: number; pitch: number; roll: number } {
  const p = fitPose(landmarks);
  return { yaw: p.yaw, pitch: p.pitch - PITCH_BIAS, roll: p.roll };
}

/**
 * Focus and brightness of an aligned face chip (RGB, size×size): the variance of the Laplacian of the luminance
 * over the central face area, squashed to [0, 1] (0.5 at a variance of 100, typical of a slightly soft face), and
 * the mean luminance there in [0, 1].
 */
export function chipQuality(rgb: Uint8Array, size: number): { sharpness: number; brightness: number } {
  const lum = new Float32Array(size * size);
  for (let i = 0; i < size * size; i++) lum[i] = 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
  // The chip's padding puts the face in roughly the central 60%; skip the rim (background, black fill).
  const lo = Math.round(size * 0.2), hi = Math.round(size * 0.8);
  let sum = 0, sumL = 0, sumL2 = 0, n = 0;
  for (let y = lo; y < hi; y++) {
    for (let x = lo; x < hi; x++) {
      const i = y * size + x;
      const l = lum[i - 1] + lum[i + 1] + lum[i - size] + lum[i + size] - 4 * lum[i];
      sum += lum[i];
      sumL += l;
      sumL2 += l * l;
      n++;
    }
  }
  const variance = sumL2 / n - (sumL / n) ** 2;
  return { sharpness: variance / (variance + 100), brightness: sum / n / 255 };
}
