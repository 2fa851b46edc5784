/** `udq evaluate`: MNIST test accuracy of a model, and with --adversary, its saved reject gate. */
import { Command } from 'commander';
import { choice, formatTable, Io, nonNegativeInt, positiveInt, printJson, ENGINE_OPTION_HELP } from './common';
import { initBackend } from '../engine/backend';
import { defaultTestDigits } from '../engine/engine';
import { evaluateDigits } from './evaluate-model';
import { defaultModelDir } from './model-dir';
import { loadPredictor, samplesPerImage } from '../uq/predictor';
import { gateSamplingWarning, readGate } from '../gate/gate-file';
import { evaluateGate } from '../gate/evaluate-gate';
import { formatOodReport, progressPrinter } from './ood-table';
import { ModelError } from '../errors';

interface EvaluateCliOptions {
  model?: string;
  adversary?: string;
  samples?: number;
  seed: number;
  limit?: number;
  bnMode: 'inference' | 'batch';
  backend?: string;
  engine?: string;
  json?: boolean;
}

export function registerEvaluate(program: Command, io: Io): void {
  program
    .command('evaluate')
    .description('MNIST test accuracy (overall, per class); with --adversary, the saved gate against that set')
    .option('--model <dir>', 'model directory (default: models/deep if present, else models/basic)')
    .option('--adversary <name|path>', 'dataset name (udq data list) or IDX file / folder of images to reject')
    .option('--samples <n>', 'MC-dropout passes per image (default: as calibrated)', positiveInt)
    .option('--seed <n>', 'seed for the dropout masks', nonNegativeInt, 1)
    .option('--limit <n>', 'first N test digits (and at most N adversary images); default all digits, or with --adversary all 5000 odd-indexed test digits on the ort engine, 2000 on tfjs', positiveInt)
    .option('--bn-mode <mode>', 'inference (default) or batch (study semantics, comparison only)', choice(['inference', 'batch'] as const), 'inference')
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best available)')
    .option('--engine <name>', ENGINE_OPTION_HELP)
    .option('--json', 'print one JSON object')
    .action(async (opts: EvaluateCliOptions) => {
      const backend = await initBackend(opts.backend);
      const modelDir = opts.model ?? defaultModelDir(io);
      if (!opts.adversary) {
        const r = await evaluateDigits(modelDir, opts.limit);
        if (opts.json) return printJson(io, { ...r, backend: backend.backend });
        io.out(`${r.modelDir} (${r.arch}): MNIST test accuracy ${r.testAccuracy.toFixed(4)} on ${r.count} images`);
        io.out(formatTable(['digit', 'images', 'accuracy'], r.perClass.map((c) => [c.label, c.count, c.accuracy])));
        return;
      }
      const model = await loadPredictor(modelDir, { engine: opts.engine });
      for (const note of model.notes) io.err(`note: ${note}`);
      const gate = readGate(model.dir);
      if (!gate) throw new ModelError(`${model.dir} has no gate.json; fit one with: udq calibrate --model ${modelDir}`);
      const mismatch = gateSamplingWarning(gate, model);
      if (mismatch) io.err(mismatch);
      const samples = opts.samples ?? gate.samples;
      const r = await evaluateGate(model, gate, { adversary: opts.adversary, samples, seed: opts.seed, limit: opts.limit ?? defaultTestDigits(model.engine), bnMode: opts.bnMode, onProgress: progressPrinter(io.err) });
      const perImage = samplesPerImage(model, samples);
      model.dispose();
      if (opts.json) return printJson(io, { modelDir: model.dir, samples, samplesPerImage: perImage, backend: backend.backend, engine: model.engine, bnMode: opts.bnMode, ...r });
      io.out(`${model.dir}: gate (${gate.features} features, fitted on ${gate.adversary.name}) vs ${r.adversaryName}, ${perImage} samples per image`);
      io.out(formatOodReport(r));
    });
}
