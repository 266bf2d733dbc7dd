// Running the engine over a request's images and turning its answer into enrolment templates. Shared by every use
// case that enrols a face (face persons, generic persons, and the search-live-face flow).
import { ImageError, type ImageErrorCode } from '../face/errors.js';
import type { AnalysisResult, AnalyzeOptions, DetectedFace, FaceEngine } from '../face/types.js';
import type { NewFaceTemplate } from '../store/types.js';
import { FaceCountError, ImageInputError, type ImageProblem } from './errors.js';

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

/** The one face of each image; an image with none or several fails the request naming that image. */
export function oneFacePerImage(result: AnalysisResult, images: InputImage[]): DetectedFace[] {
  return result.images.map((img, i) => {
    if (img.faces.length === 0) throw new FaceCountError('no_face', images[i].field);
    if (img.faces.length > 1) throw new FaceCountError('multiple_faces', images[i].field);
    return img.faces[0];
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
