// Passive liveness: per-face scores, the forensic cues on a synthetic screen, and the multi-frame 3-D motion check.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { captureLiveness, faceLiveness, loadLivenessModels, type LivenessInput } from '../../src/face/liveness.js';
import { applyHomography, fitHomography } from '../../src/face/liveness/geometry.js';
import { captureMotion } from '../../src/face/liveness/motion.js';
import { SIGNAL_NAMES } from '../../src/face/liveness/signals.js';
import { initTf, packageFile } from '../../src/face/tf.js';
import type { Box, LivenessResult, Point } from '../../src/face/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FACES = process.env.FACEGATE_FACES ? path.resolve(process.env.FACEGATE_FACES) : path.resolve(repoRoot, '../shared/faces');
const CROPS = path.join(FACES, 'liveness-crops');
const PAD = path.join(FACES, 'pad-dev/replay-attack');
const haveCrops = existsSync(path.join(CROPS, 'labels.csv'));
const havePad = existsSync(path.join(PAD, 'labels.csv'));
if (!haveCrops) console.warn(`liveness tests on real crops skipped: ${CROPS} not found`);
if (!havePad) console.warn(`liveness tests on pad-dev videos skipped: ${PAD} not found`);

type Rgb = LivenessInput['image'];

async function decode(input: string | Buffer | sharp.Sharp): Promise<Rgb> {
  const s = typeof input === 'string' || Buffer.isBuffer(input) ? sharp(input) : input;
  const { data, info } = await s.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}
const whole = (img: Rgb): Box => ({ x: 0, y: 0, width: img.width, height: img.height });

function expectValid(r: LivenessResult) {
  expect(Number.isFinite(r.score)).toBe(true);
  expect(r.score).toBeGreaterThanOrEqual(0);
  expect(r.score).toBeLessThanOrEqual(1);
  for (const name of SIGNAL_NAMES) {
    expect(Number.isFinite(r.signals[name]), name).toBe(true);
    expect(r.signals[name]).toBeGreaterThanOrEqual(0);
    expect(r.signals[name]).toBeLessThanOrEqual(1);
  }
}

// A face photo that always exists: the right-hand face of face-api's demo sample1.jpg (1920×1280). The box was
// found once with face-api's SSD-MobileNet (x 1476, y 199, 203×241); the crop keeps a margin of context around it.
const SAMPLE = packageFile('@vladmandic/face-api', 'demo/sample1.jpg');
const SAMPLE_FACE: Box = { x: 1476, y: 199, width: 203, height: 241 };
const CROP = { left: 1376, top: 99, width: 403, height: 441 };
const FACE_IN_CROP: Box = { x: SAMPLE_FACE.x - CROP.left, y: SAMPLE_FACE.y - CROP.top, width: SAMPLE_FACE.width, height: SAMPLE_FACE.height };

/**
 * The photo as an LCD shows it to a camera: every pixel seen through RGB sub-pixel stripes with a dark gap
 * between rows, at a pitch of 3 camera pixels, then the display's gain and the camera's slight blur.
 */
async function asScreen(img: Rgb): Promise<Rgb> {
  const grid = Buffer.alloc(img.width * img.height * 3);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const o = (y * img.width + x) * 3;
      const row = y % 3 === 2 ? 0.55 : 1;
      for (let c = 0; c < 3; c++) grid[o + c] = Math.round(255 * row * (x % 3 === c ? 1 : 0.35));
    }
  }
  const png = await sharp(grid, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer();
  return decode(
    sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } })
      .composite([{ input: png, blend: 'multiply' }])
      .linear(1.8, 0)
      .blur(0.5),
  );
}

beforeAll(async () => {
  await initTf();
  await loadLivenessModels();
});

