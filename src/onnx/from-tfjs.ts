/**
 * A udq model (a chain of tfjs layers) as ONNX graphs, written from the tfjs weights:
 *
 * - `full`: the inference model (Dropout is the identity), input `image` [N,1,28,28] in
 *   [0,1], output `probabilities` [N,classes]: what `udq export` writes.
 * - `prefix`: the deterministic layers before the first Dropout, input `image`, output
 *   `features` (one row per image): the cached sampler's part that runs once per image.
 * - `suffix`: from the first Dropout on, input `features` [B,...] and one mask input per
 *   Dropout (`mask0` [P,B,...], then `mask1`... [P*B,...]), output `logits` (or
 *   `probabilities` when the last layer is not a softmax Dense): P passes of B images.
 *
 * Layout: ONNX convolutions are NCHW, tfjs's NHWC. Weights are transposed; a Flatten of a
 * map larger than 1x1 is preceded by a Transpose back to NHWC so that everything after it
 * (Dense kernels, masks) keeps tfjs's unit order. Masks are given in tfjs's order too
 * ([...,H,W,C] for conv maps) and transposed to NCHW inside the graph.
 *
 * BatchNorm (inference) after a Conv2D/Dense is folded into it: y = a*act(z) + b per channel;
 * for a linear activation the conv's weights and bias absorb a and b; for ReLU,
 * a*relu(z) = sign(a)*relu(|a|z), so the weights take |a| and only a per-channel Add of b
 * (and a Mul by the signs, if any a < 0) remains after the ReLU.
 */
import type * as tf from '@tensorflow/tfjs';
import { Dim, GraphBuilder } from './graph';
import { ModelError } from '../errors';
import { splitPoint } from '../uq/mc-dropout';
import { batchNormWeights } from '../models/batchnorm';

export type GraphPart = 'full' | 'prefix' | 'suffix';

/** One Dropout of the suffix: the mask input the caller fills. */
export interface MaskInput {
  name: string;
  /** index among the model's Dropout layers (the mask hash's layer key) */
  dropoutIndex: number;
  rate: number;
  /** values per image and pass */
  units: number;
  /** the mask's dims per row, in tfjs's order ([H,W,C] for conv maps: the graph transposes them) */
  dims: number[];
}

export interface OnnxGraph {
  bytes: Uint8Array;
  input: { name: string; dims: number[] };
  output: { name: string; kind: 'logits' | 'probabilities'; units: number };
  masks: MaskInput[];
}

/** Per-image shape in ONNX layout: [C,H,W] for maps, [K] for vectors. */
type Shape = number[];

interface Layer {
  layer: tf.layers.Layer;
  cls: string;
  cfg: Record<string, unknown>;
}

function layersOf(model: tf.LayersModel): Layer[] {
  return model.layers
    .filter((l) => l.getClassName() !== 'InputLayer')
    .map((layer) => ({ layer, cls: layer.getClassName(), cfg: layer.getConfig() as Record<string, unknown> }));
}


function onnxShape(tfShape: tf.Shape | tf.Shape[], what: string): Shape {
  if (Array.isArray(tfShape[0])) throw new ModelError(`ONNX export: ${what} has several outputs`);
  const s = (tfShape as (number | null)[]).slice(1) as number[];
  if (s.some((d) => typeof d !== 'number')) throw new ModelError(`ONNX export: ${what} has an unknown dimension`);
  if (s.length === 3) return [s[2], s[0], s[1]];
  if (s.length === 1) return s;
  throw new ModelError(`ONNX export: ${what} has rank ${s.length + 1} (only images NHWC and vectors are supported)`);
}

/** A Keras size or stride option (one number or a pair) as [height, width]. */
export function pair(v: unknown): [number, number] {
  if (Array.isArray(v)) return [v[0] as number, (v[1] ?? v[0]) as number];
  return [v as number, v as number];
}

/** ONNX pads [hBegin, wBegin, hEnd, wEnd] of TF's padding for a known input size. */
export function tfPads(padding: string, inH: number, inW: number, k: [number, number], s: [number, number]): number[] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') throw new ModelError(`ONNX export: padding '${padding}' is not supported`);
  const total = (n: number, kk: number, ss: number) => Math.max((Math.ceil(n / ss) - 1) * ss + kk - n, 0);
  const th = total(inH, k[0], s[0]);
  const tw = total(inW, k[1], s[1]);
  return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
}

