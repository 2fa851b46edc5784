/**
 * One training step of a udq model as an ordinary ONNX graph (issue #18): onnxruntime has no
 * training API, so the forward pass, the loss and every backward op are written out here.
 *
 * Inputs: `x` [N,1,28,28] (a [N,28,28,1] tfjs batch has the same bytes), `target` [N,K] (one-hot
 * digits; 1/K rows for outlier exposure), `rowWeight` [N,1] (each row's weight in the loss: 1/n
 * for n digits, oeWeight/m for m outliers), every trainable weight in tfjs's layout (conv
 * kernels [kh,kw,cin,cout], dense [in,out], vectors), one `mask<i>` per Dropout (already scaled
 * by 1/(1-rate), in the graph's layout: [N,C,H,W] or [N,K]), and for BatchNorm in `frozen`
 * mode its moving mean and variance.
 * Outputs: `loss` (the weighted cross-entropy, a scalar), `probabilities` [N,K], `grad:<weight>`
 * for every trainable weight (tfjs layout), and in `batch` mode each BatchNorm's batch mean and
 * (biased) variance `bnMean<i>`, `bnVar<i>` for the moving averages kept in JS.
 *
 * Backward ops: softmax cross-entropy (p - t) * w; Dense: x^T dy, sum(dy), dy W^T; ReLU: dy where
 * y > 0; Dropout: dy * mask; MaxPool 2x2: dy to the window's (first) maximum;
 * BatchNorm (batch statistics): the closed form dx = (g / sigma) (dy - mean(dy) - xhat
 * mean(dy xhat)); Conv, with `nchwcBlock` (onnxruntime's blocked-layout kernels, see
 * {@link nchwcConv}): the forward, the weight gradient (a Conv of the input by the output
 * gradient, batch as channels) and the input gradient (a Conv by the flipped kernel, by phases
 * when strided) all as NCHWc Convs; without it (or for a batch that is not a multiple of the
 * block) the input gradient as a ConvTranspose with the forward's strides and pads, the weight
 * gradient as one GEMM of the output gradient by an im2col of the padded input.
 */
import type * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from './graph';
import { pair, tfPads } from './from-tfjs';
import { ModelError } from '../errors';

/** A layer the ort trainer covers, with its shapes (per image, ONNX layout [C,H,W] or [K]). */
export type TrainLayer =
  | { kind: 'conv'; index: number; kernel: [number, number]; strides: [number, number]; pads: number[]; filters: number; relu: boolean; inShape: number[]; outShape: number[] }
  | { kind: 'bn'; index: number; epsilon: number; momentum: number; channels: number; shape: number[] }
  | { kind: 'maxpool'; index: number; inShape: number[]; outShape: number[] }
  | { kind: 'flatten'; index: number; inShape: number[]; outShape: number[] }
  | { kind: 'dense'; index: number; units: number; inUnits: number; activation: 'relu' | 'softmax' | 'linear' }
  | { kind: 'dropout'; index: number; rate: number; shape: number[] };

/** The ort trainer does not cover this model: why, in one line. */
export class UnsupportedForOrtTraining extends ModelError {}


/**
 * The model's layers as the trainer sees them, or UnsupportedForOrtTraining naming the first
 * layer it does not cover (its class, or the option of it).
 */
