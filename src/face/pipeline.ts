// One image through the whole engine, in the calling thread: decode → detect → 68 landmarks → five-point aligned
// ArcFace crop → 512-d template, plus quality, attributes and the stored face image. The worker pool runs this;
// scripts can run it in-process.
import sharp from 'sharp';
import { decodeImage, type DecodedImage } from './decode.js';
import { FaceDetector, type Detection } from './detector.js';
import { applySimilarity, type Fill, fitSimilarity, type RgbImage, type Similarity, warpAll, warpImage } from './geometry.js';
import { AgeGenderNet, Landmark68Net } from './nets.js';
import { arcfaceTransform, RecognitionNet, RECOGNITION_SIZE } from './recognition.js';
import { chipQuality, headPose } from './quality.js';
import { blazeFacePoints, LANDMARK_CROP_TEMPLATE } from './templates.js';
import { StageClock } from './stages.js';
import type { AnalyzedImage, AnalyzeOptions, Box, DetectedFace, Point } from './types.js';

export { EMBEDDING_DIM, MODEL_VERSION } from './version.js';

export interface Models {
  detector: FaceDetector;
  landmarks: Landmark68Net;
  recognition: RecognitionNet;
  ageGender: AgeGenderNet;
}

export async function loadModels(): Promise<Models> {
  const [detector, landmarks, recognition, ageGender] = await Promise.all([
    FaceDetector.load(),
    Landmark68Net.load(),
    RecognitionNet.load(),
    AgeGenderNet.load(),
  ]);
  const models = { detector, landmarks, recognition, ageGender };
  await warmUp(models);
  return models;
}

/** One inference per network so ONNX Runtime has planned its memory before the first request is timed. */
async function warmUp(m: Models): Promise<void> {
  await m.detector.detect({ data: new Uint8Array(64 * 64 * 3), width: 64, height: 64 });
  const crop = new Float32Array(LM * LM * 3);
  await m.landmarks.predict(crop, 1);
  await m.ageGender.predict(crop, 1);
  await m.recognition.embed(new Float32Array(RECOGNITION_SIZE * RECOGNITION_SIZE * 3), false);
}

export interface PipelineConfig {
  /** Longest side of the working image (detection, landmarks and chips are taken from it). */
  maxSide: number;
  minDetectionScore: number;
  /** 1: landmarks on a crop placed from BlazeFace's keypoints; 2: a second pass on a crop placed from the first. */
  landmarkPasses: 1 | 2;
  /** Average the templates of the aligned crop and its mirror image. */
  flip: boolean;
  /** What crops see beyond the image border. */
  fill: Fill;
}

export const DEFAULT_CONFIG: PipelineConfig = {
  maxSide: 1280,
  minDetectionScore: 0.3,
  landmarkPasses: 2,
  flip: true,
  fill: 'nearest',
};

const LM = Landmark68Net.inputSize;
/**
 * The stored face image (API thumbnail, and what `reindex` re-embeds from when the model changes): the ArcFace
 * frame, upright and centred, scaled to FACE_FRAME px with a margin around it, so a later pipeline can detect and
 * align the face in it again.
 */
export const FACE_IMAGE_SIZE = 192;
const FACE_FRAME = 128;
const TEMPLATE_PX = LANDMARK_CROP_TEMPLATE.map(([x, y]) => [x * LM, y * LM] as Point);
const TEMPLATE_KEYPOINTS = blazeFacePoints(TEMPLATE_PX);
/** Landmark drift between passes (inter-ocular distances) below which a face counts as settled… */
const SETTLED_DRIFT = 0.2;
/** …and above which, after three passes, the detection is not a face. */
const MAX_DRIFT = 0.35;

export interface FaceInWorkingImage {
  box: Box;
  landmarks: Point[];
  /** Mean landmark shift between the two landmark passes, in inter-ocular distances (0 with one pass). */
  drift: number;
}

/** Mean distance between two 68-point sets, in units of the inter-ocular distance of the second. */
function landmarkDrift(a: Point[], b: Point[]): number {
  const [l, r] = blazeFacePoints(b);
  const iod = Math.hypot(l[0] - r[0], l[1] - r[1]) || 1;
  let sum = 0;
  for (let i = 0; i < 68; i++) sum += Math.hypot(a[i][0] - b[i][0], a[i][1] - b[i][1]);
  return sum / 68 / iod;
}

export interface ImageAnalysis {
  image: AnalyzedImage;
  /** The decoded working image (RGB) and, for each reported face, its box and landmarks in that image's pixels. */
  working: DecodedImage;
  facesInWorking: FaceInWorkingImage[];
}