/** Per-channel affine (a, b) of an inference-mode BatchNormalization. */
export function batchNormAffine(layer: tf.layers.Layer): { a: Float32Array; b: Float32Array } {
  const w = batchNormWeights(layer);
  const gamma = w.gamma?.dataSync();
  const beta = w.beta?.dataSync();
  const mean = w.movingMean.dataSync();
  const variance = w.movingVariance.dataSync();
  const a = new Float32Array(mean.length);
  const b = new Float32Array(mean.length);
  for (let c = 0; c < mean.length; c++) {
    a[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + w.epsilon);
    b[c] = (beta ? beta[c] : 0) - mean[c] * a[c];
  }
  return { a, b };
}

function activationOf(cfg: Record<string, unknown>): string {
  return (cfg.activation as string | undefined) ?? 'linear';
}

class Converter {
  readonly g: GraphBuilder;
  x: string;
  shape: Shape;
  readonly masks: MaskInput[] = [];
  private dropouts = 0;
  /** suffix: rows are P*B after the first mask */
  private first = true;

  constructor(name: string, inputName: string, inputDims: Dim[], shape: Shape, private readonly part: GraphPart, dropoutsBefore: number) {
    this.g = new GraphBuilder(name);
    this.x = this.g.input(inputName, inputDims);
    this.shape = shape;
    this.dropouts = dropoutsBefore;
  }

  /** Per-channel constant shaped to broadcast over the current tensor. */
  private channelConst(stem: string, v: Float32Array): string {
    return this.g.floats(stem, v, this.shape.length === 3 ? [v.length, 1, 1] : [v.length]);
  }

  activation(act: string, what: string): void {
    if (act === 'linear') return;
    const ops: Record<string, string> = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', softmax: 'Softmax' };
    const op = ops[act];
    if (!op) throw new ModelError(`ONNX export: activation '${act}' of ${what} is not supported`);
    if (op === 'Softmax' && this.shape.length !== 1) throw new ModelError(`ONNX export: softmax over a feature map (${what}) is not supported`);
    this.x = this.g.node(op, [this.x], op === 'Softmax' ? { axis: -1 } : {});
  }

  /** Weights (out-channel major) and bias get the BN fold; returns what must follow the activation. */
  private fold(weights: Float32Array, perOut: number, bias: Float32Array, act: string, bn: { a: Float32Array; b: Float32Array } | null) {
    if (!bn) return { after: null as null | { sign: Float32Array | null; b: Float32Array | null } };
    const out = bias.length;
    const scale = new Float32Array(out);
    if (act === 'linear') {
      for (let o = 0; o < out; o++) scale[o] = bn.a[o];
    } else {
      for (let o = 0; o < out; o++) scale[o] = Math.abs(bn.a[o]);
    }
    for (let o = 0; o < out; o++) {
      for (let j = 0; j < perOut; j++) weights[o * perOut + j] *= scale[o];
      bias[o] = bias[o] * scale[o] + (act === 'linear' ? bn.b[o] : 0);
    }
    if (act === 'linear') return { after: null };
    const sign = bn.a.some((v) => v < 0) ? Float32Array.from(bn.a, (v) => (v < 0 ? -1 : 1)) : null;
    return { after: { sign, b: bn.b.some((v) => v !== 0) ? bn.b : null } };
  }

  private applyAfter(after: { sign: Float32Array | null; b: Float32Array | null } | null): void {
    if (!after) return;
    if (after.sign) this.x = this.g.node('Mul', [this.x, this.channelConst('bn_sign', after.sign)]);
    if (after.b) this.x = this.g.node('Add', [this.x, this.channelConst('bn_shift', after.b)]);
  }

