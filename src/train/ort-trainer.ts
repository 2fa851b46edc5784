/**
 * Training steps on onnxruntime (issue #18): the step graph (src/onnx/train-graph.ts) gives the
 * loss, the probabilities, every gradient and the BatchNorm batch statistics; the weights,
 * Adam's moments and BatchNorm's moving averages live here as Float32Arrays, and are written
 * back into the tfjs model (its own files, validation, checkpoints) when the loop asks.
 *
 * Adam as tfjs's `tf.train.adam` (beta1 0.9, beta2 0.999, epsilon 1e-7):
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *   w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
 * BatchNorm moving averages as tfjs-layers': moving -= (moving - batch) (1 - momentum).
 * Dropout masks are the hashed masks of src/uq/masks.ts, keyed (seed, dropout layer, row, step),
 * so the same seed gives the same weights run after run.
 */
import type * as Ort from 'onnxruntime-node';
import type * as tf from '@tensorflow/tfjs';
import { BatchNormMode, buildTrainingGraph, describeForTraining, nchwcBlockSize, nchwcCovers, TrainingGraph, TrainLayer } from '../onnx/train-graph';
import { fillDropoutMask } from '../uq/masks';
import { deriveSeed } from '../random';
import { ModelError } from '../errors';
import { ortSessionOptions } from '../engine/engine';

export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

/** One step's result. */
export interface OrtStepResult {
  /** the weighted loss of the batch (as the tfjs steps report it) */
  loss: number;
  /** probabilities of the rows, [rows, classes] */
  probabilities: Float32Array;
}

/** A batch: `rows` images (784 values each, 0..1), their targets (rows x classes) and weights in the loss. */
export interface OrtBatch {
  x: Float32Array;
  target: Float32Array;
  rowWeight: Float32Array;
  rows: number;
}

export class OrtTrainer {
  /** trainable weights by graph input name (tfjs layout) */
  readonly weights = new Map<string, Float32Array>();
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  /** BatchNorm moving statistics, per BatchNorm of the graph */
  readonly moving: { mean: Float32Array; variance: Float32Array }[] = [];
  /** Adam steps taken */
  iterations = 0;
  private maskBuf: Float32Array[] = [];
  /** the hash seed of the dropout masks */
  private readonly maskSeed: number;

  /** the plain-convolution session, opened for a batch that is not a multiple of the NCHWc block */
  private plain?: Promise<Ort.InferenceSession>;

