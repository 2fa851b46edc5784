/**
 * Training loop: seeded shuffling and initial weights, Keras-style validation split,
 * progress callbacks, a checkpoint after every epoch (resumable), best epoch kept.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Arch, buildModel } from '../models/architectures';
import { EpochRecord, loadModelFiles, saveModelFiles, writeJsonAtomic } from '../models/store';
import type { ImageSet, LabelledImages } from '../data/types';
import { fillBatch, fillOneHot, splitValidation, warpBatch } from './batches';
import { augmentBatch, AugmentRecipe, augmentSpec, parseAugment } from './augment';
import { argmaxRows, classificationReport, predictProbabilities } from './evaluate';
import { deriveSeed, mulberry32, shuffledIndices, withSeededMathRandom } from '../random';
import type { BatchProgress } from './progress';
import { BackendError, ModelError, TrainingError, UsageError } from '../errors';
import { OrtTrainer } from './ort-trainer';
import { UnsupportedForOrtTraining } from '../onnx/train-graph';
import { tryLoadOrt } from '../engine/engine';

export interface TrainOptions {
  arch: Arch;
  epochs: number;
  batchSize: number;
  seed?: number;
  valSplit: number;
  learningRate: number;
  /** multiply the learning rate by this after every epoch */
  lrDecay: number;
  /** 'decay': per-epoch multiplication by lrDecay; 'cosine': per-batch cosine from learningRate to 0 over the run */
  lrSchedule?: LrSchedule;
  /** random shifts of up to this many pixels (0 = none) */
  augmentShift: number;
  /** the augmentation recipe (src/train/augment.ts) applied after batching, digits and outliers alike */
  augment?: AugmentRecipe | null;
  /** directory for per-epoch checkpoints; required for resume */
  checkpointDir?: string;
  resume?: boolean;
  onBatch?: (p: BatchProgress) => void;
  onEpoch?: (r: EpochRecord) => void;
  /**
   * Outlier exposure (Hendrycks et al. 2019): every step adds `batchSize` images drawn from
   * `images`, whose loss is the cross-entropy between the softmax and the uniform
   * distribution, weighted by `weight`.
   */
  outliers?: { images: ImageSet; weight: number; sources: string[] };
  /** start from these weights (fine-tuning) instead of a fresh initialisation */
  initFrom?: tf.LayersModel;
  /**
   * what computes each step: `tfjs` (the tensor backend's autodiff) or `ort` (the step graph
   * on onnxruntime, src/train/ort-trainer.ts). Default tfjs; `udq train` picks ort when it loads.
   */
  engine?: 'ort' | 'tfjs';
  /** the user asked for this engine: no fallback to tfjs when ort cannot run the model */
  engineForced?: boolean;
  /** a line for the user (an engine fallback) */
  onNote?: (line: string) => void;
}