function landmarksFromCrops(out: Float32Array, crops: Similarity[]): Point[][] {
  return crops.map((t, f) => {
    const pts: Point[] = [];
    for (let i = 0; i < 68; i++) pts.push(applySimilarity(t, [out[f * 136 + 2 * i] * LM, out[f * 136 + 2 * i + 1] * LM]));
    return pts;
  });
}

async function detectWithFallback(models: Models, image: RgbImage, cfg: PipelineConfig): Promise<Detection[]> {
  const found = await models.detector.detect(image, { minScore: cfg.minDetectionScore });
  const { width: w, height: h } = image;
  // BlazeFace misses or misplaces faces that fill the whole frame (tight crops, close selfies): when it found
  // nothing, or only a weak detection that covers much of the frame, look again with a grey margin around.
  const closeUp = found.some((d) => d.score < 0.75 && d.box.width > 0.4 * Math.min(w, h));
  if (found.length && !closeUp) return found;
  const more = await models.detector.detect(image, { minScore: cfg.minDetectionScore, margin: 0.3 });
  // Keep whichever look is surer of its best face.
  const best = (ds: Detection[]) => Math.max(0, ...ds.map((d) => d.score));
  return best(more) > best(found) ? more : found;
}

export async function analyzeImage(
  models: Models,
  bytes: Uint8Array,
  opts: AnalyzeOptions = {},
  cfg: PipelineConfig = DEFAULT_CONFIG,
  clock: StageClock = new StageClock(),
): Promise<ImageAnalysis> {
  const working = await clock.time('decode', () => decodeImage(bytes, { maxSide: cfg.maxSide }));
  const { width: W, height: H } = working;
  const image: RgbImage = working;
  const noFaces = (): ImageAnalysis => ({ image: { width: working.originalWidth, height: working.originalHeight, faces: [] }, working, facesInWorking: [] });
  let detections = await clock.time('detect', () => detectWithFallback(models, image, cfg));
  // Largest first. maxFaces is applied only after the landmark check below has dropped false detections, or a
  // false candidate could push a real face out of the cut (an 8-face photo then looked like a one-face photo).
  detections.sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
  if (!detections.length) return noFaces();

  // Landmarks, pass 1: a crop placed so BlazeFace's eyes, nose and mouth fall where the landmark net expects them.
  let crops = detections.map((d) => fitSimilarity(TEMPLATE_KEYPOINTS, d.keypoints.slice(0, 4)));
  const t0 = performance.now();
  let landmarks = await runLandmarks(models, image, crops, cfg.fill);
  let drift = landmarks.map(() => 0);
  if (cfg.landmarkPasses === 2) {
    // Pass 2: re-centre, re-scale and de-rotate the crop on all 68 points of pass 1. On a face the landmarks
    // barely move (≤ 0.16 inter-ocular distances over our photos); on a false detection the network's guesses
    // wander. A face that still moved a lot gets a third look before we judge it.
    const refine = async (idx: number[]) => {
      const again = idx.map((f) => fitSimilarity(TEMPLATE_PX, landmarks[f]));
      const next = await runLandmarks(models, image, again, cfg.fill);
      idx.forEach((f, k) => {
        drift[f] = landmarkDrift(landmarks[f], next[k]);
        landmarks[f] = next[k];
        crops[f] = again[k];
      });
    };
    await refine(landmarks.map((_, f) => f));
    const unsettled = drift.flatMap((d, f) => (d > SETTLED_DRIFT ? [f] : []));
    if (unsettled.length) await refine(unsettled);
    const keep = drift.flatMap((d, f) => (d <= MAX_DRIFT ? [f] : []));
    if (keep.length < detections.length) {
      detections = keep.map((f) => detections[f]);
      landmarks = keep.map((f) => landmarks[f]);
      crops = keep.map((f) => crops[f]);
      drift = keep.map((f) => drift[f]);
    }
  }
  clock.add('landmarks', performance.now() - t0);
  if (!detections.length) return noFaces();

  if (opts.maxFaces !== undefined && detections.length > opts.maxFaces) {
    const n = Math.max(0, opts.maxFaces);
    detections = detections.slice(0, n);
    landmarks = landmarks.slice(0, n);
    crops = crops.slice(0, n);
    drift = drift.slice(0, n);
    if (!n) return noFaces();
  }

  const embeddings: Float32Array[] = [];
  for (const lm of landmarks) {
    const chip = clock.timeSync('align', () => RecognitionNet.crop(image, lm, cfg.fill));
    embeddings.push(await clock.time('embed', () => models.recognition.embed(chip, cfg.flip)));
  }

  let ages: Float32Array | undefined, males: Float32Array | undefined;
  const t1 = performance.now();
  if (opts.attributes) {
    ages = new Float32Array(crops.length);
    males = new Float32Array(crops.length);
    for (let start = 0; start < crops.length; start += MAX_BATCH) {
      const part = crops.slice(start, start + MAX_BATCH);
      const out = await models.ageGender.predict(warpAll(image, part, LM, cfg.fill), part.length);
      ages.set(out.age, start);
      males.set(out.male, start);
    }
  }
  clock.add('attributes', performance.now() - t1);

  const inv = 1 / working.scale;
  const toOriginal = (p: Point): Point => [p[0] * inv, p[1] * inv];
  const faces: DetectedFace[] = [];
  const facesInWorking: FaceInWorkingImage[] = [];
  for (let f = 0; f < detections.length; f++) {
    const d = detections[f];
    const box = clampBox(d.box, W, H);
    const t2 = performance.now();
    const faceRgb = faceImage(image, landmarks[f], cfg.fill);
    const { sharpness, brightness } = chipQuality(faceRgb, FACE_IMAGE_SIZE);
    const pose = headPose(landmarks[f]);
    clock.add('quality', performance.now() - t2);
    const face: DetectedFace = {
      box: { x: box.x * inv, y: box.y * inv, width: box.width * inv, height: box.height * inv },
      landmarks: landmarks[f].map(toOriginal),
      detectionScore: d.score,
      quality: {
        faceSize: Math.min(box.width, box.height) * inv,
        sharpness,
        yaw: pose.yaw,
        pitch: pose.pitch,
        roll: pose.roll,
        brightness,
      },
      embedding: embeddings[f],
    };
    if (ages && males) {
      face.age = Math.max(0, ages[f]);
      face.gender = males[f] >= 0.5 ? 'M' : 'F';
      face.genderScore = males[f] >= 0.5 ? males[f] : 1 - males[f];
    }
    if (opts.thumbnails) {
      const jpeg = await clock.time('thumbnail', () =>
        sharp(faceRgb, { raw: { width: FACE_IMAGE_SIZE, height: FACE_IMAGE_SIZE, channels: 3 } }).jpeg({ quality: 90 }).toBuffer(),
      );
      face.thumbnail = new Uint8Array(jpeg);
    }
    faces.push(face);
    facesInWorking.push({ box, landmarks: landmarks[f], drift: drift[f] });
  }
  return { image: { width: working.originalWidth, height: working.originalHeight, faces }, working, facesInWorking };
}

