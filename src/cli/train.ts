/**
 * `udq train`: train a study architecture on MNIST and save it with a manifest; with
 * `--ensemble K [--kfold]`, K such models saved as one ensemble directory. Argument parsing
 * only: the work is src/train/run.ts.
 */
import { Command } from 'commander';
import { choice, fractionOrZero, Io, nonNegativeInt, positiveInt, printJson } from './common';
import { ARCHS } from '../models/architectures';
import { LR_SCHEDULES } from '../train/train';
import { ENSEMBLE_MODES } from '../models/ensemble';
import { runTrain, runTrainEnsemble, TrainCommandOptions } from '../train/run';
import { UsageError } from '../errors';
import { parseAugment } from '../train/augment';

/** `--augment`'s value, checked here so that a bad part name is a usage error before anything loads. */
function parseAugmentOption(v: string): string {
  parseAugment(v);
  return v;
}

export function registerTrain(program: Command, io: Io): void {
  program
    .command('train')
    .description("train a CNN (the study's basic or deep, or deep-wide) on MNIST and save it under models/")
    .requiredOption('--arch <arch>', 'architecture: basic or deep (the study\'s), or deep-wide (deep with twice the filters in every convolution)', choice(ARCHS))
    .option('--epochs <n>', 'number of epochs', positiveInt, 1)
    .option('--batch-size <n>', 'mini-batch size', positiveInt, 32)
    .option('--seed <n>', 'seed for initial weights, data order and dropout masks', nonNegativeInt)
    .option('--limit <n>', 'train on the first N MNIST training images only', positiveInt)
    .option('--val-split <f>', 'fraction of the training set held out for validation (last images)', fractionOrZero, 0.1)
    .option('--lr <rate>', 'Adam learning rate (the peak, with --lr-schedule cosine)', Number, 0.004)
    .option('--lr-decay <f>', 'with --lr-schedule decay: multiply the learning rate by this after each epoch', Number, 1)
    .option('--lr-schedule <kind>', 'decay (per epoch, by --lr-decay) or cosine (per batch, from --lr down to 0 over all epochs)', choice(LR_SCHEDULES), 'cosine')
    .option('--augment <recipe>', 'augmentation: users (rotation, shear, scale, aspect, thickness, elastic, a neighbour fragment, shifts; README: Augmentation), a list of parts, users,-PART, users,style (the continental 1) or users,fill (digits stretched to fill a square box), or a number of pixels for shifts only (0 = off)', parseAugmentOption, '0')
    .option('--out <dir>', 'model directory (default: models/<arch>, or models/<arch>-ensemble with --ensemble)')
    .option('--force', 'overwrite an existing model directory')
    .option('--resume', 'continue from the checkpoint in <out>/checkpoint (ensembles: keep finished members, resume the interrupted one)')
    .option('--keep-checkpoint', 'keep <out>/checkpoint after training finishes')
    .option('--ensemble <k>', 'train K models (one after another) saved as one ensemble directory', positiveInt)
    .option('--kfold', 'with --ensemble: member i trains on all training images except fold i of K')
    .option('--ensemble-mode <mode>', 'with --ensemble: default sampling stored in ensemble.json: disagreement (one softmax per member) or mc (MC dropout inside each member)', choice(ENSEMBLE_MODES))
    .option('--outlier-exposure <sets>', 'comma-separated non-digit sources (e.g. synth-strokes,synth-letters,omniglot-dev:-tagalog): every step adds a batch of them with a uniform-softmax target')
    .option('--extra-digits <sources>', 'extra labelled training digits put before MNIST\'s: synth-digits[:N][:CLASSES] (N font digits 0-9, default 6000; :-6 drops the 6s) and/or hand-digits[:N][:CLASSES] (hand-drawn styles: open 4 and short-stemmed 4 in turn, crossed 7, looped 2, flat-topped 5, wide continental 1; default 2000) and/or hand-digits-b[:N][:CLASSES] (hooked-tail 9, long-flagged 1; default 2000) and/or hand-digits-c[:N][:CLASSES] (curled-tail 9; default 2000) and/or hand-digits-d[:N][:CLASSES] (retraced continental 1; default 2000), separated by commas (README: Augmentation)')
    .option('--oe-weight <l>', 'weight of the outlier-exposure loss', Number, 0.5)
    .option('--init-from <dir>', 'fine-tune: start from this trained model of the same arch')
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best available)')
    .option('--engine <name>', 'what computes the training steps: ort (the step graph on onnxruntime) or tfjs (the backend); default: $UDQ_ENGINE, else ort when it loads and covers the model\'s layers')
    .option('--json', 'print one JSON object with the results')
    .action(async (opts: TrainCommandOptions, cmd: Command) => {
      if (opts.oeWeight !== undefined && (!Number.isFinite(opts.oeWeight) || opts.oeWeight < 0)) throw new UsageError('--oe-weight must be a number >= 0');
      if (!Number.isFinite(opts.lr) || opts.lr <= 0) throw new UsageError('--lr must be a positive number');
      if (!Number.isFinite(opts.lrDecay) || opts.lrDecay <= 0 || opts.lrDecay > 1) throw new UsageError('--lr-decay must be in (0, 1]');
      if (opts.ensemble === undefined && (opts.kfold || opts.ensembleMode)) throw new UsageError(`${opts.kfold ? '--kfold' : '--ensemble-mode'} needs --ensemble K`);
      if (opts.ensemble !== undefined && opts.ensemble < 2) throw new UsageError('--ensemble needs at least 2 members');
      const argv = cmd.parent ? process.argv.slice(2) : [];
      if (opts.ensemble !== undefined) {
        const summary = await runTrainEnsemble(opts, io, argv);
        if (opts.json) printJson(io, summary);
        else
          io.out(
            `${summary.arch} ensemble of ${summary.K}${summary.kfold ? ' (k-fold)' : ''}: test accuracy ${summary.testAccuracy.toFixed(4)} ` +
              `(members ${summary.memberTestAccuracy.map((a) => a.toFixed(4)).join(', ')}), saved to ${summary.modelDir}`,
          );
        return;
      }
      const summary = await runTrain(opts, io, argv);
      if (opts.json) printJson(io, summary);
      else io.out(`${summary.arch}: test accuracy ${summary.testAccuracy.toFixed(4)}, ${Math.round(summary.imagesPerSecond)} img/s (engine ${summary.trainingEngine}), saved to ${summary.modelDir}`);
    });
}
