// Passive liveness evaluation. `npm run eval -- liveness [--out result.json] [--dump faces.json]
// [--landmarks face-api|engine]` prints JSON on stdout (progress on stderr).
//
// Data (../shared/faces, never copied into the repo):
// - liveness-crops: 214 live / 617 screen-replay crops, box = whole crop, no landmarks (as the task asks).
//   Two recording sessions of attacks: spoof 0–456 (attacker 1) and 457–616 (attacker 2, another person and
//   screen); one live session 0–213. Split by file-name ranges, first half of every session to FIT (live 0–106,
//   spoof 0–228 and 457–536), second half to REPORT (live 107–213, spoof 229–456 and 537–616). Neighbouring frames
//   are near-duplicates, so contiguous ranges keep them on one side. Also reported: a cross-attacker check that fits
//   on attacker 1 only (live 0–106, spoof 0–456) and tests on attacker 2 (live 107–213, spoof 457–616).
// - calibration faces: every face ≥ 40 px that face-api's SSD finds in groups/, scenes/ and face-api's demo samples;
//   used only to derive the one-sided thresholds in src/face/liveness/signals.ts, never for reporting.
// - video/real-frames and video/fake-frames: one person live on a webcam and the same person's video replayed on a
//   phone held in front of a webcam (full 640×480 frames, so the anti-spoofing network sees the phone's edges);
//   first half of each recording to FIT, second half to REPORT.
// - highres/ and tv-crops/: real photos, BPCER on other data.
// - synthetic attacks made here from highres/ photos: LCD re-capture (sub-pixel grid), CMYK halftone print, and
//   the photo held up on a phone or as a print in front of a blurred background. They test the forensic cues the
//   crops cannot (prints, borders); they are simulations, not real attacks. Split by person: identity folders in
//   even alphabetical positions go to FIT (their originals as live, their simulations as spoofs), odd to REPORT.
// - motion: face-api 68-point landmarks on neighbouring liveness-crops frames (live head vs. replayed video) and on
//   highres photos warped as a plane (in-plane moves = landmark noise; tilted 17–35° = a photo turned in the hand).
// Detection and landmarks come from face-api (a reference pipeline, independent of the engine under construction).
// `--landmarks engine` takes the motion check's landmarks from the engine's own pipeline instead (detection, two
// landmark passes on its own crops), i.e. what the server feeds captureLiveness.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as faceapi from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import { initTf, packageFile, tf } from '../src/face/tf.js';
import type { Box, Point } from '../src/face/types.js';
import { captureLiveness, faceLiveness, loadLivenessModels } from '../src/face/liveness.js';
import { analyzeImage, loadModels as loadEngineModels, type Models } from '../src/face/pipeline.js';
import { FUSION, logit, sigmoid, type FusionWeights } from '../src/face/liveness/fusion.js';
import { applyHomography, fitHomography } from '../src/face/liveness/geometry.js';
import { captureMotion, measureMotion, motionLogit } from '../src/face/liveness/motion.js';
import { measureFace, SIGNAL_NAMES, type FaceMeasures, type Signals } from '../src/face/liveness/signals.js';

type Img = { data: Uint8Array; width: number; height: number };
type Face = { box: Box; landmarks: Point[] };
type Sample = { set: string; label: 'live' | 'spoof'; file: string; part: 'fit' | 'report' | 'none'; attacker?: 1 | 2; measures: FaceMeasures; signals: Signals; ms: number };

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FACES = path.resolve(repoRoot, '../shared/faces');
const THRESHOLDS = [0.5, 0.65, 0.8];
const argValue = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const log = (...a: unknown[]) => console.error('[eval-liveness]', ...a);

// ---------- helpers ----------
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => { s = (s * 16807) % 2147483647; return s / 2147483647; };
}
type Rng = ReturnType<typeof rng>;
const U = (r: Rng, a: number, b: number) => a + (b - a) * r();

async function load(file: string, max = 0): Promise<Img> {
  let s = sharp(file).rotate().removeAlpha().toColourspace('srgb');
  if (max) s = s.resize(max, max, { fit: 'inside', withoutEnlargement: true });
  const { data, info } = await s.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}
async function fromRaw(s: sharp.Sharp): Promise<Img> {
  const { data, info } = await s.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}
const raw = (img: Img) => sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
function walk(d: string): string[] {
  return readdirSync(d).sort().flatMap((f) => {
    const p = path.join(d, f);
    return statSync(p).isDirectory() ? walk(p) : /\.(jpe?g|png)$/i.test(f) ? [p] : [];
  });
}

