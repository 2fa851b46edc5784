/** Accept/reject + digit + uncertainty for image files (library side of `udq predict`). */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Predictor } from '../uq/predictor';
import { loadImageAsMnist } from '../image/load';
import { featureVector } from '../uq/features';
import { predictProba } from '../gate/logistic';
import { canSampleAdaptive, sampleAdaptive } from '../uq/adaptive';
import { samplesPerImage } from '../uq/sample-count';
import { checkInput, checkPicture, ReasonDetail, SanityThresholds } from '../gate/sanity';
import type { InkOption, PipelineInfo } from '../image/pipeline';
import { DecodePool } from '../image/decode-pool';
import type { GateFile } from '../gate/gate-file';
import { ImageError } from '../errors';

export type Verdict = 'digit' | 'rejected' | 'error';

export interface Prediction {
  file: string;
  verdict: Verdict;
  /** why it was rejected: invalid-input:<reason> or uncertain (gate) */
  reason?: string;
  /** the check that rejected it, what it measured and the threshold (every rejection has one) */
  reasonDetail?: ReasonDetail;
  digit?: number;
  /** mean softmax probability of the predicted digit */
  probability?: number;
  meanStd?: number;
  mutualInformation?: number;
  predictiveEntropy?: number;
  /** P(not a digit) from the gate; undefined without a gate */
  gateProbability?: number;
  /** softmax samples the picture got (adaptive sampling stops early once the answer is settled) */
  passes?: number;
  error?: string;
  /** the 28x28 image the model saw (values 0..1) */
  pixels?: Float32Array;
  /** with `detail`: mean softmax probability of each class over the samples */
  classProbabilities?: number[];
  /** with `detail`: standard deviation of each class probability over the samples */
  classStd?: number[];
}

/**
 * What can be predicted: a picture file's path, a picture's encoded bytes (PNG, JPEG, WebP...),
 * or an image already in MNIST form (784 values, white ink on black, 0..1 or 0..255), with the
 * picture pipeline's facts (`info`) when the pipeline made it (then the picture checks run on it).
 */
export type PictureInput = string | Uint8Array | { pixels: ArrayLike<number>; name?: string; info?: PipelineInfo | null };

/** The name a prediction reports for input `i`. */
export function inputName(input: PictureInput, i: number): string {
  if (typeof input === 'string') return input;
  if (input instanceof Uint8Array) return `picture ${i + 1}`;
  return input.name ?? `pixels ${i + 1}`;
}

/** A 784-value image as floats in [0,1] (values above 1 are read as 0..255). */
export function mnistPixels(values: ArrayLike<number>): Float32Array {
  if (values.length !== 784) throw new ImageError(`expected 28x28 = 784 pixel values, got ${values.length}`);
  let max = 0;
  for (let i = 0; i < 784; i++) {
    const v = values[i];
    if (!Number.isFinite(v) || v < 0) throw new ImageError(`pixel ${i} is ${v}: expected values in 0..1 or 0..255`);
    if (v > max) max = v;
  }
  const scale = max > 1 ? 1 / 255 : 1;
  if (max > 255) throw new ImageError(`pixel values up to ${max}: expected 0..1 or 0..255`);
  return Float32Array.from(values, (v) => Math.min(1, v * scale));
}

