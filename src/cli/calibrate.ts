/** `udq calibrate`: fit the reject gate of a model against an adversary set. */
import { Command } from 'commander';
import { choice, fraction, Io, nonNegativeInt, positiveInt, printJson, ENGINE_OPTION_HELP } from './common';
import { initBackend } from '../engine/backend';
import { defaultTestDigits } from '../engine/engine';
import { loadPredictor } from '../uq/predictor';
import { calibrateGate, NUMBER_ACCEPT_RATE } from '../gate/calibrate';
import { gatePath, readGate, writeGate } from '../gate/gate-file';
import { defaultModelDir } from './model-dir';
import { formatOodReport, progressPrinter } from './ood-table';
import { FEATURE_SET_NAMES, FeatureSetName } from '../uq/features';
import { parseAugment } from '../train/augment';

interface CalibrateCliOptions {
  model?: string;
  adversary: string;
  samples: number;
  features?: FeatureSetName;
  limit: number;
  thresholdDigits?: number;
  seed: number;
  acceptRate: number;
  shiftedDigits: string;
  shiftedAcceptRate: number;
  numberAcceptRate: number;
  bnMode: 'inference' | 'batch';
  views?: string;
  backend?: string;
  engine?: string;
  json?: boolean;
}

/** The views the gate in `dir` was fitted with, if it has any (a gate that cannot be read is about to be replaced: none). */
function previousViews(dir: string): string | undefined {
  try {
    return readGate(dir)?.views;
  } catch {
    return undefined;
  }
}

export function registerCalibrate(program: Command, io: Io): void {
  program
    .command('calibrate')
    .description('fit the reject gate (digits vs an adversary set) and write <model>/gate.json')
    .option('--model <dir>', 'model directory (default: models/deep if present, else models/basic)')
    .option('--adversary <names>', 'dataset name (udq data list), IDX file or folder of images; several separated by commas; NAME:-CLASS holds a class out', 'synth-strokes,synth-letters')
    .option('--samples <n>', 'MC-dropout passes per image', positiveInt, 100)
    .option('--features <set>', 'default scores; std (the study: per-class std), full (std, mean, entropies, MI, variation ratio), full-logit (full + energy, max logit), scores (max prob, entropies, MI, mean std, energy, max logit) or probs (scores without the two logit features)', choice(FEATURE_SET_NAMES))
    .option('--limit <n>', 'images of each kind (digits, adversary), split 50/50 into fit and held-out', positiveInt, 2000)
    .option('--seed <n>', 'seed for masks and the fit/held-out split', nonNegativeInt, 0)
    .option('--threshold-digits <n>', 'even-indexed MNIST test digits the threshold is chosen on (default: all 5000 with the ort engine, else --limit)', positiveInt)
    .option('--accept-rate <f>', 'fraction of the threshold digits (even-indexed MNIST test digits) the gate must accept; 0.96 leaves a margin so that at least 95% of digits it never saw are accepted', fraction, 0.96)
    .option('--shifted-digits <recipe>', 'also fit on digits augmented the ways users bring them (users, a list of parts of udq train --augment, or off), and choose the threshold to accept --shifted-accept-rate of the threshold digits augmented too', 'off')
    .option('--shifted-accept-rate <f>', 'share of the augmented threshold digits the gate must accept (with --shifted-digits)', fraction, 0.93)
    .option('--number-accept-rate <f>', 'share of the plain threshold digits the gate must accept inside a written number (udq predict --number), unless that lets 2% more of the held-out adversary images through', fraction, NUMBER_ACCEPT_RATE)
    .option('--views <list>', 'test-time views the passes are dealt out among, e.g. id,r+8,r-8,sx0.85,sx1.15 (README, How a verdict is reached); recorded in gate.json, so predict samples the same way (default none: the picture as it is)')
    .option('--bn-mode <mode>', 'inference (default) or batch (the study Keras training=True semantics; for comparison only)', choice(['inference', 'batch'] as const), 'inference')
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best available)')
    .option('--engine <name>', ENGINE_OPTION_HELP)
    .option('--json', 'print one JSON object')
    .action(async (opts: CalibrateCliOptions) => {
      const backend = await initBackend(opts.backend);
      const dir = opts.model ?? defaultModelDir(io);
      const previous = previousViews(dir);
      if (opts.views === undefined && previous) io.err(`note: the previous gate sampled through the test-time views ${previous}; this one samples the pictures as they are (--views ${previous} keeps them)`);
      const model = await loadPredictor(dir, { engine: opts.engine, views: opts.views ?? 'none' });
      for (const note of model.notes) io.err(`note: ${note}`);
      const result = await calibrateGate(model, { ...opts, shifted: parseAugment(opts.shiftedDigits), thresholdDigits: opts.thresholdDigits ?? (model.engine === 'ort' ? defaultTestDigits('ort') : opts.limit), onProgress: progressPrinter(io.err) });
      writeGate(model.dir, result.gate);
      model.dispose();
      if (opts.json) {
        return printJson(io, { modelDir: model.dir, gateFile: gatePath(model.dir), backend: backend.backend, engine: model.engine, samples: opts.samples, views: result.gate.views ?? null, features: result.gate.features, threshold: result.gate.threshold, adversary: result.gate.adversary, digits: result.gate.digits, shiftedDigits: result.gate.shiftedDigits, number: result.gate.number, heldOut: result.gate.heldOut, byFeatureSet: result.byFeatureSet });
      }
      io.out(`gate (${result.gate.features} features) fitted on ${result.gate.digits.fitImages} digits + ${result.gate.adversary.fitImages} ${result.gate.adversary.name} images; threshold ${result.gate.threshold.toFixed(4)}${result.gate.views ? `; test-time views ${result.gate.views}` : ''}; saved ${gatePath(model.dir)}`);
      const sd = result.gate.shiftedDigits;
      if (sd) io.out(`augmented threshold digits (${sd.recipe}): ${(sd.accepted * 100).toFixed(1)}% of ${sd.thresholdImages} accepted (asked: ${(sd.acceptRate * 100).toFixed(1)}%)`);
      const nb = result.gate.number;
      if (nb) io.out(`inside written numbers (predict --number): threshold ${nb.threshold.toFixed(4)}; ${(nb.accepted * 100).toFixed(1)}% of the threshold digits accepted (asked: ${(nb.acceptRate * 100).toFixed(1)}%), ${((nb.adversaryAccepted ?? 0) * 100).toFixed(1)}% of the held-out adversary images`);
      io.out('held-out metrics:');
      io.out(formatOodReport(result.gate.heldOut, `gate (${result.gate.features})`));
      for (const [other, o] of Object.entries(result.byFeatureSet)) {
        if (other === result.gate.features || !o) continue;
        io.out(`a gate on the ${other} feature set (not saved): AUROC ${o.ood.auroc.toFixed(4)}, acc/rej acc ${o.ood.acceptRejectAccuracy.toFixed(4)}`);
      }
    });
}