export const LR_SCHEDULES = ['decay', 'cosine'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/**
 * Learning rate for one batch. `step` counts batches from the start of the run (0-based),
 * `totalSteps` is epochs x batches per epoch.
 */
export function scheduledLearningRate(
  o: { learningRate: number; lrDecay: number; lrSchedule?: LrSchedule },
  epoch: number,
  step: number,
  totalSteps: number,
): number {
  if (o.lrSchedule === 'cosine') return o.learningRate * 0.5 * (1 + Math.cos((Math.PI * Math.min(step, totalSteps)) / Math.max(totalSteps, 1)));
  return o.learningRate * o.lrDecay ** (epoch - 1);
}

export interface TrainResult {
  model: tf.LayersModel;
  history: EpochRecord[];
  bestEpoch: number;
  trainImages: number;
  valImages: number;
  trainAccuracy: number;
  valAccuracy?: number;
  imagesPerSecond: number;
  trainingSeconds: number;
  /** the options the run trained with (from the checkpoint when resumed) */
  options: CheckpointState['options'];
}

interface CheckpointState {
  format: 'udq-checkpoint';
  arch: Arch;
  epochsDone: number;
  options: {
    batchSize: number;
    seed?: number;
    valSplit: number;
    learningRate: number;
    lrDecay: number;
    lrSchedule?: LrSchedule;
    augmentShift: number;
    /** the augmentation recipe as `--augment` takes it (absent: none beyond augmentShift) */
    augment?: string;
    trainCount: number;
    /** outlier exposure: its sources, loss weight and pool size */
    outlierExposure?: { sources: string[]; weight: number; count: number };
    /** the engine that computed the steps (absent: tfjs) */
    engine?: 'ort' | 'tfjs';
  };
  history: EpochRecord[];
  bestEpoch: number;
  bestValAccuracy: number;
  trainingSeconds: number;
  imagesTrained: number;
}

export function compileForTraining(model: tf.LayersModel, learningRate: number): tf.AdamOptimizer {
  const optimizer = tf.train.adam(learningRate);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return optimizer;
}

async function saveCheckpoint(dir: string, model: tf.LayersModel, optimizer: tf.AdamOptimizer, state: CheckpointState, isBest: boolean, ortTrainer: OrtTrainer | null): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await saveModelFiles(model, join(dir, 'last'));
  if (isBest) await saveModelFiles(model, join(dir, 'best'));
  const named = ortTrainer
    ? ortTrainer.optimizerState().map((o) => ({ name: o.name, tensor: tf.tensor(o.values, o.shape) }))
    : await optimizer.getWeights();
  const { data, specs } = await tf.io.encodeWeights(named);
  if (ortTrainer) tf.dispose(named.map((n) => n.tensor));
  writeFileSync(join(dir, 'optimizer.bin'), Buffer.from(data as ArrayBuffer));
  writeJsonAtomic(join(dir, 'optimizer.json'), specs);
  writeJsonAtomic(join(dir, 'state.json'), state);
}

async function loadCheckpoint(dir: string): Promise<{ model: tf.LayersModel; optimizerWeights: { name: string; tensor: tf.Tensor }[]; state: CheckpointState }> {
  const statePath = join(dir, 'state.json');
  if (!existsSync(statePath)) throw new ModelError(`no checkpoint to resume in ${dir}`);
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as CheckpointState;
  const model = await loadModelFiles(join(dir, 'last'));
  const specs = JSON.parse(readFileSync(join(dir, 'optimizer.json'), 'utf8')) as tf.io.WeightsManifestEntry[];
  const buf = readFileSync(join(dir, 'optimizer.bin'));
  const map = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer, specs);
  return { model, state, optimizerWeights: specs.map((s) => ({ name: s.name, tensor: map[s.name] })) };
}

