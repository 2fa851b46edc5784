/** `udq report`: plots, per-image features and a markdown summary of a model or ensemble + gate vs an adversary. */
import { Command } from 'commander';
import { basename, join, resolve } from 'node:path';
import { Io, nonNegativeInt, positiveInt, printJson, ENGINE_OPTION_HELP } from './common';
import { initBackend } from '../engine/backend';
import { defaultTestDigits } from '../engine/engine';
import { defaultModelDir } from './model-dir';
import { progressPrinter } from './ood-table';
import { loadPredictor } from '../uq/predictor';
import { gateSamplingWarning, readGate } from '../gate/gate-file';
import { ModelError } from '../errors';
import { PACKAGE_ROOT } from '../paths';
import { collectReportData } from '../report/collect';
import { checkOutDir, writeReport } from '../report/report';

interface ReportCliOptions {
  model?: string;
  adversary: string;
  out?: string;
  samples?: number;
  limit?: number;
  seed: number;
  figures?: string;
  force?: boolean;
  backend?: string;
  engine?: string;
  json?: boolean;
}

/** Quote an argument for a shell command line when it needs it. */
function shellArg(a: string): string {
  return /^[\w./:=@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

export function registerReport(program: Command, io: Io): void {
  program
    .command('report')
    .description('write plots (PNG + SVG), features.csv and report.md: the gate and simple scores on MNIST test digits vs an adversary set')
    .requiredOption('--adversary <name|path>', 'dataset name (udq data list) or IDX file / folder of images')
    .option('--model <dir>', 'model or ensemble directory with a gate.json (default: models/deep if present, else models/basic)')
    .option('--out <dir>', 'output folder (default: reports/<adversary>)')
    .option('--samples <n>', 'MC-dropout passes per image, per member for an ensemble in mc mode, unused in disagreement mode (default: as calibrated)', positiveInt)
    .option('--limit <n>', 'first N test digits and at most N adversary images (default 5000 on the ort engine, 2000 on tfjs)', positiveInt)
    .option('--seed <n>', 'seed for the dropout masks', nonNegativeInt, 1)
    .option('--figures <dir>', 'pictures to show with their verdicts (default: the package figures/)')
    .option('--force', 'write into a non-empty output folder')
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best available)')
    .option('--engine <name>', ENGINE_OPTION_HELP)
    .option('--json', 'print a JSON summary instead of text')
    .action(async (opts: ReportCliOptions) => {
      const out = resolve(opts.out ?? join('reports', basename(opts.adversary.replace(/[\\/]+$/, ''))));
      checkOutDir(out, Boolean(opts.force)); // before any sampling
      const backend = await initBackend(opts.backend);
      const modelDir = opts.model ?? defaultModelDir(io);
      const predictor = await loadPredictor(modelDir, { engine: opts.engine });
      for (const note of predictor.notes) io.err(`note: ${note}`);
      try {
        const gate = readGate(predictor.dir);
        if (!gate) throw new ModelError(`${predictor.dir} has no gate.json; fit one with: udq calibrate --model ${modelDir}`);
        const mismatch = gateSamplingWarning(gate, predictor);
        if (mismatch) io.err(mismatch);
        const samples = opts.samples ?? gate.samples;
        const limit = opts.limit ?? defaultTestDigits(predictor.engine);
        const figuresDir = resolve(opts.figures ?? join(PACKAGE_ROOT, 'figures'));
        const command = [
          'udq report',
          `--model ${shellArg(modelDir)}`,
          `--adversary ${shellArg(opts.adversary)}`,
          `--out ${shellArg(opts.out ?? out)}`,
          `--samples ${samples}`,
          `--limit ${limit}`,
          `--seed ${opts.seed}`,
          ...(opts.figures ? [`--figures ${shellArg(opts.figures)}`] : []),
          ...(opts.backend ? [`--backend ${opts.backend}`] : []),
          ...(opts.engine ? [`--engine ${opts.engine}`] : []),
        ].join(' ');
        const data = await collectReportData(predictor, gate, {
          adversary: opts.adversary,
          samples,
          seed: opts.seed,
          limit,
          figuresDir,
          command,
          backend: backend.backend,
          onProgress: progressPrinter(io.err),
        });
        const written = await writeReport(data, out);
        if (!written.pngText) io.err('note: no system font found: the PNG plots draw their text with a built-in stroke font (the SVGs have real text)');
        if (opts.json) {
          return printJson(io, { out, files: written.files, pngText: written.pngText, modelDir: predictor.dir, engine: predictor.engine, sampling: data.sampling, noDropout: data.noDropout, samples, seed: opts.seed, digits: data.digits.length, adversary: data.adversary.length, adversaryName: data.adversaryName, ood: data.ood });
        }
        io.out(`wrote ${written.files.length} files to ${out}: ${written.files.join(', ')}`);
        io.out(`gate AUROC ${data.ood.ood.auroc.toFixed(4)}, digits accepted ${(100 * data.ood.ood.digitAcceptRate).toFixed(1)}%, ${data.adversaryName} rejected ${(100 * data.ood.ood.adversaryRejectRate).toFixed(1)}% (see ${join(out, 'report.md')})`);
      } finally {
        predictor.dispose();
      }
    });
}
