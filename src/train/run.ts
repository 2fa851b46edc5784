/**
 * Training orchestration behind `udq train` and the library's `train`: train a study
 * architecture on MNIST (optionally fine-tuning one, with outlier exposure) and save it with
 * a manifest; or K such models saved as one ensemble directory.
 */
import { join, resolve } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs';
import { concatSets, loadAdversary } from '../data/sources';
import type { ImageSet } from '../data/types';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { Io } from '../io';
import { Arch } from '../models/architectures';
import { initBackend } from '../engine/backend';
import { loadMnist, mnistSha256 } from '../data/mnist';
import { LrSchedule, trainModel, removeCheckpoint } from './train';
import { classificationReport, predictProbabilities } from './evaluate';
import { ensureWritableModelDir, loadModelFiles, MANIFEST_FILE, ModelManifest, readTrainedManifest, removeEnsembleFiles, saveModelFiles, writeManifest } from '../models/store';
import {
  clearEnsembleDir,
  EnsembleManifest,
  EnsembleMemberManifest,
  EnsembleMemberRecord,
  EnsembleMode,
  FoldRange,
  kfoldRanges,
  memberDir,
  memberRecord,
  membersManifestFields,
  memberSeed,
  memberTrainingSet,
  MEMBERS_DIR,
  writeEnsembleManifest,
} from '../models/ensemble';
import { averageProbabilities } from '../uq/ensemble';
import { splitValidation } from './batches';
import { generateSynthDigits, SYNTH_DIGITS_SEED } from '../data/synth/digits';
import { generateHandDigits, HAND_SERIES } from '../data/synth/hand-digits';
import { selectClasses, type LabelledImages } from '../data/types';
import { ProgressPrinter } from './progress';
import { modelsDir, relativePath } from '../paths';
import { VERSION } from '../version';
import { UsageError } from '../errors';
import { EngineName, pickEngine } from '../engine/engine';
import { describeForTraining, UnsupportedForOrtTraining } from '../onnx/train-graph';
import { AugmentRecipe, augmentSpec, parseAugment } from './augment';

export interface TrainCommandOptions {
  arch: Arch;
  epochs: number;
  batchSize: number;
  seed?: number;
  limit?: number;
  valSplit: number;
  lr: number;
  lrDecay: number;
  lrSchedule?: LrSchedule;
  /** `--augment`: a number of pixels (shifts only), `users`, or a list of parts (src/train/augment.ts) */
  augment: number | string;
  out?: string;
  force?: boolean;
  resume?: boolean;
  keepCheckpoint?: boolean;
  backend?: string;
  /** ort (the training step on onnxruntime) or tfjs; default: $UDQ_ENGINE, else ort when it loads */
  engine?: string;
  json?: boolean;
  /** train an ensemble of this many members (>= 2) */
  ensemble?: number;
  /** ensemble member i leaves out fold i of K of the training images */
  kfold?: boolean;
  /** the ensemble's default sampling mode, stored in ensemble.json */
  ensembleMode?: EnsembleMode;
  /** comma-separated outlier sources (dataset names or paths; their train split) */
  outlierExposure?: string;
  /** weight of the outlier loss */
  oeWeight?: number;
  /** fine-tune from this model directory */
  initFrom?: string;
  /** extra labelled training digits: `synth-digits` or `synth-digits:N` */
  extraDigits?: string;
}

/** What a training run reports: the manifest's figures, where the model went, and its best epoch. */
export type TrainSummary = Pick<
  ModelManifest,
  'arch' | 'epochs' | 'backend' | 'trainingEngine' | 'trainImages' | 'valImages' | 'trainAccuracy' | 'valAccuracy' | 'testAccuracy' | 'imagesPerSecond' | 'trainingSeconds'
> & { bestEpoch: number; modelDir: string };

