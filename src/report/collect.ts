/**
 * Gather what the report shows: the predictor's sample summaries (MC dropout of a model, or an
 * ensemble's samples) and gate probabilities of MNIST test digits and of the adversary's
 * images, a baseline without dropout, and the verdicts of the figures. All model and file
 * access of `udq report` happens here.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../data/idx';
import { loadMnist } from '../data/mnist';
import { loadAdversary } from '../data/sources';
import { oodReport } from '../gate/ood-report';
import { gateScores } from '../gate/ood-report';
import type { GateFile } from '../gate/gate-file';
import { loadModel } from '../models/store';
import { readEnsembleManifest } from '../models/ensemble';
import { predictFiles } from '../predict/predict';
import { SampleSummary, summariseSamples } from '../uq/features';
import type { Predictor } from '../uq/predictor';
import { scoreImageSet } from '../uq/score-set';
import { VERSION } from '../version';
import type { ImageRecord, NoDropoutBaseline, ReportData, ReportSampling } from './build';
import type { FigureInput } from './specs';

/** Passes per image with dropout off (they are identical; two are enough to show it). */
export const NO_DROPOUT_PASSES = 2;

/**
 * Softmax of `passes` plain forward passes per image with dropout off (Keras inference mode:
 * Dropout is the identity, BatchNorm uses its moving statistics), summarised like MC samples.
 * The passes of a deterministic network are identical, so every std is 0; `maxAbsDiff` is
 * the largest difference measured between passes of the same image.
 */
export async function noDropoutSummaries(model: tf.LayersModel, images: ImageSet, passes: number = NO_DROPOUT_PASSES, batch: number = 256): Promise<{ summaries: SampleSummary[]; maxAbsDiff: number }> {
  const size = images.rows * images.cols;
  const scale = images.pixels instanceof Uint8Array ? 1 / 255 : 1;
  const summaries: SampleSummary[] = [];
  let maxAbsDiff = 0;
  for (let start = 0; start < images.count; start += batch) {
    const end = Math.min(images.count, start + batch);
    const b = end - start;
    const pixels = new Float32Array(b * size);
    const src = images.pixels.subarray(start * size, end * size);
    for (let i = 0; i < src.length; i++) pixels[i] = src[i] * scale;
    const x = tf.tensor4d(pixels, [b, images.rows, images.cols, 1]);
    const outs: Float32Array[] = [];
    for (let p = 0; p < passes; p++) {
      const y = model.predict(x, { batchSize: b }) as tf.Tensor;
      outs.push((await y.data()) as Float32Array);
      y.dispose();
    }
    x.dispose();
    const classes = outs[0].length / b;
    const perImage = new Float32Array(passes * classes);
    for (let i = 0; i < b; i++) {
      for (let p = 0; p < passes; p++) {
        perImage.set(outs[p].subarray(i * classes, (i + 1) * classes), p * classes);
        for (let k = 0; k < classes; k++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(outs[p][i * classes + k] - outs[0][i * classes + k]));
      }
      summaries.push(summariseSamples(perImage, passes, classes));
    }
  }
  return { summaries, maxAbsDiff };
}

/** Per-set summaries of the baseline without dropout, and what it is. */
interface Baseline {
  info: NoDropoutBaseline;
  digits: SampleSummary[];
  adversary: SampleSummary[];
}

/** Passes with dropout off of the model in `dir` over both sets (NO_DROPOUT_PASSES each). */
async function plainModelBaseline(dir: string, digits: ImageSet, adversary: ImageSet, info: Omit<NoDropoutBaseline, 'passes' | 'maxAbsDiff'>): Promise<Baseline> {
  const loaded = await loadModel(dir);
  try {
    const d = await noDropoutSummaries(loaded.model, digits);
    const a = await noDropoutSummaries(loaded.model, adversary);
    return { info: { ...info, passes: NO_DROPOUT_PASSES, maxAbsDiff: Math.max(d.maxAbsDiff, a.maxAbsDiff) }, digits: d.summaries, adversary: a.summaries };
  } finally {
    loaded.model.dispose();
  }
}

/**
 * The baseline without dropout the report sets against the samples:
 * - a model: the same model with dropout off;
 * - an ensemble sampled by disagreement (already without dropout): its first member alone with
 *   dropout off, i.e. what one network gives without an ensemble;
 * - an ensemble sampled with MC dropout: the same predictor in `disagreement` mode, i.e. the
 *   members with dropout off.
 */