async function detectFaces(img: Img, minSize = 40): Promise<Face[]> {
  const t = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
  try {
    const r = await faceapi.detectAllFaces(t as never, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 })).withFaceLandmarks();
    return r
      .map((f) => ({ box: { x: f.detection.box.x, y: f.detection.box.y, width: f.detection.box.width, height: f.detection.box.height }, landmarks: f.landmarks.positions.map((p) => [p.x, p.y] as Point) }))
      .filter((f) => Math.min(f.box.width, f.box.height) >= minSize)
      .sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
  } finally {
    t.dispose();
  }
}
/** face-api's 68-point landmark net on a region already known to hold one face. */
async function landmarksIn(img: Img, box: Box): Promise<Point[]> {
  const x0 = Math.max(0, Math.round(box.x)), y0 = Math.max(0, Math.round(box.y));
  const x1 = Math.min(img.width, Math.round(box.x + box.width)), y1 = Math.min(img.height, Math.round(box.y + box.height));
  const t = tf.tidy(() => tf.slice(tf.tensor3d(img.data, [img.height, img.width, 3], 'int32'), [y0, x0, 0], [y1 - y0, x1 - x0, 3]));
  try {
    const r = (await faceapi.detectFaceLandmarks(t as never)) as unknown as { positions: { x: number; y: number }[] };
    return r.positions.map((p) => [p.x + x0, p.y + y0]);
  } finally {
    t.dispose();
  }
}

/**
 * The engine's landmarks for the face in `box`: the whole pipeline runs on the image (as PNG bytes) and the face
 * nearest the box's centre is taken; null when the engine finds no face there.
 */
let engineModels: Models | undefined;
async function engineLandmarksIn(img: Img, box: Box): Promise<Point[] | null> {
  engineModels ??= await loadEngineModels();
  const png = new Uint8Array(await raw(img).png({ compressionLevel: 1 }).toBuffer());
  const { facesInWorking, working } = await analyzeImage(engineModels, png, {});
  const k = img.width / working.width; // 1 unless the image is above the working size
  const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  let best: Point[] | null = null, bestD = Infinity;
  for (const f of facesInWorking) {
    const d = Math.hypot((f.box.x + f.box.width / 2) * k - cx, (f.box.y + f.box.height / 2) * k - cy);
    if (d < bestD && d < Math.max(box.width, box.height) / 2) [best, bestD] = [f.landmarks.map(([x, y]) => [x * k, y * k] as Point), d];
  }
  return best;
}