/** Train on `train` (its last valSplit fraction held out for validation). */
export async function trainModel(train: LabelledImages, opts: TrainOptions): Promise<TrainResult> {
  if (!train.labels) throw new UsageError('training set has no labels');
  const labels = train.labels;
  const classes = train.classNames?.length ?? 10;
  const split = splitValidation(train.images.count, opts.valSplit);
  if (split.train < 1) throw new UsageError('no training images left after the validation split');

  let model: tf.LayersModel;
  let optimizer: tf.AdamOptimizer;
  let state: CheckpointState;
  let resumedOptimizer: { name: string; tensor: tf.Tensor }[] | null = null;
  const baseOptions = {
    batchSize: opts.batchSize,
    seed: opts.seed,
    valSplit: opts.valSplit,
    learningRate: opts.learningRate,
    lrDecay: opts.lrDecay,
    lrSchedule: opts.lrSchedule ?? 'decay',
    augmentShift: opts.augmentShift,
    ...(opts.augment ? { augment: augmentSpec(opts.augment) } : {}),
    trainCount: train.images.count,
    ...(opts.outliers ? { outlierExposure: { sources: opts.outliers.sources, weight: opts.outliers.weight, count: opts.outliers.images.count } } : {}),
    engine: opts.engine ?? 'tfjs',
  };

  if (opts.resume) {
    if (!opts.checkpointDir) throw new UsageError('--resume needs a checkpoint directory');
    const ck = await loadCheckpoint(opts.checkpointDir);
    if (ck.state.arch !== opts.arch) throw new UsageError(`checkpoint is for arch ${ck.state.arch}, not ${opts.arch}`);
    if (ck.state.options.trainCount !== train.images.count) {
      throw new UsageError(`checkpoint was trained on ${ck.state.options.trainCount} images, this run has ${train.images.count} (use the same --limit)`);
    }
    const ckEngine = ck.state.options.engine ?? 'tfjs';
    if (ckEngine !== (opts.engine ?? 'tfjs')) throw new UsageError(`checkpoint was trained on the ${ckEngine} engine; resume with --engine ${ckEngine}`);
    model = ck.model;
    optimizer = compileForTraining(model, ck.state.options.learningRate * ck.state.options.lrDecay ** ck.state.epochsDone);
    if (ckEngine === 'tfjs') await optimizer.setWeights(ck.optimizerWeights);
    resumedOptimizer = ck.optimizerWeights;
    state = ck.state;
    // checkpoints written before --lr-schedule existed used the per-epoch decay
    Object.assign(baseOptions, { ...ck.state.options, lrSchedule: ck.state.options.lrSchedule ?? 'decay' });
  } else {
    model = buildModel(opts.arch, opts.seed);
    if (opts.initFrom) model.setWeights(opts.initFrom.getWeights());
    optimizer = compileForTraining(model, opts.learningRate);
    state = { format: 'udq-checkpoint', arch: opts.arch, epochsDone: 0, options: baseOptions, history: [], bestEpoch: 0, bestValAccuracy: -1, trainingSeconds: 0, imagesTrained: 0 };
  }

  const { batchSize } = baseOptions;
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const val = { ...train, images: { ...train.images, count: split.val, pixels: train.images.pixels.subarray(split.train * 784) }, labels: labels.subarray(split.train) };
  const batchesPerEpoch = Math.ceil(split.train / batchSize);
  const xBuf = new Float32Array(batchSize * 784);
  const oe = opts.outliers;
  if (oe && oe.images.count < 1) throw new UsageError('outlier exposure: the outlier sources hold no images');
  if (opts.resume && Boolean(state.options.outlierExposure) !== Boolean(oe)) {
    throw new UsageError(`checkpoint was trained ${state.options.outlierExposure ? 'with' : 'without'} outlier exposure; resume with the same --outlier-exposure`);
  }
  const oeBuf = oe ? new Float32Array(batchSize * 784) : null;
  const oeIdx = new Uint32Array(batchSize);
  const yBuf = new Float32Array(batchSize * classes);
  let bestWeights: tf.Tensor[] | null = null;

  // the ort engine: the same loop, each step computed by the step graph on onnxruntime
  let ortTrainer: OrtTrainer | null = null;
  if (opts.engine === 'ort') {
    const ort = tryLoadOrt();
    if (!ort) throw new BackendError('engine ort: onnxruntime-node is not installed or failed to load');
    try {
      ortTrainer = await OrtTrainer.create(ort, model, { bnMode: oe ? 'frozen' : 'batch', seed: deriveSeed(seed, 'ort-steps') });
    } catch (e) {
      const why = e instanceof UnsupportedForOrtTraining ? e.message : `onnxruntime rejected the training graph: ${String((e as Error).message ?? e).split('\n')[0]}`;
      if (opts.engineForced || resumedOptimizer) throw e instanceof UnsupportedForOrtTraining ? e : new ModelError(`engine ort: ${why}`);
      opts.onNote?.(`tfjs trains it: ${why}`);
      state.options.engine = 'tfjs';
    }
    if (ortTrainer && resumedOptimizer) ortTrainer.setOptimizerState(new Map(resumedOptimizer.map((o) => [o.name, o.tensor.dataSync() as Float32Array])));
  }
  if (resumedOptimizer) tf.dispose(resumedOptimizer.map((o) => o.tensor));
  const rows = oe ? 2 * batchSize : batchSize;
  const ortBatch = { x: new Float32Array(rows * 784), target: new Float32Array(rows * classes), rowWeight: new Float32Array(rows), rows: 0 };
  let currentLr = 0;
  // from the options the run was started with (a resumed run continues with its checkpoint's recipe)
  const recipe = baseOptions.augment ? parseAugment(baseOptions.augment) : null;
  const digitPool = digitPoolOf(train.images, split.train);

  const unfreeze = oe ? freezeBatchNormStatistics(model) : () => undefined;
  try {
    await withSeededMathRandom(opts.seed, async () => {
      for (let epoch = state.epochsDone + 1; epoch <= opts.epochs; epoch++) {
        const totalSteps = opts.epochs * batchesPerEpoch;
        const setLr = (b: number) => {
          const rate = scheduledLearningRate(baseOptions, epoch, (epoch - 1) * batchesPerEpoch + b, totalSteps);
          (optimizer as unknown as { learningRate: number }).learningRate = rate;
          currentLr = rate;
          return rate;
        };
        const lr = setLr(0);
        const rand = mulberry32(deriveSeed(seed, 'epoch', epoch));
        const order = shuffledIndices(split.train, rand);
        const t0 = Date.now();
        let lossSum = 0;
        let accSum = 0;
        let seen = 0;
        for (let b = 0; b < batchesPerEpoch; b++) {
          const start = b * batchSize;
          const end = Math.min(split.train, start + batchSize);
          const n = end - start;
          if (b > 0 && baseOptions.lrSchedule === 'cosine') setLr(b);
          fillBatch(train.images, order, start, end, xBuf, { maxShift: baseOptions.augmentShift, random: rand });
          if (oe) warpBatch(xBuf, n, rand);
          if (recipe) augmentBatch(xBuf, n, recipe, rand, digitPool, (k) => labels[order[start + k]]);
          fillOneHot(labels, order, start, end, classes, yBuf);
          let loss: number;
          let acc: number;
          if (ortTrainer) {
            [loss, acc] = await ortStep(ortTrainer, ortBatch, { xBuf, yBuf, n, classes, lr: currentLr, oe: oe && oeBuf ? { images: oe.images, weight: oe.weight, buf: oeBuf, idx: oeIdx, shift: baseOptions.augmentShift, rand, recipe, pool: digitPool } : null });
            if (!Number.isFinite(loss)) {
              throw new TrainingError(`non-finite loss at epoch ${epoch}, batch ${b + 1} (ort engine)${opts.checkpointDir && state.epochsDone ? `; the checkpoint of epoch ${state.epochsDone} is kept` : ''}`);
            }
          } else {
            const x = tf.tensor4d(xBuf.subarray(0, n * 784), [n, 28, 28, 1]);
            const y = tf.tensor2d(yBuf.subarray(0, n * classes), [n, classes]);
            if (oe && oeBuf) {
              drawOutliers(oe.images, n, oeIdx, oeBuf, baseOptions.augmentShift, rand, recipe, digitPool);
              const xo = tf.tensor4d(oeBuf.subarray(0, n * 784), [n, 28, 28, 1]);
              [loss, acc] = await outlierExposureStep(model, optimizer, x, y, xo, oe.weight);
              tf.dispose(xo);
            } else {
              [loss, acc] = (await model.trainOnBatch(x, y)) as number[];
            }
            tf.dispose([x, y]);
          }
          lossSum += loss * n;
          accSum += acc * n;
          seen += n;
          const elapsed = (Date.now() - t0) / 1000;
          const ips = seen / Math.max(elapsed, 1e-3);
          const remaining = split.train - seen + (opts.epochs - epoch) * split.train;
          opts.onBatch?.({ epoch, epochs: opts.epochs, batch: b + 1, batches: batchesPerEpoch, loss: lossSum / seen, accuracy: accSum / seen, imagesPerSecond: ips, etaSeconds: remaining / ips });
        }
        const seconds = (Date.now() - t0) / 1000;
        ortTrainer?.writeTo(model, tf);
        const record: EpochRecord = { epoch, loss: lossSum / seen, accuracy: accSum / seen, seconds, learningRate: lr };
        if (split.val > 0) {
          const rep = classificationReport(predictProbabilities(model, val.images), val.labels, train.classNames ?? []);
          record.valLoss = rep.meanLoss;
          record.valAccuracy = rep.accuracy;
        }
        state.history.push(record);
        state.epochsDone = epoch;
        state.trainingSeconds += seconds;
        state.imagesTrained += seen;
        const score = record.valAccuracy ?? -record.loss;
        const isBest = score > state.bestValAccuracy;
        if (isBest) {
          state.bestValAccuracy = score;
          state.bestEpoch = epoch;
          if (bestWeights) tf.dispose(bestWeights);
          bestWeights = model.getWeights().map((w) => w.clone());
        }
        if (opts.checkpointDir) await saveCheckpoint(opts.checkpointDir, model, optimizer, state, isBest, ortTrainer);
        opts.onEpoch?.(record);
      }
    });
  } finally {
    unfreeze();
    ortTrainer?.dispose();
  }

  // keep the best epoch's weights (from memory, or from the checkpoint when this run added no better epoch)
  if (bestWeights) {
    model.setWeights(bestWeights);
    tf.dispose(bestWeights);
  } else if (opts.checkpointDir && existsSync(join(opts.checkpointDir, 'best', 'model.json')) && state.bestEpoch !== state.epochsDone) {
    const best = await loadModelFiles(join(opts.checkpointDir, 'best'));
    model.setWeights(best.getWeights());
    best.dispose();
  }
  const bestRecord = state.history.find((h) => h.epoch === state.bestEpoch) ?? state.history[state.history.length - 1];
  return {
    model,
    history: state.history,
    bestEpoch: state.bestEpoch,
    trainImages: split.train,
    valImages: split.val,
    trainAccuracy: bestRecord?.accuracy ?? 0,
    valAccuracy: bestRecord?.valAccuracy,
    imagesPerSecond: state.imagesTrained / Math.max(state.trainingSeconds, 1e-3),
    trainingSeconds: state.trainingSeconds,
    options: baseOptions,
  };
}

