// face-api's landmark and age/gender networks on ONNX Runtime: the layer structure of face-api's source, rebuilt as
// an ONNX graph (onnx-builder.ts, tf-to-onnx.ts) over the weights that ship in @vladmandic/face-api/model (tfjs
// "weights manifest" files), so the outputs match face-api's while the worker runs one inference runtime. Doing it
// here instead of loading face-api itself lets us feed crops with our own geometry.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { OnnxGraph } from './onnx-builder.js';
import { ort, sessionFromBytes } from './onnx.js';
import { packageFile } from './packages.js';
import { Layers } from './tf-to-onnx.js';

const MEAN_RGB = [122.782, 117.001, 104.298];

interface RawWeight {
  shape: number[];
  values: Float32Array;
}

/**
 * Reads a face-api weights manifest into plain Float32Arrays (uint8-quantised entries dequantised), without going
 * through any runtime.
 */
async function readManifest(name: string): Promise<Map<string, RawWeight>> {
  const dir = packageFile('@vladmandic/face-api', 'model');
  const manifest = JSON.parse(await readFile(path.join(dir, `${name}-weights_manifest.json`), 'utf8')) as {
    paths: string[];
    weights: { name: string; shape: number[]; dtype: string; quantization?: { dtype: string; scale: number; min: number } }[];
  }[];
  const out = new Map<string, RawWeight>();
  for (const group of manifest) {
    const data = Buffer.concat(await Promise.all(group.paths.map((p) => readFile(path.join(dir, p)))));
    let offset = 0;
    for (const w of group.weights) {
      const size = w.shape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(size);
      const q = w.quantization;
      if (q && q.dtype === 'uint8') {
        for (let i = 0; i < size; i++) values[i] = data[offset + i] * q.scale + q.min;
        offset += size;
      } else if (!q && w.dtype === 'float32') {
        for (let i = 0; i < size; i++) values[i] = data.readFloatLE(offset + 4 * i);
        offset += 4 * size;
      } else {
        throw new Error(`face model ${name}: weight ${w.name} has an unsupported encoding`);
      }
      out.set(w.name, { shape: w.shape, values });
    }
  }
  return out;
}

type Weights = Map<string, RawWeight>;

function need(w: Weights, name: string): RawWeight {
  const t = w.get(name);
  if (!t) throw new Error(`face model weight ${name} is missing`);
  return t;
}

/** Input: [N, 112, 112, 3] float pixels 0..255 (NHWC, as face-api takes them); (x − mean RGB) / 255, then NCHW. */
function normalisedInput(g: OnnxGraph, L: Layers, size: number): string {
  const x = g.input('input', ['N', size, size, 3]);
  const centred = g.node('Sub', [x, g.floats(MEAN_RGB, [3], 'mean')]);
  return L.nhwcToNchw(g.node('Div', [centred, g.floats([255], [1], 'scale')]));
}

function separable(L: Layers, x: string, w: Weights, prefix: string, stride: 1 | 2): string {
  return L.separable(x, need(w, `${prefix}/depthwise_filter`), need(w, `${prefix}/pointwise_filter`), need(w, `${prefix}/bias`).values, stride);
}

function dense(L: Layers, g: OnnxGraph, w: Weights, x: string, out: number, prefix: string): string {
  const weights = need(w, `${prefix}/weights`);
  return g.node('Gemm', [x, g.floats(weights.values, weights.shape), g.floats(need(w, `${prefix}/bias`).values, [out], 'b')], {}, undefined);
}