export async function runTrain(opts: TrainCommandOptions, io: Io, argv: string[] = []): Promise<TrainSummary> {
  if (opts.ensemble !== undefined) throw new UsageError('runTrain trains one model; use runTrainEnsemble for --ensemble');
  const backend = await initBackend(opts.backend);
  const modelDir = resolve(opts.out ?? join(modelsDir(), opts.arch));
  const checkpointDir = join(modelDir, 'checkpoint');
  if (opts.resume) {
    if (!existsSync(join(checkpointDir, 'state.json'))) throw new UsageError(`--resume: no checkpoint in ${checkpointDir}`);
  } else {
    ensureWritableModelDir(modelDir, Boolean(opts.force));
    removeCheckpoint(checkpointDir);
  }
  const mnist = loadMnist('train', opts.limit);
  const test = loadMnist('test');
  const progress = new ProgressPrinter(io);
  const extra = opts.extraDigits ? await loadExtraDigits(opts.extraDigits, (l) => progress.line(l)) : undefined;
  // the extra digits go first, so that the validation images (the last ones) stay MNIST's own
  const { set: train, valSplit } = extra ? withExtraDigits(mnist, extra.set, opts.valSplit) : { set: mnist, valSplit: opts.valSplit };
  const outliers = opts.outlierExposure ? await loadOutlierSources(opts.outlierExposure, (l) => progress.line(l)) : undefined;
  const init = opts.initFrom ? await loadInitModel(opts.initFrom, opts.arch) : undefined;
  // --resume continues on the engine that wrote the checkpoint, unless one is asked for
  const engine = chooseTrainingEngine(opts.engine ?? (opts.resume ? checkpointEngine(checkpointDir) : undefined), init?.model);
  if (engine.note) progress.line(`note: ${engine.note}`);
  progress.line(`training ${opts.arch} on ${mnist.images.count} MNIST images${extra ? ` and ${extra.set.images.count} ${extra.source}` : ''} (backend ${backend.backend}, engine ${engine.engine}), saving to ${modelDir}`);
  const { summary } = await trainAndSave(train, test, {
    opts,
    backend: backend.backend,
    engine: engine.engine,
    engineForced: engine.forced,
    modelDir,
    seed: opts.seed,
    valSplit,
    resume: Boolean(opts.resume),
    progress,
    argv,
    outliers: outliers ? { ...outliers, weight: opts.oeWeight ?? 0.5 } : undefined,
    init,
    manifestExtra: extra ? { extraDigits: { source: extra.source, images: extra.set.images.count, seed: extra.parts[0].seed, ...(extra.parts.length > 1 ? { parts: extra.parts } : {}) } } : undefined,
  });
  init?.model.dispose();
  return summary;
}

/** How many digits each `--extra-digits` source adds without a count (font digits: a tenth of MNIST's training set). */
export const EXTRA_DIGITS_DEFAULT = 6000;
export const HAND_DIGITS_DEFAULT = 2000;

/** The sources of `--extra-digits` by name: the font digits and each series of hand-drawn digits. */
const EXTRA_SOURCES: Readonly<Record<string, { generate: (opts: { count: number; seed: number }) => Promise<LabelledImages>; seed: number; count: number }>> = {
  'synth-digits': { generate: generateSynthDigits, seed: SYNTH_DIGITS_SEED, count: EXTRA_DIGITS_DEFAULT },
  ...Object.fromEntries(HAND_SERIES.map((series) => [series.name, { generate: (opts: { count: number; seed: number }) => generateHandDigits(opts, series), seed: series.seed, count: HAND_DIGITS_DEFAULT }])),
};

const EXTRA_SOURCE_NAMES = Object.keys(EXTRA_SOURCES);
/** SOURCE[:N][:CLASSES], SOURCE one of {@link EXTRA_SOURCES}' names (anchored at both ends, so hand-digits-b is not read as hand-digits) */
const EXTRA_SOURCE_PATTERN = new RegExp(`^(${EXTRA_SOURCE_NAMES.join('|')})(?::(\\d+))?(?::([-+0-9]+))?$`);

