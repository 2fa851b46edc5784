/**
 * Models udq did not train (issue #12): a tfjs Layers model (model.json + weight files, as
 * `model.save('file://...')` or the TensorFlow.js converter writes them) made ready for MC
 * sampling, without retraining:
 *
 * - a single chain of layers (Sequential, or functional without branches), one input, one
 *   10-class output;
 * - inputs [28,28,1], [28,28] or [784]: a Reshape from udq's [28,28,1] is put in front;
 * - a softmax output is used as it is; a logits output (last Dense linear) gets its softmax
 *   (the Dense is rebuilt with a softmax activation and the same weights), which also gives
 *   the sampler the logits for energy scores;
 * - its stochastic layers (Dropout, SpatialDropout1D, AlphaDropout, GaussianDropout,
 *   GaussianNoise) are what MC sampling reads; with none, the model is refused unless
 *   `addDropout` inserts a Dropout before the last Dense (not what it was trained with).
 * BatchNorm stays in inference mode, as for udq's own models.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { relativePath } from '../paths';
import { ModelError, UsageError } from '../errors';
import { loadModelFiles, saveModelFiles, writeJsonAtomic, MANIFEST_FILE, ensureWritableModelDir, ImportedManifest, ImportRecord, removeEnsembleFiles } from './store';
import { isStochastic, STOCHASTIC_CLASSES } from '../uq/stochastic';
import { loadMnist } from '../data/mnist';
import { classificationReport, predictProbabilities } from '../train/evaluate';
import { VERSION } from '../version';

export type { ImportedManifest, ImportRecord } from './store';

export interface PreparedImport {
  model: tf.LayersModel;
  record: ImportRecord;
}

/** Below this MNIST test accuracy an imported model is probably not an MNIST digit classifier. */
export const IMPORT_ACCURACY_WARNING = 0.9;

const SUPPORTED_INPUTS = ['28,28,1', '28,28', '784'];

function describeClasses(model: tf.LayersModel): string {
  return model.layers.map((l) => l.getClassName()).join(' > ');
}