/** `n` outliers drawn from `images` into `buf` (shifted, warped as the digits are), the same draws on either engine. */
function drawOutliers(images: ImageSet, n: number, idx: Uint32Array, buf: Float32Array, maxShift: number, rand: () => number, recipe: AugmentRecipe | null, pool: DigitPool): void {
  for (let k = 0; k < n; k++) idx[k] = Math.floor(rand() * images.count);
  fillBatch(images, idx, 0, n, buf, { maxShift, random: rand });
  warpBatch(buf, n, rand);
  if (recipe) augmentBatch(buf, n, recipe, rand, pool);
}

type DigitPool = { count: number; image(i: number): Float32Array };

/** The training digits as a fragment pool for the augmentation recipe (a neighbour's edge comes from one of them). */
function digitPoolOf(images: ImageSet, count: number): DigitPool {
  const img = new Float32Array(784);
  return {
    count,
    image(i: number): Float32Array {
      for (let k = 0; k < 784; k++) img[k] = images.pixels[i * 784 + k] / 255;
      return img;
    },
  };
}

/**
 * One step on the ort engine: the digits (one-hot targets, weight 1/n each) and, with outlier
 * exposure, as many outliers drawn and warped as in the tfjs step (uniform targets, weight
 * oeWeight/n each) in one batch. Returns [loss, accuracy on the digits].
 */