export async function baselineWithoutDropout(predictor: Predictor, digits: ImageSet, adversary: ImageSet, seed: number): Promise<Baseline> {
  if (predictor.kind === 'model') return plainModelBaseline(predictor.dir, digits, adversary, { source: 'model' });
  if (predictor.ensembleMode === 'mc') {
    const opts = { samples: 1, seed, ensembleMode: 'disagreement' as const };
    const d = await predictor.sample(digits, opts);
    const a = await predictor.sample(adversary, opts);
    return { info: { source: 'ensemble', passes: predictor.members ?? 0 }, digits: d.summaries, adversary: a.summaries };
  }
  const member = readEnsembleManifest(predictor.dir).members[0].dir;
  return plainModelBaseline(join(predictor.dir, member), digits, adversary, { source: 'member', member });
}

/** Class names "0".."max" for labels without names. */
function labelNames(labels: ArrayLike<number>): string[] {
  let max = 0;
  for (let i = 0; i < labels.length; i++) max = Math.max(max, labels[i]);
  return Array.from({ length: max + 1 }, (_, k) => String(k));
}

/** PNG/JPEG files of a folder, sorted (none when it does not exist). */
export function figureFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir)
    .filter((f) => /\.(png|jpe?g)$/i.test(f))
    .sort()
    .map((f) => join(dir, f));
}

export interface CollectOptions {
  adversary: string;
  samples: number;
  seed: number;
  limit: number;
  /** folder of pictures to show with their verdicts (none: no figures panel) */
  figuresDir?: string;
  command: string;
  backend?: string;
  onProgress?: (what: string, done: number, total: number) => void;
}

/** Score everything the report shows. */
export async function collectReportData(predictor: Predictor, gate: GateFile, opts: CollectOptions): Promise<ReportData> {
  const digits = loadMnist('test', opts.limit);
  const adversary = await loadAdversary(opts.adversary, { split: 'test', limit: opts.limit, seed: opts.seed });
  const common = { samples: opts.samples, seed: opts.seed };
  const d = await scoreImageSet(predictor, digits.images, digits.labels, gate.sanity, { ...common, onProgress: (a, b) => opts.onProgress?.('digits', a, b) });
  const a = await scoreImageSet(predictor, adversary.images, adversary.labels, gate.sanity, { ...common, onProgress: (x, y) => opts.onProgress?.(adversary.name, x, y) });
  // the labels of the adversary are class indices of its own classes, not digits: keep them out of the report's digit metrics
  const ood = oodReport(d, { ...a, labels: undefined }, gate, gate.acceptRate);

  const baseline = await baselineWithoutDropout(predictor, digits.images, adversary.images, opts.seed);
  const sampling: ReportSampling = predictor.kind === 'ensemble' ? { kind: 'ensemble', members: predictor.members, ensembleMode: predictor.ensembleMode ?? 'disagreement' } : { kind: 'model' };

  const records = (set: 'digits' | 'adversary', scored: typeof d, labels: ArrayLike<number> | undefined, off: SampleSummary[] | undefined): ImageRecord[] => {
    const p = gateScores(scored.summaries, gate.logistic, gate.features);
    return scored.summaries.map((summary, i) => ({
      set,
      index: i,
      label: labels ? labels[i] : undefined,
      summary,
      noDropout: off?.[i],
      valid: scored.valid[i],
      sanityReason: scored.verdicts[i].valid ? undefined : scored.verdicts[i].reason,
      gateProbability: p[i],
    }));
  };

  let figures: FigureInput[] = [];
  const files = opts.figuresDir ? figureFiles(opts.figuresDir) : [];
  if (files.length) {
    const predictions = await predictFiles(predictor, files, { samples: opts.samples, seed: opts.seed, gate, sanity: gate.sanity });
    figures = predictions.map((p) => ({
      name: basename(p.file),
      pixels: p.pixels,
      verdict: p.verdict,
      reason: p.reason,
      digit: p.digit,
      probability: p.probability,
      gateProbability: p.gateProbability,
      meanStd: p.meanStd,
      error: p.error,
    }));
  }

  return {
    command: opts.command,
    date: new Date().toISOString(),
    udqVersion: VERSION,
    backend: opts.backend,
    modelDir: predictor.dir,
    arch: predictor.arch,
    samples: opts.samples,
    sampling,
    seed: opts.seed,
    limit: opts.limit,
    gate: { threshold: gate.threshold, features: gate.features, acceptRate: gate.acceptRate, fittedOn: gate.adversary.name, samples: gate.samples },
    digitsLabel: 'MNIST test digits',
    // a path is shown by its last component
    adversaryName: basename(adversary.name.replace(/[\\/]+$/, '')),
    digitClassNames: digits.classNames ?? ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    adversaryClassNames: adversary.labels ? (adversary.classNames ?? labelNames(adversary.labels)) : undefined,
    digits: records('digits', d, digits.labels, baseline.digits),
    adversary: records('adversary', a, adversary.labels, baseline.adversary),
    ood,
    noDropout: baseline.info,
    figures,
    figuresDir: files.length ? opts.figuresDir : undefined,
  };
}
