/**
 * Input sanity check, run before the uncertainty gate: images that no digit classifier's
 * uncertainty can be trusted on (blank, mostly ink, noise, far outside MNIST's pixel
 * statistics) are rejected as `invalid-input`. Measured (DESIGN.md section 5): the
 * uncertainty gate alone still accepts 38-50% of uniform-noise images.
 *
 * Statistics are computed on the MNIST-preprocessed 28x28 image (values in [0,1]); the
 * accepted range of each is the [0.05%, 99.95%] quantile range over the 60,000 MNIST
 * training digits, widened by 25% of its width on both sides.
 */
import type { ImageSet } from '../data/idx';

export interface ImageStatistics {
  /** mean pixel value (MNIST: ~0.13) */
  meanInk: number;
  /** fraction of pixels above 0.5 */
  inkFraction: number;
  /** among pixels above 0.05, the fraction strictly between 0.2 and 0.8 (anti-aliased edges vs grey texture) */
  greyFraction: number;
  /** mean absolute difference between 4-neighbours, over pixel pairs where either is above 0.05 */
  roughness: number;
}

export const STATISTIC_NAMES = ['meanInk', 'inkFraction', 'greyFraction', 'roughness'] as const;
export type StatisticName = (typeof STATISTIC_NAMES)[number];

export type SanityThresholds = Record<StatisticName, { min: number; max: number }>;

export type InvalidReason = 'blank' | 'mostly-ink' | 'noise-like' | 'unusual-pixels';

export interface SanityVerdict {
  valid: boolean;
  reason?: InvalidReason;
  /** which statistic was out of range, and its value */
  detail?: string;
  /** the same, as the check, the value and the threshold */
  reasonDetail?: ReasonDetail;
  statistics: ImageStatistics;
}

/** Pixel statistics of one 28x28 image (values in [0,1]; uint8 is scaled). */
export function imageStatistics(pixels: ArrayLike<number>, width = 28, height = 28, scale = 1): ImageStatistics {
  const n = width * height;
  let sum = 0;
  let ink = 0;
  let lit = 0;
  let grey = 0;
  let diff = 0;
  let pairs = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = pixels[y * width + x] * scale;
      sum += v;
      if (v > 0.5) ink++;
      if (v > 0.05) {
        lit++;
        if (v > 0.2 && v < 0.8) grey++;
      }
      if (x + 1 < width) {
        const r = pixels[y * width + x + 1] * scale;
        if (v > 0.05 || r > 0.05) {
          diff += Math.abs(v - r);
          pairs++;
        }
      }
      if (y + 1 < height) {
        const d = pixels[(y + 1) * width + x] * scale;
        if (v > 0.05 || d > 0.05) {
          diff += Math.abs(v - d);
          pairs++;
        }
      }
    }
  }
  return {
    meanInk: sum / n,
    inkFraction: ink / n,
    greyFraction: lit ? grey / lit : 0,
    roughness: pairs ? diff / pairs : 0,
  };
}

function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Accepted ranges from a reference set of digits (see the module comment). */
export function deriveSanityThresholds(set: ImageSet, opts: { lowQuantile?: number; highQuantile?: number; widen?: number } = {}): SanityThresholds {
  const lowQ = opts.lowQuantile ?? 0.0005;
  const highQ = opts.highQuantile ?? 0.9995;
  const widen = opts.widen ?? 0.25;
  const size = set.rows * set.cols;
  const values: Record<StatisticName, Float64Array> = {
    meanInk: new Float64Array(set.count),
    inkFraction: new Float64Array(set.count),
    greyFraction: new Float64Array(set.count),
    roughness: new Float64Array(set.count),
  };
  for (let i = 0; i < set.count; i++) {
    const s = imageStatistics(set.pixels.subarray(i * size, (i + 1) * size), set.cols, set.rows, 1 / 255);
    for (const k of STATISTIC_NAMES) values[k][i] = s[k];
  }
  const out = {} as SanityThresholds;
  for (const k of STATISTIC_NAMES) {
    const sorted = values[k].sort();
    const lo = quantile(sorted, lowQ);
    const hi = quantile(sorted, highQ);
    const w = (hi - lo) * widen;
    out[k] = { min: Math.max(0, lo - w), max: hi + w };
  }
  return out;
}

/** Is this preprocessed image something the digit model can be asked about? */
export function checkInput(pixels: ArrayLike<number>, thresholds: SanityThresholds, scale = 1): SanityVerdict {
  const statistics = imageStatistics(pixels, 28, 28, scale);
  const out = (reason: InvalidReason, k: StatisticName): SanityVerdict => {
    const v = statistics[k];
    const high = v > thresholds[k].max;
    const detail = `${k} ${v.toFixed(3)} outside MNIST range [${thresholds[k].min.toFixed(3)}, ${thresholds[k].max.toFixed(3)}]`;
    return {
      valid: false,
      reason,
      detail,
      reasonDetail: { check: k, value: v, threshold: high ? thresholds[k].max : thresholds[k].min, message: `the 28x28 image's ${detail}`, short: `${k} ${v.toFixed(3)} ${high ? '>' : '<'} ${(high ? thresholds[k].max : thresholds[k].min).toFixed(3)}` },
      statistics,
    };
  };
  if (statistics.meanInk < 1e-3 || statistics.inkFraction === 0) return { valid: false, reason: 'blank', detail: 'no ink', reasonDetail: { check: 'ink', value: statistics.meanInk, threshold: 1e-3, message: 'the 28x28 image holds no ink', short: 'no ink' }, statistics };
  if (statistics.meanInk > thresholds.meanInk.max) return out('mostly-ink', 'meanInk');
  if (statistics.inkFraction > thresholds.inkFraction.max) return out('mostly-ink', 'inkFraction');
  if (statistics.roughness > thresholds.roughness.max) return out('noise-like', 'roughness');
  if (statistics.greyFraction > thresholds.greyFraction.max) return out('noise-like', 'greyFraction');
  for (const k of STATISTIC_NAMES) {
    if (statistics[k] < thresholds[k].min || statistics[k] > thresholds[k].max) {
      return out(statistics.meanInk < thresholds.meanInk.min ? 'blank' : 'unusual-pixels', k);
    }
  }
  return { valid: true, statistics };
}

