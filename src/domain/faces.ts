// Running the engine over a request's images and turning its answer into enrolment templates. Shared by every use
// case that enrols a face (face persons, generic persons, and the search-live-face flow).
import { createHash } from 'node:crypto';
import { ImageError, type ImageErrorCode } from '../face/errors.js';
import type { AnalysisResult, AnalyzeOptions, DetectedFace, FaceEngine } from '../face/types.js';
import type { NewFaceTemplate } from './ports.js';
import { DifferentPersonError, FaceCountError, ImageInputError, type ImageProblem } from './errors.js';
import { chooseSubject, SUBJECT_CANDIDATES, type FaceSelector } from './subject.js';

/** One decoded image of a request, with the name of the field it came from (`images[2]`). */
export interface InputImage {
  field: string;
  bytes: Uint8Array;
  /** The face the caller named in this image, when the photo holds several (else the subject rule chooses). */
  subject?: FaceSelector;
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

/** The one face of each image (its subject, or the face the caller named); no face, or a photo in which two faces
 *  could each be the person, fails naming that image. */
export function oneFacePerImage(result: AnalysisResult, images: InputImage[]): DetectedFace[] {
  return result.images.map((img, i) => {
    const choice = chooseSubject(img, images[i].field, images[i].subject);
    if (choice.ambiguous) throw new FaceCountError('multiple_faces', images[i].field, choice.faces);
    return choice.face;
  });
}

/** Analyses enrolment images (one face each, with thumbnails unless told otherwise). Slow: call it before opening a transaction. */
export async function analyseEnrolment(
  engine: FaceEngine,
  images: InputImage[],
  opts: Omit<AnalyzeOptions, 'maxFaces'> = {},
): Promise<{ faces: DetectedFace[]; analysis: AnalysisResult }> {
  const analysis = await analyseImages(engine, images, { thumbnails: true, ...opts, maxFaces: SUBJECT_CANDIDATES });
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

/** A face to enrol, with the SHA-256 of the photo it came from when known (a bulk import skips photos already in). */
export type EnrolFace = DetectedFace & { sourceDigest?: string };

/** SHA-256 (hex) of an image's bytes: what `sourceDigest` holds. */
export function imageDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The faces of an enrolment's images, each tagged with the digest of its image. */
export function withSourceDigests(faces: DetectedFace[], images: InputImage[]): EnrolFace[] {
  return faces.map((f, i) => ({ ...f, sourceDigest: imageDigest(images[i].bytes) }));
}

/** Store rows for enrolled faces, in image order. */
export function templateRows(engine: FaceEngine, client: string, person: string, faces: EnrolFace[]): NewFaceTemplate[] {
  return faces.map((f, imageIndex) => ({
    client,
    person,
    imageIndex,
    modelVersion: engine.modelVersion,
    embedding: f.embedding,
    thumbnail: f.thumbnail ?? null,
    sourceDigest: f.sourceDigest ?? null,
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