  conv(l: Layer, bn: tf.layers.Layer | null): void {
    const [kernel, biasT] = l.layer.getWeights();
    const [kh, kw, cin, cout] = kernel.shape as number[];
    const k = kernel.dataSync() as Float32Array;
    // tfjs [kh,kw,cin,cout] -> ONNX [cout,cin,kh,kw]
    const w = new Float32Array(k.length);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let i = 0; i < cin; i++)
          for (let o = 0; o < cout; o++) w[((o * cin + i) * kh + y) * kw + x] = k[((y * kw + x) * cin + i) * cout + o];
    const bias = biasT ? Float32Array.from(biasT.dataSync() as Float32Array) : new Float32Array(cout);
    const strides = pair(l.cfg.strides ?? 1);
    const dil = pair(l.cfg.dilationRate ?? 1);
    if (dil[0] !== 1 || dil[1] !== 1) throw new ModelError(`ONNX export: dilated Conv2D (${l.layer.name}) is not supported`);
    if ((l.cfg.dataFormat ?? 'channelsLast') !== 'channelsLast') throw new ModelError(`ONNX export: ${l.layer.name} is not channels-last`);
    const act = activationOf(l.cfg);
    const { after } = this.fold(w, cin * kh * kw, bias, act, bn ? batchNormAffine(bn) : null);
    const pads = tfPads(l.cfg.padding as string, this.shape[1], this.shape[2], [kh, kw], strides);
    this.x = this.g.node('Conv', [this.x, this.g.floats(`${l.layer.name}_W`, w, [cout, cin, kh, kw]), this.g.floats(`${l.layer.name}_B`, bias, [cout])], {
      kernel_shape: [kh, kw],
      strides,
      pads,
    });
    this.shape = onnxShape(l.layer.outputShape, l.layer.name);
    this.activation(act, l.layer.name);
    this.applyAfter(after);
  }

  dense(l: Layer, bn: tf.layers.Layer | null, logits: boolean): void {
    if (this.shape.length !== 1) throw new ModelError(`ONNX export: Dense ${l.layer.name} on a feature map is not supported`);
    const [kernel, biasT] = l.layer.getWeights();
    const [kin, kout] = kernel.shape as number[];
    const k = kernel.dataSync() as Float32Array; // [in, out]
    // fold works on out-major weights: transpose to [out, in], then back for Gemm's transB
    const w = new Float32Array(k.length);
    for (let i = 0; i < kin; i++) for (let o = 0; o < kout; o++) w[o * kin + i] = k[i * kout + o];
    const bias = biasT ? Float32Array.from(biasT.dataSync() as Float32Array) : new Float32Array(kout);
    const act = activationOf(l.cfg);
    const { after } = this.fold(w, kin, bias, act, bn ? batchNormAffine(bn) : null);
    this.x = this.g.node('Gemm', [this.x, this.g.floats(`${l.layer.name}_W`, w, [kout, kin]), this.g.floats(`${l.layer.name}_B`, bias, [kout])], { transB: 1 });
    this.shape = [kout];
    if (!(logits && act === 'softmax')) this.activation(act, l.layer.name);
    this.applyAfter(after);
  }

  batchNorm(l: Layer): void {
    const { a, b } = batchNormAffine(l.layer);
    this.x = this.g.node('Mul', [this.x, this.channelConst('bn_scale', a)]);
    this.x = this.g.node('Add', [this.x, this.channelConst('bn_shift', b)]);
  }

  pool(l: Layer, op: 'MaxPool' | 'AveragePool'): void {
    const size = pair(l.cfg.poolSize ?? 2);
    const strides = pair(l.cfg.strides ?? size);
    const pads = tfPads((l.cfg.padding as string) ?? 'valid', this.shape[1], this.shape[2], size, strides);
    this.x = this.g.node(op, [this.x], { kernel_shape: size, strides, pads, ...(op === 'AveragePool' ? { count_include_pad: 0 } : {}) });
    this.shape = onnxShape(l.layer.outputShape, l.layer.name);
  }

  /** Stochastic layers other than Dropout: the identity at inference; the ort sampler leaves them to tfjs. */
  otherNoise(l: Layer): void {
    this.dropouts++;
    if (this.part === 'suffix') throw new ModelError(`ONNX export: ${l.cls} ${l.layer.name} is sampled with tfjs only`);
  }

  /** Keras Reshape: in tfjs's NHWC order (maps are transposed around it unless they have one channel). */
  reshape(l: Layer): void {
    const target = l.cfg.targetShape as number[];
    if (this.shape.length === 3 && this.shape[0] > 1) this.x = this.g.node('Transpose', [this.x], { perm: [0, 2, 3, 1] });
    const out = onnxShape(l.layer.outputShape, l.layer.name);
    this.x = this.g.node('Reshape', [this.x, this.g.int64s('reshape_shape', [-1, ...target])]);
    if (target.length === 3 && target[2] > 1) this.x = this.g.node('Transpose', [this.x], { perm: [0, 3, 1, 2] });
    else if (target.length === 3) this.x = this.g.node('Reshape', [this.x, this.g.int64s('reshape_shape', [-1, ...out])]);
    this.shape = out;
  }

  flatten(): void {
    if (this.shape.length === 1) return;
    if (this.shape[1] * this.shape[2] > 1) this.x = this.g.node('Transpose', [this.x], { perm: [0, 2, 3, 1] }); // back to tfjs's HWC order
    this.x = this.g.node('Flatten', [this.x], { axis: 1 });
    this.shape = [this.shape.reduce((a, b) => a * b, 1)];
  }

  dropout(l: Layer): void {
    const index = this.dropouts++;
    if (this.part !== 'suffix') return; // inference: identity
    if (l.cfg.noiseShape) throw new ModelError(`ONNX export: Dropout ${l.layer.name} has a noise shape (sampled with tfjs)`);
    const rate = l.cfg.rate as number;
    const units = this.shape.reduce((a, b) => a * b, 1);
    const map = this.shape.length === 3;
    const dims = map ? [this.shape[1], this.shape[2], this.shape[0]] : this.shape;
    const name = `mask${this.masks.length}`;
    if (this.first) {
      // features [B,...] broadcast against mask0 [P,B,...], then rows are pass-major P*B
      this.g.input(name, ['P', 'B', ...dims]);
      const mask = map ? this.g.node('Transpose', [name], { perm: [0, 1, 4, 2, 3] }) : name;
      const product = this.g.node('Mul', [this.x, mask]);
      this.x = this.g.node('Reshape', [product, this.g.int64s('rows_shape', [-1, ...this.shape])]);
      this.first = false;
    } else {
      this.g.input(name, ['R', ...dims]);
      const mask = map ? this.g.node('Transpose', [name], { perm: [0, 3, 1, 2] }) : name;
      this.x = this.g.node('Mul', [this.x, mask]);
    }
    this.masks.push({ name, dropoutIndex: index, rate, units, dims });
  }
}

