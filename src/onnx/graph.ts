/**
 * A small builder for ONNX graphs over the protobuf schema of `onnx-proto` (the ONNX
 * project's own onnx.proto compiled by protobufjs): names, initializers, nodes and the
 * typed inputs/outputs, encoded to the bytes of a ModelProto. No hand-written protobuf.
 */
import { onnx } from 'onnx-proto';

/** ONNX opset the exported graphs use (Softmax on the last axis, Reshape with a shape input). */
export const ONNX_OPSET = 13;
/** IR version 8 (the newest `onnx-proto` knows); onnxruntime 1.30 reads it. */
const IR_VERSION = 8;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/** A dimension: a number, or a symbolic name such as 'N' for the batch. */
export type Dim = number | string;

/** Integers are INT attributes, `{ float }` a FLOAT one, arrays INTS, strings STRING. */
export type AttributeValue = number | number[] | string | { float: number };

export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  /** operator domains other than ONNX's own, from ops written `domain:Op` */
  private readonly domains = new Set<string>();
  private counter = 0;

  constructor(private readonly name: string) {}

  /** A fresh tensor name starting with `stem`. */
  fresh(stem: string): string {
    let name = stem;
    while (this.used.has(name)) name = `${stem}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  input(name: string, dims: Dim[]): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  output(name: string, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, dims));
  }

  /** A float32 constant (weights, biases); returns its name. */
  floats(stem: string, values: Float32Array, dims: number[]): string {
    if (values.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`initializer ${stem}: ${values.length} values for shape [${dims}]`);
    const name = this.fresh(stem);
    const raw = new Uint8Array(values.byteLength);
    new Float32Array(raw.buffer).set(values); // little-endian on every platform Node runs on
    this.initializers.push({ name, dataType: FLOAT, dims, rawData: raw });
    return name;
  }

  /** An int64 constant (Reshape's shape input). */
  int64s(stem: string, values: number[]): string {
    const name = this.fresh(stem);
    const raw = new Uint8Array(values.length * 8);
    new BigInt64Array(raw.buffer).set(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dataType: INT64, dims: [values.length], rawData: raw });
    return name;
  }

  /**
   * Add a node; returns its (single) output name, `out` or a fresh one from the op type. An op
   * of another domain than ONNX's is written `domain:Op` (e.g. `com.microsoft.nchwc:Conv`).
   */
  node(op: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, out?: string): string {
    const colon = op.lastIndexOf(':');
    const domain = colon < 0 ? '' : op.slice(0, colon);
    const opType = op.slice(colon + 1);
    if (domain) this.domains.add(domain);
    const output = out ?? this.fresh(opType.toLowerCase());
    this.used.add(output);
    this.nodes.push({
      opType,
      ...(domain ? { domain } : {}),
      name: this.fresh(`${opType.toLowerCase()}_node`),
      input: inputs,
      output: [output],
      attribute: Object.entries(attributes).map(([name, v]) => attribute(name, v)),
    });
    return output;
  }

  /** The encoded ModelProto. */
  toBytes(docString = ''): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: 'udq',
      docString,
      opsetImport: [{ domain: '', version: ONNX_OPSET }, ...[...this.domains].map((domain) => ({ domain, version: 1 }))],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, v: AttributeValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if (typeof v === 'object') return { name, type: T.FLOAT, f: v.float };
  if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer (use { float } for a FLOAT attribute)`);
  return { name, type: T.INT, i: v };
}

/** Decode a ModelProto (tests and `udq export`'s summary read back what was written). */
export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