// ---------- synthetic attacks ----------
/** A photo shown on an LCD and captured again: RGB sub-pixel stripes (pitch 1.6–3.6 camera px, tilted ≤ 4°), display white point, optics blur. */
async function screenReplay(img: Img, r: Rng): Promise<Img> {
  const p = U(r, 1.6, 3.6), a = U(r, -0.07, 0.07), c = Math.cos(a), s = Math.sin(a);
  const white = [U(r, 0.85, 0.95), U(r, 0.95, 1), 1];
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const u = (c * x + s * y) / p, v = (-s * x + c * y) / p;
      const row = 0.8 + 0.2 * Math.cos(2 * Math.PI * v);
      for (let ch = 0; ch < 3; ch++) {
        const o = (y * img.width + x) * 3 + ch;
        const mask = (0.55 + 0.45 * Math.cos(2 * Math.PI * (u - ch / 3))) * row;
        out[o] = Math.min(255, Math.round(255 * (((img.data[o] / 255) ** 2.2) * mask * white[ch] * 1.6) ** (1 / 2.2)));
      }
    }
  }
  return fromRaw(raw({ ...img, data: out }).blur(U(r, 0.4, 0.9)));
}
/** A CMYK halftone print (dot screens of period 2.5–5 px at 15/75/0/45°) photographed with a little blur. */
async function halftonePrint(img: Img, r: Rng): Promise<Img> {
  const p = U(r, 2.5, 5), base = U(r, 0, Math.PI / 2);
  const screens = [15, 75, 0, 45].map((d) => base + (d * Math.PI) / 180).map((a) => [Math.cos(a), Math.sin(a)]);
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const o = (y * img.width + x) * 3;
      const R = img.data[o] / 255, G = img.data[o + 1] / 255, B = img.data[o + 2] / 255;
      const K = 1 - Math.max(R, G, B);
      const ink = [(1 - R - K) / (1 - K + 1e-6), (1 - G - K) / (1 - K + 1e-6), (1 - B - K) / (1 - K + 1e-6), K];
      const on = ink.map((cov, i) => {
        const [c, s] = screens[i];
        const u = (c * x + s * y) / p, v = (-s * x + c * y) / p;
        return cov > 0.5 + 0.25 * (Math.cos(2 * Math.PI * u) + Math.cos(2 * Math.PI * v)) ? 1 : 0;
      });
      out[o] = Math.round(235 * (1 - on[0]) * (1 - on[3]) * (1 - 0.1 * on[1]));
      out[o + 1] = Math.round(235 * (1 - on[1]) * (1 - on[3]) * (1 - 0.1 * on[2]));
      out[o + 2] = Math.round(235 * (1 - on[2]) * (1 - on[3]) * (1 - 0.1 * on[0]));
    }
  }
  return fromRaw(raw({ ...img, data: out }).blur(U(r, 0.6, 1.2)));
}
/** The photo, cropped around the face, on a phone (dark bezel) or a print (white margin) held up in front of a blurred background. */
async function heldUpPicture(img: Img, box: Box, background: Img, r: Rng): Promise<Img> {
  const W = 960, H = 720;
  const bg = await raw(background).resize(W, H, { fit: 'cover' }).blur(6).raw().toBuffer();
  const phone = r() < 0.5;
  const aspect = phone ? U(r, 0.5, 0.6) : U(r, 0.68, 0.8);
  const cw = Math.min(img.width, box.width * U(r, 1.6, 2.2)), ch = Math.min(img.height, cw / aspect);
  const left = Math.round(Math.max(0, Math.min(img.width - cw, box.x + box.width / 2 - cw / 2)));
  const top = Math.round(Math.max(0, Math.min(img.height - ch, box.y + box.height / 2 - ch / 2)));
  const contentH = Math.round(H * U(r, 0.5, 0.72)), contentW = Math.round(contentH * (cw / ch));
  const bezel = Math.round(contentW * (phone ? U(r, 0.04, 0.08) : U(r, 0.03, 0.06)));
  const colour = phone ? { r: 20, g: 20, b: 24, alpha: 1 } : { r: 235, g: 235, b: 228, alpha: 1 };
  const picture = await raw(img)
    .extract({ left, top, width: Math.floor(cw), height: Math.floor(ch) })
    .resize(contentW, contentH)
    .extend({ top: phone ? 2 * bezel : bezel, bottom: phone ? 2 * bezel : bezel, left: bezel, right: bezel, background: colour })
    .rotate(U(r, -8, 8), { background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .png()
    .toBuffer({ resolveWithObject: true });
  const px = Math.round(U(r, 0, Math.max(0, W - picture.info.width))), py = Math.round(U(r, 0, Math.max(0, H - picture.info.height)));
  return fromRaw(sharp(bg, { raw: { width: W, height: H, channels: 3 } }).composite([{ input: picture.data, left: px, top: py }]).blur(0.6));
}

/** Bilinear warp of the whole image by homography h (source → destination), grey outside. */
function warp(img: Img, h: Float64Array): Img {
  const corners: Point[] = [[0, 0], [img.width, 0], [img.width, img.height], [0, img.height], [img.width / 2, img.height / 3]];
  const inv = fitHomography(corners.map((p) => applyHomography(h, p)), corners)!;
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const [sx, sy] = applyHomography(inv, [x, y]);
      const o = (y * img.width + x) * 3;
      if (!(sx >= 0 && sy >= 0 && sx < img.width - 1 && sy < img.height - 1)) { out[o] = out[o + 1] = out[o + 2] = 128; continue; }
      const ix = Math.floor(sx), iy = Math.floor(sy), fx = sx - ix, fy = sy - iy;
      const p = (iy * img.width + ix) * 3, q = p + img.width * 3;
      for (let c = 0; c < 3; c++) {
        out[o + c] = Math.round((img.data[p + c] * (1 - fx) + img.data[p + 3 + c] * fx) * (1 - fy) + (img.data[q + c] * (1 - fx) + img.data[q + 3 + c] * fx) * fy);
      }
    }
  }
  return { data: out, width: img.width, height: img.height };
}
/** Homography of the image plane rotated (yaw, pitch, roll) about its centre, zoomed and shifted, seen by a pinhole of focal f px. */
function planeMotion(w: number, h: number, yaw: number, pitch: number, roll: number, zoom: number, f: number, dx: number, dy: number): Float64Array {
  const cx = w / 2, cy = h / 2;
  const src: Point[] = [[0, 0], [w, 0], [w, h], [0, h], [cx, cy + h / 4]];
  const dst = src.map(([x, y]) => {
    let X = x - cx, Y = y - cy, Z = 0;
    [X, Y] = [Math.cos(roll) * X - Math.sin(roll) * Y, Math.sin(roll) * X + Math.cos(roll) * Y];
    [X, Z] = [Math.cos(yaw) * X + Math.sin(yaw) * Z, -Math.sin(yaw) * X + Math.cos(yaw) * Z];
    [Y, Z] = [Math.cos(pitch) * Y - Math.sin(pitch) * Z, Math.sin(pitch) * Y + Math.cos(pitch) * Z];
    return [cx + dx + (zoom * f * X) / (f + Z), cy + dy + (zoom * f * Y) / (f + Z)] as Point;
  });
  return fitHomography(src, dst)!;
}
function mapBox(h: Float64Array, b: Box): Box {
  const c = ([[b.x, b.y], [b.x + b.width, b.y], [b.x, b.y + b.height], [b.x + b.width, b.y + b.height]] as Point[]).map((p) => applyHomography(h, p));
  const xs = c.map((p) => p[0]), ys = c.map((p) => p[1]);
  return { x: Math.min(...xs), y: Math.min(...ys), width: Math.max(...xs) - Math.min(...xs), height: Math.max(...ys) - Math.min(...ys) };
}