export function describeForTraining(model: tf.LayersModel): TrainLayer[] {
  const out: TrainLayer[] = [];
  let shape: number[] = [1, 28, 28];
  const inShape = model.inputs[0]?.shape;
  if (!inShape || inShape.length !== 4 || inShape[1] !== 28 || inShape[2] !== 28 || inShape[3] !== 1) {
    throw new UnsupportedForOrtTraining(`the ort trainer takes [28,28,1] inputs, this model's input is [${inShape?.slice(1).join(',')}]`);
  }
  let dropouts = 0;
  model.layers.forEach((layer, index) => {
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Record<string, unknown>;
    const refuse = (why: string): never => {
      throw new UnsupportedForOrtTraining(`layer ${index} (${cls} '${layer.name}'): ${why}`);
    };
    const act = (cfg.activation as string | undefined) ?? 'linear';
    if (cls === 'InputLayer') return;
    if (cls === 'Conv2D') {
      if (shape.length !== 3) refuse('a convolution after a flatten');
      const kernel = pair(cfg.kernelSize);
      const strides = pair(cfg.strides ?? 1);
      const dil = pair(cfg.dilationRate ?? 1);
      if (dil[0] !== 1 || dil[1] !== 1) refuse('dilated convolutions are not covered');
      if (cfg.dataFormat && cfg.dataFormat !== 'channelsLast') refuse('channelsFirst is not covered');
      if (cfg.useBias === false) refuse('convolutions without a bias are not covered');
      if (act !== 'relu' && act !== 'linear') refuse(`activation '${act}' is not covered (relu, linear)`);
      const padding = cfg.padding as string;
      if (padding !== 'same' && padding !== 'valid') refuse(`padding '${padding}' is not covered`);
      const [c, h, w] = shape;
      const pads = tfPads(padding, h, w, kernel, strides);
      const oh = Math.floor((h + pads[0] + pads[2] - kernel[0]) / strides[0]) + 1;
      const ow = Math.floor((w + pads[1] + pads[3] - kernel[1]) / strides[1]) + 1;
      const filters = cfg.filters as number;
      out.push({ kind: 'conv', index, kernel, strides, pads, filters, relu: act === 'relu', inShape: [c, h, w], outShape: [filters, oh, ow] });
      shape = [filters, oh, ow];
    } else if (cls === 'BatchNormalization') {
      const axis = cfg.axis as number;
      if (axis !== -1 && axis !== shape.length) refuse(`axis ${axis} is not covered (the last axis)`);
      if (cfg.center === false || cfg.scale === false) refuse('BatchNorm without centre or scale is not covered');
      out.push({ kind: 'bn', index, epsilon: cfg.epsilon as number, momentum: cfg.momentum as number, channels: shape[0], shape: [...shape] });
    } else if (cls === 'MaxPooling2D') {
      const size = pair(cfg.poolSize);
      const strides = pair(cfg.strides ?? cfg.poolSize);
      if (size[0] !== 2 || size[1] !== 2 || strides[0] !== 2 || strides[1] !== 2 || cfg.padding !== 'valid') refuse('only 2x2 max pooling with stride 2, valid, is covered');
      if (shape[1] % 2 || shape[2] % 2) refuse(`max pooling of an odd map ${shape[1]}x${shape[2]} is not covered`);
      const o = [shape[0], shape[1] / 2, shape[2] / 2];
      out.push({ kind: 'maxpool', index, inShape: shape, outShape: o });
      shape = o;
    } else if (cls === 'Flatten') {
      const o = [shape.reduce((a, b) => a * b, 1)];
      out.push({ kind: 'flatten', index, inShape: shape, outShape: o });
      shape = o;
    } else if (cls === 'Dense') {
      if (shape.length !== 1) refuse('a Dense layer on a map (flatten first)');
      if (cfg.useBias === false) refuse('Dense without a bias is not covered');
      if (act !== 'relu' && act !== 'linear' && act !== 'softmax') refuse(`activation '${act}' is not covered (relu, linear, softmax)`);
      out.push({ kind: 'dense', index, units: cfg.units as number, inUnits: shape[0], activation: act as 'relu' | 'softmax' | 'linear' });
      shape = [cfg.units as number];
    } else if (cls === 'Dropout') {
      if (cfg.noiseShape) refuse('Dropout with a noise shape is not covered');
      out.push({ kind: 'dropout', index, rate: cfg.rate as number, shape: [...shape] });
      dropouts++;
    } else refuse('not covered by the ort trainer (Conv2D, BatchNormalization, MaxPooling2D 2x2, Flatten, Dense, Dropout)');
  });
  const last = out[out.length - 1];
  if (!last || last.kind !== 'dense' || last.activation !== 'softmax') throw new UnsupportedForOrtTraining('the last layer must be a softmax Dense');
  const hiddenSoftmax = out.find((l) => l !== last && l.kind === 'dense' && l.activation === 'softmax');
  if (hiddenSoftmax) throw new UnsupportedForOrtTraining(`layer ${hiddenSoftmax.index}: a softmax is only covered on the last layer`);
  void dropouts;
  return out;
}

/** BatchNorm in training: `batch` statistics (and moving averages updated), or `frozen` (the moving statistics, as at prediction; gamma and beta still train). */
export type BatchNormMode = 'batch' | 'frozen';

/** A weight of the model the graph takes as an input (tfjs layout) and returns the gradient of. */
export interface GraphParam {
  /** input name; the gradient output is `grad:<name>` */
  name: string;
  /** tfjs layout */
  shape: number[];
  /** index of the layer in model.layers, and which of its trainable weights (0 kernel/gamma, 1 bias/beta) */
  layer: number;
  slot: number;
}

export interface TrainingGraph {
  bytes: Uint8Array;
  params: GraphParam[];
  /** Dropout mask inputs, per image shape in the graph's layout */
  masks: { name: string; layer: number; rate: number; shape: number[] }[];
  /** BatchNorm layers: in `batch` mode the outputs bnMean<i>/bnVar<i>, in `frozen` mode the inputs bnMovingMean<i>/bnMovingVar<i> */
  batchNorms: { layer: number; channels: number; momentum: number; mean: string; variance: string }[];
  classes: number;
}