describe('faceLiveness', () => {
  it('gives a finite score and every named signal in [0, 1] for a real face photo', async () => {
    const img = await decode(SAMPLE);
    const r = await faceLiveness({ image: img, box: SAMPLE_FACE, landmarks: [] });
    expectValid(r);
    expect(Object.keys(r.signals).sort()).toEqual([...SIGNAL_NAMES].sort());
  });

  it('scores a synthetic screen re-capture of a photo lower than the photo, and sees its moiré', async () => {
    const original = await decode(sharp(SAMPLE).extract(CROP));
    const screen = await asScreen(original);
    const a = await faceLiveness({ image: original, box: FACE_IN_CROP, landmarks: [] });
    const b = await faceLiveness({ image: screen, box: FACE_IN_CROP, landmarks: [] });
    expectValid(a);
    expectValid(b);
    expect(a.signals.moire).toBe(0.5);
    expect(b.signals.moire).toBeLessThan(0.2);
    expect(b.score).toBeLessThan(a.score);
  });

  it('sees the straight border of a photo held up in front of the camera', async () => {
    const face = await sharp(SAMPLE).extract(CROP).resize(300).png().toBuffer();
    const held = await sharp(face).extend({ top: 24, bottom: 24, left: 24, right: 24, background: '#f4f4ef' }).png().toBuffer();
    const meta = await sharp(held).metadata();
    const scene = await decode(
      sharp({ create: { width: 900, height: 800, channels: 3, background: '#5a6470' } }).composite([{ input: held, left: 300, top: 180 }]),
    );
    const k = 300 / CROP.width;
    const box = { x: 300 + 24 + FACE_IN_CROP.x * k, y: 180 + 24 + FACE_IN_CROP.y * k, width: FACE_IN_CROP.width * k, height: FACE_IN_CROP.height * k };
    expect(meta.width).toBe(348);
    const r = await faceLiveness({ image: scene, box, landmarks: [] });
    expect(r.signals.border).toBeLessThan(0.5);
    const alone = await faceLiveness({ image: await decode(sharp(SAMPLE).extract(CROP)), box: FACE_IN_CROP, landmarks: [] });
    expect(alone.signals.border).toBe(0.5);
  });

  it('gives no score, and says why, where the face gives no usable evidence', async () => {
    const photo = await decode(sharp(SAMPLE).extract(CROP));
    const usable = await faceLiveness({ image: photo, box: FACE_IN_CROP, landmarks: [] });
    expect(usable.reason).toBeUndefined();
    // Cut tight around the face: nothing around it for the network to judge.
    const tight = await decode(sharp(SAMPLE).extract({ left: SAMPLE_FACE.x, top: SAMPLE_FACE.y, width: SAMPLE_FACE.width, height: SAMPLE_FACE.height }));
    const r1 = await faceLiveness({ image: tight, box: whole(tight), landmarks: [] });
    expect(r1).toMatchObject({ score: 0, reason: 'no_context' });
    // The same photo at a sixth of its size: a face of ~34 px.
    const k = 1 / 6;
    const small = await decode(sharp(SAMPLE).extract(CROP).resize(Math.round(CROP.width * k)));
    const box = { x: FACE_IN_CROP.x * k, y: FACE_IN_CROP.y * k, width: FACE_IN_CROP.width * k, height: FACE_IN_CROP.height * k };
    expect(await faceLiveness({ image: small, box, landmarks: [] })).toMatchObject({ score: 0, reason: 'face_too_small' });
    // Heavily defocused: no detail left on the skin.
    const blurred = await decode(sharp(SAMPLE).extract(CROP).blur(12));
    expect(await faceLiveness({ image: blurred, box: FACE_IN_CROP, landmarks: [] })).toMatchObject({ score: 0, reason: 'too_blurred' });
  });

  it('rejects pixel buffers that do not match the stated size', async () => {
    const img = { data: new Uint8Array(10), width: 10, height: 10 };
    await expect(faceLiveness({ image: img, box: whole(img), landmarks: [] })).rejects.toThrow(RangeError);
  });
});

// ---------- geometry ----------
type P3 = [number, number, number];

/** A generic 68-point iBUG face in millimetres with depth: x right, y up, z towards the camera, nose tip at z = 0. */
function face3d(): P3[] {
  const p: P3[] = [];
  for (let i = 0; i <= 16; i++) {
    const f = (i / 16) * Math.PI; // jaw, ear to ear: far behind the nose at the ears
    p.push([-70 * Math.cos(f), 25 - 100 * Math.sin(f) ** 1.2, -90 + 80 * Math.sin(f)]);
  }
  for (const x0 of [-58, 14]) for (let i = 0; i < 5; i++) { const x = x0 + i * 11; p.push([x, 42 + 6 * Math.sin((i / 4) * Math.PI), -20 - 0.4 * Math.abs(x)]); }
  for (let i = 0; i < 4; i++) p.push([0, 30 - i * 10, -20 + i * 6.7]); // nose bridge to tip
  for (let i = 0; i < 5; i++) { const x = -16 + i * 8; p.push([x, -8, -10 - 0.5 * Math.abs(x)]); }
  for (const cx of [-32, 32]) for (let i = 0; i < 6; i++) { const a = (i / 6) * 2 * Math.PI; p.push([cx - 14 * Math.cos(a), 28 + 5 * Math.sin(a), -30 - 2.8 * Math.abs(Math.cos(a))]); }
  for (let i = 0; i < 12; i++) { const a = (i / 12) * 2 * Math.PI; const x = -25 * Math.cos(a); p.push([x, -38 + 9 * Math.sin(a), -18 - 0.35 * Math.abs(x)]); }
  for (let i = 0; i < 8; i++) { const a = (i / 8) * 2 * Math.PI; const x = -18 * Math.cos(a); p.push([x, -38 + 3 * Math.sin(a), -16 - 0.35 * Math.abs(x)]); }
  return p;
}

