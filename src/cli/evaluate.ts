/** `udq evaluate`: MNIST test accuracy of a model (and, with --adversary, the reject gate). */
import { Command } from 'commander';
import { formatTable, Io, positiveInt, printJson } from './common';
import { initBackend } from '../engine/backend';
import { evaluateDigits } from './evaluate-model';
import { defaultModelDir } from './model-dir';

export function registerEvaluate(program: Command, io: Io): void {
  program
    .command('evaluate')
    .description('report MNIST test accuracy (overall and per class) of a saved model')
    .option('--model <dir>', 'model directory (default: models/deep if present, else models/basic)')
    .option('--limit <n>', 'evaluate on the first N test images only', positiveInt)
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best available)')
    .option('--json', 'print one JSON object')
    .action(async (opts: { model?: string; limit?: number; backend?: string; json?: boolean }) => {
      const backend = await initBackend(opts.backend);
      const modelDir = opts.model ?? defaultModelDir(io);
      const r = await evaluateDigits(modelDir, opts.limit);
      if (opts.json) return printJson(io, { ...r, backend: backend.backend });
      io.out(`${r.modelDir} (${r.arch}): MNIST test accuracy ${r.testAccuracy.toFixed(4)} on ${r.count} images`);
      io.out(formatTable(['digit', 'images', 'accuracy'], r.perClass.map((c) => [c.label, c.count, c.accuracy])));
    });
}
