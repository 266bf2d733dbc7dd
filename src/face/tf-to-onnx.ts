// TensorFlow layers (NHWC, HWIO filters, "SAME"/"VALID" padding) as ONNX nodes (NCHW, OIHW filters), so networks
// that ship as TensorFlow.js weights run on ONNX Runtime with the same arithmetic: TF's SAME padding puts the odd
// pixel at the end, which is ONNX's SAME_UPPER. Also converts a TensorFlow.js graph model (model.json + weights)
// built from these ops, which is how BlazeFace ships.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Attribute, OnnxGraph } from './onnx-builder.js';

export type Padding = 'same' | 'valid';

/** [kh, kw, in, out] (TF) → [out, in, kh, kw] (ONNX). */
export function hwioToOihw(w: Float32Array, shape: number[]): { data: Float32Array; dims: number[] } {
  const [kh, kw, ci, co] = shape;
  const out = new Float32Array(w.length);
  for (let h = 0; h < kh; h++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) {
    out[((o * ci + i) * kh + h) * kw + x] = w[((h * kw + x) * ci + i) * co + o];
  }
  return { data: out, dims: [co, ci, kh, kw] };
}

/** Depthwise [kh, kw, c, multiplier] (TF) → [c·multiplier, 1, kh, kw] with group = c (ONNX). */
export function depthwiseToOihw(w: Float32Array, shape: number[]): { data: Float32Array; dims: number[]; group: number } {
  const [kh, kw, c, m] = shape;
  const out = new Float32Array(w.length);
  for (let h = 0; h < kh; h++) for (let x = 0; x < kw; x++) for (let i = 0; i < c; i++) for (let k = 0; k < m; k++) {
    out[((i * m + k) * kh + h) * kw + x] = w[((h * kw + x) * c + i) * m + k];
  }
  return { data: out, dims: [c * m, 1, kh, kw], group: c };
}

const padAttrs = (p: Padding): Record<string, Attribute> => (p === 'same' ? { auto_pad: 'SAME_UPPER' } : {});

/** Layer helpers over an OnnxGraph, all in NCHW. */
export class Layers {
  constructor(readonly g: OnnxGraph) {}

  conv(x: string, filter: { values: Float32Array; shape: number[] }, bias: Float32Array | undefined, stride: number, pad: Padding): string {
    const { data, dims } = hwioToOihw(filter.values, filter.shape);
    const inputs = [x, this.g.floats(data, dims)];
    if (bias) inputs.push(this.g.floats(bias, [bias.length], 'b'));
    return this.g.node('Conv', inputs, { kernel_shape: dims.slice(2), strides: [stride, stride], ...padAttrs(pad) });
  }

  depthwise(x: string, filter: { values: Float32Array; shape: number[] }, bias: Float32Array | undefined, stride: number, pad: Padding): string {
    const { data, dims, group } = depthwiseToOihw(filter.values, filter.shape);
    const inputs = [x, this.g.floats(data, dims)];
    if (bias) inputs.push(this.g.floats(bias, [bias.length], 'b'));
    return this.g.node('Conv', inputs, { kernel_shape: dims.slice(2), strides: [stride, stride], group, ...padAttrs(pad) });
  }

  /** tf.separableConv2d + bias: depthwise (stride, padding) then a 1×1 pointwise conv carrying the bias. */
  separable(x: string, depth: { values: Float32Array; shape: number[] }, point: { values: Float32Array; shape: number[] }, bias: Float32Array, stride: number): string {
    return this.conv(this.depthwise(x, depth, undefined, stride, 'same'), point, bias, 1, 'valid');
  }

  relu(x: string): string {
    return this.g.node('Relu', [x]);
  }

  add(a: string, b: string): string {
    return this.g.node('Add', [a, b]);
  }

  maxPool(x: string, k: number, stride: number, pad: Padding): string {
    return this.g.node('MaxPool', [x], { kernel_shape: [k, k], strides: [stride, stride], ...padAttrs(pad) });
  }

  avgPool(x: string, k: number, stride: number): string {
    return this.g.node('AveragePool', [x], { kernel_shape: [k, k], strides: [stride, stride] });
  }

  nhwcToNchw(x: string): string {
    return this.g.node('Transpose', [x], { perm: [0, 3, 1, 2] });
  }

  nchwToNhwc(x: string): string {
    return this.g.node('Transpose', [x], { perm: [0, 2, 3, 1] });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// TensorFlow.js graph models.

interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { s?: string; i?: string; list?: { i?: string[]; s?: string[] } }>;
}

interface WeightEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

/** Reads a tfjs graph model's weights (unquantised float32 / int32 only). */
function readGraphWeights(modelJson: { weightsManifest: { paths: string[]; weights: WeightEntry[] }[] }, dir: string): Map<string, { shape: number[]; values: Float32Array | Int32Array }> {
  const out = new Map<string, { shape: number[]; values: Float32Array | Int32Array }>();
  for (const group of modelJson.weightsManifest) {
    const data = Buffer.concat(group.paths.map((p) => readFileSync(path.join(dir, p))));
    let offset = 0;
    for (const w of group.weights) {
      if ('quantization' in w) throw new Error(`graph model weight ${w.name} is quantised: not supported`);
      const size = w.shape.reduce((a, b) => a * b, 1);
      const bytes = data.subarray(offset, offset + 4 * size);
      const copy = new ArrayBuffer(4 * size);
      new Uint8Array(copy).set(bytes);
      out.set(w.name, { shape: w.shape, values: w.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy) });
      offset += 4 * size;
    }
  }
  return out;
}