/** One source of `--extra-digits` as loaded: its name with the class selection, images and seed. */
export interface ExtraDigitsPart {
  source: string;
  images: number;
  seed: number;
}

/**
 * `--extra-digits SOURCE[:N][:CLASSES][,SOURCE...]`: for each source (`synth-digits`: font
 * digits; `hand-digits`, `hand-digits-b`, `hand-digits-c` and `hand-digits-d`: the series of hand-drawn styles of
 * src/data/synth/hand-digits.ts) N digits
 * (labels 0-9) of its fixed seed, then only the digits CLASSES names (`-6` drops the 6s, `1+4+7`
 * keeps those; the selection of `udq data`'s `NAME:CLASSES`), the sources in the order given.
 * The digits kept are the same images as without a selection.
 */
export async function loadExtraDigits(spec: string, log: (line: string) => void): Promise<{ source: string; set: LabelledImages; parts: ExtraDigitsPart[] }> {
  const parts: ExtraDigitsPart[] = [];
  const sets: LabelledImages[] = [];
  for (const one of spec.split(',').map((x) => x.trim())) {
    const m = EXTRA_SOURCE_PATTERN.exec(one);
    if (!m) throw new UsageError(`--extra-digits: unknown source "${one}" (${EXTRA_SOURCE_NAMES.slice(0, -1).join(', ')} or ${EXTRA_SOURCE_NAMES.at(-1)}, each with :N and :CLASSES as in synth-digits:6000:-6, several separated by commas)`);
    const src = EXTRA_SOURCES[m[1]];
    const count = m[2] === undefined ? src.count : Number(m[2]);
    if (!Number.isInteger(count) || count < 10) throw new UsageError(`--extra-digits: need at least 10 digits, not ${m[2]}`);
    const all = await src.generate({ count, seed: src.seed });
    const set = m[3] === undefined ? all : { ...selectClasses(all, m[3]), name: all.name };
    const source = m[3] === undefined ? m[1] : `${m[1]}:${m[3]}`;
    log(`extra training digits: ${set.images.count} images of ${source} (seed ${src.seed})`);
    parts.push({ source, images: set.images.count, seed: src.seed });
    sets.push(set);
  }
  const set = sets.length === 1 ? sets[0] : { ...concatSets(sets, parts.map((p) => p.source).join('+')), classNames: sets[0].classNames };
  return { source: parts.map((p) => p.source).join(','), set, parts };
}

/**
 * MNIST's training set with `extra` labelled digits put first, and the validation fraction that
 * keeps the same last MNIST images for validation as `valSplit` does without them. Pure.
 */
export function withExtraDigits(mnist: LabelledImages, extra: LabelledImages, valSplit: number): { set: LabelledImages; valSplit: number } {
  const set = concatSets([{ ...extra, classNames: mnist.classNames }, mnist], `${extra.name}+${mnist.name}`);
  if (!set.labels) throw new UsageError('--extra-digits: the extra digits have no labels');
  const val = splitValidation(mnist.images.count, valSplit).val;
  return { set: { ...set, classNames: mnist.classNames }, valSplit: (val + 0.5) / set.images.count };
}

/** The outlier images of `--outlier-exposure a,b,c`: each source's train split, concatenated. */
export async function loadOutlierSources(spec: string, log: (line: string) => void): Promise<{ images: ImageSet; sources: string[] }> {
  const sources = spec.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (sources.length === 0) throw new UsageError('--outlier-exposure needs at least one source');
  const sets: LabelledImages[] = [];
  for (const src of sources) {
    const set = await loadAdversary(src, { split: 'train' });
    log(`outlier exposure: ${set.images.count} images of ${src} (train split)`);
    sets.push(set);
  }
  return { images: concatSets(sets, spec).images, sources };
}

/** `--init-from DIR`: the model to fine-tune, which must be of the arch being trained. */
async function loadInitModel(dir: string, arch: Arch): Promise<{ dir: string; model: LayersModel; testAccuracy?: number }> {
  const manifest = readTrainedManifest(resolve(dir));
  if (manifest.arch !== arch) throw new UsageError(`--init-from ${dir} is a ${manifest.arch} model, not ${arch}`);
  return { dir: relativePath(dir), model: await loadModelFiles(resolve(dir)), testAccuracy: manifest.testAccuracy };
}