/** Runs a one-input network on N crops of size² RGB float pixels (NHWC); returns its outputs' data. */
async function runCrops(session: ort.InferenceSession, crops: Float32Array, n: number, size: number): Promise<Record<string, Float32Array>> {
  const res = await session.run({ input: new ort.Tensor('float32', crops, [n, size, size, 3]) });
  const out: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(res)) {
    out[k] = (t.data as Float32Array).slice();
    t.dispose?.();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// 68-point landmarks (face-api FaceLandmark68Net: four dense blocks of separable convs + a fully connected layer).

export class Landmark68Net {
  static readonly inputSize = 112;
  private constructor(private readonly session: ort.InferenceSession) {}

  static async load(): Promise<Landmark68Net> {
    return new Landmark68Net(await sessionFromBytes(Landmark68Net.graph(await readManifest('face_landmark_68_model'))));
  }

  static graph(w: Weights): Uint8Array {
    const g = new OnnxGraph();
    const L = new Layers(g);
    const denseBlock = (x: string, prefix: string, first: boolean): string => {
      const out1 = L.relu(
        first
          ? L.conv(x, need(w, `${prefix}/conv0/filters`), need(w, `${prefix}/conv0/bias`).values, 2, 'same')
          : separable(L, x, w, `${prefix}/conv0`, 2),
      );
      const out2 = separable(L, out1, w, `${prefix}/conv1`, 1);
      const in3 = L.relu(L.add(out1, out2));
      const out3 = separable(L, in3, w, `${prefix}/conv2`, 1);
      const in4 = L.relu(L.add(out1, L.add(out2, out3)));
      const out4 = separable(L, in4, w, `${prefix}/conv3`, 1);
      return L.relu(L.add(out1, L.add(out2, L.add(out3, out4))));
    };
    let out = denseBlock(normalisedInput(g, L, Landmark68Net.inputSize), 'dense0', true);
    out = denseBlock(out, 'dense1', false);
    out = denseBlock(out, 'dense2', false);
    out = denseBlock(out, 'dense3', false);
    const flat = g.node('Flatten', [L.avgPool(out, 7, 2)]);
    g.node('Identity', [dense(L, g, w, flat, 136, 'fc')], {}, 'landmarks');
    g.output('landmarks', ['N', 136]);
    return g.toBytes();
  }

  /**
   * @param crops N square face crops, [N, 112, 112, 3] float pixels 0..255.
   * @returns [N × 136] landmark coordinates (x0, y0, x1, …) relative to the crop, in [0, 1].
   */
  async predict(crops: Float32Array, n: number): Promise<Float32Array> {
    return (await runCrops(this.session, crops, n, Landmark68Net.inputSize)).landmarks;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Age and gender (face-api AgeGenderNet: TinyXception with two main blocks, two heads).

export class AgeGenderNet {
  static readonly inputSize = 112;
  private constructor(private readonly session: ort.InferenceSession) {}

  static async load(): Promise<AgeGenderNet> {
    return new AgeGenderNet(await sessionFromBytes(AgeGenderNet.graph(await readManifest('age_gender_model'))));
  }

  static graph(w: Weights): Uint8Array {
    const g = new OnnxGraph();
    const L = new Layers(g);
    const convBias = (x: string, prefix: string, stride: 1 | 2) => L.conv(x, need(w, `${prefix}/filters`), need(w, `${prefix}/bias`).values, stride, 'same');
    const reduction = (x: string, prefix: string, activateInput: boolean) => {
      let out = activateInput ? L.relu(x) : x;
      out = separable(L, out, w, `${prefix}/separable_conv0`, 1);
      out = separable(L, L.relu(out), w, `${prefix}/separable_conv1`, 1);
      out = L.maxPool(out, 3, 2, 'same');
      return L.add(out, convBias(x, `${prefix}/expansion_conv`, 2));
    };
    const main = (x: string, prefix: string) => {
      let out = separable(L, L.relu(x), w, `${prefix}/separable_conv0`, 1);
      out = separable(L, L.relu(out), w, `${prefix}/separable_conv1`, 1);
      out = separable(L, L.relu(out), w, `${prefix}/separable_conv2`, 1);
      return L.add(out, x);
    };
    let out = L.relu(convBias(normalisedInput(g, L, AgeGenderNet.inputSize), 'entry_flow/conv_in', 2));
    out = reduction(out, 'entry_flow/reduction_block_0', false);
    out = reduction(out, 'entry_flow/reduction_block_1', true);
    out = main(out, 'middle_flow/main_block_0');
    out = main(out, 'middle_flow/main_block_1');
    out = reduction(out, 'exit_flow/reduction_block', true);
    out = L.relu(separable(L, out, w, 'exit_flow/separable_conv', 1));
    const pooled = g.node('Flatten', [L.avgPool(out, 7, 2)]);
    g.node('Flatten', [dense(L, g, w, pooled, 1, 'fc/age')], { axis: 0 }, 'age');
    g.node('Softmax', [dense(L, g, w, pooled, 2, 'fc/gender')], { axis: 1 }, 'gender');
    g.output('age');
    g.output('gender', ['N', 2]);
    return g.toBytes();
  }

  /** Age in years and P(male) per crop ([N, 112, 112, 3] float pixels, same crop as the landmarks). */
  async predict(crops: Float32Array, n: number): Promise<{ age: Float32Array; male: Float32Array }> {
    const out = await runCrops(this.session, crops, n, AgeGenderNet.inputSize);
    const male = new Float32Array(n);
    for (let i = 0; i < n; i++) male[i] = out.gender[2 * i];
    return { age: out.age, male };
  }
}