/** How the step graph computes its convolutions. */
export interface TrainingGraphOptions {
  /**
   * onnxruntime's NCHWc block (16 with AVX-512, 8 with AVX2; {@link nchwcBlockSize}): the
   * convolutions whose channels fit it run on onnxruntime's blocked-layout direct kernels
   * (`com.microsoft.nchwc` Conv), forward, input gradient and weight gradient; the batch must
   * then be a multiple of the block. 0 or absent: plain ONNX Conv / ConvTranspose / im2col.
   */
  nchwcBlock?: number;
}

/**
 * Build the training-step graph of `layers` (from {@link describeForTraining}).
 */
export function buildTrainingGraph(layers: TrainLayer[], bnMode: BatchNormMode, opts: TrainingGraphOptions = {}): TrainingGraph {
  const g = new GraphBuilder('udq-train-step');
  const params: GraphParam[] = [];
  const masks: TrainingGraph['masks'] = [];
  const batchNorms: TrainingGraph['batchNorms'] = [];
  const last = layers[layers.length - 1] as Extract<TrainLayer, { kind: 'dense' }>;
  const K = last.units;
  const x = g.input('x', ['N', 1, 28, 28]);
  const target = g.input('target', ['N', K]);
  const rowWeight = g.input('rowWeight', ['N', 1]);
  const zero = g.floats('zero', Float32Array.of(0), []);
  let oneName = '';
  const one = () => (oneName ||= g.floats('one', Float32Array.of(1), []));
  /** backward closures, run in reverse: each takes the gradient of its output and returns the gradient of its input */
  const tape: ((dy: string) => string)[] = [];
  const grads: { name: string; grad: string; shape: number[] }[] = [];
  const param = (layer: number, slot: number, stem: string, shape: number[]): string => {
    const name = g.input(`L${layer}.${stem}`, shape);
    params.push({ name, shape, layer, slot });
    return name;
  };
  // dy times the 0/1 mask of y > 0, as a float: Where(y > 0, dy, 0) broadcast its scalar at a
  // third of the speed of a Mul of equal shapes (and Sign is not vectorised)
  const reluBackward = (y: string) => (dy: string) => g.node('Mul', [dy, g.node('Cast', [g.node('Greater', [y, zero])], { to: 1 })]);

  let h = x;
  let logits = '';
  layers.forEach((L, i) => {
    const isLast = i === layers.length - 1;
    if (L.kind === 'conv') {
      const [cin] = L.inShape;
      const kTf = param(L.index, 0, 'kernel', [L.kernel[0], L.kernel[1], cin, L.filters]);
      const bias = param(L.index, 1, 'bias', [L.filters]);
      const B = opts.nchwcBlock ?? 0;
      if (nchwcCovers(L, B)) {
        h = nchwcConv(g, L, i === 0, B, h, kTf, bias, tape, grads, reluBackward);
        return;
      }
      const w = g.node('Transpose', [kTf], { perm: [3, 2, 0, 1] }); // [cout,cin,kh,kw]
      const input = h;
      const attrs = { kernel_shape: L.kernel, strides: L.strides, pads: L.pads };
      const z = g.node('Conv', [input, w, bias], attrs);
      const y = L.relu ? g.node('Relu', [z]) : z;
      tape.push((dy) => {
        const dz = L.relu ? reluBackward(y)(dy) : dy;
        // bias: sum over batch and space
        grads.push({ name: bias, grad: g.node('ReduceSum', [dz, g.int64s('axes', [0, 2, 3])], { keepdims: 0 }), shape: [L.filters] });
        // kernel: the input's patches by a depthwise Conv with one-hot filters (channel ci*kh*kw + tap
        // holds tap (a,c) of input channel ci), then per image [cin*kh*kw, P] x [P, cout] (P = oh*ow)
        // summed over the batch. A Conv with the batch as channels and the output gradient as a
        // 24x24 filter ran at 2 GMAC/s on the first layers; slicing taps out cost more than the GEMM.
        const [kh, kw] = L.kernel;
        const [oh, ow] = [L.outShape[1], L.outShape[2]];
        const P = oh * ow;
        const onehot = new Float32Array(cin * kh * kw * kh * kw);
        for (let ci = 0; ci < cin; ci++) for (let t = 0; t < kh * kw; t++) onehot[(ci * kh * kw + t) * kh * kw + t] = 1;
        const patchFilter = g.floats('patches', onehot, [cin * kh * kw, 1, kh, kw]);
        const patches = g.node('Reshape', [g.node('Conv', [input, patchFilter], { group: cin, kernel_shape: L.kernel, strides: L.strides, pads: L.pads }), g.int64s('pshape', [0, cin * kh * kw, P])]);
        const dzT = g.node('Transpose', [g.node('Reshape', [dz, g.int64s('dzshape', [0, L.filters, P])])], { perm: [0, 2, 1] });
        const dwSum = g.node('ReduceSum', [g.node('MatMul', [patches, dzT]), g.int64s('axes', [0])], { keepdims: 0 }); // [cin*kh*kw, cout]
        const dw = g.node('Reshape', [dwSum, g.int64s('dw', [cin, kh, kw, L.filters])]);
        grads.push({ name: kTf, grad: g.node('Transpose', [dw], { perm: [1, 2, 0, 3] }), shape: [kh, kw, cin, L.filters] });
        if (i === 0) return '';
        return convInputGradient(g, L, dz, w);
      });
      h = y;
    } else if (L.kind === 'bn') {
      const gamma = param(L.index, 0, 'gamma', [L.channels]);
      const beta = param(L.index, 1, 'beta', [L.channels]);
      const spatial = L.shape.length === 3;
      const axes = spatial ? [0, 2, 3] : [0];
      const bshape = spatial ? [1, L.channels, 1, 1] : [1, L.channels];
      const rs = (v: string) => g.node('Reshape', [v, g.int64s('bshape', bshape)]);
      const eps = g.floats('eps', Float32Array.of(L.epsilon), []);
      const input = h;
      let mean: string;
      let variance: string;
      let centred = '';
      if (bnMode === 'batch') {
        mean = g.node('ReduceMean', [input], { axes, keepdims: 1 });
        centred = g.node('Sub', [input, mean]);
        variance = g.node('ReduceMean', [g.node('Mul', [centred, centred])], { axes, keepdims: 1 });
        const mOut = `bnMean${batchNorms.length}`;
        const vOut = `bnVar${batchNorms.length}`;
        g.node('Reshape', [mean, g.int64s('cshape', [L.channels])], {}, mOut);
        g.node('Reshape', [variance, g.int64s('cshape', [L.channels])], {}, vOut);
        g.output(mOut, [L.channels]);
        g.output(vOut, [L.channels]);
        batchNorms.push({ layer: L.index, channels: L.channels, momentum: L.momentum, mean: mOut, variance: vOut });
      } else {
        const mIn = g.input(`bnMovingMean${batchNorms.length}`, [L.channels]);
        const vIn = g.input(`bnMovingVar${batchNorms.length}`, [L.channels]);
        batchNorms.push({ layer: L.index, channels: L.channels, momentum: L.momentum, mean: mIn, variance: vIn });
        mean = rs(mIn);
        variance = rs(vIn);
      }
      const invStd = g.node('Reciprocal', [g.node('Sqrt', [g.node('Add', [variance, eps])])]);
      const flat = (v: string) => g.node('Reshape', [v, g.int64s('cshape', [L.channels])]);
      // the output in one pass: onnxruntime's (inference) BatchNormalization with these statistics
      const stats = batchNorms[batchNorms.length - 1];
      const y = g.node('BatchNormalization', [input, gamma, beta, stats.mean, stats.variance], { epsilon: { float: L.epsilon } });
      if (bnMode === 'frozen') {
        const xhat = g.node('Mul', [g.node('Sub', [input, mean]), invStd]);
        tape.push((dy) => {
          grads.push({ name: gamma, grad: flat(g.node('ReduceSum', [g.node('Mul', [dy, xhat]), g.int64s('axes', axes)], { keepdims: 1 })), shape: [L.channels] });
          grads.push({ name: beta, grad: g.node('ReduceSum', [dy, g.int64s('axes', axes)], { keepdims: 0 }), shape: [L.channels] });
          return g.node('Mul', [dy, g.node('Mul', [rs(gamma), invStd])]);
        });
      } else {
        tape.push((dy) => {
          // with c = x - mean and r = 1/sigma (xhat = c r), per channel over the M = N*H*W values:
          // dgamma = r sum(dy c), dbeta = sum(dy), and
          // dx = gamma r (dy - mean(dy) - xhat mean(dy xhat)) = s dy + v + c u
          // with s = gamma r, k = s / M, v = -k sum(dy), u = -k r^2 sum(dy c):
          // s dy + v in one pass (a BatchNormalization with mean 0, variance 1, epsilon 0)
          const sumDyc = g.node('ReduceSum', [g.node('Mul', [dy, centred]), g.int64s('axes', axes)], { keepdims: 1 });
          const sumDy = g.node('ReduceSum', [dy, g.int64s('axes', axes)], { keepdims: 1 });
          grads.push({ name: gamma, grad: flat(g.node('Mul', [sumDyc, invStd])), shape: [L.channels] });
          grads.push({ name: beta, grad: flat(sumDy), shape: [L.channels] });
          const scale = g.node('Mul', [rs(gamma), invStd]);
          const shape = g.node('Shape', [dy]);
          const count = g.node('Cast', [g.node('ReduceProd', [g.node('Gather', [shape, g.int64s('reduced', axes)])], { keepdims: 1 })], { to: 1 });
          const k = g.node('Neg', [g.node('Div', [scale, count])]); // -gamma / (sigma M), per channel
          const v = g.node('Mul', [k, sumDy]);
          const u = g.node('Mul', [g.node('Mul', [k, g.node('Mul', [invStd, invStd])]), sumDyc]);
          const zeros = g.floats('zeros', new Float32Array(L.channels), [L.channels]);
          const ones = g.floats('ones', new Float32Array(L.channels).fill(1), [L.channels]);
          const affine = g.node('BatchNormalization', [dy, flat(scale), flat(v), zeros, ones], { epsilon: { float: 0 } });
          return g.node('Add', [affine, g.node('Mul', [centred, u])]);
        });
      }
      h = y;
    } else if (L.kind === 'maxpool') {
      const [c, ih, iw] = L.inShape;
      const input = h;
      const y = g.node('MaxPool', [input], { kernel_shape: [2, 2], strides: [2, 2] });
      tape.push((dy) => {
        // each window's gradient to its maximum; on ties (equal conv outputs over saturated
        // pixels are common) to the first in row-major order, as tfjs does
        const h2 = ih / 2;
        const w2 = iw / 2;
        const windows = g.node('Reshape', [g.node('Transpose', [g.node('Reshape', [input, g.int64s('s6', [0, c, h2, 2, w2, 2])])], { perm: [0, 1, 2, 4, 3, 5] }), g.int64s('s5', [0, c, h2, w2, 4])]);
        const isMax = g.node('Cast', [g.node('Equal', [windows, g.node('Reshape', [y, g.int64s('s5', [0, c, h2, w2, 1])])])], { to: 1 });
        const firstMax = g.node('Mul', [isMax, g.node('Cast', [g.node('Equal', [g.node('CumSum', [isMax, g.int64s('axis', [4])]), one()])], { to: 1 })]);
        const spread = g.node('Mul', [firstMax, g.node('Reshape', [dy, g.int64s('s5', [0, c, h2, w2, 1])])]);
        return g.node('Reshape', [g.node('Transpose', [g.node('Reshape', [spread, g.int64s('s6', [0, c, h2, w2, 2, 2])])], { perm: [0, 1, 2, 4, 3, 5] }), g.int64s('s4', [0, c, ih, iw])]);
      });
      h = y;
    } else if (L.kind === 'flatten') {
      const spatial = L.inShape.length === 3;
      const input = h;
      // tfjs flattens NHWC: transpose back before flattening so units keep tfjs's order
      const nhwc = spatial ? g.node('Transpose', [input], { perm: [0, 2, 3, 1] }) : input;
      const y = g.node('Reshape', [nhwc, g.int64s('flat', [0, -1])]);
      tape.push((dy) => {
        if (!spatial) return dy;
        const [c, hh, ww] = L.inShape;
        return g.node('Transpose', [g.node('Reshape', [dy, g.int64s('unflat', [0, hh, ww, c])])], { perm: [0, 3, 1, 2] });
      });
      h = y;
    } else if (L.kind === 'dense') {
      const kernel = param(L.index, 0, 'kernel', [L.inUnits, L.units]);
      const bias = param(L.index, 1, 'bias', [L.units]);
      const input = h;
      const z = g.node('Add', [g.node('MatMul', [input, kernel]), bias]);
      const y = L.activation === 'relu' ? g.node('Relu', [z]) : z;
      const first = i === 0;
      tape.push((dy) => {
        const dz = L.activation === 'relu' ? reluBackward(y)(dy) : dy;
        grads.push({ name: kernel, grad: g.node('MatMul', [g.node('Transpose', [input], { perm: [1, 0] }), dz]), shape: [L.inUnits, L.units] });
        grads.push({ name: bias, grad: g.node('ReduceSum', [dz, g.int64s('axes', [0])], { keepdims: 0 }), shape: [L.units] });
        return first ? '' : g.node('MatMul', [dz, g.node('Transpose', [kernel], { perm: [1, 0] })]);
      });
      if (isLast) logits = z;
      h = y;
    } else if (L.kind === 'dropout') {
      const mask = g.input(`mask${masks.length}`, ['N', ...L.shape]);
      masks.push({ name: mask, layer: L.index, rate: L.rate, shape: L.shape });
      const y = g.node('Mul', [h, mask]);
      tape.push((dy) => g.node('Mul', [dy, mask]));
      h = y;
    }
  });
  // loss: sum_i w_i * CE(t_i, softmax(z_i)); dz = w (p - t)
  const logp = g.node('LogSoftmax', [logits], { axis: 1 });
  const probs = g.node('Exp', [logp], {}, 'probabilities');
  g.output('probabilities', ['N', K]);
  const ce = g.node('Neg', [g.node('ReduceSum', [g.node('Mul', [target, logp]), g.int64s('axes', [1])], { keepdims: 1 })]);
  g.node('ReduceSum', [g.node('Mul', [ce, rowWeight])], { keepdims: 0 }, 'loss');
  g.output('loss', []);
  let d = g.node('Mul', [g.node('Sub', [probs, target]), rowWeight]);
  for (let k = tape.length - 1; k >= 0; k--) d = tape[k](d);
  for (const gr of grads) {
    g.node('Identity', [gr.grad], {}, `grad:${gr.name}`);
    g.output(`grad:${gr.name}`, gr.shape);
  }
  return { bytes: g.toBytes('udq training step'), params, masks, batchNorms, classes: K };
}