  private constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    readonly graph: TrainingGraph,
    readonly bnMode: BatchNormMode,
    seed: number,
    private readonly layers: TrainLayer[],
    /** the NCHWc block the main session's convolutions use (0: plain ONNX convolutions) */
    readonly nchwcBlock: number,
    private readonly threads: number | undefined,
  ) {
    this.maskSeed = deriveSeed(seed, 'train-masks');
  }

  /**
   * Build the step graph of `model` (throws UnsupportedForOrtTraining when a layer is not
   * covered), open its session and take the model's current weights.
   */
  static async create(ort: typeof Ort, model: tf.LayersModel, opts: { bnMode: BatchNormMode; seed: number; threads?: number; nchwc?: boolean }): Promise<OrtTrainer> {
    const layers = describeForTraining(model);
    let block = opts.nchwc === false ? 0 : await nchwcBlockSize(ort);
    // the blocked kernels pay for their reorders on convolutions over many channels; a model
    // whose only convolutions read the 1-channel image (basic) trained 5-12% slower on them
    if (!layers.some((l) => l.kind === 'conv' && l.inShape[0] >= block && nchwcCovers(l, block))) block = 0;
    let graph = buildTrainingGraph(layers, opts.bnMode, { nchwcBlock: block });
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(graph.bytes, ortSessionOptions(opts.threads, { spinning: true }));
    } catch (e) {
      if (!block) throw e;
      // a build of onnxruntime that reorders but will not run this NCHWc graph: plain convolutions
      block = 0;
      graph = buildTrainingGraph(layers, opts.bnMode);
      session = await ort.InferenceSession.create(graph.bytes, ortSessionOptions(opts.threads, { spinning: true }));
    }
    const t = new OrtTrainer(ort, session, graph, opts.bnMode, opts.seed, layers, block, opts.threads);
    t.readFrom(model);
    for (const p of graph.params) {
      const n = p.shape.reduce((a, b) => a * b, 1);
      t.m.set(p.name, new Float32Array(n));
      t.v.set(p.name, new Float32Array(n));
    }
    return t;
  }

  /** Take the weights (and BatchNorm moving statistics) of `model`. */
  readFrom(model: tf.LayersModel): void {
    for (const p of this.graph.params) {
      const w = model.layers[p.layer].getWeights()[p.slot];
      this.weights.set(p.name, Float32Array.from(w.dataSync() as Float32Array));
    }
    this.moving.length = 0;
    for (const bn of this.graph.batchNorms) {
      const ws = model.layers[bn.layer].getWeights();
      this.moving.push({ mean: Float32Array.from(ws[2].dataSync() as Float32Array), variance: Float32Array.from(ws[3].dataSync() as Float32Array) });
    }
  }

  /** Write the weights and moving statistics into `model` (its other weights untouched). */
  writeTo(model: tf.LayersModel, tfjs: typeof tf): void {
    const byLayer = new Map<number, tf.Tensor[]>();
    const current = (layer: number) => {
      if (!byLayer.has(layer)) byLayer.set(layer, model.layers[layer].getWeights().map((w) => w.clone()));
      return byLayer.get(layer)!;
    };
    for (const p of this.graph.params) {
      const ws = current(p.layer);
      ws[p.slot].dispose();
      ws[p.slot] = tfjs.tensor(this.weights.get(p.name)!, p.shape);
    }
    this.graph.batchNorms.forEach((bn, k) => {
      const ws = current(bn.layer);
      ws[2].dispose();
      ws[3].dispose();
      ws[2] = tfjs.tensor(this.moving[k].mean, [bn.channels]);
      ws[3] = tfjs.tensor(this.moving[k].variance, [bn.channels]);
    });
    for (const [layer, ws] of byLayer) {
      model.layers[layer].setWeights(ws);
      tfjs.dispose(ws);
    }
  }

  /** The graph's feeds for a batch (weights, masks for step `step`). */
  private feeds(b: OrtBatch, step: number): Record<string, Ort.Tensor> {
    const T = this.ort.Tensor;
    const K = this.graph.classes;
    const feeds: Record<string, Ort.Tensor> = {
      x: new T('float32', b.x.subarray(0, b.rows * 784), [b.rows, 1, 28, 28]),
      target: new T('float32', b.target.subarray(0, b.rows * K), [b.rows, K]),
      rowWeight: new T('float32', b.rowWeight.subarray(0, b.rows), [b.rows, 1]),
    };
    for (const p of this.graph.params) feeds[p.name] = new T('float32', this.weights.get(p.name)!, p.shape);
    this.fillMasks(b.rows, step).forEach((m, k) => {
      const mk = this.graph.masks[k];
      feeds[mk.name] = new T('float32', m, [b.rows, ...mk.shape]);
    });
    if (this.bnMode === 'frozen') {
      this.graph.batchNorms.forEach((bn, k) => {
        feeds[bn.mean] = new T('float32', this.moving[k].mean, [bn.channels]);
        feeds[bn.variance] = new T('float32', this.moving[k].variance, [bn.channels]);
      });
    }
    return feeds;
  }

  /**
   * The dropout masks of step `step` for `rows` rows, one per Dropout (graph layout), in the
   * trainer's reused buffers: row r of Dropout k is the hashed mask (maskSeed, k, r, step).
   */
  private fillMasks(rows: number, step: number): Float32Array[] {
    return this.graph.masks.map((mk, k) => {
      const units = mk.shape.reduce((a, c) => a * c, 1);
      const need = rows * units;
      if (!this.maskBuf[k] || this.maskBuf[k].length < need) this.maskBuf[k] = new Float32Array(need);
      const buf = this.maskBuf[k];
      for (let r = 0; r < rows; r++) fillDropoutMask(buf, r * units, units, mk.rate, this.maskSeed, k, r, step);
      return buf.subarray(0, need);
    });
  }

  /** A copy of the dropout masks step `step` uses for `rows` rows (tests compare against them). */
  masksFor(rows: number, step: number): Float32Array[] {
    return this.fillMasks(rows, step).map((m) => Float32Array.from(m));
  }

  /**
   * The session for a batch of `rows`: the NCHWc graph's weight gradients take the batch as
   * channels, so it needs a multiple of the block; another batch (an epoch's last) runs on the
   * same step with plain convolutions.
   */
  private sessionFor(rows: number): Promise<Ort.InferenceSession> {
    if (this.nchwcBlock === 0 || rows % this.nchwcBlock === 0) return Promise.resolve(this.session);
    this.plain ??= this.ort.InferenceSession.create(buildTrainingGraph(this.layers, this.bnMode).bytes, ortSessionOptions(this.threads, { spinning: true }));
    return this.plain;
  }

  /** Loss, probabilities and gradients of one batch, nothing updated (tests compare these with tfjs). */
  async forwardBackward(b: OrtBatch, step = this.iterations): Promise<{ loss: number; probabilities: Float32Array; grads: Map<string, Float32Array>; batchStats: { mean: Float32Array; variance: Float32Array }[] }> {
    const out = await (await this.sessionFor(b.rows)).run(this.feeds(b, step));
    const grads = new Map<string, Float32Array>();
    for (const p of this.graph.params) grads.set(p.name, out[`grad:${p.name}`].data as Float32Array);
    const batchStats = this.bnMode === 'batch' ? this.graph.batchNorms.map((bn) => ({ mean: out[bn.mean].data as Float32Array, variance: out[bn.variance].data as Float32Array })) : [];
    return { loss: (out.loss.data as Float32Array)[0], probabilities: out.probabilities.data as Float32Array, grads, batchStats };
  }

  /** One training step at learning rate `lr`: gradients, Adam, BatchNorm moving averages. */
  async step(b: OrtBatch, lr: number): Promise<OrtStepResult> {
    const r = await this.forwardBackward(b, this.iterations);
    if (!Number.isFinite(r.loss)) return { loss: r.loss, probabilities: r.probabilities };
    this.iterations++;
    const t = this.iterations;
    const { beta1, beta2, epsilon } = ADAM;
    // tfjs's form: lr * mhat / (sqrt(vhat) + eps), epsilon outside the bias correction
    const c1 = 1 / (1 - beta1 ** t);
    const c2 = 1 / (1 - beta2 ** t);
    for (const p of this.graph.params) {
      const w = this.weights.get(p.name)!;
      const g = r.grads.get(p.name)!;
      const m = this.m.get(p.name)!;
      const v = this.v.get(p.name)!;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i];
        const mi = beta1 * m[i] + (1 - beta1) * gi;
        const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] -= (lr * mi * c1) / (Math.sqrt(vi * c2) + epsilon);
      }
    }
    r.batchStats.forEach((s, k) => {
      const mom = this.graph.batchNorms[k].momentum;
      const mv = this.moving[k];
      for (let c = 0; c < mv.mean.length; c++) {
        mv.mean[c] -= (mv.mean[c] - s.mean[c]) * (1 - mom);
        mv.variance[c] -= (mv.variance[c] - s.variance[c]) * (1 - mom);
      }
    });
    return { loss: r.loss, probabilities: r.probabilities };
  }

  /** Adam's state for a checkpoint: iterations, then each weight's m and v. */
  optimizerState(): { name: string; values: Float32Array; shape: number[] }[] {
    const out: { name: string; values: Float32Array; shape: number[] }[] = [{ name: 'iter', values: Float32Array.of(this.iterations), shape: [] }];
    for (const p of this.graph.params) {
      out.push({ name: `${p.name}/m`, values: this.m.get(p.name)!, shape: p.shape });
      out.push({ name: `${p.name}/v`, values: this.v.get(p.name)!, shape: p.shape });
    }
    return out;
  }

  /** Restore {@link optimizerState}. */
  setOptimizerState(state: Map<string, Float32Array>): void {
    this.iterations = state.get('iter')?.[0] ?? 0;
    for (const p of this.graph.params) {
      const m = state.get(`${p.name}/m`);
      const v = state.get(`${p.name}/v`);
      if (!m || !v || m.length !== this.m.get(p.name)!.length || v.length !== this.v.get(p.name)!.length) throw new ModelError(`checkpoint: no Adam state of the right size for ${p.name}`);
      this.m.get(p.name)!.set(m);
      this.v.get(p.name)!.set(v);
    }
  }

  dispose(): void {
    void this.session.release();
    void this.plain?.then((s) => s.release()).catch(() => {});
  }
}