async function ortStep(
  trainer: OrtTrainer,
  batch: { x: Float32Array; target: Float32Array; rowWeight: Float32Array; rows: number },
  a: { xBuf: Float32Array; yBuf: Float32Array; n: number; classes: number; lr: number; oe: { images: ImageSet; weight: number; buf: Float32Array; idx: Uint32Array; shift: number; rand: () => number; recipe: AugmentRecipe | null; pool: DigitPool } | null },
): Promise<[number, number]> {
  const { n, classes } = a;
  batch.x.set(a.xBuf.subarray(0, n * 784));
  batch.target.set(a.yBuf.subarray(0, n * classes));
  batch.rowWeight.fill(1 / n, 0, n);
  let rows = n;
  if (a.oe) {
    const o = a.oe;
    drawOutliers(o.images, n, o.idx, o.buf, o.shift, o.rand, o.recipe, o.pool);
    batch.x.set(o.buf.subarray(0, n * 784), n * 784);
    batch.target.fill(1 / classes, n * classes, 2 * n * classes);
    batch.rowWeight.fill(o.weight / n, n, 2 * n);
    rows = 2 * n;
  }
  batch.rows = rows;
  const r = await trainer.step(batch, a.lr);
  const predicted = argmaxRows(r.probabilities.subarray(0, n * classes), classes);
  let right = 0;
  for (let i = 0; i < n; i++) if (a.yBuf[i * classes + predicted[i]] === 1) right++;
  return [r.loss, right / n];
}

