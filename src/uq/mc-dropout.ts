/**
 * Monte-Carlo dropout sampling (DESIGN.md section 4).
 *
 * - Only Dropout is stochastic. BatchNormalization runs in inference mode (moving
 *   statistics); nothing is ever written to the model.
 * - The layers before the first Dropout are deterministic, so the `cached` sampler runs them
 *   once per image and runs only the suffix N times, with the N copies batched together.
 *   The `naive` sampler runs the whole network N times; it is kept as the reference
 *   implementation (tests, benchmark). With the same seed both see the same masks.
 * - Stochastic layers: Dropout, SpatialDropout1D, AlphaDropout, GaussianDropout and
 *   GaussianNoise (stochastic.ts), each with hashed noise; the prefix ends at the first.
 * - Masks are a pure function of (seed, dropout layer, image index, sample index, unit)
 *   (see masks.ts): an image's samples do not depend on its batch neighbours.
 * - Dropout uses each layer's own rate with inverted scaling 1/(1-p).
 * - `bnMode: 'batch'` reproduces the source study's Keras `training=True` semantics
 *   (BatchNorm normalises with the statistics of the current batch of images, for every
 *   pass) for comparison only: an image's result then depends on its batch neighbours,
 *   and the moving statistics stored in the model are still left untouched.
 */
import * as tf from '@tensorflow/tfjs';
import { drawNoise, StochasticLayer, stochasticLayer } from './stochastic';
import { batchNormWeights } from '../models/batchnorm';
import { buildSummary, SampleSummary, summariseSamples } from './features';
import { UsageError } from '../errors';

export type SamplerMethod = 'cached' | 'naive';
export type BnMode = 'inference' | 'batch';

export interface McInput {
  count: number;
  /** count x 784 pixels: uint8 0..255 or float 0..1 */
  pixels: Uint8Array | Float32Array;
  rows?: number;
  cols?: number;
  /**
   * mask key of each image (default: its index, plus `indexOffset`). Images with the same key
   * get the same masks: `udq predict` gives every file key 0, so a file's numbers depend only
   * on its content and the seed, not on which other files were listed.
   */
  keys?: ArrayLike<number>;
}