function clampBox(b: Box, W: number, H: number): Box {
  const x = Math.max(0, b.x), y = Math.max(0, b.y);
  return { x, y, width: Math.max(0, Math.min(W, b.x + b.width) - x), height: Math.max(0, Math.min(H, b.y + b.height) - y) };
}

/**
 * Faces of one image go through the landmark and age/gender networks in batches of up to this many crops: one
 * ONNX Runtime call instead of one per face, while ORT's arena (which keeps the largest activations it ran) stays
 * bounded.
 */
const MAX_BATCH = 8;

async function runLandmarks(models: Models, image: RgbImage, crops: Similarity[], fill: Fill): Promise<Point[][]> {
  const data = new Float32Array(crops.length * 136);
  for (let start = 0; start < crops.length; start += MAX_BATCH) {
    const part = crops.slice(start, start + MAX_BATCH);
    data.set(await models.landmarks.predict(warpAll(image, part, LM, fill), part.length), start * 136);
  }
  return landmarksFromCrops(data, crops);
}

/** The stored face image: RGB bytes, FACE_IMAGE_SIZE², the ArcFace frame scaled to FACE_FRAME px in its centre. */
function faceImage(image: RgbImage, landmarks: Point[], fill: Fill): Uint8Array {
  const t = arcfaceTransform(landmarks); // ArcFace crop px → image px
  const k = RECOGNITION_SIZE / FACE_FRAME;
  const off = (FACE_IMAGE_SIZE - FACE_FRAME) / 2;
  // face-image px u → ArcFace px (u − off)·k → image px.
  const composed: Similarity = { a: t.a * k, b: t.b * k, tx: t.tx - (t.a * off * k - t.b * off * k), ty: t.ty - (t.b * off * k + t.a * off * k) };
  return new Uint8Array(Uint8ClampedArray.from(warpImage(image, composed, FACE_IMAGE_SIZE, fill)).buffer); // rounds and clamps
}