/** Pinhole projection (focal 1000 px) after turning the points by yaw and pitch, `distance` mm from the camera. */
function project(points: P3[], yawDeg: number, pitchDeg: number, distance = 600): Point[] {
  const yaw = (yawDeg * Math.PI) / 180, pitch = (pitchDeg * Math.PI) / 180;
  return points.map(([x, y, z]) => {
    const x1 = Math.cos(yaw) * x + Math.sin(yaw) * z, z1 = -Math.sin(yaw) * x + Math.cos(yaw) * z;
    const y2 = Math.cos(pitch) * y - Math.sin(pitch) * z1, z2 = Math.sin(pitch) * y + Math.cos(pitch) * z1;
    return [320 + (1000 * x1) / (distance - z2), 240 - (1000 * y2) / (distance - z2)];
  });
}

const dummyImage = { data: new Uint8Array(3), width: 1, height: 1 };
const frame = (landmarks: Point[], score = 0.7): { input: LivenessInput; result: LivenessResult } => ({
  input: { image: dummyImage, box: { x: 0, y: 0, width: 1, height: 1 }, landmarks },
  result: { score, signals: { moire: 0.5 } },
});

describe('multi-frame motion check', () => {
  const face = face3d();
  it('is built on a homography fit that recovers a known homography', () => {
    const h = Float64Array.from([1.1, 0.05, 12, -0.03, 0.95, -7, 2e-4, -1e-4, 1]);
    const src = project(face, 0, 0);
    const fitted = fitHomography(src, src.map((p) => applyHomography(h, p)))!;
    for (let i = 0; i < 9; i++) expect(fitted[i]).toBeCloseTo(h[i], 6);
  });

  it('stays neutral for two identical frames', () => {
    const lm = project(face, 5, 0);
    const r = captureLiveness([frame(lm), frame(lm)]);
    expect(r.signals.motion).toBe(0.5);
    expect(r.score).toBeCloseTo(0.7, 10);
  });

  it('stays neutral when the face only shifts, zooms and rotates in the image plane', () => {
    const a = project(face, 0, 0);
    const b = a.map(([x, y]) => [1.15 * (Math.cos(0.2) * x - Math.sin(0.2) * y) + 40, 1.15 * (Math.sin(0.2) * x + Math.cos(0.2) * y) - 25] as Point);
    expect(captureLiveness([frame(a), frame(b)]).signals.motion).toBe(0.5);
  });

  it('recognises landmarks that moved as a plane (a photo tilted in front of the camera)', () => {
    // The face printed flat (depth dropped), 300 mm from the camera, turned 30° about its vertical axis.
    const flat = face.map(([x, y]) => [x, y, 0] as P3);
    const a = project(flat, 0, 0, 300), b = project(flat, 30, 7, 300);
    const r = captureLiveness([frame(a), frame(b)]);
    expect(r.signals.motion).toBeLessThan(0.1);
    expect(r.score).toBeLessThan(0.7);
    // The same with a homography applied directly to the frontal landmarks.
    const h = Float64Array.from([0.8, 0.02, 60, 0.01, 0.95, 10, 8e-4, 1e-4, 1]);
    const c = project(face, 0, 0);
    expect(captureMotion([c, c.map((p) => applyHomography(h, p))])!.logit).toBeLessThan(-2);
  });

  it('recognises landmarks of a head that turned in 3-D as not planar', () => {
    const r = captureLiveness([frame(project(face, -10, 0)), frame(project(face, 10, 5))]);
    expect(r.signals.motion).toBeGreaterThan(0.8);
    // 3-D motion only nudges the score up: a video replay or two different photos move in 3-D too.
    expect(r.score).toBeGreaterThan(0.7);
    expect(r.score).toBeLessThan(0.85);
  });

  it('uses the most informative pair of three frames, and ignores frames without landmarks', () => {
    const r = captureLiveness([frame(project(face, 0, 0)), frame([]), frame(project(face, 1, 0)), frame(project(face, 20, 0))]);
    const widest = captureLiveness([frame(project(face, 0, 0)), frame(project(face, 20, 0))]);
    expect(r.signals.motion).toBeGreaterThan(0.7);
    expect(r.signals.motion).toBe(widest.signals.motion);
  });

  it('leaves out frames without usable evidence, and has no score when no frame has any', () => {
    const none = (reason: LivenessResult['reason']) => ({ input: frame([]).input, result: { score: 0, signals: { moire: 0.5 }, reason } });
    const r = captureLiveness([none('too_blurred'), frame(project(face, 0, 0), 0.8), none('no_context')]);
    expect(r.reason).toBeUndefined();
    expect(r.score).toBeCloseTo(0.8, 10);
    expect(captureLiveness([none('no_context'), none('too_blurred')])).toMatchObject({ score: 0, reason: 'no_context' });
  });

  it('judges a capture by its weaker half of frames: one attack frame the network missed does not carry it', () => {
    const lm = project(face, 0, 0);
    const live = captureLiveness([0.9, 0.9, 0.9, 0.9, 0.9].map((p) => frame(lm, p)));
    expect(live.score).toBeCloseTo(0.9, 10);
    // An attack seen through on three frames of five, fooling the network on two.
    const attack = captureLiveness([0.95, 0.95, 0.2, 0.1, 0.3].map((p) => frame(lm, p)));
    expect(attack.score).toBeLessThan(0.2);
  });

  it('returns the frame itself for a one-frame capture', () => {
    const f = frame(project(face, 0, 0), 0.42);
    expect(captureLiveness([f])).toBe(f.result);
  });
});

