// Face recognition v2: a 512-d ArcFace-class network (faceplugin's fr_feature.onnx) on ONNX Runtime.
// Input: the standard ArcFace 112×112 crop, five points (eye centres, nose tip, mouth corners) placed by a
// similarity transform on InsightFace's reference positions; RGB, (x − 127) / 128, NCHW.
import { type Fill, fitSimilarity, invertSimilarity, type RgbImage, type Similarity, warpImage } from './geometry.js';
import { loadSession, ort } from './onnx.js';
import { centroid } from './templates.js';
import type { Point } from './types.js';

export const RECOGNITION_SIZE = 112;
export const RECOGNITION_DIM = 512;

/** InsightFace's reference positions of the five points in a 112×112 ArcFace crop. */
export const ARCFACE_POINTS: Point[] = [
  [38.2946, 51.6963], // eye, image left (the person's right)
  [73.5318, 51.5014], // eye, image right
  [56.0252, 71.7366], // nose tip
  [41.5493, 92.3655], // mouth corner, image left
  [70.7299, 92.2041], // mouth corner, image right
];

/** The five ArcFace points from 68 iBUG landmarks: eye centres (all six contour points), nose tip, mouth corners. */
export function fivePoints(lm: Point[]): Point[] {
  return [centroid(lm, 36, 41), centroid(lm, 42, 47), lm[30], lm[48], lm[54]];
}

/** The transform that maps crop pixels to image pixels for a face with these 68 landmarks. */
export function arcfaceTransform(landmarks68: Point[]): Similarity {
  return invertSimilarity(fitSimilarity(fivePoints(landmarks68), ARCFACE_POINTS));
}

export class RecognitionNet {
  static readonly file = 'fr_feature.onnx';
  private constructor(private readonly session: ort.InferenceSession) {}

  static async load(): Promise<RecognitionNet> {
    return new RecognitionNet(await loadSession(RecognitionNet.file));
  }

  /**
   * L2-normalised 512-d template of one aligned crop ([112, 112, 3] float RGB pixels 0..255); with `flip`, the
   * sum of the crop's and its mirror image's outputs (test-time augmentation), normalised.
   */
  async embed(crop: Float32Array, flip: boolean): Promise<Float32Array> {
    const S = RECOGNITION_SIZE;
    const out = new Float32Array(RECOGNITION_DIM);
    for (const mirrored of flip ? [false, true] : [false]) {
      const input = new Float32Array(3 * S * S);
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const src = (y * S + (mirrored ? S - 1 - x : x)) * 3;
          const dst = y * S + x;
          input[dst] = (crop[src] - 127) / 128;
          input[S * S + dst] = (crop[src + 1] - 127) / 128;
          input[2 * S * S + dst] = (crop[src + 2] - 127) / 128;
        }
      }
      const res = await this.session.run({ input: new ort.Tensor('float32', input, [1, 3, S, S]) });
      const v = res.output.data as Float32Array;
      for (let k = 0; k < RECOGNITION_DIM; k++) out[k] += v[k];
      for (const t of Object.values(res)) t.dispose?.();
    }
    let norm = 0;
    for (let k = 0; k < RECOGNITION_DIM; k++) norm += out[k] * out[k];
    norm = Math.sqrt(norm) || 1;
    for (let k = 0; k < RECOGNITION_DIM; k++) out[k] /= norm;
    return out;
  }

  /** The aligned crop of one face. */
  static crop(image: RgbImage, landmarks68: Point[], fill: Fill = 'nearest'): Float32Array {
    return warpImage(image, arcfaceTransform(landmarks68), RECOGNITION_SIZE, fill);
  }
}