/**
 * Convert `model` (or its prefix/suffix) to ONNX. `logits`: the suffix/full graph ends with the
 * last Dense's pre-softmax output (`logits`) when that Dense has a softmax activation.
 */
export function tfjsToOnnx(model: tf.LayersModel, part: GraphPart, opts: { logits?: boolean } = {}): OnnxGraph {
  const layers = layersOf(model);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new ModelError('ONNX export: only models with one input and one output are supported');
  const inShape = model.inputs[0].shape;
  if (inShape.length !== 4 || inShape[3] !== 1) throw new ModelError(`ONNX export: input shape [${inShape.slice(1)}] is not supported (expected [H,W,1])`);
  // the tfjs sampler's split: the first stochastic layer
  const split = splitPoint(model);
  if (part === 'suffix' && split === layers.length) throw new ModelError('ONNX export: the model has no Dropout layer, so it has no stochastic suffix');
  const range = part === 'prefix' ? [0, split] : part === 'suffix' ? [split, layers.length] : [0, layers.length];
  const imageShape = onnxShape(inShape as tf.Shape, 'the input');
  let inputName = 'image';
  let inputShape = imageShape;
  if (part === 'suffix') {
    inputName = 'features';
    inputShape = split === 0 ? imageShape : onnxShape(layers[split - 1].layer.outputShape, layers[split - 1].layer.name);
  }
  const dropoutsBefore = layers.slice(0, range[0]).filter((l) => l.cls === 'Dropout').length;
  const c = new Converter(`${model.name}_${part}`, inputName, ['B', ...inputShape], inputShape, part, dropoutsBefore);
  const last = layers.length - 1;
  const logits = (opts.logits ?? false) && layers[last].cls === 'Dense' && activationOf(layers[last].cfg) === 'softmax';
  for (let i = range[0]; i < range[1]; i++) {
    const l = layers[i];
    const next = i + 1 < range[1] ? layers[i + 1] : null;
    const foldable = next?.cls === 'BatchNormalization' && (l.cls === 'Conv2D' || l.cls === 'Dense') && ['linear', 'relu'].includes(activationOf(l.cfg));
    const bn = foldable ? next!.layer : null;
    switch (l.cls) {
      case 'Conv2D':
        c.conv(l, bn);
        break;
      case 'Dense':
        c.dense(l, bn, logits && i === last);
        break;
      case 'BatchNormalization':
        c.batchNorm(l);
        break;
      case 'MaxPooling2D':
        c.pool(l, 'MaxPool');
        break;
      case 'AveragePooling2D':
        c.pool(l, 'AveragePool');
        break;
      case 'Flatten':
        c.flatten();
        break;
      case 'Dropout':
        c.dropout(l);
        break;
      case 'Reshape':
        c.reshape(l);
        break;
      case 'SpatialDropout1D':
      case 'AlphaDropout':
      case 'GaussianDropout':
      case 'GaussianNoise':
        c.otherNoise(l);
        break;
      case 'Activation':
        // standalone activation layer
        c.activation(activationOf(l.cfg), l.layer.name);
        break;
      default:
        throw new ModelError(`ONNX export: layer ${l.layer.name} of class ${l.cls} is not supported`);
    }
    if (bn) i++;
  }
  const outName = part === 'prefix' ? 'features' : logits ? 'logits' : 'probabilities';
  c.x = c.g.node('Identity', [c.x], {}, outName);
  c.g.output(outName, [part === 'suffix' ? 'R' : 'B', ...c.shape]);
  const units = c.shape.reduce((a, b) => a * b, 1);
  return {
    bytes: c.g.toBytes(`udq ${model.name} (${part})`),
    input: { name: inputName, dims: inputShape },
    output: { name: outName, kind: part === 'prefix' ? 'probabilities' : logits ? 'logits' : 'probabilities', units },
    masks: c.masks,
  };
}