type Tape = ((dy: string) => string)[];
type Grads = { name: string; grad: string; shape: number[] }[];

/** The input gradient of a conv as a ConvTranspose of `dz` by `w` [cout,cin,kh,kw], the forward's strides and pads. */
function convInputGradient(g: GraphBuilder, L: Extract<TrainLayer, { kind: 'conv' }>, dz: string, w: string): string {
  const [, ih, iw] = L.inShape;
  const [oh, ow] = [L.outShape[1], L.outShape[2]];
  // output_padding makes up the rows a strided forward conv skipped (ONNX's output_shape would re-centre the pads)
  const opad = [ih - (L.strides[0] * (oh - 1) + L.kernel[0] - L.pads[0] - L.pads[2]), iw - (L.strides[1] * (ow - 1) + L.kernel[1] - L.pads[1] - L.pads[3])];
  return g.node('ConvTranspose', [dz, w], { kernel_shape: L.kernel, strides: L.strides, pads: L.pads, output_padding: opad });
}

const NCHWC = 'com.microsoft.nchwc';

/**
 * A conv layer on onnxruntime's NCHWc kernels (MLAS's blocked direct convolution, the kernels
 * its own graph optimizer uses for constant weights; here the weights are inputs, so the graph
 * lays the filters out itself). Activations stay NCHW between layers; each convolution
 * reorders its input to NCHWc ([N][C/B][H][W][B]) and its output back. The filter layouts are
 * MLAS's: OIHWBiBo ([O/B][I/B][kh][kw][Bi][Bo]) when the input has >= B channels, OIHWBo
 * ([O/B][I][kh][kw][Bo]) for fewer (the first layer's 1 channel).
 * - forward: Conv(x, W) with the ReLU fused;
 * - weight gradient: dW[o,i,a,b] = sum_{n,y,x} x[n,i,s y + a - p, s x + b - p] dz[n,o,y,x], a Conv
 *   whose input is x with batch and channels swapped ([cin, N, H, W], so N must be a multiple of
 *   B) and whose filter is dz likewise ([cout, N, oh, ow]), dilated by the stride, padded as the
 *   forward: the output [cin, cout, kh, kw] is the gradient;
 * - input gradient: Conv(dz, W flipped, in and out swapped) padded k-1-p at stride 1; a strided
 *   conv by phases ({@link inputGradientPhases}), one such Conv per phase, interleaved; a
 *   ConvTranspose where the phases do not tile the input.
 */