export interface PredictOptions {
  /** passes per image (an ensemble: in each member): fixed, or with `adaptive` the most an image gets */
  samples: number;
  /**
   * sample in rounds (10, 20, 40, then `samples`; an ensemble in `mc` mode 20, 40, 80 passes in
   * all, then `samples` in each member: adaptiveRounds) and stop each picture once its verdict and
   * digit are settled (src/uq/adaptive.ts); an ensemble in `disagreement` mode samples as asked
   */
  adaptive?: boolean;
  /** the adaptive rule's z (default ADAPTIVE_Z) */
  adaptiveZ?: number;
  seed: number;
  gate: GateFile | null;
  sanity: SanityThresholds;
  /** ink polarity: auto (default), dark (on light paper) or light (on a dark ground) */
  ink?: InkOption;
  /** files per batch (default 256) */
  batchSize?: number;
  /**
   * worker threads that decode pictures and run the picture pipeline while the main thread
   * samples (default 0: in this thread)
   */
  decodeThreads?: number;
  /** a running decode pool to use instead (kept open; a server's) */
  decodePool?: DecodePool;
  /** add each class's mean probability and spread (classProbabilities, classStd) */
  detail?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/** Extensions `udq predict DIR` picks up (what sharp decodes). */
export const PICTURE_EXTENSIONS = /\.(png|jpe?g|webp|gif|tiff?|avif)$/i;

/**
 * The files to predict: each argument that is a folder is walked (recursively, sorted,
 * hidden entries skipped) for pictures; other arguments are taken as they are.
 */
export function collectPictureFiles(args: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (PICTURE_EXTENSIONS.test(e.name)) out.push(p);
    }
  };
  for (const a of args) {
    let isDir = false;
    try {
      isDir = statSync(a).isDirectory();
    } catch {
      // a missing file is reported by predictFiles as an error row
    }
    if (isDir) walk(a);
    else out.push(a);
  }
  return out;
}

/**
 * Predict files in batches of `opts.batchSize` (default 256): each batch is decoded,
 * preprocessed and sampled before the next is read, so thousands of files stream with
 * bounded memory (only the 28x28 images are kept) and `onProgress` can report.
 */
export async function predictFiles(model: Predictor, files: PictureInput[], opts: PredictOptions): Promise<Prediction[]> {
  const out: Prediction[] = [];
  await streamPredictions(model, files, opts, (batch) => {
    out.push(...batch);
  });
  return out;
}

/**
 * As {@link predictFiles}, handing each batch's predictions (in input order) to `onBatch` as
 * soon as it is done instead of keeping them: memory stays bounded for any number of files.
 */
export async function streamPredictions(model: Predictor, files: PictureInput[], opts: PredictOptions, onBatch: (predictions: Prediction[]) => void | Promise<void>): Promise<void> {
  const batch = opts.batchSize ?? 256;
  const threads = opts.decodeThreads ?? 0;
  const own = !opts.decodePool && threads > 0 && files.some((f) => typeof f === 'string' || f instanceof Uint8Array) ? new DecodePool(threads) : null;
  const pool = opts.decodePool ?? own;
  const prepare = (start: number) => prepareBatch(files.slice(start, start + batch), opts, start, pool);
  // the next batch is decoded (on the pool's threads) while this one is sampled
  let next: Promise<PreparedBatch> | null = files.length > 0 ? prepare(0) : null;
  try {
    for (let start = 0; next; start += batch) {
      const current = await next;
      next = start + batch < files.length ? prepare(start + batch) : null;
      await scorePredictions(model, current.toSample.map((t) => current.results[t.index]), current.toSample.map((t) => t.pixels), opts);
      await onBatch(current.results);
      opts.onProgress?.(Math.min(files.length, start + batch), files.length);
    }
  } finally {
    // a failure mid-run leaves the next batch in flight: its outcome no longer matters
    next?.catch(() => undefined);
    await own?.close();
  }
}

interface PreparedBatch {
  results: Prediction[];
  /** the pictures to sample: their index in results and their 28x28 image */
  toSample: { index: number; pixels: Float32Array }[];
}

