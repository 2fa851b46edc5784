/** `udq import`: take in a tfjs Layers model udq did not train. */
import { Command } from 'commander';
import { basename, join } from 'node:path';
import { fraction, Io, positiveInt, printJson } from './common';
import { initBackend } from '../engine/backend';
import { importModel, importSourceDir } from '../models/import';
import { modelsDir, relativePath } from '../paths';

interface ImportCliOptions {
  out?: string;
  addDropout?: number;
  force?: boolean;
  check: number;
  backend?: string;
  json?: boolean;
}

export function registerImport(program: Command, io: Io): void {
  program
    .command('import')
    .description('take in a tfjs Layers model (model.json + weights, e.g. from the TensorFlow.js converter): MC dropout and the reject gate without retraining')
    .argument('<src>', 'the model.json, or the directory holding it')
    .option('--out <dir>', 'udq model directory to write (default: models/<name of the source directory>)')
    .option('--add-dropout <rate>', 'a model with no stochastic layer: sample it with a Dropout of this rate inserted before the last Dense layer (not what it was trained with)', fraction)
    .option('--force', 'overwrite an existing model directory')
    .option('--check <n>', 'MNIST test digits to check the model on', positiveInt, 2000)
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best available)')
    .option('--json', 'print one JSON object')
    .action(async (src: string, opts: ImportCliOptions) => {
      await initBackend(opts.backend);
      const out = opts.out ?? join(modelsDir(), basename(importSourceDir(src)));
      const r = await importModel(src, out, { addDropout: opts.addDropout, force: opts.force, testImages: opts.check, command: ['udq', ...process.argv.slice(2)].join(' ') });
      const rec = r.manifest.imported;
      if (opts.json) return printJson(io, { out: relativePath(r.out), ...r.manifest, warning: r.warning ?? null });
      if (r.warning) io.err(`warning: ${r.warning}`);
      io.out(`imported ${rec.source} into ${relativePath(r.out)}`);
      io.out(`  input:  [${rec.input.shape}]${rec.input.handling === 'reshaped' ? ' (udq reshapes its 28x28x1 images to it)' : ''}`);
      io.out(`  output: ${rec.output === 'logits' ? 'logits (udq applies the softmax)' : 'softmax'}`);
      io.out(`  stochastic layers: ${rec.stochasticLayers.map((l) => `${l.className} ${l.name}${l.rate !== undefined ? ` rate ${l.rate}` : ''}${l.stddev !== undefined ? ` stddev ${l.stddev}` : ''}`).join(', ') || 'none'}`);
      if (rec.addedDropout !== undefined) io.out(`  added: Dropout ${rec.addedDropout} before the last Dense layer: MC samples come from a dropout the model was NOT trained with`);
      io.out(`  MNIST test accuracy ${r.manifest.testAccuracy.toFixed(4)} on ${r.manifest.testImages} digits; its training is unknown to udq`);
      io.out(`next: udq calibrate --model ${relativePath(r.out)}`);
    });
}