const attrString = (n: TfNode, k: string) => Buffer.from(n.attr?.[k]?.s ?? '', 'base64').toString();
const attrInts = (n: TfNode, k: string) => (n.attr?.[k]?.list?.i ?? []).map(Number);

/**
 * Converts a TensorFlow.js graph model made of the ops BlazeFace uses (Conv2D with fused bias/ReLU, depthwise conv,
 * Add, ReLU, MaxPool, channel Pad, Reshape) to ONNX bytes. The ONNX model keeps the TF interface: NHWC float input
 * named `input`, outputs named after the graph's Identity nodes with TF's shapes.
 */
export function convertTfjsGraph(modelJsonPath: string): { bytes: Uint8Array; outputs: string[] } {
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8'));
  const weights = readGraphWeights(json, path.dirname(modelJsonPath));
  const nodes: TfNode[] = json.modelTopology.node;
  const g = new OnnxGraph();
  const L = new Layers(g);
  /** TF tensor name → ONNX value name of the same tensor in NCHW (4-D) or as is (other ranks). */
  const values = new Map<string, string>();
  const weight = (name: string) => {
    const w = weights.get(name);
    if (!w) throw new Error(`graph model: weight ${name} is missing`);
    return w as { shape: number[]; values: Float32Array };
  };
  const value = (name: string) => {
    const v = values.get(name.split(':')[0]);
    if (!v) throw new Error(`graph model: input ${name} is not computed yet`);
    return v;
  };
  const outputs: string[] = [];
  for (const n of nodes) {
    const inp = n.input ?? [];
    switch (n.op) {
      case 'Const':
        break;
      case 'Placeholder': {
        const dims = (n.attr as any)?.shape?.shape?.dim?.map((d: { size: string }) => Number(d.size)) ?? [1, 256, 256, 3];
        values.set(n.name, L.nhwcToNchw(g.input('input', ['N', ...dims.slice(1)])));
        break;
      }
      case '_FusedConv2D': {
        const fused = (n.attr?.fused_ops?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString());
        if (fused[0] !== 'BiasAdd' || fused.length > 2 || (fused[1] && fused[1] !== 'Relu')) throw new Error(`graph model: fused ops ${fused.join('+')} not supported`);
        const pad = attrString(n, 'padding').toLowerCase() as Padding;
        let out = L.conv(value(inp[0]), weight(inp[1]), weight(inp[2]).values, attrInts(n, 'strides')[1], pad);
        if (fused[1] === 'Relu') out = L.relu(out);
        values.set(n.name, out);
        break;
      }
      case 'DepthwiseConv2dNative': {
        const pad = attrString(n, 'padding').toLowerCase() as Padding;
        values.set(n.name, L.depthwise(value(inp[0]), weight(inp[1]), undefined, attrInts(n, 'strides')[1], pad));
        break;
      }
      case 'AddV2':
        values.set(n.name, L.add(value(inp[0]), value(inp[1])));
        break;
      case 'Relu':
        values.set(n.name, L.relu(value(inp[0])));
        break;
      case 'MaxPool':
        values.set(n.name, L.maxPool(value(inp[0]), attrInts(n, 'ksize')[1], attrInts(n, 'strides')[1], attrString(n, 'padding').toLowerCase() as Padding));
        break;
      case 'Pad': {
        // NHWC paddings [[b0,b1],[h0,h1],[w0,w1],[c0,c1]] → ONNX NCHW pads [b0,c0,h0,w0, b1,c1,h1,w1].
        const p = Array.from(weight(inp[1]).values);
        const pads = g.int64s([p[0], p[6], p[2], p[4], p[1], p[7], p[3], p[5]], 'pads');
        values.set(n.name, g.node('Pad', [value(inp[0]), pads], { mode: 'constant' }));
        break;
      }
      case 'Reshape': {
        // TF reshapes NHWC memory order: back to NHWC first.
        const shape = g.int64s(Array.from(weight(inp[1]).values));
        values.set(n.name, g.node('Reshape', [L.nchwToNhwc(value(inp[0])), shape]));
        break;
      }
      case 'Identity': {
        const out = g.node('Identity', [value(inp[0])], {}, n.name);
        g.output(out);
        outputs.push(out);
        values.set(n.name, out);
        break;
      }
      default:
        throw new Error(`graph model: op ${n.op} not supported`);
    }
  }
  return { bytes: g.toBytes(), outputs };
}