/**
 * One outlier-exposure step: cross-entropy on the labelled digits `x`/`y` plus `weight` times
 * the cross-entropy between the softmax on the outliers `xo` and the uniform distribution
 * (Keras' categorical cross-entropy conventions: probabilities clipped to [1e-7, 1-1e-7]).
 * Digits and outliers go through the model as one batch, dropout on; BatchNorm is frozen by
 * the caller ({@link freezeBatchNormStatistics}). Returns [total loss, accuracy on the digits].
 */
export async function outlierExposureStep(model: tf.LayersModel, optimizer: tf.Optimizer, x: tf.Tensor, y: tf.Tensor, xo: tf.Tensor, weight: number): Promise<[number, number]> {
  const n = x.shape[0];
  const m = xo.shape[0];
  const classes = y.shape[1]!;
  let accT: tf.Scalar | null = null;
  const vars = model.trainableWeights.map((w) => (w as unknown as { read(): tf.Variable }).read());
  const lossT = optimizer.minimize(
    () => {
      const p = model.apply(tf.concat([x, xo], 0), { training: true }) as tf.Tensor2D;
      const logp = tf.log(tf.clipByValue(p, 1e-7, 1 - 1e-7));
      const inLoss = tf.mean(tf.neg(tf.sum(tf.mul(y, tf.slice(logp, [0, 0], [n, classes])), 1)));
      const outLoss = tf.mean(tf.neg(tf.mean(tf.slice(logp, [n, 0], [m, classes]), 1)));
      accT = tf.keep(tf.mean(tf.cast(tf.equal(tf.argMax(tf.slice(p, [0, 0], [n, classes]), 1), tf.argMax(y, 1)), 'float32'))) as tf.Scalar;
      return tf.add(inLoss, tf.mul(outLoss, weight)) as tf.Scalar;
    },
    true,
    vars,
  );
  const loss = (await lossT!.data())[0];
  const acc = (await (accT as unknown as tf.Scalar).data())[0];
  tf.dispose([lossT!, accT as unknown as tf.Scalar]);
  return [loss, acc];
}

/**
 * Run every BatchNormalization layer of `model` in inference mode (its moving statistics,
 * which are then never updated) even when the model is applied with `training: true`, so
 * dropout stays on while BatchNorm normalises exactly as at prediction time; gamma and beta
 * still train. Returns a function that undoes it.
 *
 * Why, for outlier exposure (measured on the deep model, one epoch from models/deep):
 * - digits and outliers as one batch in training mode (the paper's recipe): BatchNorm's
 *   statistics become a digit/outlier mixture; MNIST test accuracy 0.9958 -> 0.9931, and
 *   re-estimating the statistics on digits afterwards made it worse (0.9867);
 * - digits in training mode, outliers in inference mode: the network learnt to answer
 *   uniformly in inference mode everywhere (test accuracy 0.9305).
 * Frozen statistics make training and prediction one and the same network.
 */
export function freezeBatchNormStatistics(model: tf.LayersModel): () => void {
  const restore: (() => void)[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const l = layer as unknown as { call: (inputs: unknown, kwargs: Record<string, unknown>) => unknown };
    const original = l.call;
    l.call = (inputs, kwargs) => original.call(layer, inputs, { ...kwargs, training: false });
    restore.push(() => {
      l.call = original;
    });
  }
  return () => restore.forEach((r) => r());
}

export function removeCheckpoint(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