function nchwcConv(
  g: GraphBuilder,
  L: Extract<TrainLayer, { kind: 'conv' }>,
  first: boolean,
  B: number,
  input: string,
  kTf: string,
  bias: string,
  tape: Tape,
  grads: Grads,
  reluBackward: (y: string) => (dy: string) => string,
): string {
  const [cin, ih, iw] = L.inShape;
  const [cout, oh, ow] = L.outShape;
  const [kh, kw] = L.kernel;
  const reshape = (v: string, shape: number[]) => g.node('Reshape', [v, g.int64s('shape', shape)]);
  const blockedIn = cin >= B;
  // forward filter from tfjs's [kh,kw,cin,cout]
  const wF = blockedIn
    ? reshape(g.node('Transpose', [reshape(kTf, [kh, kw, cin / B, B, cout / B, B])], { perm: [4, 2, 0, 1, 3, 5] }), [cout, cin, kh, kw])
    : reshape(g.node('Transpose', [reshape(kTf, [kh, kw, cin, cout / B, B])], { perm: [3, 2, 0, 1, 4] }), [cout, cin, kh, kw]);
  const xIn = blockedIn ? g.node(`${NCHWC}:ReorderInput`, [input]) : input;
  const attrs: Record<string, number[] | string> = { kernel_shape: L.kernel, strides: L.strides, pads: L.pads };
  if (L.relu) attrs.activation = 'Relu';
  const y = g.node(`${NCHWC}:ReorderOutput`, [g.node(`${NCHWC}:Conv`, [xIn, wF, bias], attrs)], { channels: cout });
  tape.push((dy) => {
    const dz = L.relu ? reluBackward(y)(dy) : dy;
    grads.push({ name: bias, grad: g.node('ReduceSum', [dz, g.int64s('axes', [0, 2, 3])], { keepdims: 0 }), shape: [cout] });
    const dzc = g.node(`${NCHWC}:ReorderInput`, [dz]); // [N][cout/B][oh][ow][B]
    // weight gradient: input x^T [cin, N, ih, iw] in NCHWc over N; filter dz^T [cout, N, oh, ow] as OIHWBiBo
    const xT = g.node(`${NCHWC}:ReorderInput`, [cin === 1 ? reshape(input, [1, -1, ih, iw]) : g.node('Transpose', [input], { perm: [1, 0, 2, 3] })]);
    const dzT = reshape(g.node('Transpose', [reshape(dzc, [-1, B, cout / B, oh, ow, B])], { perm: [2, 0, 3, 4, 1, 5] }), [cout, -1, oh, ow]);
    const dwc = g.node(`${NCHWC}:Conv`, [xT, dzT], { kernel_shape: [oh, ow], dilations: L.strides, pads: L.pads });
    const dw = g.node(`${NCHWC}:ReorderOutput`, [dwc], { channels: cout }); // [cin, cout, kh, kw]
    grads.push({ name: kTf, grad: g.node('Transpose', [dw], { perm: [2, 3, 0, 1] }), shape: [kh, kw, cin, cout] });
    if (first) return '';
    const phases = blockedIn ? inputGradientPhases(L) : undefined;
    if (!phases) return convInputGradient(g, L, dz, g.node('Transpose', [kTf], { perm: [3, 2, 0, 1] }));
    // input gradient by phases: the rows y = s q + r of dx (and likewise columns) are dz
    // correlated with the kernel taps a = s j + f, flipped; one stride-1 Conv per phase, the
    // phases interleaved by two Concats in the blocked layout ([q][r][p][c][B] is [y][x][B])
    const [sy, sx] = L.strides;
    const phaseConv = (py: GradientPhase, px: GradientPhase) => {
      const taps = g.node('Slice', [kTf, g.int64s('starts', [py.start, px.start]), g.int64s('ends', [py.end, px.end]), g.int64s('axes', [0, 1]), g.int64s('steps', [-sy, -sx])]);
      const wD = reshape(g.node('Transpose', [reshape(taps, [py.taps, px.taps, cin / B, B, cout / B, B])], { perm: [2, 4, 0, 1, 5, 3] }), [cin, cout, py.taps, px.taps]);
      return g.node(`${NCHWC}:Conv`, [dzc, wD], { kernel_shape: [py.taps, px.taps], pads: [py.padBefore, px.padBefore, py.padAfter, px.padAfter] });
    };
    if (phases.rows.length === 1 && phases.cols.length === 1) return g.node(`${NCHWC}:ReorderOutput`, [phaseConv(phases.rows[0], phases.cols[0])], { channels: cin });
    const rows = phases.rows.map((py) => {
      const cols = phases.cols.map((px) => reshape(phaseConv(py, px), [-1, cin / B, ih / sy, iw / sx, 1, B]));
      return reshape(g.node('Concat', cols, { axis: 4 }), [-1, cin / B, ih / sy, 1, iw, B]);
    });
    return g.node(`${NCHWC}:ReorderOutput`, [reshape(g.node('Concat', rows, { axis: 3 }), [-1, cin, ih, iw])], { channels: cin });
  });
  return y;
}

