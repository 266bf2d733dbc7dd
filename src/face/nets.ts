// face-api's landmark and age/gender networks, re-implemented on tfjs-core ops over the weights that ship
// in @vladmandic/face-api/model (tfjs "weights manifest" files, not graph models). Doing it here instead of loading
// face-api itself lets us feed crops with our own geometry and keep the WASM heap bounded; the layer structure
// follows face-api's source exactly so the outputs match its outputs.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { packageFile, tf } from './tf.js';

type T4 = tf.Tensor4D;
type Weights = Record<string, tf.Tensor>;

const MEAN_RGB = [122.782, 117.001, 104.298];

interface RawWeight {
  shape: number[];
  values: Float32Array;
}

/**
 * Reads a face-api weights manifest into plain Float32Arrays (uint8-quantised entries dequantised), without going
 * through tensors: the WASM heap never shrinks, so transient copies made there would stay as resident memory.
 */
async function readManifest(name: string): Promise<Map<string, RawWeight>> {
  const dir = packageFile('@vladmandic/face-api', 'model');
  const manifest = JSON.parse(await readFile(path.join(dir, `${name}-weights_manifest.json`), 'utf8')) as {
    paths: string[];
    weights: (tf.io.WeightsManifestEntry & { quantization?: { dtype: string; scale: number; min: number } })[];
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

async function loadManifest(name: string): Promise<Weights> {
  const out: Weights = {};
  for (const [key, w] of await readManifest(name)) out[key] = tf.tensor(w.values, w.shape, 'float32');
  return out;
}

function need(w: Weights, name: string): tf.Tensor {
  const t = w[name];
  if (!t) throw new Error(`face model weight ${name} is missing`);
  return t;
}

/** (x - mean RGB) / 255, as in face-api's networks. Input: float pixels 0..255. */
function normalise(x: T4): T4 {
  return tf.div(tf.sub(x, tf.tensor1d(MEAN_RGB)), 255);
}

function separable(x: T4, w: Weights, prefix: string, stride: 1 | 2): T4 {
  return tf.add(
    tf.separableConv2d(
      x,
      need(w, `${prefix}/depthwise_filter`) as tf.Tensor4D,
      need(w, `${prefix}/pointwise_filter`) as tf.Tensor4D,
      stride,
      'same',
    ),
    need(w, `${prefix}/bias`),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// 68-point landmarks (face-api FaceLandmark68Net: four dense blocks of separable convs + a fully connected layer).

export class Landmark68Net {
  static readonly inputSize = 112;
  private constructor(private readonly w: Weights) {}

  static async load(): Promise<Landmark68Net> {
    return new Landmark68Net(await loadManifest('face_landmark_68_model'));
  }

  private dense(x: T4, prefix: string, first: boolean): T4 {
    const w = this.w;
    const out1 = tf.relu(
      first
        ? tf.add(tf.conv2d(x, need(w, `${prefix}/conv0/filters`) as tf.Tensor4D, 2, 'same'), need(w, `${prefix}/conv0/bias`))
        : separable(x, w, `${prefix}/conv0`, 2),
    ) as T4;
    const out2 = separable(out1, w, `${prefix}/conv1`, 1);
    const in3 = tf.relu(tf.add(out1, out2)) as T4;
    const out3 = separable(in3, w, `${prefix}/conv2`, 1);
    const in4 = tf.relu(tf.add(out1, tf.add(out2, out3))) as T4;
    const out4 = separable(in4, w, `${prefix}/conv3`, 1);
    return tf.relu(tf.add(out1, tf.add(out2, tf.add(out3, out4)))) as T4;
  }

  /**
   * @param crops [N, 112, 112, 3] float pixels of square face crops.
   * @returns [N, 136] landmark coordinates (x0, y0, x1, …) relative to the crop, in [0, 1].
   */
  predict(crops: T4): tf.Tensor2D {
    return tf.tidy(() => {
      let out = this.dense(normalise(crops), 'dense0', true);
      out = this.dense(out, 'dense1', false);
      out = this.dense(out, 'dense2', false);
      out = this.dense(out, 'dense3', false);
      out = tf.avgPool(out, [7, 7], [2, 2], 'valid');
      const flat = tf.reshape(out, [out.shape[0], -1]) as tf.Tensor2D;
      return tf.add(tf.matMul(flat, need(this.w, 'fc/weights') as tf.Tensor2D), need(this.w, 'fc/bias')) as tf.Tensor2D;
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Age and gender (face-api AgeGenderNet: TinyXception with two main blocks, two heads).

export class AgeGenderNet {
  static readonly inputSize = 112;
  private constructor(private readonly w: Weights) {}

  static async load(): Promise<AgeGenderNet> {
    return new AgeGenderNet(await loadManifest('age_gender_model'));
  }

  private convBias(x: T4, prefix: string, stride: 1 | 2): T4 {
    return tf.add(tf.conv2d(x, need(this.w, `${prefix}/filters`) as tf.Tensor4D, stride, 'same'), need(this.w, `${prefix}/bias`));
  }

  private reduction(x: T4, prefix: string, activateInput: boolean): T4 {
    let out = activateInput ? tf.relu(x) : x;
    out = separable(out, this.w, `${prefix}/separable_conv0`, 1);
    out = separable(tf.relu(out), this.w, `${prefix}/separable_conv1`, 1);
    out = tf.maxPool(out, [3, 3], [2, 2], 'same');
    return tf.add(out, this.convBias(x, `${prefix}/expansion_conv`, 2));
  }

  private main(x: T4, prefix: string): T4 {
    let out = separable(tf.relu(x), this.w, `${prefix}/separable_conv0`, 1);
    out = separable(tf.relu(out), this.w, `${prefix}/separable_conv1`, 1);
    out = separable(tf.relu(out), this.w, `${prefix}/separable_conv2`, 1);
    return tf.add(out, x);
  }

  /** @returns age in years and P(male) per crop ([N, 112, 112, 3] float pixels, same crop as the landmarks). */
  predict(crops: T4): { age: tf.Tensor1D; male: tf.Tensor1D } {
    return tf.tidy(() => {
      let out = tf.relu(this.convBias(normalise(crops), 'entry_flow/conv_in', 2)) as T4;
      out = this.reduction(out, 'entry_flow/reduction_block_0', false);
      out = this.reduction(out, 'entry_flow/reduction_block_1', true);
      out = this.main(out, 'middle_flow/main_block_0');
      out = this.main(out, 'middle_flow/main_block_1');
      out = this.reduction(out, 'exit_flow/reduction_block', true);
      out = tf.relu(separable(out, this.w, 'exit_flow/separable_conv', 1));
      const pooled = tf.reshape(tf.avgPool(out, [7, 7], [2, 2], 'valid'), [out.shape[0], -1]) as tf.Tensor2D;
      const fc = (name: string) =>
        tf.add(tf.matMul(pooled, need(this.w, `fc/${name}/weights`) as tf.Tensor2D), need(this.w, `fc/${name}/bias`)) as tf.Tensor2D;
      const age = tf.reshape(fc('age'), [-1]) as tf.Tensor1D;
      const male = tf.reshape(tf.slice(tf.softmax(fc('gender')), [0, 0], [-1, 1]), [-1]) as tf.Tensor1D;
      return { age, male };
    });
  }
}