export interface McOptions {
  samples: number;
  seed: number;
  method?: SamplerMethod;
  bnMode?: BnMode;
  /** images per chunk (default: chosen to keep each chunk's tensors under ~64 MB) */
  batchSize?: number;
  /** keep every softmax vector (count x samples x classes) in the result; memory grows with N */
  keepSamples?: boolean;
  /** index of the first image, for mask keys when a caller streams a larger set in parts */
  indexOffset?: number;
  /**
   * index of the first pass (default 0): passes firstSample .. firstSample+samples-1 are drawn,
   * with the masks those pass numbers have, so sampling in rounds (adaptive.ts) continues one
   * sequence of passes instead of repeating its start
   */
  firstSample?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface McResult {
  summaries: SampleSummary[];
  samples?: Float32Array;
  /** with keepSamples and a sampler that sees logits: each pass's energy and max logit (count x samples) */
  energies?: Float32Array;
  maxLogits?: Float32Array;
  classes: number;
}

interface Stage {
  layer: tf.layers.Layer;
  kind: 'stochastic' | 'batchnorm' | 'other';
  /** stochastic layers: what noise it makes, and its randomness key */
  noise: StochasticLayer | null;
}

function stagesOf(model: tf.LayersModel): Stage[] {
  let d = 0;
  return model.layers
    .filter((l) => l.getClassName() !== 'InputLayer')
    .map((layer) => {
      const noise = stochasticLayer(layer, d);
      if (noise) {
        d++;
        return { layer, kind: 'stochastic' as const, noise };
      }
      return { layer, kind: layer.getClassName() === 'BatchNormalization' ? ('batchnorm' as const) : ('other' as const), noise: null };
    });
}

/** Number of stochastic passes' worth of work the sampler saves: the prefix/suffix split point. */
export function splitPoint(model: tf.LayersModel): number {
  const stages = stagesOf(model);
  const first = stages.findIndex((s) => s.kind === 'stochastic');
  return first < 0 ? stages.length : first;
}

function unitsOf(shape: tf.Shape): number {
  return shape.slice(1).reduce((a: number, b) => a * (b as number), 1);
}

/** BatchNorm with the statistics of the batch it sees (Keras training=True), without updating the layer. */
function batchNormWithBatchStats(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor {
  const { gamma, beta, epsilon } = batchNormWeights(layer);
  const axes = x.shape.slice(0, -1).map((_, k) => k);
  const { mean, variance } = tf.moments(x, axes);
  return tf.batchNorm(x, mean, variance, beta, gamma, epsilon);
}

/**
 * Run `stages` on `x` (rows = images x passes, pass-major within the chunk: row r is
 * pass r / images, image r % images). Dropout layers multiply by their hashed masks.
 */
function runStages(
  stages: Stage[],
  x: tf.Tensor,
  opts: { seed: number; bnMode: BnMode; imageKey: (i: number) => number; images: number; firstSample: number; passes: number; logits?: boolean },
): tf.Tensor {
  // `x` may hold one copy of the images standing for all passes (the cached prefix output):
  // the first Dropout then broadcasts it against [passes, images, ...] masks instead of
  // copying it `passes` times.
  let h = x;
  let broadcast = x.shape[0] !== opts.images * opts.passes;
  for (let si = 0; si < stages.length; si++) {
    const st = stages[si];
    if (opts.logits && si === stages.length - 1 && isSoftmaxDense(st.layer)) {
      // the pre-softmax output: the caller applies the softmax (and reads logit-based scores)
      const [kernel, bias] = st.layer.getWeights();
      h = bias ? tf.add(tf.matMul(h, kernel), bias) : tf.matMul(h, kernel);
      continue;
    }
    if (st.noise) {
      const rows = opts.images * opts.passes;
      const rowShape = h.shape.slice(1) as number[];
      const noise = drawNoise(st.noise, rowShape, rows, (r) => ({ image: opts.imageKey(r % opts.images), sample: opts.firstSample + Math.floor(r / opts.images) }), opts.seed);
      if (broadcast) {
        // [passes, images, ...noise dims] against the images' one copy [1, images, ...]
        const shape = [opts.passes, opts.images, ...noise.dims];
        let y = tf.expandDims(h, 0);
        y = noise.mul ? tf.mul(y, tf.tensor(noise.mul, shape)) : tf.mul(y, tf.ones([opts.passes, 1, ...rowShape.map(() => 1)]));
        if (noise.add) y = tf.add(y, tf.tensor(noise.add, shape));
        h = tf.reshape(y, [rows, ...rowShape]);
        broadcast = false;
      } else {
        const shape = [rows, ...noise.dims];
        if (noise.mul) h = tf.mul(h, tf.tensor(noise.mul, shape));
        if (noise.add) h = tf.add(h, tf.tensor(noise.add, shape));
      }
    } else if (broadcast) {
      throw new Error('runStages: a broadcast input must meet a stochastic layer first');
    } else if (st.kind === 'batchnorm' && opts.bnMode === 'batch') {
      if (opts.passes === 1) {
        h = batchNormWithBatchStats(st.layer, h);
      } else {
        // statistics per pass, over that pass's images only
        const parts = tf.split(h, opts.passes, 0).map((p) => batchNormWithBatchStats(st.layer, p));
        h = tf.concat(parts, 0);
      }
    } else {
      h = st.layer.apply(h, { training: false }) as tf.Tensor;
    }
  }
  return h;
}

/** A Dense layer with a softmax activation (the last layer of udq's models). */
export function isSoftmaxDense(layer: tf.layers.Layer): boolean {
  if (layer.getClassName() !== 'Dense') return false;
  const cfg = layer.getConfig() as { activation?: string };
  return cfg.activation === 'softmax';
}

/**
 * The samples of one chunk of `images` images, filled block by block (a block: `passes`
 * passes of every image, rows pass-major as the samplers produce them), then summarised.
 */
export class ChunkSamples {
  /** image-major: image, sample, class */
  readonly samples: Float32Array;
  /** image-major: image, sample (filled only when `logits`) */
  readonly energies: Float32Array;
  readonly maxLogits: Float32Array;
  /** each pass's entropy (natural log), image-major (filled only when `logits`) */
  private readonly entropies: Float64Array;

  constructor(
    private readonly images: number,
    private readonly n: number,
    private readonly classes: number,
    /** `values` are logits: softmax them and keep energy / max logit */
    private readonly logits: boolean,
  ) {
    this.samples = new Float32Array(images * n * classes);
    this.energies = new Float32Array(logits ? images * n : 0);
    this.maxLogits = new Float32Array(logits ? images * n : 0);
    this.entropies = new Float64Array(logits ? images * n : 0);
  }

  /**
   * `values`: (passes x images) rows of `classes`, row p*images+i = pass s0+p of image i. With
   * logits, each row's softmax (float64, exp(z - max) / sum), energy -logsumexp(z), max logit and entropy are
   * computed in one go while the row is copied to its image: the entropy of softmax(z) is
   * logsumexp(z) - sum_k p_k z_k, with no logarithm per class.
   */
  addBlock(values: Float32Array, s0: number, passes: number): void {
    const { images: b, n, classes } = this;
    const samples = this.samples;
    const exps = new Float64Array(classes);
    for (let p = 0; p < passes; p++) {
      for (let i = 0; i < b; i++) {
        const src = (p * b + i) * classes;
        const at = i * n + s0 + p;
        const dst = at * classes;
        if (!this.logits) {
          for (let k = 0; k < classes; k++) samples[dst + k] = values[src + k];
          continue;
        }
        let m = -Infinity;
        for (let k = 0; k < classes; k++) if (values[src + k] > m) m = values[src + k];
        let sum = 0;
        for (let k = 0; k < classes; k++) {
          const e = Math.exp(values[src + k] - m);
          exps[k] = e;
          sum += e;
        }
        let pz = 0;
        for (let k = 0; k < classes; k++) {
          const q = exps[k] / sum;
          samples[dst + k] = q;
          // 0 * (-inf) would be NaN: a class with probability 0 adds nothing (0 ln 0 = 0)
          if (q > 0) pz += q * (values[src + k] - m);
        }
        const logSum = Math.log(sum);
        this.energies[at] = -(m + logSum);
        this.maxLogits[at] = m;
        // H = lse(z) - sum p z = log(sum) - sum p (z - m); never below 0 by rounding
        this.entropies[at] = Math.max(0, logSum - pz);
      }
    }
  }

  /** Append one summary per image to `out`. */
  summarise(out: SampleSummary[]): void {
    const { images: b, n, classes } = this;
    if (!this.logits) {
      for (let i = 0; i < b; i++) out.push(summariseSamples(this.samples.subarray(i * n * classes, (i + 1) * n * classes), n, classes));
      return;
    }
    const mean = new Float64Array(classes);
    const variance = new Float64Array(classes);
    const counts = new Uint32Array(classes);
    const samples = this.samples;
    for (let i = 0; i < b; i++) {
      const base = i * n * classes;
      mean.fill(0);
      variance.fill(0);
      counts.fill(0);
      let entropy = 0;
      let energy = 0;
      let maxLogit = 0;
      for (let s = 0; s < n; s++) {
        const o = base + s * classes;
        let top = 0;
        for (let k = 0; k < classes; k++) {
          const q = samples[o + k];
          mean[k] += q;
          if (q > samples[o + top]) top = k;
        }
        counts[top]++;
        entropy += this.entropies[i * n + s];
        energy += this.energies[i * n + s];
        maxLogit += this.maxLogits[i * n + s];
      }
      for (let k = 0; k < classes; k++) mean[k] /= n;
      for (let s = 0; s < n; s++) {
        const o = base + s * classes;
        for (let k = 0; k < classes; k++) {
          const d = samples[o + k] - mean[k];
          variance[k] += d * d;
        }
      }
      for (let k = 0; k < classes; k++) variance[k] /= n;
      const summary = buildSummary(n, classes, mean, variance, entropy / n, counts);
      summary.energy = energy / n;
      summary.maxLogit = maxLogit / n;
      out.push(summary);
    }
  }
}

/** Per-pass arrays a sampler keeps with `keepSamples` (samples, and energies / max logits when it sees logits). */
export class KeptSamples {
  readonly samples: Float32Array;
  readonly energies?: Float32Array;
  readonly maxLogits?: Float32Array;

  constructor(
    count: number,
    private readonly n: number,
    private readonly classes: number,
    logits: boolean,
  ) {
    this.samples = new Float32Array(count * n * classes);
    if (logits) {
      this.energies = new Float32Array(count * n);
      this.maxLogits = new Float32Array(count * n);
    }
  }

  /** Copy a chunk's samples in, its first image being image `first`. */
  set(chunk: ChunkSamples, first: number): void {
    this.samples.set(chunk.samples, first * this.n * this.classes);
    this.energies?.set(chunk.energies, first * this.n);
    this.maxLogits?.set(chunk.maxLogits, first * this.n);
  }

  /** The McResult fields. */
  fields(): Pick<McResult, 'samples' | 'energies' | 'maxLogits'> {
    return { samples: this.samples, energies: this.energies, maxLogits: this.maxLogits };
  }
}

/** Images [start, end) of an input as floats in [0,1] (uint8 pixels are scaled by 1/255). */
export function toFloatImages(input: McInput, start: number, end: number): Float32Array {
  const size = (input.rows ?? 28) * (input.cols ?? 28);
  const src = input.pixels.subarray(start * size, end * size);
  if (src instanceof Float32Array) return src;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] / 255;
  return out;
}

/** Largest per-image activation (floats) among `stages`' outputs and `inputUnits`. */
function maxUnits(stages: Stage[], inputUnits: number): number {
  let units = inputUnits;
  for (const st of stages) {
    const shape = st.layer.outputShape as tf.Shape;
    if (Array.isArray(shape) && !Array.isArray(shape[0])) units = Math.max(units, unitsOf(shape));
  }
  return Math.max(units, 1);
}

/** Floats one block's largest activation may hold (~64 MB). */
const BLOCK_BUDGET_FLOATS = 16 * 1024 * 1024;

/**
 * Images per chunk (bounded by the deterministic prefix's activations) and passes per block
 * (bounded by the stochastic suffix's activations for chunk x passes rows).
 */
export function chunking(model: tf.LayersModel, samples: number, batchSize?: number): { chunk: number; passBlock: number } {
  const stages = stagesOf(model);
  const split = splitPoint(model);
  const inputUnits = unitsOf(model.inputs[0].shape);
  const prefixUnits = maxUnits(stages.slice(0, split), inputUnits);
  const suffixUnits = maxUnits(stages.slice(split), split > 0 ? unitsOf(stages[split - 1].layer.outputShape as tf.Shape) : inputUnits);
  const chunk = batchSize ?? Math.max(1, Math.min(512, Math.floor(BLOCK_BUDGET_FLOATS / prefixUnits)));
  const passBlock = Math.max(1, Math.min(samples, Math.floor(BLOCK_BUDGET_FLOATS / (chunk * suffixUnits))));
  return { chunk, passBlock };
}

/**
 * Draw `samples` stochastic forward passes per image and summarise them
 * (mean/std per class, entropies, mutual information, variation ratio).
 */
export async function sampleMcDropout(model: tf.LayersModel, input: McInput, opts: McOptions): Promise<McResult> {
  if (!Number.isInteger(opts.samples) || opts.samples < 1) throw new UsageError('samples must be a positive integer');
  const method = opts.method ?? 'cached';
  const bnMode = opts.bnMode ?? 'inference';
  const stages = stagesOf(model);
  const split = splitPoint(model);
  const prefix = stages.slice(0, split);
  const suffix = stages.slice(split);
  const classes = model.outputs[0].shape[1] as number;
  const n = opts.samples;
  const rows = input.rows ?? 28;
  const cols = input.cols ?? 28;
  // passes per block are bounded, so N=1000 never needs N copies of a chunk at once
  const { chunk, passBlock } = chunking(model, n, opts.batchSize);
  const summaries: SampleSummary[] = [];
  const offset = opts.indexOffset ?? 0;
  const firstSample = opts.firstSample ?? 0;
  // read logits when the last layer is a softmax Dense: energy and max-logit scores come with them
  const withLogits = stages.length > 0 && isSoftmaxDense(stages[stages.length - 1].layer) && (method === 'naive' || suffix.length > 0);
  const kept = opts.keepSamples ? new KeptSamples(input.count, n, classes, withLogits) : undefined;

  for (let start = 0; start < input.count; start += chunk) {
    const end = Math.min(input.count, start + chunk);
    const b = end - start;
    const pixels = toFloatImages(input, start, end);
    const acc = new ChunkSamples(b, n, classes, withLogits);
    const x = tf.tensor4d(pixels, [b, rows, cols, 1]);
    const imageKey = (i: number) => (input.keys ? input.keys[start + i] : offset + start + i);
    // deterministic prefix once per chunk (cached) — in batch-BN mode the prefix's BN uses this chunk's statistics
    const prefixOut =
      method === 'cached' ? tf.tidy(() => runStages(prefix, x, { seed: opts.seed, bnMode, imageKey, images: b, firstSample: 0, passes: 1 })) : null;
    for (let s0 = 0; s0 < n; s0 += passBlock) {
      const passes = Math.min(passBlock, n - s0);
      const probs = tf.tidy(() => {
        const ctx = { seed: opts.seed, bnMode, imageKey, images: b, firstSample: firstSample + s0, passes, logits: withLogits };
        if (method === 'cached') {
          return runStages(suffix, prefixOut!, ctx); // the suffix starts with a Dropout
        }
        const outs: tf.Tensor[] = [];
        for (let p = 0; p < passes; p++) outs.push(runStages(stages, x, { ...ctx, firstSample: firstSample + s0 + p, passes: 1 }));
        return tf.concat(outs, 0);
      });
      const values = (await probs.data()) as Float32Array;
      probs.dispose();
      acc.addBlock(values, s0, passes);
    }
    tf.dispose([x, prefixOut].filter((t): t is tf.Tensor => t !== null));
    acc.summarise(summaries);
    kept?.set(acc, start);
    opts.onProgress?.(end, input.count);
  }
  return { summaries, ...kept?.fields(), classes };
}
