// Trained anti-spoofing network (faceplugin's fr_liveness.onnx) on ONNX Runtime: a 128×128 crop of the face box
// widened (2.7× in faceplugin's own code: the face with its surroundings, screen bezels, paper edges, fingers), raw
// 0..255 values in BGR order, NCHW; three logits whose softmax class 0 is "live".
// BGR, not RGB: faceplugin's JavaScript example feeds a canvas's RGB, but the network was trained on OpenCV's BGR
// frames; measured on pad-dev's fit clients, BGR ranks live above attacks with AUC 0.997 per frame, RGB 0.76
// (docs/liveness.md, "What the network gets").
import { type RgbImage, type Similarity, warpImage } from './geometry.js';
import { loadSession, ort } from './onnx.js';
import type { Box } from './types.js';

const S = 128;
/** faceplugin's widening of the face box. */
export const DEFAULT_WIDEN = 2.7;

/**
 * The crop the network was trained on: a square of side 2.7 × the face box's longer side around its centre, but no
 * larger than the image (the network's own pre-processing shrinks the widening near the borders, and shifts the
 * square inside the image rather than padding it).
 */
export function antispoofCrop(image: RgbImage, box: Box, widen = DEFAULT_WIDEN): Float32Array {
  const { width: W, height: H } = image;
  const side0 = Math.max(box.width, box.height);
  const scale = Math.min((H - 1) / side0, (W - 1) / side0, widen);
  const side = side0 * scale;
  let x0 = box.x + box.width / 2 - side / 2;
  let y0 = box.y + box.height / 2 - side / 2;
  x0 = Math.min(Math.max(0, x0), W - 1 - side);
  y0 = Math.min(Math.max(0, y0), H - 1 - side);
  const s = side / S;
  const t: Similarity = { a: s, b: 0, tx: x0 + s / 2 - 0.5, ty: y0 + s / 2 - 0.5 };
  // One bilinear sample per pixel, no area averaging: what cv.resize (INTER_LINEAR) gives faceplugin's reference
  // code, and how the crops were made when the operating point was fitted (docs/liveness.md).
  return warpImage(image, t, S, 'nearest', 1);
}

/** Milliseconds spent in `predict` so far in this thread: the worker reads it to split liveness time into the
 *  network and the forensic cues. */
export const antispoofMs = { total: 0 };

export class AntispoofNet {
  static readonly file = 'fr_liveness.onnx';
  private constructor(private readonly session: ort.InferenceSession) {}

  static async load(): Promise<AntispoofNet> {
    return new AntispoofNet(await loadSession(AntispoofNet.file));
  }

  /** P(live) of a face. */
  async predict(image: RgbImage, box: Box, widen = DEFAULT_WIDEN): Promise<number> {
    const z = await this.liveLogit(image, box, widen);
    return 1 / (1 + Math.exp(-z));
  }

  /**
   * log(P(live) / P(not live)) of the crop widened `widen` times: unlike P(live) it keeps its resolution where the
   * network is sure (pad-dev's live frames reach logits of 7–10, its attacks mostly stay below 5).
   */
  async liveLogit(image: RgbImage, box: Box, widen = DEFAULT_WIDEN): Promise<number> {
    const t0 = performance.now();
    try {
      return await this.runLogit(image, box, widen);
    } finally {
      antispoofMs.total += performance.now() - t0;
    }
  }

  private async runLogit(image: RgbImage, box: Box, widen: number): Promise<number> {
    const crop = antispoofCrop(image, box, widen);
    const input = new Float32Array(3 * S * S);
    for (let i = 0; i < S * S; i++) {
      input[i] = crop[i * 3 + 2]; // B
      input[S * S + i] = crop[i * 3 + 1]; // G
      input[2 * S * S + i] = crop[i * 3]; // R
    }
    const res = await this.session.run({ input: new ort.Tensor('float32', input, [1, 3, S, S]) });
    const z = Array.from(res.output.data as Float32Array);
    for (const t of Object.values(res)) t.dispose?.();
    // log(e^z0 / (e^z1 + e^z2)), computed stably.
    const rest = Math.max(z[1], z[2]);
    return z[0] - rest - Math.log(Math.exp(z[1] - rest) + Math.exp(z[2] - rest));
  }
}