/**
 * Whether a conv layer runs on the NCHWc kernels with block B: its output channels a multiple
 * of B, its input channels too (or fewer than B: the first layer), and the weight gradient's
 * Conv (output size (in + pads - s (out - 1)) per axis) exactly the kernel's size, which a
 * strided layer whose padded input the stride does not divide misses (e.g. 3x3 stride 2 valid
 * on 14x14 would give a 4x4 gradient): such a layer keeps the plain ops.
 */
export function nchwcCovers(L: Extract<TrainLayer, { kind: 'conv' }>, B: number): boolean {
  const [cin, ih, iw] = L.inShape;
  if (!(B > 1) || L.filters % B !== 0 || !(cin % B === 0 || cin < B)) return false;
  const fits = (size: number, before: number, after: number, k: number, s: number, out: number) => size + before + after - s * (out - 1) === k;
  return fits(ih, L.pads[0], L.pads[2], L.kernel[0], L.strides[0], L.outShape[1]) && fits(iw, L.pads[1], L.pads[3], L.kernel[1], L.strides[1], L.outShape[2]);
}

/** One phase of a strided input gradient along one axis: the kernel taps it takes (a Slice, flipped) and its Conv's pads. */
interface GradientPhase {
  taps: number;
  start: number;
  end: number;
  padBefore: number;
  padAfter: number;
}