// ---------- real crops ----------
describe.skipIf(!haveCrops)('liveness-crops (../shared/faces)', () => {
  const rows = haveCrops ? readFileSync(path.join(CROPS, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')) : [];
  // Every 40th crop, live and replayed: crops cut tight around the face, as other projects' webcams saved them.
  const some = rows.filter(([f]) => Number(path.basename(f, '.png')) % 40 === 0);

  it('gives no score to a face cut tight from its frame, live or replayed, and says why', async () => {
    expect(some.some(([, l]) => l === 'live') && some.some(([, l]) => l === 'spoof')).toBe(true);
    for (const [file] of some) {
      const img = await decode(path.join(CROPS, file));
      const r = await faceLiveness({ image: img, box: whole(img), landmarks: [] });
      // The network ranked every replayed crop above every live one (AUC 0.00): no evidence, not a guess.
      expect(r.reason, file).toBe('no_context');
      expect(r.score).toBe(0);
    }
  }, 120_000);
});

// ---------- pad-dev (Replay-Attack train clients), through the engine's own detection and landmarks ----------
describe.skipIf(!havePad)('pad-dev videos: the operating point on a FIT client, attacks of held-out clients', () => {
  // client001 is in the FIT part (the operating point was set on its clients); client002 and client006 are REPORT
  // clients (odd positions of the sorted client list, scripts/eval-liveness.ts). Live faces of REPORT clients are
  // not asserted to pass: on them the network is much less sure, and most are refused at 0.6 (docs/liveness.md).
  const videos = {
    live: ['client001_session01_webcam_authenticate_controlled_1', 'client001_session01_webcam_authenticate_adverse_1'],
    attack: ['attack_print_client002_session01_highdef_photo_controlled', 'attack_mobile_client006_session01_mobile_photo_adverse'],
  };
  const scores: Record<'live' | 'attack', { one: number[]; five: number[] }> = { live: { one: [], five: [] }, attack: { one: [], five: [] } };

  beforeAll(async () => {
    const { analyzeImage, loadModels } = await import('../../src/face/pipeline.js');
    const models = await loadModels();
    for (const kind of ['live', 'attack'] as const) {
      for (const video of videos[kind]) {
        const frames: { input: LivenessInput; result: LivenessResult }[] = [];
        for (let i = 0; i < 5; i++) {
          const a = await analyzeImage(models, new Uint8Array(readFileSync(path.join(PAD, video, `${i}.jpg`))), { maxFaces: 1 });
          const face = a.facesInWorking[0];
          expect(face, `${video}/${i}.jpg`).toBeDefined();
          const input = { image: a.working, box: face.box, landmarks: face.landmarks };
          const result = await faceLiveness(input);
          frames.push({ input, result });
          scores[kind].one.push(result.score);
        }
        scores[kind].five.push(captureLiveness(frames).score);
      }
    }
  }, 300_000);

  it('passes the FIT client\'s live faces and refuses held-out clients\' printed and replayed photos at 0.6, one frame or five', () => {
    for (const mode of ['one', 'five'] as const) {
      expect(Math.min(...scores.live[mode]), mode).toBeGreaterThan(0.6);
      expect(Math.max(...scores.attack[mode]), mode).toBeLessThan(0.6);
    }
  });
});
