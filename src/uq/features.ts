/**
 * Uncertainty features from Monte-Carlo samples of softmax vectors (DESIGN.md section 5).
 *
 * For one image the sampler produces N softmax vectors over K classes. This module turns them
 * into the per-image summary the reject gate and the reports use:
 *
 * - `meanProbs[k]`   mean over the N samples of p_s[k]
 * - `stdProbs[k]`    population standard deviation over the N samples (divides by N, not N-1),
 *                    so one sample, or N identical samples, give exactly 0
 * - `maxMean`        max_k meanProbs[k]
 * - `predicted`      argmax_k meanProbs[k] (ties go to the lowest class index)
 * - `predictiveEntropy`  H(meanProbs) = -sum_k m_k ln m_k (natural log, 0 ln 0 = 0)
 * - `expectedEntropy`    (1/N) sum_s H(p_s)
 * - `mutualInformation`  predictiveEntropy - expectedEntropy (>= 0 by Jensen; rounding
 *                        negatives are clamped to 0)
 * - `variationRatio` 1 - (number of samples whose argmax is the modal argmax) / N, where each
 *                    sample's argmax takes the lowest index on ties
 * - `meanStd`        (1/K) sum_k stdProbs[k]
 *
 * Inputs are expected to be probability vectors (finite, >= 0, summing to about 1); they are
 * not renormalised. All arithmetic is done in float64.
 */
import { UsageError } from '../errors';

/** Per-image summary of N Monte-Carlo softmax samples. */
export interface SampleSummary {
  /** number of samples N the summary was computed from */
  numSamples: number;
  /** mean softmax over the samples, length K */
  meanProbs: Float32Array;
  /** population standard deviation (divide by N) of each class probability, length K */
  stdProbs: Float32Array;
  /** largest entry of meanProbs */
  maxMean: number;
  /** argmax of meanProbs (lowest index on ties) */
  predicted: number;
  /** entropy (natural log) of meanProbs */
  predictiveEntropy: number;
  /** mean over samples of each sample's entropy (natural log) */
  expectedEntropy: number;
  /** predictiveEntropy - expectedEntropy, clamped at 0 */
  mutualInformation: number;
  /** 1 - fraction of samples whose argmax equals the modal argmax */
  variationRatio: number;
  /** mean of stdProbs */
  meanStd: number;
  /** mean over samples of the energy -logsumexp(logits) (only when the sampler saw logits) */
  energy?: number;
  /** mean over samples of the largest logit (only when the sampler saw logits) */
  maxLogit?: number;
}

/** Energy and max-logit scores of one image from its per-sample values (means over samples). */
export function logitScores(energies: ArrayLike<number>, maxLogits: ArrayLike<number>): { energy: number; maxLogit: number } {
  let e = 0;
  let m = 0;
  for (let i = 0; i < energies.length; i++) {
    e += energies[i];
    m += maxLogits[i];
  }
  return { energy: e / Math.max(1, energies.length), maxLogit: m / Math.max(1, maxLogits.length) };
}

/** Names of the gate's feature sets. */
export type FeatureSetName = 'std' | 'full' | 'full-logit' | 'scores' | 'probs';

/** Every feature set, in the order reports list them. */
export const FEATURE_SET_NAMES: readonly FeatureSetName[] = ['std', 'full', 'full-logit', 'scores', 'probs'];

/** Features read from the logits (need a model whose last layer is a softmax Dense). */
const LOGIT_FEATURES = ['energy', 'max_logit'] as const;

/** The scalar scores of the `probs` set: read from the probabilities alone. */
const PROB_FEATURES = ['max_mean', 'predictive_entropy', 'expected_entropy', 'mutual_information', 'mean_std'] as const;

/** The scalar scores of the compact `scores` set: `probs` and the logit features. */
const SCORE_FEATURES = [...PROB_FEATURES, ...LOGIT_FEATURES] as const;

/** The number of classes FEATURE_SETS is written for (MNIST digits). */
export const DIGIT_CLASSES = 10;

/** Scalar features appended after std_* and mean_* in the `full` set, in order. */
const SCALAR_FEATURES = [
  'max_mean',
  'predictive_entropy',
  'expected_entropy',
  'mutual_information',
  'variation_ratio',
] as const;