// ---------- metrics ----------
function auc(live: number[], spoof: number[]): number {
  let s = 0;
  for (const a of live) for (const b of spoof) s += a > b ? 1 : a === b ? 0.5 : 0;
  return live.length && spoof.length ? s / (live.length * spoof.length) : NaN;
}
const r4 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : null);
/** APCER: spoofs accepted (score ≥ t); BPCER: live faces rejected (score < t). */
function rates(live: number[], spoof: number[]) {
  const out: Record<string, { apcer: number | null; bpcer: number | null }> = {};
  for (const t of THRESHOLDS) {
    out[String(t)] = {
      apcer: spoof.length ? r4(spoof.filter((s) => s >= t).length / spoof.length) : null,
      bpcer: live.length ? r4(live.filter((s) => s < t).length / live.length) : null,
    };
  }
  return { auc: r4(auc(live, spoof)), n: { live: live.length, spoof: spoof.length }, rates: out };
}
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))] : NaN;
};

/**
 * Logistic fit of the fusion on the logits of the signals. Every group (a data source) weighs the same, and within
 * it live and spoof weigh the same. Weights in [0, 4] (never flipped), with an L2 pull towards 1 (equal trust) so
 * that a signal the fit data cannot inform keeps weight 1.
 */
function fitFusion(groups: { live: Signals[]; spoof: Signals[] }[], lambda = 0.02): FusionWeights {
  const names = SIGNAL_NAMES;
  const rows = groups.flatMap((g) => [
    ...g.live.map((s) => ({ s, y: 1, w: 0.5 / g.live.length / groups.length })),
    ...g.spoof.map((s) => ({ s, y: 0, w: 0.5 / g.spoof.length / groups.length })),
  ]);
  const x = rows.map((r) => names.map((n) => logit(Math.min(0.99, Math.max(0.01, r.s[n])))));
  const w = names.map(() => 1);
  let b = 0;
  for (let it = 0; it < 20000; it++) {
    const gw = names.map((_, j) => 2 * lambda * (w[j] - 1));
    let gb = 0;
    rows.forEach((r, i) => {
      const p = sigmoid(b + x[i].reduce((s, v, j) => s + v * w[j], 0));
      const e = (p - r.y) * r.w;
      gb += e;
      x[i].forEach((v, j) => (gw[j] += e * v));
    });
    const lr = 0.5;
    b -= lr * gb;
    for (let j = 0; j < w.length; j++) w[j] = Math.min(4, Math.max(0, w[j] - lr * gw[j]));
  }
  return { bias: r4(b)!, weights: Object.fromEntries(names.map((n, j) => [n, r4(w[j])!])) as FusionWeights['weights'] };
}
function fused(s: Signals, f: FusionWeights): number {
  return sigmoid(f.bias + SIGNAL_NAMES.reduce((z, n) => z + f.weights[n] * logit(Math.min(0.99, Math.max(0.01, s[n]))), 0));
}