/**
 * The engine that computes the training steps: `requested` (or $UDQ_ENGINE), else ort when
 * onnxruntime-node loads and the model's layers are covered by the step graph; tfjs otherwise,
 * with a note saying why. Asking for ort when it cannot be had is an error.
 */
export function chooseTrainingEngine(requested: string | undefined, init?: LayersModel): { engine: EngineName; forced: boolean; note?: string } {
  const info = pickEngine(requested);
  if (info.engine === 'tfjs') return { engine: 'tfjs', forced: info.forced, note: info.skipped?.length ? `tfjs trains it: ${info.skipped[0].reason}` : undefined };
  if (init) {
    try {
      describeForTraining(init);
    } catch (e) {
      if (!(e instanceof UnsupportedForOrtTraining) || info.forced) throw e;
      return { engine: 'tfjs', forced: false, note: `tfjs trains it: ${e.message}` };
    }
  }
  return { engine: 'ort', forced: info.forced };
}

/** The engine a checkpoint in `dir` was trained on (absent from older checkpoints: tfjs), or undefined when there is none. */
export function checkpointEngine(dir: string): EngineName | undefined {
  const file = join(dir, 'state.json');
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as { options?: { engine?: EngineName } };
    return state.options?.engine ?? 'tfjs';
  } catch {
    return undefined; // trainModel reports a corrupt checkpoint
  }
}

interface TrainOneOptions {
  opts: TrainCommandOptions;
  backend: string;
  engine: EngineName;
  /** --engine / UDQ_ENGINE asked for it */
  engineForced?: boolean;
  modelDir: string;
  seed?: number;
  valSplit: number;
  resume: boolean;
  progress: ProgressPrinter;
  argv: string[];
  /** extra fields for udq.json (ensemble members) */
  manifestExtra?: Record<string, unknown>;
  outliers?: { images: ImageSet; sources: string[]; weight: number };
  init?: { dir: string; model: LayersModel; testAccuracy?: number };
}

/** `--augment` as the trainer takes it: a bare number is the shift-only form, anything else a recipe. */
export function augmentOptions(spec: number | string): { augmentShift: number; augment: AugmentRecipe | null } {
  const recipe = parseAugment(spec);
  if (!recipe) return { augmentShift: 0, augment: null };
  if (/^\d+$/.test(String(spec).trim())) return { augmentShift: recipe.shift, augment: null };
  return { augmentShift: 0, augment: recipe };
}