/**
 * Feature names of a set for `numClasses` classes.
 * `std`: std_0..std_{K-1} (the source study's features).
 * `full`: std_0..std_{K-1}, mean_0..mean_{K-1}, max_mean, predictive_entropy, expected_entropy,
 * mutual_information, variation_ratio.
 */
export function featureNames(set: FeatureSetName, numClasses: number = DIGIT_CLASSES): string[] {
  checkPositiveInteger(numClasses, 'number of classes');
  const std = Array.from({ length: numClasses }, (_, k) => `std_${k}`);
  switch (set) {
    case 'std':
      return std;
    case 'full':
      return [...std, ...Array.from({ length: numClasses }, (_, k) => `mean_${k}`), ...SCALAR_FEATURES];
    case 'full-logit':
      return [...featureNames('full', numClasses), ...LOGIT_FEATURES];
    case 'scores':
      return [...SCORE_FEATURES];
    case 'probs':
      return [...PROB_FEATURES];
    default:
      throw new UsageError(`unknown feature set '${String(set)}' (expected ${FEATURE_SET_NAMES.join(', ')})`);
  }
}

/** Feature names of every set for the 10 digit classes. */
export const FEATURE_SETS: Readonly<Record<FeatureSetName, readonly string[]>> = Object.freeze({
  std: Object.freeze(featureNames('std')),
  full: Object.freeze(featureNames('full')),
  'full-logit': Object.freeze(featureNames('full-logit')),
  scores: Object.freeze(featureNames('scores')),
  probs: Object.freeze(featureNames('probs')),
});

/** True when `name` is a feature set name (for validating CLI options). */
export function isFeatureSetName(name: string): name is FeatureSetName {
  return (FEATURE_SET_NAMES as readonly string[]).includes(name);
}

function logitValues(summary: SampleSummary): number[] {
  if (summary.energy === undefined || summary.maxLogit === undefined) {
    throw new UsageError('this feature set needs logit scores (energy, max logit), which this model\'s sampler does not give (its last layer is not a softmax Dense)');
  }
  return [summary.energy, summary.maxLogit];
}

/** The gate's input vector for one image, in the order of `featureNames(set, K)`. */
export function featureVector(summary: SampleSummary, set: FeatureSetName): number[] {
  const std = Array.from(summary.stdProbs);
  switch (set) {
    case 'std':
      return std;
    case 'full':
      return [
        ...std,
        ...Array.from(summary.meanProbs),
        summary.maxMean,
        summary.predictiveEntropy,
        summary.expectedEntropy,
        summary.mutualInformation,
        summary.variationRatio,
      ];
    case 'full-logit':
      return [...featureVector(summary, 'full'), ...logitValues(summary)];
    case 'scores':
      return [...featureVector(summary, 'probs'), ...logitValues(summary)];
    case 'probs':
      return [summary.maxMean, summary.predictiveEntropy, summary.expectedEntropy, summary.mutualInformation, summary.meanStd];
    default:
      throw new UsageError(`unknown feature set '${String(set)}' (expected ${FEATURE_SET_NAMES.join(', ')})`);
  }
}

/**
 * Summarise the N samples of one image.
 * @param samples N*K probabilities, sample-major: sample s, class k at `s*k + k`
 * @param n number of samples N (>= 1)
 * @param k number of classes K (>= 1)
 * @throws UsageError on a length mismatch or a non-finite or negative probability
 */
export function summariseSamples(samples: Float32Array, n: number, k: number): SampleSummary {
  checkPositiveInteger(n, 'number of samples');
  checkPositiveInteger(k, 'number of classes');
  if (samples.length !== n * k) {
    throw new UsageError(`expected ${n}x${k} = ${n * k} probabilities, got ${samples.length}`);
  }
  checkProbabilities(samples, 0, samples.length);

  // Two passes: mean, then squared deviations from the mean.
  const mean = new Float64Array(k);
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < k; c++) mean[c] += samples[s * k + c];
  }
  for (let c = 0; c < k; c++) mean[c] /= n;

  const sumSquares = new Float64Array(k);
  const argmaxCounts = new Uint32Array(k);
  let entropySum = 0;
  for (let s = 0; s < n; s++) {
    const offset = s * k;
    for (let c = 0; c < k; c++) {
      const d = samples[offset + c] - mean[c];
      sumSquares[c] += d * d;
    }
    entropySum += entropyOf(samples, offset, k);
    argmaxCounts[argmaxOf(samples, offset, k)]++;
  }
  const variance = sumSquares.map((v) => v / n);
  return buildSummary(n, k, mean, variance, entropySum / n, argmaxCounts);
}

