// A small ONNX model writer: the protobuf encoding of the part of the ONNX format our converted networks need
// (a graph of nodes with int/float/ints attributes, float and int64 initialisers, typed inputs and outputs). It lets
// the worker run networks that ship as TensorFlow.js weights (BlazeFace, face-api's landmark and age/gender nets) on
// ONNX Runtime, built in memory at load time from the files in node_modules: no second runtime, nothing downloaded.
// Field numbers are onnx.proto's (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto).

class Writer {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.size += b.length;
  }

  private varint(v: number | bigint): void {
    let n = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    do {
      let byte = Number(n & 0x7fn);
      n >>= 7n;
      if (n) byte |= 0x80;
      out.push(byte);
    } while (n);
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, m: Writer): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

export type Attribute = number | number[] | string | { float: number };

const FLOAT = 1;
const INT64 = 7;

function attribute(name: string, v: Attribute): Writer {
  const w = new Writer().string(1, name);
  if (typeof v === 'string') return w.bytes(4, new TextEncoder().encode(v)).int(20, 3);
  if (typeof v === 'number') return w.int(3, v).int(20, 2);
  if (Array.isArray(v)) {
    for (const x of v) w.int(8, x);
    return w.int(20, 7);
  }
  return w.float(2, v.float).int(20, 1);
}

/** A float tensor's name and type; `dims` undefined leaves its shape to ONNX Runtime's inference. */
function valueInfo(name: string, dims?: (number | string)[]): Writer {
  const tensorType = new Writer().int(1, FLOAT);
  if (dims) {
    const shape = new Writer();
    for (const d of dims) shape.message(1, typeof d === 'number' ? new Writer().int(1, d) : new Writer().string(2, d));
    tensorType.message(2, shape);
  }
  return new Writer().string(1, name).message(2, new Writer().message(1, tensorType));
}

/** An ONNX graph under construction: add initialisers and nodes, then `toBytes()` for InferenceSession.create. */
export class OnnxGraph {
  private readonly nodes: Writer[] = [];
  private readonly initialisers: Writer[] = [];
  private readonly inputs: Writer[] = [];
  private readonly outputs: Writer[] = [];
  private counter = 0;

  /** A fresh value name. */
  name(hint = 'v'): string {
    return `${hint}_${this.counter++}`;
  }

  input(name: string, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  output(name: string, dims?: (number | string)[]): void {
    this.outputs.push(valueInfo(name, dims));
  }

  /** A float32 constant. */
  floats(values: Float32Array | number[], dims: number[], hint = 'w'): string {
    const name = this.name(hint);
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    const t = new Writer();
    for (const d of dims) t.int(1, d);
    t.int(2, FLOAT).string(8, name).bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.initialisers.push(t);
    return name;
  }

  /** An int64 constant (shapes, pads). */
  int64s(values: number[], hint = 'shape'): string {
    const name = this.name(hint);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    const t = new Writer().int(1, values.length).int(2, INT64).string(8, name).bytes(9, new Uint8Array(data.buffer));
    this.initialisers.push(t);
    return name;
  }

  /** Adds a node; returns its (first) output's name. */
  node(op: string, inputs: string[], attrs: Record<string, Attribute> = {}, output?: string): string {
    const out = output ?? this.name(op.toLowerCase());
    const n = new Writer();
    for (const i of inputs) n.string(1, i);
    n.string(2, out).string(3, out).string(4, op);
    for (const [k, v] of Object.entries(attrs)) n.message(5, attribute(k, v));
    this.nodes.push(n);
    return out;
  }

  toBytes(): Uint8Array {
    const g = new Writer();
    for (const n of this.nodes) g.message(1, n);
    g.string(2, 'graph');
    for (const t of this.initialisers) g.message(5, t);
    for (const i of this.inputs) g.message(11, i);
    for (const o of this.outputs) g.message(12, o);
    return new Writer()
      .int(1, 7) // IR version 7 (ONNX 1.8+)
      .string(2, 'facegate')
      .message(7, g)
      .message(8, new Writer().string(1, '').int(2, 13))
      .finish();
  }
}
