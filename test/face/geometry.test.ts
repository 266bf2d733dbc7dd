// Crop geometry and head pose: the pieces that decide what the networks see.
import { describe, expect, it } from 'vitest';
import { applySimilarity, fitSimilarity, invertSimilarity, warpImage } from '../../src/face/geometry.js';
import { chipQuality, headPose } from '../../src/face/quality.js';
import { LANDMARK_CROP_TEMPLATE } from '../../src/face/templates.js';
import { ARCFACE_POINTS, arcfaceTransform, fivePoints } from '../../src/face/recognition.js';
import type { Point } from '../../src/face/types.js';

// 68-point index of each point's mirror image (iBUG scheme).
const MIRROR = [
  16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 27, 28, 29, 30, 35, 34,
  33, 32, 31, 45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40, 54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62,
  61, 60, 67, 66, 65,
];

describe('similarity transforms', () => {
  it('recovers a rotation, scale and shift from point pairs, and inverts it', () => {
    const truth = { a: 1.7 * Math.cos(0.3), b: 1.7 * Math.sin(0.3), tx: 40, ty: -12 };
    const from: Point[] = LANDMARK_CROP_TEMPLATE.map(([x, y]) => [x * 100, y * 100]);
    const to = from.map((p) => applySimilarity(truth, p));
    const fit = fitSimilarity(from, to);
    for (const k of ['a', 'b', 'tx', 'ty'] as const) expect(fit[k]).toBeCloseTo(truth[k], 9);
    const back = applySimilarity(invertSimilarity(fit), to[17]);
    expect(back[0]).toBeCloseTo(from[17][0], 9);
    expect(back[1]).toBeCloseTo(from[17][1], 9);
  });

  it('puts a face\'s five points where the ArcFace crop expects them, whatever its place, size and tilt', () => {
    // The mean face (crop units) drawn at 300 px, turned 20° and moved: its ArcFace crop is the same every time.
    const face = (scale: number, angle: number, dx: number): Point[] =>
      LANDMARK_CROP_TEMPLATE.map(([x, y]) => [scale * (Math.cos(angle) * x - Math.sin(angle) * y) + dx, scale * (Math.sin(angle) * x + Math.cos(angle) * y) + 40]);
    const toCrop = (lm: Point[]) => fivePoints(lm).map((p) => applySimilarity(invertSimilarity(arcfaceTransform(lm)), p));
    const upright = toCrop(face(300, 0, 0));
    upright.forEach((p, i) => {
      expect(Math.abs(p[0] - ARCFACE_POINTS[i][0])).toBeLessThan(6); // a generic face, not InsightFace's mean
      expect(Math.abs(p[1] - ARCFACE_POINTS[i][1])).toBeLessThan(6);
    });
    toCrop(face(120, (20 * Math.PI) / 180, 500)).forEach((p, i) => {
      expect(p[0]).toBeCloseTo(upright[i][0], 6);
      expect(p[1]).toBeCloseTo(upright[i][1], 6);
    });
  });
});

describe('warpImage', () => {
  const W = 40, H = 30;
  const img = { data: new Uint8Array(W * H * 3), width: W, height: H };
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) img.data.set([x * 5, y * 5, 100], (y * W + x) * 3);

  it('samples the identity crop pixel for pixel', () => {
    const out = warpImage(img, { a: 1, b: 0, tx: 5, ty: 7 }, 10);
    expect([...out.subarray(0, 3)]).toEqual([25, 35, 100]);
    const i = (3 * 10 + 4) * 3; // crop (4, 3) = image (9, 10)
    expect([...out.subarray(i, i + 3)]).toEqual([45, 50, 100]);
  });

  it('averages a ramp correctly when shrinking, and fills outside the image', () => {
    const half = warpImage(img, { a: 2, b: 0, tx: 0.5, ty: 0.5 }, 10); // crop pixel (u, v) ↔ image (2u + 0.5, 2v + 0.5)
    expect(half[0]).toBeCloseTo(2.5, 5); // mean of x = 0 and 1 → 2.5
    const grey = warpImage(img, { a: 1, b: 0, tx: -20, ty: -20 }, 4, 127);
    expect([...grey.subarray(0, 3)]).toEqual([127, 127, 127]);
    const edge = warpImage(img, { a: 1, b: 0, tx: -20, ty: -20 }, 4, 'nearest');
    expect([...edge.subarray(0, 3)]).toEqual([0, 0, 100]);
  });
});

describe('head pose', () => {
  const template: Point[] = LANDMARK_CROP_TEMPLATE.map(([x, y]) => [x * 200 + 50, y * 200 + 30]);

  it('reads the mean face as frontal', () => {
    const p = headPose(template);
    expect(Math.abs(p.yaw)).toBeLessThan(2);
    expect(Math.abs(p.pitch)).toBeLessThan(2);
    expect(Math.abs(p.roll)).toBeLessThan(2);
  });

  it('reads an in-plane rotation as roll (clockwise positive)', () => {
    const c = Math.cos((15 * Math.PI) / 180), s = Math.sin((15 * Math.PI) / 180);
    const turned = template.map(([x, y]) => [c * (x - 150) - s * (y - 130) + 150, s * (x - 150) + c * (y - 130) + 130] as Point);
    expect(Math.abs(headPose(turned).roll - 15)).toBeLessThan(1);
  });

  it('flips the sign of yaw and roll, not pitch, in a mirror image', () => {
    // A turned face: shift the nose and mouth sideways.
    const turned = template.map(([x, y], i) => [x + (i >= 27 && i <= 35 ? 12 : i >= 48 ? 6 : 0), y] as Point);
    const mirrored = MIRROR.map((i) => [400 - turned[i][0], turned[i][1]] as Point);
    const a = headPose(turned), b = headPose(mirrored);
    expect(a.yaw).toBeGreaterThan(5); // nose towards the image's right
    expect(b.yaw).toBeCloseTo(-a.yaw, 6);
    expect(b.roll).toBeCloseTo(-a.roll, 6);
    expect(b.pitch).toBeCloseTo(a.pitch, 6);
  });
});

describe('chip quality', () => {
  it('scores a sharp pattern above a flat one, and measures brightness', () => {
    const size = 150;
    const flat = new Uint8Array(size * size * 3).fill(128);
    const checker = new Uint8Array(size * size * 3);
    for (let i = 0; i < size * size; i++) checker.fill(((i % size) + Math.floor(i / size)) % 2 ? 200 : 40, 3 * i, 3 * i + 3);
    const q0 = chipQuality(flat, size), q1 = chipQuality(checker, size);
    expect(q0.sharpness).toBe(0);
    expect(q1.sharpness).toBeGreaterThan(0.9);
    expect(q0.brightness).toBeCloseTo(128 / 255, 3);
  });
});
