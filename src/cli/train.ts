/** `udq train`: train a study architecture on MNIST and save it with a manifest. */
import { Command } from 'commander';
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { choice, fractionOrZero, Io, nonNegativeInt, positiveInt, printJson } from './common';
import { ARCHS, Arch } from '../models/architectures';
import { initBackend } from '../engine/backend';
import { loadMnist, mnistSha256 } from '../data/mnist';
import { trainModel, removeCheckpoint } from '../train/train';
import { classificationReport, predictProbabilities } from '../train/evaluate';
import { ensureWritableModelDir, ModelManifest, saveModelFiles, writeManifest } from '../models/store';
import { ProgressPrinter } from '../train/progress';
import { modelsDir } from '../paths';
import { VERSION } from '../version';
import { UsageError } from '../errors';

export interface TrainCommandOptions {
  arch: Arch;
  epochs: number;
  batchSize: number;
  seed?: number;
  limit?: number;
  valSplit: number;
  lr: number;
  lrDecay: number;
  augment: number;
  out?: string;
  force?: boolean;
  resume?: boolean;
  keepCheckpoint?: boolean;
  backend?: string;
  json?: boolean;
}

export interface TrainSummary {
  arch: Arch;
  epochs: number;
  bestEpoch: number;
  backend: string;
  modelDir: string;
  trainImages: number;
  valImages: number;
  trainAccuracy: number;
  valAccuracy?: number;
  testAccuracy: number;
  imagesPerSecond: number;
  trainingSeconds: number;
}

export async function runTrain(opts: TrainCommandOptions, io: Io, argv: string[] = []): Promise<TrainSummary> {
  const backend = await initBackend(opts.backend);
  const modelDir = resolve(opts.out ?? join(modelsDir(), opts.arch));
  const checkpointDir = join(modelDir, 'checkpoint');
  if (opts.resume) {
    if (!existsSync(join(checkpointDir, 'state.json'))) throw new UsageError(`--resume: no checkpoint in ${checkpointDir}`);
  } else {
    ensureWritableModelDir(modelDir, Boolean(opts.force));
    removeCheckpoint(checkpointDir);
  }
  const train = loadMnist('train', opts.limit);
  const test = loadMnist('test');
  const progress = new ProgressPrinter(io);
  progress.line(`training ${opts.arch} on ${train.images.count} MNIST images (backend ${backend.backend}), saving to ${modelDir}`);
  const result = await trainModel(train, {
    arch: opts.arch,
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    seed: opts.seed,
    valSplit: opts.valSplit,
    learningRate: opts.lr,
    lrDecay: opts.lrDecay,
    augmentShift: opts.augment,
    checkpointDir,
    resume: opts.resume,
    onBatch: (p) => progress.batch(p),
    onEpoch: (r) =>
      progress.line(
        `epoch ${r.epoch}: loss ${r.loss.toFixed(4)} acc ${r.accuracy.toFixed(4)}` +
          (r.valAccuracy !== undefined ? ` val_loss ${r.valLoss!.toFixed(4)} val_acc ${r.valAccuracy.toFixed(4)}` : '') +
          ` (${r.seconds.toFixed(0)} s)`,
      ),
  });
  const testReport = classificationReport(predictProbabilities(result.model, test.images), test.labels!, test.classNames!);
  await saveModelFiles(result.model, modelDir);
  const manifest: ModelManifest = {
    format: 'udq-model',
    formatVersion: 1,
    arch: opts.arch,
    epochs: result.history.length,
    bestEpoch: result.bestEpoch,
    seed: opts.seed,
    batchSize: opts.batchSize,
    backend: backend.backend,
    trainImages: result.trainImages,
    valImages: result.valImages,
    trainAccuracy: result.trainAccuracy,
    valAccuracy: result.valAccuracy,
    testAccuracy: testReport.accuracy,
    imagesPerSecond: result.imagesPerSecond,
    trainingSeconds: result.trainingSeconds,
    augment: opts.augment > 0,
    history: result.history,
    dataset: { name: 'mnist', trainSha256: mnistSha256('train'), testSha256: mnistSha256('test') },
    udqVersion: VERSION,
    date: new Date().toISOString(),
    command: argv.length ? `udq ${argv.join(' ')}` : undefined,
  };
  writeManifest(modelDir, manifest);
  if (!opts.keepCheckpoint) removeCheckpoint(checkpointDir);
  result.model.dispose();
  progress.line(`test accuracy ${testReport.accuracy.toFixed(4)} (best epoch ${result.bestEpoch}); saved ${modelDir}`);
  return {
    arch: opts.arch,
    epochs: manifest.epochs,
    bestEpoch: result.bestEpoch,
    backend: backend.backend,
    modelDir,
    trainImages: result.trainImages,
    valImages: result.valImages,
    trainAccuracy: result.trainAccuracy,
    valAccuracy: result.valAccuracy,
    testAccuracy: testReport.accuracy,
    imagesPerSecond: result.imagesPerSecond,
    trainingSeconds: result.trainingSeconds,
  };
}

export function registerTrain(program: Command, io: Io): void {
  program
    .command('train')
    .description('train a CNN (the study architectures) on MNIST and save it under models/')
    .requiredOption('--arch <arch>', 'architecture: basic or deep', choice(ARCHS))
    .option('--epochs <n>', 'number of epochs', positiveInt, 1)
    .option('--batch-size <n>', 'mini-batch size', positiveInt, 128)
    .option('--seed <n>', 'seed for initial weights, data order and dropout masks', nonNegativeInt)
    .option('--limit <n>', 'train on the first N MNIST training images only', positiveInt)
    .option('--val-split <f>', 'fraction of the training set held out for validation (last images)', fractionOrZero, 0.1)
    .option('--lr <rate>', 'Adam learning rate', Number, 0.001)
    .option('--lr-decay <f>', 'multiply the learning rate by this after each epoch', Number, 1)
    .option('--augment <pixels>', 'random shifts of up to this many pixels (0 = off)', nonNegativeInt, 0)
    .option('--out <dir>', 'model directory (default: models/<arch>)')
    .option('--force', 'overwrite an existing model directory')
    .option('--resume', 'continue from the checkpoint in <out>/checkpoint')
    .option('--keep-checkpoint', 'keep <out>/checkpoint after training finishes')
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best available)')
    .option('--json', 'print one JSON object with the results')
    .action(async (opts: TrainCommandOptions, cmd: Command) => {
      if (!Number.isFinite(opts.lr) || opts.lr <= 0) throw new UsageError('--lr must be a positive number');
      if (!Number.isFinite(opts.lrDecay) || opts.lrDecay <= 0 || opts.lrDecay > 1) throw new UsageError('--lr-decay must be in (0, 1]');
      const argv = cmd.parent ? process.argv.slice(2) : [];
      const summary = await runTrain(opts, io, argv);
      if (opts.json) printJson(io, summary);
      else io.out(`${summary.arch}: test accuracy ${summary.testAccuracy.toFixed(4)}, ${Math.round(summary.imagesPerSecond)} img/s, saved to ${summary.modelDir}`);
    });
}