/** Train one model on `train`, save it with its manifest into `modelDir`; also returns its test softmax. */
async function trainAndSave(train: LabelledImages, test: LabelledImages, t: TrainOneOptions): Promise<{ summary: TrainSummary; manifest: ModelManifest; testProbs: Float32Array }> {
  const { opts, progress, modelDir } = t;
  const augment = augmentOptions(opts.augment);
  const checkpointDir = join(modelDir, 'checkpoint');
  const result = await trainModel(train, {
    arch: opts.arch,
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    seed: t.seed,
    valSplit: t.valSplit,
    learningRate: opts.lr,
    lrDecay: opts.lrDecay,
    lrSchedule: opts.lrSchedule,
    ...augment,
    checkpointDir,
    resume: t.resume,
    outliers: t.outliers,
    initFrom: t.init?.model,
    engine: t.engine,
    engineForced: t.engineForced,
    onNote: (line) => progress.line(`note: ${line}`),
    onBatch: (p) => progress.batch(p),
    onEpoch: (r) =>
      progress.line(
        `epoch ${r.epoch}: loss ${r.loss.toFixed(4)} acc ${r.accuracy.toFixed(4)}` +
          (r.valAccuracy !== undefined ? ` val_loss ${r.valLoss!.toFixed(4)} val_acc ${r.valAccuracy.toFixed(4)}` : '') +
          ` (${r.seconds.toFixed(0)} s)`,
      ),
  });
  const testProbs = predictProbabilities(result.model, test.images);
  const testReport = classificationReport(testProbs, test.labels!, test.classNames!);
  // --force over an ensemble: its files would be what the directory loads as
  for (const name of removeEnsembleFiles(modelDir)) progress.line(`removed ${join(modelDir, name)}: the ensemble this model replaces`);
  await saveModelFiles(result.model, modelDir);
  // a gate fitted on the weights just replaced no longer describes this model
  const staleGate = join(modelDir, 'gate.json');
  if (existsSync(staleGate)) {
    rmSync(staleGate);
    progress.line(`removed ${staleGate}: it was fitted for the previous weights (run udq calibrate)`);
  }
  const manifest: ModelManifest = {
    format: 'udq-model',
    formatVersion: 1,
    arch: opts.arch,
    epochs: result.history.length,
    bestEpoch: result.bestEpoch,
    seed: t.seed,
    batchSize: result.options.batchSize,
    learningRate: result.options.learningRate,
    lrSchedule: result.options.lrSchedule,
    lrDecay: result.options.lrSchedule === 'decay' ? result.options.lrDecay : undefined,
    backend: t.backend,
    trainingEngine: result.options.engine ?? 'tfjs',
    trainImages: result.trainImages,
    valImages: result.valImages,
    trainAccuracy: result.trainAccuracy,
    valAccuracy: result.valAccuracy,
    testAccuracy: testReport.accuracy,
    imagesPerSecond: result.imagesPerSecond,
    trainingSeconds: result.trainingSeconds,
    augment: augment.augment !== null || augment.augmentShift > 0,
    ...(augment.augment ? { augmentRecipe: augmentSpec(augment.augment) } : {}),
    history: result.history,
    dataset: { name: 'mnist', trainSha256: mnistSha256('train'), testSha256: mnistSha256('test') },
    udqVersion: VERSION,
    date: new Date().toISOString(),
    command: t.argv.length ? `udq ${t.argv.join(' ')}` : undefined,
    ...(t.outliers ? { outlierExposure: { sources: t.outliers.sources, weight: t.outliers.weight, images: t.outliers.images.count } } : {}),
    ...(t.init ? { initFrom: { dir: t.init.dir, testAccuracy: t.init.testAccuracy } } : {}),
  };
  writeManifest(modelDir, { ...manifest, ...t.manifestExtra } as ModelManifest);
  if (!opts.keepCheckpoint) removeCheckpoint(checkpointDir);
  result.model.dispose();
  progress.line(`test accuracy ${testReport.accuracy.toFixed(4)} (best epoch ${result.bestEpoch}); saved ${modelDir}`);
  const summary = summaryOf(manifest, modelDir);
  return { summary, manifest, testProbs };
}

export type EnsembleTrainSummary = Pick<EnsembleManifest, 'arch' | 'K' | 'kfold' | 'sampling' | 'seed' | 'seeds'> & {
  kind: 'ensemble';
  backend: string;
  modelDir: string;
  memberTestAccuracy: number[];
  /** of the members' averaged softmax */
  testAccuracy: number;
  trainingSeconds: number;
  members: TrainSummary[];
};

/**
 * `udq train --ensemble K [--kfold]`: K members trained one after another into
 * DIR/members/m<i> (member i seeded with deriveSeed(seed, 'member', i); with --kfold it does
 * not see fold i of the training images), then DIR/ensemble.json. With --resume, members
 * already saved are kept and a member with a checkpoint continues from it.
 */
