/** `udq predict FILE...`: verdict, digit and uncertainty for each image. */
import { Command } from 'commander';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, extname, join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { choice, formatTable, Io, nonNegativeInt, positiveInt, printJson, ENGINE_OPTION_HELP, noGateNote } from './common';
import { initBackend } from '../engine/backend';
import { loadPredictor, samplesPerImage } from '../uq/predictor';
import { canSampleAdaptive } from '../uq/adaptive';
import { gateForNumbers, gateSamplingWarning, gateSummary, readGate } from '../gate/gate-file';
import { mnistSanityThresholds } from '../gate/sanity';
import { defaultModelDir } from './model-dir';
import { collectPictureFiles, streamPredictions, Prediction, PICTURE_EXTENSIONS } from '../predict/predict';
import { parseShard, takeShard } from '../predict/shard';
import { predictionLine, prepareResume } from '../predict/jsonl';
import type { InkOption } from '../image/pipeline';
import { CountProgress } from './count-progress';
import { NumberPrediction, predictNumbers } from '../predict/number';
import { saveMnistPng } from '../image/load';
import { ImageError, UsageError } from '../errors';

interface PredictCliOptions {
  model?: string;
  samples?: number;
  seed: number;
  format: 'table' | 'json' | 'csv' | 'jsonl';
  shard?: string;
  resume?: string;
  decodeThreads?: number;
  savePreprocessed?: string;
  backend?: string;
  engine?: string;
  ink: InkOption;
  number?: boolean;
}

export const PREDICTION_COLUMNS = ['file', 'verdict', 'reason', 'reasonDetail', 'digit', 'probability', 'meanStd', 'mutualInformation', 'predictiveEntropy', 'gateProbability', 'passes', 'error'] as const;

export function predictionRow(p: Prediction): (string | number)[] {
  const num = (x?: number) => (x === undefined ? '' : Number(x.toFixed(4)));
  return [p.file, p.verdict, p.reason ?? '', p.reasonDetail?.short ?? '', p.digit ?? '', num(p.probability), num(p.meanStd), num(p.mutualInformation), num(p.predictiveEntropy), num(p.gateProbability), p.passes ?? '', p.error ?? ''];
}

/** Decode workers for a run of `pictures` when the user does not say: two on 2+ cores for more than 64 pictures (worker start-up costs more than it saves below that). */
export function defaultDecodeThreads(pictures: number, cores = availableParallelism()): number {
  return pictures > 64 && cores >= 2 ? 2 : 0;
}

