/**
 * Model directories: `model.json` + `weights.bin` (the tfjs file format, loadable by
 * tfjs-node's `file://` handler too) and the `udq.json` manifest.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ExistsError, ModelError } from '../errors';
import { displayPath } from '../paths';
import type { Arch } from './architectures';
import { ENSEMBLE_FILE, holdsEnsemble, isEnsembleDir, MEMBERS_DIR, memberDir } from './ensemble-files';

export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  seconds: number;
  learningRate: number;
}

export interface ModelManifest {
  format: 'udq-model';
  formatVersion: 1;
  arch: Arch;
  epochs: number;
  /** the epoch whose weights were kept (best validation accuracy), 1-based */
  bestEpoch?: number;
  seed?: number;
  batchSize: number;
  /** Adam learning rate (the peak for the cosine schedule) and its schedule */
  learningRate?: number;
  lrSchedule?: string;
  lrDecay?: number;
  backend: string;
  /** what computed the training steps: ort (the step graph on onnxruntime) or tfjs (absent: tfjs, before the ort trainer) */
  trainingEngine?: 'ort' | 'tfjs';
  trainImages: number;
  valImages: number;
  trainAccuracy: number;
  valAccuracy?: number;
  testAccuracy: number;
  imagesPerSecond: number;
  trainingSeconds: number;
  augment: boolean;
  /** the augmentation recipe (`--augment` users or a list of parts; absent: shifts only or none) */
  augmentRecipe?: string;
  history: EpochRecord[];
  dataset: { name: string; trainSha256: string; testSha256: string };
  udqVersion: string;
  date: string;
  command?: string;
  /** outlier exposure: the auxiliary non-digit sources (training splits), loss weight, images */
  outlierExposure?: { sources: string[]; weight: number; images: number };
  /** `--extra-digits`: labelled digits trained on before MNIST's own (`synth-digits`: font digits; `hand-digits`: hand-drawn styles); `parts` when several sources */
  extraDigits?: { source: string; images: number; seed: number; parts?: { source: string; images: number; seed: number }[] };
  /** fine-tuned from this model directory (relative to the working directory), and its test accuracy then */
  initFrom?: { dir: string; testAccuracy?: number };
}

/** What `udq import` found and did (src/models/import.ts), recorded in the manifest. */
export interface ImportRecord {
  /** where it came from (relative to the working directory) */
  source: string;
  /** the model's own input shape, and what udq does with its 28x28x1 images */
  input: { shape: number[]; handling: 'as-is' | 'reshaped' };
  /** softmax: used as is; logits: softmax applied by udq */
  output: 'softmax' | 'logits';
  stochasticLayers: { name: string; className: string; rate?: number; stddev?: number }[];
  /** Dropout rate inserted before the last Dense by --add-dropout (not in the trained model) */
  addedDropout?: number;
  training: 'unknown';
}

/** The manifest of a model udq did not train. */
export interface ImportedManifest {
  format: 'udq-model';
  formatVersion: 1;
  arch: 'imported';
  imported: ImportRecord;
  /** on the first `testImages` MNIST test digits, deterministic pass */
  testAccuracy: number;
  testImages: number;
  udqVersion: string;
  date: string;
  command?: string;
}

export type AnyModelManifest = ModelManifest | ImportedManifest;

export const MANIFEST_FILE = 'udq.json';

/** Save a tfjs model as model.json + weights.bin into `dir` (created; replaced atomically). */
export async function saveModelFiles(model: tf.LayersModel, dir: string): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightsManifest = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }];
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest,
      };
      writeFileSync(join(tmp, 'model.json'), JSON.stringify(modelJson));
      const data = artifacts.weightData;
      const buffers = Array.isArray(data) ? data : data ? [data] : [];
      writeFileSync(join(tmp, 'weights.bin'), Buffer.concat(buffers.map((b) => Buffer.from(b))));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  // move the model files into place, keeping other files in `dir` (manifest, gate, checkpoints)
  mkdirSync(dir, { recursive: true });
  for (const f of ['model.json', 'weights.bin']) renameSync(join(tmp, f), join(dir, f));
  rmSync(tmp, { recursive: true, force: true });
}