export async function runTrainEnsemble(opts: TrainCommandOptions, io: Io, argv: string[] = []): Promise<EnsembleTrainSummary> {
  if (opts.extraDigits) throw new UsageError('--extra-digits trains one model; join models trained with it by udq ensemble');
  const k = opts.ensemble;
  if (k === undefined) throw new UsageError('runTrainEnsemble needs --ensemble K');
  if (!Number.isInteger(k) || k < 2) throw new UsageError('--ensemble needs at least 2 members');
  const sampling = opts.ensembleMode ?? 'disagreement';
  if (opts.resume && opts.seed === undefined) throw new UsageError('--resume with --ensemble needs the --seed of the interrupted run');
  const backend = await initBackend(opts.backend);
  const dir = resolve(opts.out ?? join(modelsDir(), `${opts.arch}-ensemble`));
  // --resume continues the interrupted member on the engine that wrote its checkpoint, unless one is asked for
  const resumedMember = opts.resume ? [...Array(k).keys()].map((i) => checkpointEngine(join(memberDir(dir, i), 'checkpoint'))).find((e) => e !== undefined) : undefined;
  const progress = new ProgressPrinter(io);
  // every member fine-tunes from the same model and sees the same outlier pool (its own draws)
  const outliers = opts.outlierExposure ? await loadOutlierSources(opts.outlierExposure, (l) => progress.line(l)) : undefined;
  const init = opts.initFrom ? await loadInitModel(opts.initFrom, opts.arch) : undefined;
  const engine = chooseTrainingEngine(opts.engine ?? resumedMember, init?.model);
  if (opts.resume) {
    if (!existsSync(join(dir, MEMBERS_DIR))) throw new UsageError(`--resume: no ensemble members in ${dir}`);
  } else {
    ensureWritableModelDir(dir, Boolean(opts.force));
    const removed = clearEnsembleDir(dir);
    if (removed.length) progress.line(`--force: removed ${removed.join(', ')} from ${dir}`);
  }
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const seeds = Array.from({ length: k }, (_, i) => memberSeed(seed, i));
  const train = loadMnist('train', opts.limit);
  const test = loadMnist('test');
  // each member's data (built when the member trains: a k-fold set is a copy of the images)
  const planOf = (i: number) => {
    if (!opts.kfold) return { seed: seeds[i], set: train, valSplit: opts.valSplit, heldOutFold: null as FoldRange | null };
    const m = memberTrainingSet(train, opts.valSplit, k, i);
    return { seed: seeds[i], set: m.set, valSplit: m.valSplit, heldOutFold: m.heldOutFold as FoldRange | null };
  };
  if (opts.kfold) kfoldRanges(splitValidation(train.images.count, opts.valSplit).train, k); // fail before training if the folds cannot be made
  if (engine.note) progress.line(`note: ${engine.note}`);
  progress.line(
    `training an ensemble of ${k} ${opts.arch} models on ${train.images.count} MNIST images` +
      (opts.kfold ? ` (k-fold: member i leaves out fold i of the ${splitValidation(train.images.count, opts.valSplit).train} training images)` : ' (all data, different seeds)') +
      ` (backend ${backend.backend}, engine ${engine.engine}), saving to ${dir}`,
  );
  const members: TrainSummary[] = [];
  const records: EnsembleMemberRecord[] = [];
  const testProbs: Float32Array[] = [];
  for (let i = 0; i < k; i++) {
    const plan = planOf(i);
    const mDir = memberDir(dir, i);
    const tag = `[member ${i + 1}/${k}]`;
    const memberIo: Io = { ...io, err: (text) => io.err(`${tag} ${text}`) };
    const memberProgress = new ProgressPrinter(memberIo);
    const done = opts.resume ? finishedMember(mDir, plan.seed, opts.arch, splitValidation(plan.set.images.count, plan.valSplit).train) : null;
    let summary: TrainSummary;
    let probs: Float32Array;
    if (done) {
      memberProgress.line(`already trained (test accuracy ${done.manifest.testAccuracy.toFixed(4)}); kept`);
      const model = await loadModelFiles(mDir);
      probs = predictProbabilities(model, test.images);
      model.dispose();
      summary = summaryOf(done.manifest, mDir);
    } else {
      const resume = Boolean(opts.resume) && existsSync(join(mDir, 'checkpoint', 'state.json'));
      if (!resume) removeCheckpoint(join(mDir, 'checkpoint'));
      memberProgress.line(
        `${resume ? 'resuming' : 'training'} with seed ${plan.seed} on ${plan.set.images.count} images` +
          (plan.heldOutFold ? ` (without training images ${plan.heldOutFold.start}..${plan.heldOutFold.end - 1})` : ''),
      );
      const extra: Pick<EnsembleMemberManifest, 'ensembleMember'> = { ensembleMember: { index: i, of: k, heldOutFold: plan.heldOutFold } };
      const r = await trainAndSave(plan.set, test, {
        opts,
        backend: backend.backend,
        engine: engine.engine,
        engineForced: engine.forced,
        modelDir: mDir,
        seed: plan.seed,
        valSplit: plan.valSplit,
        resume,
        progress: memberProgress,
        argv,
        manifestExtra: extra,
        outliers: outliers ? { ...outliers, weight: opts.oeWeight ?? 0.5 } : undefined,
        init,
      });
      summary = r.summary;
      probs = r.testProbs;
    }
    members.push(summary);
    testProbs.push(probs);
    records.push(memberRecord(i, plan.seed, plan.heldOutFold, summary));
  }
  init?.model.dispose();
  const ensembleReport = classificationReport(averageProbabilities(testProbs), test.labels!, test.classNames!);
  const manifest: EnsembleManifest = {
    format: 'udq-ensemble',
    formatVersion: 1,
    arch: opts.arch,
    K: k,
    kfold: Boolean(opts.kfold),
    sampling,
    seed,
    seeds,
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    backend: backend.backend,
    trainImages: train.images.count,
    valImages: splitValidation(train.images.count, opts.valSplit).val,
    ...membersManifestFields(records, ensembleReport.accuracy, argv),
  };
  writeEnsembleManifest(dir, manifest);
  progress.line(`ensemble test accuracy ${ensembleReport.accuracy.toFixed(4)} (members ${manifest.memberTestAccuracy.map((a) => a.toFixed(4)).join(', ')}); saved ${dir}`);
  return {
    kind: 'ensemble',
    arch: opts.arch,
    K: k,
    kfold: manifest.kfold,
    sampling,
    seed,
    seeds,
    backend: backend.backend,
    modelDir: dir,
    memberTestAccuracy: manifest.memberTestAccuracy,
    testAccuracy: manifest.testAccuracy,
    trainingSeconds: manifest.trainingSeconds,
    members,
  };
}