export function registerPredict(program: Command, io: Io): void {
  program
    .command('predict')
    .description('accept/reject + digit + uncertainty for pictures: MNIST PNG exports, scans, phone photos, drawings (any size, either ink polarity)')
    .argument('<files...>', 'image files or folders (walked recursively for .png .jpg .jpeg .webp .gif .tif .avif)')
    .option('--model <dir>', 'model directory (default: models/deep if present, else models/basic)')
    .option('--samples <n>', 'exactly N MC-dropout passes per image, in each member of an ensemble (default: adaptive, in rounds of 10, 20, 40 passes up to the calibrated N, else 100 (an ensemble: 20, 40, 80 in all, then N in each member), each picture stopping once its verdict and digit are settled)', positiveInt)
    .option('--seed <n>', 'seed for the dropout masks', nonNegativeInt, 0)
    .option('--format <f>', 'table, json, csv or jsonl (one JSON line per picture as it is done)', choice(['table', 'json', 'csv', 'jsonl'] as const), 'table')
    .option('--shard <K/N>', 'take only shard K of N (0-based) of the pictures, chosen by a hash of each path: N runs with the same arguments share the work')
    .option('--resume <file.jsonl>', 'append JSON lines to this file, skipping pictures it already has (created when missing; unreadable pictures are retried)')
    .option('--save-preprocessed <dir>', 'write the 28x28 images the model actually saw')
    .option('--number', 'each picture is a number written with several digits: read them left to right, each with its own verdict')
    .option('--decode-threads <n>', 'worker threads that decode pictures while the model samples (default: 2 for more than 64 pictures on a machine with 2 or more cores, else 0 = in the main thread)', nonNegativeInt)
    .option('--ink <polarity>', 'auto (decided from the background), dark (dark ink on light paper) or light (light ink on a dark ground)', choice(['auto', 'dark', 'light'] as const), 'auto')
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best available)')
    .option('--engine <name>', ENGINE_OPTION_HELP)
    .action(async (args: string[], opts: PredictCliOptions) => {
      await initBackend(opts.backend);
      let files = collectPictureFiles(args);
      if (files.length === 0) throw new UsageError(`no pictures in ${args.join(', ')}`);
      if (opts.shard !== undefined) files = takeShard(files, parseShard(opts.shard));
      let format = opts.format;
      if (opts.resume && opts.number) throw new UsageError('--resume is for single digits (not with --number)');
      if (format === 'jsonl' && opts.number) throw new UsageError('--format jsonl is for single digits (not with --number)');
      // where JSON lines go: stdout, or appended to the --resume file
      let writeLines = (lines: string[]) => {
        if (lines.length) io.out(lines.join('\n'));
      };
      let closeOutput = () => undefined as void;
      if (opts.resume !== undefined) {
        if (PICTURE_EXTENSIONS.test(opts.resume)) throw new UsageError(`--resume ${opts.resume}: that is a picture; name the .jsonl file the results go to`);
        if (opts.format !== 'table' && opts.format !== 'jsonl') throw new UsageError('--resume writes JSON lines (use --format jsonl or leave --format out)');
        format = 'jsonl';
        const resume = prepareResume(opts.resume);
        if (resume.droppedPartial) io.err(`note: ${opts.resume} ended in a line cut short; it was dropped and its picture is predicted again`);
        const before = files.length;
        files = files.filter((f) => !resume.done.has(f));
        io.err(`resuming ${opts.resume}: ${before - files.length} of ${before} pictures already done`);
        // opened at the first line, so nothing is left open when the model cannot be loaded
        const path = opts.resume;
        let fd: number | null = null;
        writeLines = (lines) => {
          if (lines.length === 0) return;
          if (fd === null) {
            fd = openSync(path, 'a');
            if (resume.needsNewline) writeSync(fd, '\n');
          }
          writeSync(fd, lines.join('\n') + '\n');
        };
        closeOutput = () => {
          if (fd !== null) closeSync(fd);
          fd = null;
        };
      }
      if (files.length === 0) return;
      const model = await loadPredictor(opts.model ?? defaultModelDir(io), { engine: opts.engine });
      for (const note of model.notes) io.err(`note: ${note}`);
      const gate = readGate(model.dir);
      if (!gate) io.err(noGateNote(model.dir));
      const mismatch = gate && gateSamplingWarning(gate, model);
      if (mismatch) io.err(mismatch);
      const samples = opts.samples ?? gate?.samples ?? 100;
      const adaptive = opts.samples === undefined && canSampleAdaptive(model);
      const sampling = adaptive ? 'adaptive' : 'fixed';
      if (opts.number) {
        const res = await predictNumbers(model, files, { samples, adaptive, seed: opts.seed, gate, sanity: gate?.sanity ?? mnistSanityThresholds(), ink: opts.ink });
        model.dispose();
        if (opts.savePreprocessed) {
          mkdirSync(opts.savePreprocessed, { recursive: true });
          for (const r of res) for (const [i, d] of (r.digits ?? []).entries()) if (d.pixels) await saveMnistPng(d.pixels, join(opts.savePreprocessed, `${basename(r.file, extname(r.file))}.d${i + 1}.28x28.png`));
        }
        const numRow = (r: NumberPrediction) => [r.file, r.verdict, r.number ?? '', (r.uncertainPositions ?? []).join(' '), r.reason ?? '', r.reasonDetail?.short ?? '', (r.digits ?? []).map((d) => `${d.digit ?? '?'}:${(d.probability ?? 0).toFixed(2)}${d.verdict === 'digit' ? '' : '!'}`).join(' '), r.error ?? ''];
        const head = ['file', 'verdict', 'number', 'uncertain', 'reason', opts.format === 'csv' ? 'reasonDetail' : 'why (measured)', 'digits', 'error'];
        if (opts.format === 'json') printJson(io, { modelDir: model.dir, engine: model.engine, samples, sampling, gate: gateSummary(gate && gateForNumbers(gate)), predictions: res.map((r) => ({ ...r, digits: r.digits?.map(({ pixels: _p, ...rest }) => rest) })) });
        else if (opts.format === 'csv') io.out(stringify([head, ...res.map(numRow)]).trimEnd());
        else io.out(formatTable(head, res.map(numRow)));
        const failedN = res.filter((r) => r.verdict === 'error').length;
        if (failedN) throw new ImageError(`${failedN} of ${res.length} files could not be read`);
        return;
      }
      const sanity = gate?.sanity ?? mnistSanityThresholds();
      const bar = files.length > 256 ? new CountProgress(io, 'predict', files.length) : null;
      if (opts.savePreprocessed) mkdirSync(opts.savePreprocessed, { recursive: true });
      const results: Prediction[] = [];
      let failed = 0;
      const decodeThreads = opts.decodeThreads ?? defaultDecodeThreads(files.length);
      try {
        await streamPredictions(model, files, { samples, adaptive, seed: opts.seed, gate, sanity, ink: opts.ink, decodeThreads, onProgress: bar ? (d) => bar.update(d) : undefined }, async (batch) => {
          for (const p of batch) {
            if (p.verdict === 'error') failed++;
            if (opts.savePreprocessed && p.pixels) await saveMnistPng(p.pixels, join(opts.savePreprocessed, `${basename(p.file, extname(p.file))}.28x28.png`));
            delete p.pixels;
          }
          if (format === 'jsonl') writeLines(batch.map(predictionLine));
          else results.push(...batch);
        });
      } finally {
        bar?.done();
        model.dispose();
        closeOutput();
      }
      if (format === 'json') printJson(io, { modelDir: model.dir, engine: model.engine, samples, sampling, samplesPerImage: samplesPerImage(model, samples), gate: gateSummary(gate), predictions: results });
      else if (format === 'csv') io.out(stringify([[...PREDICTION_COLUMNS], ...results.map(predictionRow)]).trimEnd());
      else if (format === 'table') io.out(formatTable(['file', 'verdict', 'reason', 'why (measured)', 'digit', 'p(digit)', 'mean std', 'MI', 'entropy', 'p(reject)', 'passes', 'error'], results.map(predictionRow)));
      if (opts.resume) io.err(`${files.length} pictures added to ${opts.resume}${failed ? ` (${failed} unreadable: retried on the next --resume)` : ''}`);
      if (failed) throw new ImageError(`${failed} of ${files.length} files could not be read`);
    });
}