/** Decode a batch and run the input checks (on the pool's threads when given, else here), in input order. */
async function prepareBatch(files: PictureInput[], opts: PredictOptions, first: number, pool: DecodePool | null): Promise<PreparedBatch> {
  const load = async (input: PictureInput, file: string): Promise<{ pixels: Float32Array; info: PipelineInfo | null }> => {
    if (typeof input !== 'string' && !(input instanceof Uint8Array)) return { pixels: mnistPixels(input.pixels), info: input.info ?? null };
    if (pool) return pool.decode(input, { ink: opts.ink, name: file });
    return loadImageAsMnist(typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength), { ink: opts.ink, name: file });
  };
  // with a pool every picture of the batch is handed out at once; in process, one after another
  const loaded = pool
    ? await Promise.allSettled(files.map((input, i) => load(input, inputName(input, first + i))))
    : await sequential(files.map((input, i) => () => load(input, inputName(input, first + i))));
  const results: Prediction[] = [];
  const toSample: PreparedBatch['toSample'] = [];
  loaded.forEach((r, i) => {
    const file = inputName(files[i], first + i);
    if (r.status === 'rejected') {
      results.push({ file, verdict: 'error', error: (r.reason as Error).message });
      return;
    }
    const img = r.value;
    const picture = img.info ? checkPicture(img.info) : null;
    const sanity = checkInput(img.pixels, opts.sanity);
    const p: Prediction = { file, verdict: 'digit', pixels: img.pixels };
    if (picture || !sanity.valid) {
      p.verdict = 'rejected';
      p.reason = `invalid-input:${picture ? picture.reason : sanity.reason}`;
      p.reasonDetail = picture ? picture.reasonDetail : sanity.reasonDetail;
    }
    results.push(p);
    toSample.push({ index: results.length - 1, pixels: img.pixels });
  });
  return { results, toSample };
}

/** Run `tasks` one after another, each outcome settled (as Promise.allSettled, without the concurrency). */
async function sequential<T>(tasks: (() => Promise<T>)[]): Promise<PromiseSettledResult<T>[]> {
  const out: PromiseSettledResult<T>[] = [];
  for (const t of tasks) {
    try {
      out.push({ status: 'fulfilled', value: await t() });
    } catch (reason) {
      out.push({ status: 'rejected', reason });
    }
  }
  return out;
}

/**
 * Sample the 28x28 `images` (every one with mask key 0, so an image's numbers depend only on
 * its pixels and the seed) and fill digit, probability, uncertainty and the gate's verdict into
 * `into` (same order); a prediction already rejected by the sanity check stays rejected.
 */
export async function scorePredictions(model: Predictor, into: Prediction[], images: Float32Array[], opts: Pick<PredictOptions, 'samples' | 'seed' | 'gate' | 'detail' | 'adaptive' | 'adaptiveZ'>): Promise<void> {
  if (images.length === 0) return;
  const pixels = new Float32Array(images.length * 784);
  images.forEach((img, i) => pixels.set(img, i * 784));
  const input = { count: images.length, pixels, keys: new Uint32Array(images.length) };
  let summaries;
  let passes: number[];
  if (opts.adaptive && canSampleAdaptive(model)) {
    const verdictFixed = into.map((p) => p.verdict !== 'digit');
    ({ summaries, passes } = await sampleAdaptive(model, input, { seed: opts.seed, samples: opts.samples, z: opts.adaptiveZ, gate: opts.gate, verdictFixed }));
  } else {
    ({ summaries } = await model.sample(input, { samples: opts.samples, seed: opts.seed }));
    passes = summaries.map(() => samplesPerImage(model, opts.samples));
  }
  summaries.forEach((s, i) => {
    const p = into[i];
    p.passes = passes[i];
    p.digit = s.predicted;
    p.probability = s.maxMean;
    p.meanStd = s.meanStd;
    p.mutualInformation = s.mutualInformation;
    p.predictiveEntropy = s.predictiveEntropy;
    if (opts.detail) {
      p.classProbabilities = Array.from(s.meanProbs);
      p.classStd = Array.from(s.stdProbs);
    }
    if (opts.gate) {
      p.gateProbability = predictProba(opts.gate.logistic, featureVector(s, opts.gate.features));
      if (p.verdict === 'digit' && p.gateProbability >= opts.gate.threshold) {
        p.verdict = 'rejected';
        p.reason = 'uncertain';
        p.reasonDetail = uncertainDetail(p.gateProbability, opts.gate.threshold);
      }
    }
  });
}

/** The gate's refusal as a {@link ReasonDetail}: the model read a digit but is unsure of it. */
export function uncertainDetail(pReject: number, threshold: number): ReasonDetail {
  return {
    check: 'gate',
    value: pReject,
    threshold,
    message: `the model is unsure: p(reject) ${pReject.toFixed(2)} >= threshold ${threshold.toFixed(2)} (the spread of its MC-dropout samples)`,
    short: `p(reject) ${pReject.toFixed(2)} >= ${threshold.toFixed(2)}`,
  };
}