/**
 * The phases of a conv's input gradient along each axis (stride 1: one phase, the whole
 * kernel flipped, padded k-1-p), or undefined when they do not tile the input evenly (the
 * input not a multiple of the stride, a phase without taps, a negative pad): ConvTranspose then.
 * For output row y = s q + r of dx: the taps a = s j + f with f = (r + p) mod s reach it from
 * dz row q + c - j, c = (r + p - f) / s; flipped (t = taps-1-j) that is a correlation padded
 * taps-1-c before.
 */
export function inputGradientPhases(L: Extract<TrainLayer, { kind: 'conv' }>): { rows: GradientPhase[]; cols: GradientPhase[] } | undefined {
  const axis = (d: 0 | 1): GradientPhase[] | undefined => {
    const s = L.strides[d];
    const k = L.kernel[d];
    const p = L.pads[d];
    const size = L.inShape[1 + d];
    const out = L.outShape[1 + d];
    if (size % s !== 0) return undefined;
    const q = size / s;
    const phases: GradientPhase[] = [];
    for (let r = 0; r < s; r++) {
      const f = (r + p) % s;
      const taps = Math.ceil((k - f) / s);
      if (taps < 1) return undefined;
      const c = (r + p - f) / s;
      const padBefore = taps - 1 - c;
      const padAfter = q - out - padBefore + taps - 1;
      if (padBefore < 0 || padAfter < 0) return undefined;
      // taps s (taps-1) + f down to f: a Slice from that row with step -s, ending before f
      const start = s * (taps - 1) + f;
      phases.push({ taps, start, end: f - 1 >= 0 ? f - 1 : -(k + 1), padBefore, padAfter });
    }
    return phases;
  };
  const rows = axis(0);
  const cols = axis(1);
  return rows && cols ? { rows, cols } : undefined;
}

