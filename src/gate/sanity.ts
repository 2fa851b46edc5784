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
  const out = (reason: InvalidReason, k: StatisticName): SanityVerdict => ({
    valid: false,
    reason,
    detail: `${k} ${statistics[k].toFixed(3)} outside MNIST range [${thresholds[k].min.toFixed(3)}, ${thresholds[k].max.toFixed(3)}]`,
    statistics,
  });
  if (statistics.meanInk < 1e-3 || statistics.inkFraction === 0) return { valid: false, reason: 'blank', detail: 'no ink', statistics };
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
  /** strongest ink in units of the noise floor (0: nothing stood out) */
  contrast: number;
  /** components as strong as the character that were left out */
  rivals: number;
  /** noise level of the picture relative to its background (robust sigma) */
  noise: number;
}

/** Below this contrast (strongest ink / noise level) nothing was written. */
export const MIN_CONTRAST = 12;
/** Above this relative noise level, with contrast under 20, the picture is texture or noise. */
export const MAX_NOISE = 0.08;

/** Left-out components this strong and this many mean texture, not one written character. */
export const MAX_RIVALS = 4;

/**
 * The picture-level part of the check, before the 28x28 statistics: a noisy picture where no
 * stroke stands out well above the noise is `noise-like` (measured on generated pictures:
 * photos of digits have noise <= 0.03 and contrast >= 30, textures and noise >= 0.057 and
 * <= 9); a picture in which nothing stood out from the paper is `blank`; one where many components as strong as the chosen one
 * were left out (wood grain, fabric, gravel) is `noise-like`. Returns null when it passes.
 */
export function checkPicture(e: PictureEvidence): { reason: InvalidReason; detail: string } | null {
  if (e.noise > MAX_NOISE && e.contrast < 20) return { reason: 'noise-like', detail: `noise level ${e.noise.toFixed(3)} with no stroke standing out (contrast ${e.contrast.toFixed(1)})` };
  if (e.contrast < MIN_CONTRAST) return { reason: 'blank', detail: `no ink stands out from the background (contrast ${e.contrast.toFixed(1)})` };
  if (e.rivals >= MAX_RIVALS) return { reason: 'noise-like', detail: `${e.rivals} other marks as strong as the character (texture, not writing)` };
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