/** Check the model is a chain of layers; throw a ModelError that names what is not. */
function checkChain(model: tf.LayersModel): tf.layers.Layer[] {
  if (model.inputs.length !== 1) throw new ModelError(`the model has ${model.inputs.length} inputs: udq samples models with one image input`);
  if (model.outputs.length !== 1) throw new ModelError(`the model has ${model.outputs.length} outputs: udq samples models with one 10-class output`);
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  let previous: tf.layers.Layer | null = model.layers.find((l) => l.getClassName() === 'InputLayer') ?? null;
  for (const layer of layers) {
    const nodes = (layer as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes;
    const node = nodes[nodes.length - 1];
    const sources = node?.inboundLayers ?? [];
    if (sources.length > 1) throw new ModelError(`layer ${layer.name} (${layer.getClassName()}) joins ${sources.length} inputs: only a single chain of layers is supported (no branches)`);
    if (previous && sources.length === 1 && sources[0] !== previous) throw new ModelError(`layer ${layer.name} does not follow ${previous.name}: only a single chain of layers is supported (no branches or skips)`);
    previous = layer;
  }
  return layers;
}

function lastDenseIndex(layers: tf.layers.Layer[]): number {
  for (let i = layers.length - 1; i >= 0; i--) if (layers[i].getClassName() === 'Dense') return i;
  return -1;
}

/**
 * Rebuild `source` as a udq-ready model: [28,28,1] input, softmax output, its own layers and
 * weights (shared, not copied), `addDropout` inserted if asked.
 */
export function prepareImport(source: tf.LayersModel, opts: { addDropout?: number; source?: string } = {}): PreparedImport {
  const layers = checkChain(source);
  const inShape = source.inputs[0].shape.slice(1) as number[];
  if (!SUPPORTED_INPUTS.includes(inShape.join(','))) {
    throw new ModelError(`input shape [${inShape}] is not supported: udq feeds 28x28 grey images as [28,28,1], [28,28] or [784]`);
  }
  const outShape = source.outputs[0].shape.slice(1) as number[];
  if (outShape.length !== 1 || outShape[0] !== 10) throw new ModelError(`output shape [${outShape}]: udq needs 10 digit classes`);
  const last = layers[layers.length - 1];
  const lastCfg = last.getConfig() as { activation?: string };
  let output: ImportRecord['output'];
  if (last.getClassName() === 'Dense' && lastCfg.activation === 'softmax') output = 'softmax';
  else if ((last.getClassName() === 'Activation' && lastCfg.activation === 'softmax') || last.getClassName() === 'Softmax') output = 'softmax';
  else if (last.getClassName() === 'Dense' && (lastCfg.activation ?? 'linear') === 'linear') output = 'logits';
  else throw new ModelError(`the last layer ${last.name} (${last.getClassName()}, activation ${lastCfg.activation ?? 'none'}) gives neither a softmax nor logits`);

  const stochastic = layers.filter((l) => isStochastic(l));
  if (opts.addDropout !== undefined && !(opts.addDropout > 0 && opts.addDropout < 1)) throw new UsageError('--add-dropout must be a rate between 0 and 1');
  if (stochastic.length === 0 && opts.addDropout === undefined) {
    throw new ModelError(
      `the model has no stochastic layer (${Object.keys(STOCHASTIC_CLASSES).join(', ')}), so its MC samples would all be the same: nothing to read uncertainty from. ` +
        `--add-dropout RATE samples it with a Dropout inserted before the last Dense layer (not what the model was trained with). Layers: ${describeClasses(source)}`,
    );
  }
  if (stochastic.length > 0 && opts.addDropout !== undefined) throw new UsageError(`--add-dropout: the model already has stochastic layers (${stochastic.map((l) => l.getClassName()).join(', ')})`);

  const chain: tf.layers.Layer[] = [];
  if (inShape.join(',') !== '28,28,1') chain.push(tf.layers.reshape({ targetShape: inShape, name: 'udq_input_reshape' }));
  const insertAt = opts.addDropout !== undefined ? lastDenseIndex(layers) : -1;
  if (opts.addDropout !== undefined && insertAt < 0) throw new ModelError('--add-dropout: the model has no Dense layer to put the Dropout before');
  layers.forEach((layer, i) => {
    if (i === insertAt) chain.push(tf.layers.dropout({ rate: opts.addDropout!, name: 'udq_added_dropout' }));
    if (i === layers.length - 1 && output === 'logits') {
      const cfg = layer.getConfig() as { units: number; useBias?: boolean };
      chain.push(tf.layers.dense({ units: cfg.units, useBias: cfg.useBias ?? true, activation: 'softmax', name: `${layer.name}_softmax` }));
    } else {
      chain.push(layer);
    }
  });
  const input = tf.input({ shape: [28, 28, 1], name: 'udq_image' });
  let x: tf.SymbolicTensor = input;
  for (const layer of chain) x = layer.apply(x) as tf.SymbolicTensor;
  if (output === 'logits') chain[chain.length - 1].setWeights(last.getWeights());
  const model = tf.model({ inputs: input, outputs: x, name: `${source.name}_udq` });
  return {
    model,
    record: {
      source: opts.source ?? 'memory',
      input: { shape: inShape, handling: inShape.join(',') === '28,28,1' ? 'as-is' : 'reshaped' },
      output,
      stochasticLayers: stochastic.map((l) => {
        const cfg = l.getConfig() as { rate?: number; stddev?: number };
        return { name: l.name, className: l.getClassName(), ...(cfg.rate !== undefined ? { rate: cfg.rate } : {}), ...(cfg.stddev !== undefined ? { stddev: cfg.stddev } : {}) };
      }),
      ...(opts.addDropout !== undefined ? { addedDropout: opts.addDropout } : {}),
      training: 'unknown',
    },
  };
}

/** Deterministic MNIST test accuracy of a prepared model on the first `images` test digits. */
export function mnistAccuracy(model: tf.LayersModel, images = 2000): { accuracy: number; images: number } {
  const test = loadMnist('test', images);
  const report = classificationReport(predictProbabilities(model, test.images), test.labels!, test.classNames!);
  return { accuracy: report.accuracy, images: test.images.count };
}

/** A model.json path or a directory holding one -> the directory. */
export function importSourceDir(src: string): string {
  const abs = resolve(src);
  if (!existsSync(abs)) throw new ModelError(`${src} does not exist`);
  if (statSync(abs).isDirectory()) {
    if (!existsSync(join(abs, 'model.json'))) throw new ModelError(`${src} holds no model.json (a tfjs Layers model directory is expected)`);
    return abs;
  }
  if (basename(abs) !== 'model.json') throw new ModelError(`${src}: expected a tfjs model.json or its directory`);
  return dirname(abs);
}

export interface ImportResult {
  out: string;
  manifest: ImportedManifest;
  warning?: string;
}

/** `udq import`: prepare, check on MNIST and save the model with its manifest under `out`. */
export async function importModel(src: string, out: string, opts: { addDropout?: number; force?: boolean; testImages?: number; command?: string } = {}): Promise<ImportResult> {
  const dir = importSourceDir(src);
  const target = resolve(out);
  if (target === dir) throw new UsageError('--out must differ from the source directory');
  ensureWritableModelDir(target, Boolean(opts.force));
  const raw = await loadModelFiles(dir);
  const prepared = prepareImport(raw, { addDropout: opts.addDropout, source: relativePath(dir) });
  const check = mnistAccuracy(prepared.model, opts.testImages ?? 2000);
  // --force over an ensemble: its files would be what the directory loads as
  removeEnsembleFiles(target);
  await saveModelFiles(prepared.model, target);
  const manifest: ImportedManifest = {
    format: 'udq-model',
    formatVersion: 1,
    arch: 'imported',
    imported: prepared.record,
    testAccuracy: check.accuracy,
    testImages: check.images,
    udqVersion: VERSION,
    date: new Date().toISOString(),
    ...(opts.command ? { command: opts.command } : {}),
  };
  writeJsonAtomic(join(target, MANIFEST_FILE), manifest);
  prepared.model.dispose();
  return {
    out: target,
    manifest,
    warning: check.accuracy < IMPORT_ACCURACY_WARNING ? `MNIST test accuracy ${check.accuracy.toFixed(4)} is below ${IMPORT_ACCURACY_WARNING}: this may not be an MNIST digit classifier` : undefined,
  };
}
