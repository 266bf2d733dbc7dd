// Running the engine over a request's images and turning its answer into enrolment templates. Shared by every use
// case that enrols a face (face persons, generic persons, and the search-live-face flow).
import { ImageError, type ImageErrorCode } from '../face/errors.js';
import type { AnalysisResult, AnalyzeOptions, DetectedFace, FaceEngine } from '../face/types.js';
import type { NewFaceTemplate } from './ports.js';
import { DifferentPersonError, FaceCountError, ImageInputError, type ImageProblem } from './errors.js';

/** One decoded image of a request, with the name of the field it came from (`images[2]`). */
export interface InputImage {
  field: string;
  bytes: Uint8Array;
}

const IMAGE_PROBLEM: Record<ImageErrorCode, ImageProblem> = {
  not_an_image: 'not_an_image',
  unsupported_format: 'unsupported_format',
  too_many_pixels: 'too_many_pixels',
  too_small: 'too_small',
};

/** engine.analyze, with the engine's ImageError re-raised against the request field it concerns. */
export async function analyseImages(engine: FaceEngine, images: InputImage[], opts: AnalyzeOptions): Promise<AnalysisResult> {
  try {
    return await engine.analyze(
      images.map((i) => i.bytes),
      opts,
    );
  } catch (err) {
    if (err instanceof ImageError) {
      const field = err.index !== undefined && images[err.index] ? images[err.index].field : images.length === 1 ? images[0].field : 'images';
      throw new ImageInputError(IMAGE_PROBLEM[err.code] ?? 'not_an_image', field, err.message);
    }
    throw err;
  }
}

/**
 * A face whose box side is below this share of the largest face's is a bystander (someone in the background of a
 * portrait), not a second subject: like Rekognition, which indexes the largest faces, we enrol the subject. Two faces
 * of comparable size stay ambiguous (which one is the person?) and are refused. On LFW's portraits the subject's
 * face is 2–6× a bystander's; two people posing together are within a factor 1.5.
 */
export const BYSTANDER_RATIO = 0.5;

/** The one face of each image; an image with none, or with two faces of comparable size, fails naming that image. */
export function oneFacePerImage(result: AnalysisResult, images: InputImage[]): DetectedFace[] {
  return result.images.map((img, i) => {
    if (img.faces.length === 0) throw new FaceCountError('no_face', images[i].field);
    const [subject, next] = img.faces; // largest first
    if (next && Math.max(next.box.width, next.box.height) >= BYSTANDER_RATIO * Math.max(subject.box.width, subject.box.height)) {
      throw new FaceCountError('multiple_faces', images[i].field);
    }
    return subject;
  });
}

/** Analyses enrolment images (one face each, with thumbnails unless told otherwise). Slow: call it before opening a transaction. */
export async function analyseEnrolment(
  engine: FaceEngine,
  images: InputImage[],
  opts: Omit<AnalyzeOptions, 'maxFaces'> = {},
): Promise<{ faces: DetectedFace[]; analysis: AnalysisResult }> {
  // Two faces are enough to tell "several" from "one"; embedding more would be wasted work.
  const analysis = await analyseImages(engine, images, { thumbnails: true, ...opts, maxFaces: 2 });
  return { faces: oneFacePerImage(analysis, images), analysis };
}

/**
 * One enrolment, one person: every pair of faces must score at least `minScore` with the engine's own similarity,
 * so one record can never hold two people's faces. The image named is the one that disagrees with the most others
 * (the later one on a tie, which is all two images can say).
 */
export function assertOnePerson(engine: FaceEngine, faces: DetectedFace[], images: InputImage[], minScore: number): void {
  if (faces.length < 2) return;
  const misses = faces.map(() => 0);
  let worst: { i: number; j: number; score: number } | null = null;
  for (let i = 0; i < faces.length; i++) {
    for (let j = i + 1; j < faces.length; j++) {
      const score = engine.similarity(faces[i].embedding, faces[j].embedding);
      if (score >= minScore) continue;
      misses[i]++;
      misses[j]++;
      if (!worst || score < worst.score) worst = { i, j, score };
    }
  }
  if (!worst) return;
  let odd = 0;
  for (let k = 1; k < misses.length; k++) if (misses[k] >= misses[odd]) odd = k;
  // The face it disagrees with: the one it scores lowest against.
  let other = odd === 0 ? 1 : 0;
  let low = Infinity;
  for (let k = 0; k < faces.length; k++) {
    if (k === odd) continue;
    const s = engine.similarity(faces[odd].embedding, faces[k].embedding);
    if (s < low) {
      low = s;
      other = k;
    }
  }
  throw new DifferentPersonError(images[odd].field, images[other].field, Math.round(low * 1e4) / 1e4, minScore);
}

/** Store rows for enrolled faces, in image order. */
export function templateRows(engine: FaceEngine, client: string, person: string, faces: DetectedFace[]): NewFaceTemplate[] {
  return faces.map((f, imageIndex) => ({
    client,
    person,
    imageIndex,
    modelVersion: engine.modelVersion,
    embedding: f.embedding,
    thumbnail: f.thumbnail ?? null,
    quality: {
      faceSize: f.quality.faceSize,
      sharpness: f.quality.sharpness,
      yaw: f.quality.yaw,
      pitch: f.quality.pitch,
      roll: f.quality.roll,
      brightness: f.quality.brightness,
    },
  }));
}