/** A member saved by an earlier (interrupted) run of the same plan, or null. */
function finishedMember(dir: string, seed: number, arch: Arch, trainImages: number): { manifest: ModelManifest } | null {
  if (!existsSync(join(dir, MANIFEST_FILE)) || existsSync(join(dir, 'checkpoint', 'state.json'))) return null;
  const manifest = readTrainedManifest(dir);
  if (manifest.seed !== seed || manifest.arch !== arch || manifest.trainImages !== trainImages) {
    throw new UsageError(
      `--resume: ${dir} was trained (arch ${manifest.arch}, seed ${manifest.seed}, ${manifest.trainImages} images) differently from this run's plan ` +
        `(arch ${arch}, seed ${seed}, ${trainImages} images); use the interrupted run's options`,
    );
  }
  return { manifest };
}

function summaryOf(m: ModelManifest, modelDir: string): TrainSummary {
  return {
    arch: m.arch,
    epochs: m.epochs,
    bestEpoch: m.bestEpoch ?? m.epochs,
    backend: m.backend,
    trainingEngine: m.trainingEngine ?? 'tfjs',
    modelDir,
    trainImages: m.trainImages,
    valImages: m.valImages,
    trainAccuracy: m.trainAccuracy,
    valAccuracy: m.valAccuracy,
    testAccuracy: m.testAccuracy,
    imagesPerSecond: m.imagesPerSecond,
    trainingSeconds: m.trainingSeconds,
  };
}