/** Layout of a block of samples for several images. */
export type SampleBlockLayout = 'sample-major' | 'image-major';

/** Where a block of samples belongs and how it is laid out. */
export interface SampleBlockPlacement {
  /** index of the block's first image in the accumulator (default 0) */
  firstImage?: number;
  /** number of consecutive images in the block */
  numImages: number;
  /** number of samples per image in the block */
  numSamples: number;
  /**
   * `sample-major` (default): shape [numSamples, numImages, K], sample s of image i, class c at
   * `(s*numImages + i)*K + c` (what a batched MC pass over the N copies produces);
   * `image-major`: shape [numImages, numSamples, K], at `(i*numSamples + s)*K + c`.
   */
  layout?: SampleBlockLayout;
}

/**
 * Streaming summaries for many images: samples arrive one at a time or in blocks, in any
 * order and any number of calls, and only O(K) float64 state is kept per image (mean and
 * sum of squared deviations by Welford's update, entropy sum, argmax counts), so
 * N = 1000 samples for 10,000 images needs about 2 MB. `summary(i)` equals
 * `summariseSamples` on the same samples within rounding (1e-6 is tested).
 */
export class SampleAccumulator {
  readonly numImages: number;
  readonly numClasses: number;
  private readonly counts: Uint32Array;
  private readonly means: Float64Array;
  private readonly sumSquares: Float64Array;
  private readonly entropySums: Float64Array;
  private readonly argmaxCounts: Uint32Array;

  constructor(numImages: number, numClasses: number) {
    checkPositiveInteger(numImages, 'number of images');
    checkPositiveInteger(numClasses, 'number of classes');
    this.numImages = numImages;
    this.numClasses = numClasses;
    this.counts = new Uint32Array(numImages);
    this.means = new Float64Array(numImages * numClasses);
    this.sumSquares = new Float64Array(numImages * numClasses);
    this.entropySums = new Float64Array(numImages);
    this.argmaxCounts = new Uint32Array(numImages * numClasses);
  }

  /**
   * Add one softmax sample for one image.
   * @param probs holds the K probabilities at `offset .. offset+K-1`
   */
  addSample(imageIndex: number, probs: ArrayLike<number>, offset: number = 0): void {
    this.checkImageIndex(imageIndex);
    const k = this.numClasses;
    if (!Number.isInteger(offset) || offset < 0 || offset + k > probs.length) {
      throw new UsageError(`sample at offset ${offset} needs ${k} values, array has ${probs.length}`);
    }
    checkProbabilities(probs, offset, k);
    this.accumulate(imageIndex, probs, offset);
  }

  /** Add a block of samples for consecutive images (see SampleBlockPlacement for layouts). */
  addBlock(data: ArrayLike<number>, placement: SampleBlockPlacement): void {
    const { numImages, numSamples } = placement;
    const firstImage = placement.firstImage ?? 0;
    const layout = placement.layout ?? 'sample-major';
    checkPositiveInteger(numImages, 'number of images in block');
    checkPositiveInteger(numSamples, 'number of samples in block');
    if (!Number.isInteger(firstImage) || firstImage < 0 || firstImage + numImages > this.numImages) {
      throw new UsageError(
        `block images ${firstImage}..${firstImage + numImages - 1} outside 0..${this.numImages - 1}`,
      );
    }
    if (layout !== 'sample-major' && layout !== 'image-major') {
      throw new UsageError(`unknown block layout '${String(layout)}'`);
    }
    const k = this.numClasses;
    if (data.length !== numImages * numSamples * k) {
      throw new UsageError(
        `block of ${numSamples} samples x ${numImages} images x ${k} classes needs ${numImages * numSamples * k} values, got ${data.length}`,
      );
    }
    checkProbabilities(data, 0, data.length);
    for (let i = 0; i < numImages; i++) {
      for (let s = 0; s < numSamples; s++) {
        const offset = layout === 'sample-major' ? (s * numImages + i) * k : (i * numSamples + s) * k;
        this.accumulate(firstImage + i, data, offset);
      }
    }
  }