/**
 * onnxruntime's NCHWc block size on this machine (16 with AVX-512, 8 with AVX2; MLAS sets its
 * own elsewhere), read off what its ReorderInput does to a [1,16,2,1] ramp; 0 when the op is
 * missing or the layout is none of 16, 8, 4 (the step graph then uses plain ONNX convolutions).
 */
export async function nchwcBlockSize(ort: typeof import('onnxruntime-node')): Promise<number> {
  try {
    const g = new GraphBuilder('udq-nchwc-probe');
    const x = g.input('x', [1, 16, 2, 1]);
    g.node(`${NCHWC}:ReorderInput`, [x], {}, 'y');
    g.output('y', [1, 16, 2, 1]);
    const session = await ort.InferenceSession.create(g.toBytes(), { graphOptimizationLevel: 'disabled' });
    try {
      const ramp = Float32Array.from({ length: 32 }, (_, i) => i);
      const y = (await session.run({ x: new ort.Tensor('float32', ramp, [1, 16, 2, 1]) })).y.data as Float32Array;
      for (const B of [16, 8, 4]) {
        // NCHWc: element (c, h) of the [16, 2] ramp (value 2c + h) sits at ((c / B) * 2 + h) * B + c % B
        let same = y.length === 32;
        for (let c = 0; c < 16 && same; c++) for (let h = 0; h < 2; h++) if (y[(Math.floor(c / B) * 2 + h) * B + (c % B)] !== 2 * c + h) same = false;
        if (same) return B;
      }
      return 0;
    } finally {
      await session.release();
    }
  } catch {
    return 0;
  }
}