/** Load model.json + weights.bin from `dir`. */
export async function loadModelFiles(dir: string): Promise<tf.LayersModel> {
  const jsonPath = join(dir, 'model.json');
  if (!existsSync(jsonPath)) throw new ModelError(`${dir}: not a model directory (no model.json)`);
  let json: { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  try {
    json = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (e) {
    throw new ModelError(`${jsonPath}: not valid JSON (${(e as Error).message})`);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) throw new ModelError(`${jsonPath}: missing modelTopology or weightsManifest`);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const wp = join(dir, p);
      if (!existsSync(wp)) throw new ModelError(`${dir}: weights file ${p} is missing`);
      buffers.push(readFileSync(wp));
    }
  }
  const weightData = Buffer.concat(buffers);
  const bytesPer = (s: tf.io.WeightsManifestEntry) => {
    const dtype = (s.quantization?.dtype ?? s.dtype) as string;
    return dtype === 'uint8' || dtype === 'bool' ? 1 : dtype === 'uint16' || dtype === 'float16' ? 2 : 4;
  };
  const expectedBytes = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * bytesPer(s), 0);
  if (weightData.length !== expectedBytes) {
    throw new ModelError(`${dir}: the weight files hold ${weightData.length} bytes, model.json describes ${expectedBytes}`);
  }
  const ab = weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength) as ArrayBuffer;
  try {
    return await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: ab }));
  } catch (e) {
    const message = (e as Error).message.split('\n')[0];
    const unknown = /Unknown layer: (\w+)/.exec(message);
    if (unknown) throw new ModelError(`${dir}: layer class ${unknown[1]} is not one tfjs-layers can load (Keras layers without a tfjs counterpart, such as SpatialDropout2D, must be replaced before converting)`);
    throw new ModelError(`${dir}: cannot load model (${message})`);
  }
}

export function writeManifest(dir: string, manifest: ModelManifest): void {
  writeJsonAtomic(join(dir, MANIFEST_FILE), manifest);
}

export function readManifest(dir: string): AnyModelManifest {
  const p = join(dir, MANIFEST_FILE);
  if (!existsSync(p)) {
    if (isEnsembleDir(dir)) {
      throw new ModelError(`${displayPath(dir)} is an ensemble (${ENSEMBLE_FILE}), and this command takes one model: pass one of its members instead, e.g. ${displayPath(memberDir(dir, 0))}`);
    }
    throw new ModelError(`${dir}: no ${MANIFEST_FILE} manifest (not a udq model directory?)`);
  }
  try {
    const m = JSON.parse(readFileSync(p, 'utf8')) as AnyModelManifest;
    if (m.format !== 'udq-model') throw new Error('format is not udq-model');
    return m;
  } catch (e) {
    throw new ModelError(`${p}: invalid manifest (${(e as Error).message})`);
  }
}

/** The manifest of a model udq trained (fine-tuning, resuming); an imported one is refused. */
export function readTrainedManifest(dir: string): ModelManifest {
  const m = readManifest(dir);
  if (m.arch === 'imported') throw new ModelError(`${dir} holds an imported model: udq did not train it and cannot continue or fine-tune it`);
  return m;
}

export interface LoadedModel {
  dir: string;
  model: tf.LayersModel;
  manifest: AnyModelManifest;
  /** something the user should know about this model (a plain tfjs model taken as it is) */
  note?: string;
}

/**
 * A udq model directory; or a plain tfjs Layers model directory (no udq.json), prepared for
 * sampling in memory as `udq import` would (with a note that nothing about its training is known).
 */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new ModelError(`model directory ${dir} does not exist (train one with: udq train --arch basic)`);
  if (!existsSync(join(abs, MANIFEST_FILE)) && existsSync(join(abs, 'model.json'))) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { prepareImport } = require('./import') as typeof import('./import');
    const prepared = prepareImport(await loadModelFiles(abs), { source: dir });
    const manifest: ImportedManifest = { format: 'udq-model', formatVersion: 1, arch: 'imported', imported: prepared.record, testAccuracy: NaN, testImages: 0, udqVersion: '', date: '' };
    return { dir: abs, model: prepared.model, manifest, note: `${dir} is a plain tfjs model (no udq.json): nothing about its training is known; \`udq import\` checks it on MNIST and records what was found` };
  }
  const manifest = readManifest(abs);
  const model = await loadModelFiles(abs);
  return { dir: abs, model, manifest };
}

/** Refuse to write a model or an ensemble over an existing model or ensemble unless `force`. */
export function ensureWritableModelDir(dir: string, force: boolean): void {
  const held = holdsEnsemble(dir) ? 'an ensemble' : existsSync(join(dir, 'model.json')) || existsSync(join(dir, MANIFEST_FILE)) ? 'a model' : null;
  if (held && !force) throw new ExistsError(`${dir} already holds ${held}; use --force to overwrite it`);
}

/**
 * Before a single model is saved over an ensemble (`--force`): remove ensemble.json and the
 * members, which would otherwise be what the directory loads as. Returns the names removed.
 */
export function removeEnsembleFiles(dir: string): string[] {
  return removeFromDir(dir, [ENSEMBLE_FILE, MEMBERS_DIR]);
}

/** Remove those of `names` (files or folders) that exist in `dir`; returns the names removed, in order. */
export function removeFromDir(dir: string, names: readonly string[]): string[] {
  const removed: string[] = [];
  for (const name of names) {
    const p = join(dir, name);
    if (existsSync(p)) {
      rmSync(p, { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}

export function writeJsonAtomic(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}