  /** Number of samples received so far for an image. */
  sampleCount(imageIndex: number): number {
    this.checkImageIndex(imageIndex);
    return this.counts[imageIndex];
  }

  /** Summary of the samples received so far for one image (at least one is needed). */
  summary(imageIndex: number): SampleSummary {
    this.checkImageIndex(imageIndex);
    const n = this.counts[imageIndex];
    if (n === 0) throw new UsageError(`image ${imageIndex} has no samples`);
    const k = this.numClasses;
    const base = imageIndex * k;
    const mean = this.means.slice(base, base + k);
    const variance = this.sumSquares.slice(base, base + k).map((v) => v / n);
    const argmaxCounts = this.argmaxCounts.slice(base, base + k);
    return buildSummary(n, k, mean, variance, this.entropySums[imageIndex] / n, argmaxCounts);
  }

  /** Summaries of all images, in index order. */
  summaries(): SampleSummary[] {
    return Array.from({ length: this.numImages }, (_, i) => this.summary(i));
  }

  private accumulate(imageIndex: number, probs: ArrayLike<number>, offset: number): void {
    const k = this.numClasses;
    const base = imageIndex * k;
    const n = ++this.counts[imageIndex];
    for (let c = 0; c < k; c++) {
      const x = probs[offset + c];
      const delta = x - this.means[base + c];
      this.means[base + c] += delta / n;
      this.sumSquares[base + c] += delta * (x - this.means[base + c]);
    }
    this.entropySums[imageIndex] += entropyOf(probs, offset, k);
    this.argmaxCounts[base + argmaxOf(probs, offset, k)]++;
  }

  private checkImageIndex(imageIndex: number): void {
    if (!Number.isInteger(imageIndex) || imageIndex < 0 || imageIndex >= this.numImages) {
      throw new UsageError(`image index ${imageIndex} outside 0..${this.numImages - 1}`);
    }
  }
}

/** Entropy (natural log) of the K values at `offset`, with 0 ln 0 = 0. */
export function entropyOf(values: ArrayLike<number>, offset: number, k: number): number {
  let h = 0;
  for (let c = 0; c < k; c++) {
    const p = values[offset + c];
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

/** Index of the largest of the K values at `offset` (lowest index on ties). */
export function argmaxOf(values: ArrayLike<number>, offset: number, k: number): number {
  let best = 0;
  for (let c = 1; c < k; c++) {
    if (values[offset + c] > values[offset + best]) best = c;
  }
  return best;
}

/** A summary from the moments of N samples (summariseSamples and the accumulators build theirs here). */
export function buildSummary(
  n: number,
  k: number,
  mean: Float64Array,
  variance: Float64Array,
  expectedEntropy: number,
  argmaxCounts: Uint32Array,
): SampleSummary {
  const stdProbs = new Float32Array(k);
  let stdSum = 0;
  for (let c = 0; c < k; c++) {
    const std = Math.sqrt(Math.max(0, variance[c]));
    stdProbs[c] = std;
    stdSum += std;
  }
  const predicted = argmaxOf(mean, 0, k);
  const predictiveEntropy = entropyOf(mean, 0, k);
  let modalCount = 0;
  for (let c = 0; c < k; c++) modalCount = Math.max(modalCount, argmaxCounts[c]);
  return {
    numSamples: n,
    meanProbs: Float32Array.from(mean),
    stdProbs,
    maxMean: mean[predicted],
    predicted,
    predictiveEntropy,
    expectedEntropy,
    mutualInformation: Math.max(0, predictiveEntropy - expectedEntropy),
    variationRatio: 1 - modalCount / n,
    meanStd: stdSum / k,
  };
}

function checkPositiveInteger(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new UsageError(`${what} must be a positive integer, got ${value}`);
  }
}

function checkProbabilities(values: ArrayLike<number>, offset: number, count: number): void {
  for (let i = offset; i < offset + count; i++) {
    const p = values[i];
    if (!Number.isFinite(p) || p < 0) {
      throw new UsageError(`probability at index ${i} is ${p}; expected a finite value >= 0`);
    }
  }
}
