/** `udq predict FILE...`: verdict, digit and uncertainty for each image. */
import { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { choice, formatTable, Io, nonNegativeInt, positiveInt, printJson, ENGINE_OPTION_HELP, noGateNote } from './common';
import { initBackend } from '../engine/backend';
import { loadPredictor, samplesPerImage } from '../uq/predictor';
import { gateSamplingWarning, readGate } from '../gate/gate-file';
import { mnistSanityThresholds } from '../gate/sanity';
import { defaultModelDir } from './model-dir';
import { collectPictureFiles, predictFiles, Prediction } from '../predict/predict';
import type { InkOption } from '../image/pipeline';
import { CountProgress } from './count-progress';
import { NumberPrediction, predictNumbers } from '../predict/number';
import { saveMnistPng } from '../data/image';
import { ImageError, UsageError } from '../errors';

interface PredictCliOptions {
  model?: string;
  samples?: number;
  seed: number;
  format: 'table' | 'json' | 'csv';
  savePreprocessed?: string;
  backend?: string;
  engine?: string;
  ink: InkOption;
  number?: boolean;
}

const COLUMNS = ['file', 'verdict', 'reason', 'reasonDetail', 'digit', 'probability', 'meanStd', 'mutualInformation', 'predictiveEntropy', 'gateProbability', 'error'] as const;

function row(p: Prediction): (string | number)[] {
  const num = (x?: number) => (x === undefined ? '' : Number(x.toFixed(4)));
  return [p.file, p.verdict, p.reason ?? '', p.reasonDetail?.short ?? '', p.digit ?? '', num(p.probability), num(p.meanStd), num(p.mutualInformation), num(p.predictiveEntropy), num(p.gateProbability), p.error ?? ''];
}

export function registerPredict(program: Command, io: Io): void {
  program
    .command('predict')
    .description('accept/reject + digit + uncertainty for pictures: MNIST PNG exports, scans, phone photos, drawings (any size, either ink polarity)')
    .argument('<files...>', 'image files or folders (walked recursively for .png .jpg .jpeg .webp .gif .tif .avif)')
    .option('--model <dir>', 'model directory (default: models/deep if present, else models/basic)')
    .option('--samples <n>', 'MC-dropout passes per image (default: as calibrated, else 100)', positiveInt)
    .option('--seed <n>', 'seed for the dropout masks', nonNegativeInt, 0)
    .option('--format <f>', 'table, json or csv', choice(['table', 'json', 'csv'] as const), 'table')
    .option('--save-preprocessed <dir>', 'write the 28x28 images the model actually saw')
    .option('--number', 'each picture is a number written with several digits: read them left to right, each with its own verdict')
    .option('--ink <polarity>', 'auto (decided from the background), dark (dark ink on light paper) or light (light ink on a dark ground)', choice(['auto', 'dark', 'light'] as const), 'auto')
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best available)')
    .option('--engine <name>', ENGINE_OPTION_HELP)
    .action(async (args: string[], opts: PredictCliOptions) => {
      await initBackend(opts.backend);
      const files = collectPictureFiles(args);
      if (files.length === 0) throw new UsageError(`no pictures in ${args.join(', ')}`);
      const model = await loadPredictor(opts.model ?? defaultModelDir(io), { engine: opts.engine });
      for (const note of model.notes) io.err(`note: ${note}`);
      const gate = readGate(model.dir);
      if (!gate) io.err(noGateNote(model.dir));
      const mismatch = gate && gateSamplingWarning(gate, model);
      if (mismatch) io.err(mismatch);
      const samples = opts.samples ?? gate?.samples ?? 100;
      if (opts.number) {
        const samplesN = opts.samples ?? gate?.samples ?? 100;
        const res = await predictNumbers(model, files, { samples: samplesN, seed: opts.seed, gate, sanity: gate?.sanity ?? mnistSanityThresholds(), ink: opts.ink });
        model.dispose();
        if (opts.savePreprocessed) {
          mkdirSync(opts.savePreprocessed, { recursive: true });
          for (const r of res) for (const [i, d] of (r.digits ?? []).entries()) if (d.pixels) await saveMnistPng(d.pixels, join(opts.savePreprocessed, `${basename(r.file, extname(r.file))}.d${i + 1}.28x28.png`));
        }
        const numRow = (r: NumberPrediction) => [r.file, r.verdict, r.number ?? '', (r.uncertainPositions ?? []).join(' '), r.reason ?? '', r.reasonDetail?.short ?? '', (r.digits ?? []).map((d) => `${d.digit ?? '?'}:${(d.probability ?? 0).toFixed(2)}${d.verdict === 'digit' ? '' : '!'}`).join(' '), r.error ?? ''];
        const head = ['file', 'verdict', 'number', 'uncertain', 'reason', opts.format === 'csv' ? 'reasonDetail' : 'why (measured)', 'digits', 'error'];
        if (opts.format === 'json') printJson(io, { modelDir: model.dir, engine: model.engine, samples: samplesN, predictions: res.map((r) => ({ ...r, digits: r.digits?.map(({ pixels: _p, ...rest }) => rest) })) });
        else if (opts.format === 'csv') io.out(stringify([head, ...res.map(numRow)]).trimEnd());
        else io.out(formatTable(head, res.map(numRow)));
        const failedN = res.filter((r) => r.verdict === 'error').length;
        if (failedN) throw new ImageError(`${failedN} of ${res.length} files could not be read`);
        return;
      }
      const bar = files.length > 256 ? new CountProgress(io, 'predict', files.length) : null;
      const results = await predictFiles(model, files, { samples, seed: opts.seed, gate, sanity: gate?.sanity ?? mnistSanityThresholds(), ink: opts.ink, onProgress: bar ? (d) => bar.update(d) : undefined });
      bar?.done();
      model.dispose();
      if (opts.savePreprocessed) {
        mkdirSync(opts.savePreprocessed, { recursive: true });
        for (const p of results) {
          if (p.pixels) await saveMnistPng(p.pixels, join(opts.savePreprocessed, `${basename(p.file, extname(p.file))}.28x28.png`));
        }
      }
      if (opts.format === 'json') printJson(io, { modelDir: model.dir, engine: model.engine, samples, samplesPerImage: samplesPerImage(model, samples), gate: gate ? { features: gate.features, threshold: gate.threshold, adversary: gate.adversary.name } : null, predictions: results.map(({ pixels: _p, ...rest }) => rest) });
      else if (opts.format === 'csv') io.out(stringify([[...COLUMNS], ...results.map(row)]).trimEnd());
      else io.out(formatTable(['file', 'verdict', 'reason', 'why (measured)', 'digit', 'p(digit)', 'mean std', 'MI', 'entropy', 'p(reject)', 'error'], results.map(row)));
      const failed = results.filter((r) => r.verdict === 'error').length;
      if (failed) throw new ImageError(`${failed} of ${results.length} files could not be read`);
    });
}