/** What the picture pipeline reports (src/image/pipeline.ts PipelineInfo), as far as the check reads it. */
export interface PictureEvidence {
  /** stroke evidence at the stroke's scale: the strokes' depth over the paper's noise averaged over 5x5 px */
  snr: number;
  /** components kept as the character (0: no mark the size of a character) */
  kept: number;
  /** components as strong as the character that were left out */
  rivals: number;
  /** noise level of the picture relative to its background (robust sigma) */
  noise: number;
  /** the character's pen path length in units of its longer side (a digit's: 1.5-5; a 1: about 1) */
  strokeLength: number;
}

/** Why a check refused a picture: which check, what it measured, and the threshold it failed. */
export interface ReasonDetail {
  /** the check that refused it */
  check: 'stroke-found' | 'stroke-contrast' | 'stroke-path' | 'rival-marks' | StatisticName | 'ink' | 'gate';
  /** what it measured */
  value: number;
  /** the threshold it failed (value below it, or above it for rival-marks and the MNIST maxima) */
  threshold: number;
  /** one line a user reads */
  message: string;
  /** short form for tables */
  short: string;
}

/** Below this stroke evidence ({@link PictureEvidence.snr}) no stroke stands out of the paper. */
export const MIN_STROKE_SNR = 6;
/** Below this stroke evidence a mark is only taken as writing when its pen path is a character's. */
export const CLEAR_STROKE_SNR = 16;
/** A faint mark is writing when its pen path is at least this long (in units of its box's longer side). */
export const MIN_FAINT_PATH = 1.5;
/** Left-out components this strong and this many mean texture, not one written character. */
export const MAX_RIVALS = 4;
/** Above this relative noise level a picture without a stroke is `noise-like` rather than `blank`. */
export const MAX_NOISE = 0.08;

const f1 = (x: number) => x.toFixed(1);

/**
 * The picture-level part of the check, before the 28x28 statistics, from evidence about strokes:
 * - no mark the size of a character was found: `blank` (`noise-like` on a noisy picture);
 * - the strokes do not stand out of the paper at their own scale (stroke evidence below
 *   MIN_STROKE_SNR): `blank`, or `noise-like` on a noisy picture;
 * - a faint mark (evidence below CLEAR_STROKE_SNR) whose pen path is not a character's (shorter
 *   than MIN_FAINT_PATH times its box: a blot, a grain, a band of texture): `noise-like`;
 * - MAX_RIVALS or more other marks as strong as the character (wood grain, fabric): `noise-like`.
 * Frame-filling digits, coloured ink on coloured paper and one-pixel pens pass on their strokes
 * (issue #21); global pixel statistics are not used here. Returns null when it passes.
 */
export function checkPicture(e: PictureEvidence): { reason: InvalidReason; detail: string; reasonDetail: ReasonDetail } | null {
  const refuse = (reason: InvalidReason, d: Omit<ReasonDetail, 'message'> & { message: string }) => ({ reason, detail: d.message, reasonDetail: d });
  if (e.kept === 0) {
    const noisy = e.noise > MAX_NOISE;
    return refuse(noisy ? 'noise-like' : 'blank', { check: 'stroke-found', value: 0, threshold: 1, message: `no stroke found: no mark the size of a character${noisy ? ` in the noise (level ${e.noise.toFixed(3)})` : ''}`, short: 'no stroke found' });
  }
  if (e.snr < MIN_STROKE_SNR) {
    return refuse(e.noise > MAX_NOISE ? 'noise-like' : 'blank', { check: 'stroke-contrast', value: e.snr, threshold: MIN_STROKE_SNR, message: `no stroke stands out of the paper: stroke contrast ${f1(e.snr)} < ${MIN_STROKE_SNR} (paper noise ${e.noise.toFixed(3)})`, short: `stroke contrast ${f1(e.snr)} < ${MIN_STROKE_SNR}` });
  }
  if (e.rivals >= MAX_RIVALS) return refuse('noise-like', { check: 'rival-marks', value: e.rivals, threshold: MAX_RIVALS, message: `${e.rivals} other marks as strong as the character (texture, not writing; at most ${MAX_RIVALS - 1})`, short: `${e.rivals} rival marks >= ${MAX_RIVALS}` });
  if (e.snr < CLEAR_STROKE_SNR && e.strokeLength < MIN_FAINT_PATH) {
    return refuse('noise-like', { check: 'stroke-path', value: e.strokeLength, threshold: MIN_FAINT_PATH, message: `a faint mark (stroke contrast ${f1(e.snr)} < ${CLEAR_STROKE_SNR}) whose pen path is not a character's: ${e.strokeLength.toFixed(2)} < ${MIN_FAINT_PATH} times its size`, short: `faint, path ${e.strokeLength.toFixed(2)} < ${MIN_FAINT_PATH}` });
  }
  return null;
}

let mnistThresholds: SanityThresholds | null = null;

/** Thresholds derived from the 60,000 MNIST training digits (computed once, ~1 s). */
export function mnistSanityThresholds(): SanityThresholds {
  if (!mnistThresholds) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { loadMnist } = require('../data/mnist') as typeof import('../data/mnist');
    mnistThresholds = deriveSanityThresholds(loadMnist('train').images);
  }
  return mnistThresholds;
}