// ---------- main ----------
async function main() {
  if (!statSync(FACES, { throwIfNoEntry: false })?.isDirectory()) {
    console.error(`no test photos at ${FACES}`);
    process.exit(2);
  }
  await initTf();
  await loadLivenessModels();
  const modelDir = packageFile('@vladmandic/face-api', 'model');
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);

  const landmarkSource = argValue('--landmarks') ?? 'face-api';
  if (landmarkSource !== 'face-api' && landmarkSource !== 'engine') throw new Error('--landmarks is face-api or engine');
  const landmarksFor = (img: Img, box: Box): Promise<Point[] | null> => (landmarkSource === 'engine' ? engineLandmarksIn(img, box) : landmarksIn(img, box));
  let motionMissed = 0; // frames where the landmark source found no face: their pairs are left out

  const samples: Sample[] = [];
  const times: number[] = [];
  async function add(set: string, label: 'live' | 'spoof', file: string, img: Img, face: Face, part: Sample['part'] = 'none', attacker?: 1 | 2) {
    const t0 = performance.now();
    const result = await faceLiveness({ image: img, box: face.box, landmarks: face.landmarks });
    const ms = performance.now() - t0;
    times.push(ms);
    // Same measures again, to keep the raw numbers for calibration and fitting (not timed).
    const measures = await measureFace(img, face.box, face.landmarks);
    samples.push({ set, label, file, part, attacker, measures, signals: result.signals as Signals, ms });
  }

  log('liveness-crops');
  const labels = readFileSync(path.join(FACES, 'liveness-crops/labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const cropLandmarks = new Map<string, Point[]>();
  for (const [file, label] of labels) {
    const img = await load(path.join(FACES, 'liveness-crops', file));
    const index = Number(path.basename(file, '.png'));
    const attacker = label === 'live' ? (index <= 106 ? 1 : 2) : index <= 456 ? 1 : 2;
    const fit = label === 'live' ? index <= 106 : index <= 228 || (index >= 457 && index <= 536);
    const box = { x: 0, y: 0, width: img.width, height: img.height };
    await add('crops', label as 'live' | 'spoof', file, img, { box, landmarks: [] }, fit ? 'fit' : 'report', attacker);
    if (index % 2 === 0) {
      const lm = await landmarksFor(img, box);
      if (lm) cropLandmarks.set(file, lm);
      else motionMissed++;
    }
  }

  // One person's live webcam capture and a phone replay of the same person (640×480 full frames, 10 fps): the
  // first half of each recording fits, the second half reports (neighbouring frames are near-duplicates).
  log('video frames');
  for (const folder of ['real-frames', 'fake-frames'] as const) {
    const files = readdirSync(path.join(FACES, 'video', folder)).filter((f) => f.endsWith('.jpg')).sort();
    for (let i = 0; i < files.length; i++) {
      const img = await load(path.join(FACES, 'video', folder, files[i]));
      const faces = await detectFaces(img);
      if (!faces.length) continue;
      await add('video', folder === 'real-frames' ? 'live' : 'spoof', `video/${folder}/${files[i]}`, img, faces[0], i < files.length / 2 ? 'fit' : 'report');
    }
  }

  log('calibration faces');
  const sampleDir = packageFile('@vladmandic/face-api', 'demo');
  const calibFiles = [...walk(path.join(FACES, 'groups')), ...walk(path.join(FACES, 'scenes')), ...readdirSync(sampleDir).filter((f) => /^sample\d\.jpg$/.test(f)).map((f) => path.join(sampleDir, f))];
  for (const f of calibFiles) {
    const img = await load(f, 1600);
    for (const face of await detectFaces(img)) await add('calibration', 'live', path.basename(f), img, face);
  }

  log('highres, tv-crops, synthetic attacks');
  const backgrounds = walk(path.join(FACES, 'groups'));
  const r = rng(20240611);
  const highres: { file: string; img: Img; face: Face; part: Sample['part'] }[] = [];
  const people = readdirSync(path.join(FACES, 'highres')).filter((d) => statSync(path.join(FACES, 'highres', d)).isDirectory()).sort();
  for (const f of walk(path.join(FACES, 'highres'))) {
    const part = people.indexOf(path.basename(path.dirname(f))) % 2 === 0 ? 'fit' : 'report';
    const img = await load(f);
    const small = img.width > 1600 || img.height > 1600 ? await load(f, 1600) : img;
    const faces = await detectFaces(small);
    if (!faces.length) { log('no face in', f); continue; }
    const k = img.width / small.width;
    const face = { box: { x: faces[0].box.x * k, y: faces[0].box.y * k, width: faces[0].box.width * k, height: faces[0].box.height * k }, landmarks: faces[0].landmarks.map(([x, y]) => [x * k, y * k] as Point) };
    const rel = path.relative(FACES, f);
    await add('highres', 'live', rel, img, face, part);
    highres.push({ file: rel, img: small, face: faces[0], part });
  }
  for (const f of walk(path.join(FACES, 'tv-crops'))) {
    const img = await load(f);
    const faces = await detectFaces(img, 20);
    await add('tv-crops', 'live', path.relative(FACES, f), img, faces[0] ?? { box: { x: 0, y: 0, width: img.width, height: img.height }, landmarks: [] });
  }
  for (const { file, img, face, part } of highres) {
    const photo = img.width > 1000 ? await load(path.join(FACES, file), 1000) : img;
    const k = photo.width / img.width;
    const pf = { box: { x: face.box.x * k, y: face.box.y * k, width: face.box.width * k, height: face.box.height * k }, landmarks: face.landmarks.map(([x, y]) => [x * k, y * k] as Point) };
    await add('synthetic-screen', 'spoof', file, await screenReplay(photo, r), pf, part);
    await add('synthetic-print', 'spoof', file, await halftonePrint(photo, r), pf, part);
    const held = await heldUpPicture(photo, pf.box, await load(backgrounds[Math.floor(r() * backgrounds.length)], 1200), r);
    const found = await detectFaces(held);
    if (found.length) await add('synthetic-held-up', 'spoof', file, held, found[0], part);
  }

  // ---------- calibration percentiles (what the thresholds in signals.ts are derived from) ----------
  const calib = samples.filter((s) => s.set === 'calibration').map((s) => s.measures);
  const calibration = {
    faces: calib.length,
    moireDb: { p99: r4(quantile(calib.map((m) => m.moireDb), 0.99)), max: r4(Math.max(...calib.map((m) => m.moireDb))) },
    skinLocus: { p5: r4(quantile(calib.filter((m) => !m.grayscale).map((m) => m.skinLocus), 0.05)) },
    lbpUniform: { p95: r4(quantile(calib.map((m) => m.lbpUniform), 0.95)) },
    laplacianRatio: { p5: r4(quantile(calib.map((m) => m.laplacianRatio), 0.05)) },
    glare: { p95: r4(quantile(calib.map((m) => m.glare), 0.95)) },
  };

  // ---------- fusion fit on the FIT part, report on the REPORT part ----------
  const pick = (f: (s: Sample) => boolean) => samples.filter(f);
  const crops = (part: string, label: string, attacker?: number) => pick((s) => s.set === 'crops' && s.part === part && s.label === label && (!attacker || s.attacker === attacker));
  const synthetic = (part: string, label: string) => pick((s) => s.part === part && s.label === label && (label === 'live' ? s.set === 'highres' : s.set.startsWith('synthetic')));
  const video = (part: string, label: string) => pick((s) => s.set === 'video' && s.part === part && s.label === label);
  const fitted = fitFusion([
    { live: crops('fit', 'live').map((s) => s.signals), spoof: crops('fit', 'spoof').map((s) => s.signals) },
    { live: synthetic('fit', 'live').map((s) => s.signals), spoof: synthetic('fit', 'spoof').map((s) => s.signals) },
    { live: video('fit', 'live').map((s) => s.signals), spoof: video('fit', 'spoof').map((s) => s.signals) },
  ]);
  // The other fold: fit on the REPORT part, test on the FIT part (how much the halves differ).
  const swapped = fitFusion([
    { live: crops('report', 'live').map((s) => s.signals), spoof: crops('report', 'spoof').map((s) => s.signals) },
    { live: synthetic('report', 'live').map((s) => s.signals), spoof: synthetic('report', 'spoof').map((s) => s.signals) },
    { live: video('report', 'live').map((s) => s.signals), spoof: video('report', 'spoof').map((s) => s.signals) },
  ]);
  const crossAttacker = fitFusion([{ live: crops('fit', 'live', 1).map((s) => s.signals), spoof: pick((s) => s.set === 'crops' && s.attacker === 1 && s.label === 'spoof').map((s) => s.signals) }]);
  const inUse = (s: Signals) => fused(s, FUSION);

  const report = (score: (s: Signals) => number) => {
    const sc = (xs: Sample[]) => xs.map((s) => score(s.signals));
    const set = (name: string, part?: string) => pick((s) => s.set === name && (!part || s.part === part));
    return {
      crops_report: rates(sc(crops('report', 'live')), sc(crops('report', 'spoof'))),
      crops_fit: rates(sc(crops('fit', 'live')), sc(crops('fit', 'spoof'))),
      video_report: rates(sc(video('report', 'live')), sc(video('report', 'spoof'))),
      video_fit: rates(sc(video('fit', 'live')), sc(video('fit', 'spoof'))),
      real_photos_highres_report_and_tv: rates(sc([...set('highres', 'report'), ...set('tv-crops')]), []),
      real_photos_all_highres_tv: rates(sc([...set('highres'), ...set('tv-crops')]), []),
      calibration_faces: rates(sc(set('calibration')), []),
      synthetic_screen_report: rates(sc(set('highres', 'report')), sc(set('synthetic-screen', 'report'))),
      synthetic_print_report: rates(sc(set('highres', 'report')), sc(set('synthetic-print', 'report'))),
      synthetic_held_up_report: rates(sc(set('highres', 'report')), sc(set('synthetic-held-up', 'report'))),
      synthetic_all_highres_people: {
        screen: rates(sc(set('highres')), sc(set('synthetic-screen'))),
        print: rates(sc(set('highres')), sc(set('synthetic-print'))),
        held_up: rates(sc(set('highres')), sc(set('synthetic-held-up'))),
      },
    };
  };
  const perSignal = Object.fromEntries(SIGNAL_NAMES.map((n) => [n, report((s) => s[n])]));
  const crossScore = (s: Sample) => fused(s.signals, crossAttacker);
  const swappedScore = (s: Sample) => fused(s.signals, swapped);
  const swappedFold = {
    weights: swapped,
    crops_fit_part: rates(crops('fit', 'live').map(swappedScore), crops('fit', 'spoof').map(swappedScore)),
    synthetic_fit_people: rates(synthetic('fit', 'live').map(swappedScore), synthetic('fit', 'spoof').map(swappedScore)),
    video_fit_part: rates(video('fit', 'live').map(swappedScore), video('fit', 'spoof').map(swappedScore)),
  };
  const cross = rates(pick((s) => s.set === 'crops' && s.attacker === 2 && s.label === 'live').map(crossScore), pick((s) => s.set === 'crops' && s.attacker === 2 && s.label === 'spoof').map(crossScore));

  // ---------- motion ----------
  log('motion');
  const pairs = (folder: 'real' | 'fake', n: number) => {
    const out: number[] = [];
    for (let i = 0; i + 8 < n; i += 4) {
      const a = cropLandmarks.get(`${folder}/${i}.png`), b = cropLandmarks.get(`${folder}/${i + 8}.png`);
      const m = a && b ? measureMotion(a, b) : null;
      if (m) out.push(sigmoid(motionLogit(m)));
    }
    return out;
  };
  const liveMotion = pairs('real', 214), replayMotion = pairs('fake', 617);
  const inPlane: number[] = [], tilted: number[] = [], identical: number[] = [];
  const captures = { live: { frames: [] as number[], capture: [] as number[] }, tiltedPhoto: { frames: [] as number[], capture: [] as number[] } };
  const mr = rng(7);
  for (const { img, face } of highres) {
    const photo = img.width > 800 ? await fromRaw(raw(img).resize(800)) : img;
    const k = photo.width / img.width;
    const box = { x: face.box.x * k, y: face.box.y * k, width: face.box.width * k, height: face.box.height * k };
    const a = await landmarksFor(photo, box);
    if (!a) {
      motionMissed++;
      continue;
    }
    identical.push(sigmoid(captureMotion([a, a])?.logit ?? 0));
    for (let t = 0; t < 3; t++) {
      // Draw every random number whether or not a face is found, so both landmark sources see the same warps.
      const h1 = planeMotion(photo.width, photo.height, 0, 0, U(mr, -0.1, 0.1), U(mr, 0.9, 1.1), 1e6, U(mr, -10, 10), U(mr, -10, 10));
      const h2 = planeMotion(photo.width, photo.height, U(mr, 0.3, 0.6) * (mr() < 0.5 ? -1 : 1), U(mr, -0.3, 0.3), U(mr, -0.1, 0.1), 1, 1.2 * Math.max(photo.width, photo.height), 0, 0);
      const moved = await landmarksFor(warp(photo, h1), mapBox(h1, box));
      const m1 = moved ? measureMotion(a, moved) : null;
      if (m1) inPlane.push(sigmoid(motionLogit(m1)));
      if (!moved) motionMissed++;
      const warped = warp(photo, h2);
      const b = await landmarksFor(warped, mapBox(h2, box));
      if (!b) {
        motionMissed++;
        continue;
      }
      const m2 = measureMotion(a, b);
      if (m2) tilted.push(sigmoid(motionLogit(m2)));
      if (t === 0) {
        // Capture-level: a real photo turned in the hand, two frames, each scored per frame.
        const fa = await faceLiveness({ image: photo, box, landmarks: a });
        const fb = await faceLiveness({ image: warped, box: mapBox(h2, box), landmarks: b });
        const c = captureLiveness([{ input: { image: photo, box, landmarks: a }, result: fa }, { input: { image: warped, box: mapBox(h2, box), landmarks: b }, result: fb }]);
        captures.tiltedPhoto.frames.push(c.signals.frames);
        captures.tiltedPhoto.capture.push(c.score);
      }
    }
  }
  for (let i = 0; i + 8 < 214; i += 8) {
    const fa = samples.find((s) => s.set === 'crops' && s.file === `real/${i}.png`)!, fb = samples.find((s) => s.set === 'crops' && s.file === `real/${i + 8}.png`)!;
    const la = cropLandmarks.get(`real/${i}.png`), lb = cropLandmarks.get(`real/${i + 8}.png`);
    if (!la || !lb) continue;
    const dummy = { data: new Uint8Array(3), width: 1, height: 1 };
    const res = (s: Sample) => ({ score: inUse(s.signals), signals: s.signals });
    const c = captureLiveness([{ input: { image: dummy, box: { x: 0, y: 0, width: 1, height: 1 }, landmarks: la }, result: res(fa) }, { input: { image: dummy, box: { x: 0, y: 0, width: 1, height: 1 }, landmarks: lb }, result: res(fb) }]);
    captures.live.frames.push(c.signals.frames);
    captures.live.capture.push(c.score);
  }
  const dist = (xs: number[]) => ({ n: xs.length, below_0_5: r4(xs.filter((x) => x < 0.5).length / xs.length), above_0_5: r4(xs.filter((x) => x > 0.5).length / xs.length), neutral: r4(xs.filter((x) => x === 0.5).length / xs.length), median: r4(quantile(xs, 0.5)) });

  const msBy = (sets: string[]) => samples.filter((s) => sets.includes(s.set)).map((s) => s.ms);
  const result = {
    note: 'APCER = spoofs scoring >= threshold; BPCER = live faces scoring < threshold. Fusion weights fitted on crops_fit_split only.',
    split: {
      fit: 'liveness-crops live 0-106, spoof 0-228 and 457-536; highres people in even alphabetical positions and their simulated attacks; first half of each video recording',
      report: 'liveness-crops live 107-213, spoof 229-456 and 537-616; highres people in odd positions and their simulated attacks; second half of each video recording',
      cross_attacker: 'fit: live 0-106 + spoof 0-456 (attacker 1); test: live 107-213 + spoof 457-616 (attacker 2)',
    },
    fusion_in_use: FUSION,
    fusion_fitted_now: fitted,
    swapped_fold: swappedFold,
    cross_attacker: { weights: crossAttacker, test: cross },
    calibration,
    fusion: report(inUse),
    per_signal: perSignal,
    motion: {
      landmarks: landmarkSource,
      frames_without_landmarks: motionMissed,
      identical_frames: dist(identical),
      photo_moved_in_plane: dist(inPlane),
      photo_tilted_17_35deg: dist(tilted),
      live_crops_frames_i_i8: dist(liveMotion),
      replayed_video_frames_i_i8: dist(replayMotion),
      motion_alone_live_head_vs_tilted_photo: rates(liveMotion, tilted),
      capture_two_frames: {
        note: 'score of the frames alone (mean logit) and of the capture with the motion check; live = liveness-crops frames i, i+8; tilted photo = a highres photo and the same photo tilted 17-35 degrees',
        live_head: { frames_only: dist(captures.live.frames), with_motion: dist(captures.live.capture) },
        tilted_photo: { frames_only: dist(captures.tiltedPhoto.frames), with_motion: dist(captures.tiltedPhoto.capture) },
        rates_frames_only: rates(captures.live.frames, captures.tiltedPhoto.frames),
        rates_with_motion: rates(captures.live.capture, captures.tiltedPhoto.capture),
      },
    },
    ms_per_face: {
      tight_crops: { p50: r4(quantile(msBy(['crops']), 0.5)), p95: r4(quantile(msBy(['crops']), 0.95)) },
      photos_with_context: { p50: r4(quantile(msBy(['highres', 'calibration']), 0.5)), p95: r4(quantile(msBy(['highres', 'calibration']), 0.95)) },
    },
  };
  const json = JSON.stringify(result, null, 2);
  const out = argValue('--out');
  if (out) writeFileSync(out, json);
  // Per-face measures and signals (no pixels), for offline analysis.
  const dump = argValue('--dump');
  if (dump) writeFileSync(dump, JSON.stringify(samples));
  console.log(json);
}

await main();
