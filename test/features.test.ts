import { test } from 'node:test';
import assert from 'node:assert/strict';
import { close } from './helpers/close';
import { mulberry32 } from '../src/random';
import {
  FEATURE_SETS,
  SampleAccumulator,
  featureNames,
  featureVector,
  isFeatureSetName,
  summariseSamples,
  type FeatureSetName,
  type SampleSummary,
} from '../src/uq/features';
import { UsageError } from '../src/errors';

const LN2 = Math.log(2);
const LN3 = Math.log(3);

function closeArray(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) close(actual[i], expected[i], tolerance, `${what}[${i}]`);
}

/** Pad a short probability vector with zeros up to K. */
function padded(values: number[], k: number): number[] {
  return [...values, ...new Array<number>(k - values.length).fill(0)];
}

interface Expected {
  mean: number[];
  std: number[];
  maxMean: number;
  predicted: number;
  predictiveEntropy: number;
  expectedEntropy: number;
  mutualInformation: number;
  variationRatio: number;
  meanStd: number;
}

// Every expected value below is worked out by hand in the comment beside it.
const H_721 = -(0.7 * Math.log(0.7) + 0.2 * Math.log(0.2) + 0.1 * Math.log(0.1));
const CASES: { name: string; k: number; samples: number[][]; expected: Expected }[] = [
  {
    // four identical samples: no spread, no disagreement, entropies equal
    name: 'identical samples',
    k: 10,
    samples: [0, 1, 2, 3].map(() => padded([0.7, 0.2, 0.1], 10)),
    expected: {
      mean: padded([0.7, 0.2, 0.1], 10),
      std: padded([], 10),
      maxMean: 0.7,
      predicted: 0,
      predictiveEntropy: H_721,
      expectedEntropy: H_721,
      mutualInformation: 0,
      variationRatio: 0,
      meanStd: 0,
    },
  },
  {
    // one-hot on class 0 and one-hot on class 1: mean (1/2, 1/2), each std 1/2,
    // H(mean) = ln 2, each sample's entropy 0, argmaxes 0 and 1 -> modal count 1 of 2
    name: 'two disagreeing one-hot samples',
    k: 10,
    samples: [padded([1], 10), padded([0, 1], 10)],
    expected: {
      mean: padded([0.5, 0.5], 10),
      std: padded([0.5, 0.5], 10),
      maxMean: 0.5,
      predicted: 0, // tie between classes 0 and 1 goes to the lower index
      predictiveEntropy: LN2,
      expectedEntropy: 0,
      mutualInformation: LN2,
      variationRatio: 0.5,
      meanStd: 1 / 10,
    },
  },
  {
    // class 0 values 1,1,0: mean 2/3, variance ((1/3)^2*2 + (2/3)^2)/3 = 2/9, std sqrt(2)/3;
    // class 2 values 0,0,1: same std. H(2/3,0,1/3) = ln 3 - (2/3) ln 2; argmaxes 0,0,2
    name: 'two of three agree',
    k: 3,
    samples: [
      [1, 0, 0],
      [1, 0, 0],
      [0, 0, 1],
    ],
    expected: {
      mean: [2 / 3, 0, 1 / 3],
      std: [Math.SQRT2 / 3, 0, Math.SQRT2 / 3],
      maxMean: 2 / 3,
      predicted: 0,
      predictiveEntropy: LN3 - (2 / 3) * LN2,
      expectedEntropy: 0,
      mutualInformation: LN3 - (2 / 3) * LN2,
      variationRatio: 1 / 3,
      meanStd: (2 * Math.SQRT2) / 9,
    },
  },
  {
    // (1/2,1/2,0) and (0,1/2,1/2): mean (1/4,1/2,1/4), H = 2*(1/4)ln4 + (1/2)ln2 = 1.5 ln2;
    // each sample has entropy ln2; stds 1/4, 0, 1/4; per-sample argmaxes 0 and 1 (ties -> lower)
    name: 'soft samples with aleatoric entropy',
    k: 3,
    samples: [
      [0.5, 0.5, 0],
      [0, 0.5, 0.5],
    ],
    expected: {
      mean: [0.25, 0.5, 0.25],
      std: [0.25, 0, 0.25],
      maxMean: 0.5,
      predicted: 1,
      predictiveEntropy: 1.5 * LN2,
      expectedEntropy: LN2,
      mutualInformation: 0.5 * LN2,
      variationRatio: 0.5,
      meanStd: 1 / 6,
    },
  },
  {
    // a single uniform sample: H = ln 4 for both entropies, nothing to disagree with
    name: 'single uniform sample',
    k: 4,
    samples: [[0.25, 0.25, 0.25, 0.25]],
    expected: {
      mean: [0.25, 0.25, 0.25, 0.25],
      std: [0, 0, 0, 0],
      maxMean: 0.25,
      predicted: 0,
      predictiveEntropy: Math.log(4),
      expectedEntropy: Math.log(4),
      mutualInformation: 0,
      variationRatio: 0,
      meanStd: 0,
    },
  },
];

function checkSummary(summary: SampleSummary, expected: Expected, n: number, what: string): void {
  // inputs pass through Float32Array, so 0.7 etc. carry ~1e-8 rounding
  const tol = 1e-6;
  assert.equal(summary.numSamples, n, `${what}: numSamples`);
  closeArray(summary.meanProbs, expected.mean, tol, `${what}: meanProbs`);
  closeArray(summary.stdProbs, expected.std, tol, `${what}: stdProbs`);
  close(summary.maxMean, expected.maxMean, tol, `${what}: maxMean`);
  assert.equal(summary.predicted, expected.predicted, `${what}: predicted`);
  close(summary.predictiveEntropy, expected.predictiveEntropy, tol, `${what}: predictiveEntropy`);
  close(summary.expectedEntropy, expected.expectedEntropy, tol, `${what}: expectedEntropy`);
  close(summary.mutualInformation, expected.mutualInformation, tol, `${what}: mutualInformation`);
  assert.ok(summary.mutualInformation >= 0, `${what}: mutualInformation is never negative`);
  close(summary.variationRatio, expected.variationRatio, 1e-12, `${what}: variationRatio`);
  close(summary.meanStd, expected.meanStd, tol, `${what}: meanStd`);
}

for (const c of CASES) {
  test(`summariseSamples: ${c.name}`, () => {
    const flat = Float32Array.from(c.samples.flat());
    checkSummary(summariseSamples(flat, c.samples.length, c.k), c.expected, c.samples.length, c.name);
  });

  test(`SampleAccumulator one sample at a time: ${c.name}`, () => {
    const acc = new SampleAccumulator(1, c.k);
    for (const sample of c.samples) acc.addSample(0, Float32Array.from(sample));
    assert.equal(acc.sampleCount(0), c.samples.length);
    checkSummary(acc.summary(0), c.expected, c.samples.length, c.name);
  });
}

test('identical samples give exactly zero std in both implementations', () => {
  const sample = [0.1234567, 0.3, 0.5765433];
  const flat = Float32Array.from([sample, sample, sample, sample, sample].flat());
  const direct = summariseSamples(flat, 5, 3);
  const acc = new SampleAccumulator(1, 3);
  acc.addBlock(flat, { numImages: 1, numSamples: 5 });
  for (const summary of [direct, acc.summary(0)]) {
    for (const std of summary.stdProbs) assert.ok(std < 1e-9, `std ${std}`);
    assert.ok(summary.mutualInformation < 1e-9);
    assert.equal(summary.variationRatio, 0);
  }
});


/** Random softmax samples: samples[image][sample] is a length-K probability vector. */
function randomSoftmaxSamples(numImages: number, n: number, k: number, seed: number): Float32Array[][] {
  const random = mulberry32(seed);
  return Array.from({ length: numImages }, (_, image) => {
    const centre = Array.from({ length: k }, () => 4 * random());
    const spread = image % 3 === 0 ? 0.1 : 3; // some confident-and-stable images, some noisy
    return Array.from({ length: n }, () => {
      const logits = centre.map((c) => c + spread * (random() - 0.5));
      const max = Math.max(...logits);
      const exps = logits.map((z) => Math.exp(z - max));
      const total = exps.reduce((a, b) => a + b, 0);
      return Float32Array.from(exps.map((e) => e / total));
    });
  });
}

function assertSummariesEqual(actual: SampleSummary, expected: SampleSummary, what: string): void {
  const tol = 1e-6;
  assert.equal(actual.numSamples, expected.numSamples, `${what}: numSamples`);
  closeArray(actual.meanProbs, expected.meanProbs, tol, `${what}: meanProbs`);
  closeArray(actual.stdProbs, expected.stdProbs, tol, `${what}: stdProbs`);
  for (const key of [
    'maxMean',
    'predictiveEntropy',
    'expectedEntropy',
    'mutualInformation',
    'variationRatio',
    'meanStd',
  ] as const) {
    close(actual[key], expected[key], tol, `${what}: ${key}`);
  }
  assert.equal(actual.predicted, expected.predicted, `${what}: predicted`);
}

test('SampleAccumulator equals summariseSamples for every way of feeding it', () => {
  const numImages = 7;
  const n = 37;
  const k = 10;
  const data = randomSoftmaxSamples(numImages, n, k, 12345);
  const direct = data.map((samples) => summariseSamples(Float32Array.from(samples.flatMap((s) => [...s])), n, k));
  // sanity: the random set has both stable and disagreeing images, so the comparison means something
  assert.ok(direct.some((d) => d.variationRatio > 0) && direct.some((d) => d.variationRatio === 0));

  // 1) one sample at a time, images interleaved
  const bySample = new SampleAccumulator(numImages, k);
  for (let s = 0; s < n; s++) for (let i = 0; i < numImages; i++) bySample.addSample(i, data[i][s]);

  // 2) sample-major blocks [samples, images, K] of uneven sample counts over images 2..6,
  //    images 0..1 as one image-major block [images, samples, K]
  const byBlocks = new SampleAccumulator(numImages, k);
  const imageMajor: number[] = [];
  for (let i = 0; i < 2; i++) for (let s = 0; s < n; s++) imageMajor.push(...data[i][s]);
  byBlocks.addBlock(Float32Array.from(imageMajor), { firstImage: 0, numImages: 2, numSamples: n, layout: 'image-major' });
  for (const [from, to] of [
    [0, 10],
    [10, 11],
    [11, 37],
  ]) {
    const block: number[] = [];
    for (let s = from; s < to; s++) for (let i = 2; i < numImages; i++) block.push(...data[i][s]);
    byBlocks.addBlock(Float32Array.from(block), { firstImage: 2, numImages: numImages - 2, numSamples: to - from });
  }

  // 3) samples read at an offset inside a larger buffer
  const byOffset = new SampleAccumulator(numImages, k);
  const buffer = new Float32Array(3 + k);
  for (let i = 0; i < numImages; i++) {
    for (let s = 0; s < n; s++) {
      buffer.set(data[i][s], 3);
      byOffset.addSample(i, buffer, 3);
    }
  }

  for (const [name, acc] of [
    ['by sample', bySample],
    ['by blocks', byBlocks],
    ['by offset', byOffset],
  ] as const) {
    const summaries = acc.summaries();
    assert.equal(summaries.length, numImages);
    summaries.forEach((summary, i) => assertSummariesEqual(summary, direct[i], `${name}, image ${i}`));
  }
});

test('SampleAccumulator stays exact for many samples of a nearly constant vector', () => {
  // Welford's update must not lose the small spread to cancellation: values 0.9 +/- 1e-4
  const n = 1000;
  const k = 2;
  const flat = new Float32Array(n * k);
  for (let s = 0; s < n; s++) {
    const p = s % 2 === 0 ? 0.9001 : 0.8999;
    flat[s * k] = p;
    flat[s * k + 1] = 1 - p;
  }
  const acc = new SampleAccumulator(1, k);
  acc.addBlock(flat, { numImages: 1, numSamples: n });
  const direct = summariseSamples(flat, n, k);
  // float32(0.9001) - float32(0.8999) is about 2e-4, half of it is the std
  close(direct.stdProbs[0], (flat[0] - flat[2]) / 2, 1e-9, 'direct std');
  assertSummariesEqual(acc.summary(0), direct, 'nearly constant');
});

test('feature names of both sets', () => {
  assert.deepEqual(FEATURE_SETS.std, ['std_0', 'std_1', 'std_2', 'std_3', 'std_4', 'std_5', 'std_6', 'std_7', 'std_8', 'std_9']);
  assert.equal(FEATURE_SETS.full.length, 25);
  assert.deepEqual(FEATURE_SETS.full.slice(0, 10), FEATURE_SETS.std);
  assert.deepEqual(FEATURE_SETS.full.slice(10, 20), ['mean_0', 'mean_1', 'mean_2', 'mean_3', 'mean_4', 'mean_5', 'mean_6', 'mean_7', 'mean_8', 'mean_9']);
  assert.deepEqual(FEATURE_SETS.full.slice(20), [
    'max_mean',
    'predictive_entropy',
    'expected_entropy',
    'mutual_information',
    'variation_ratio',
  ]);
  assert.deepEqual(featureNames('std'), [...FEATURE_SETS.std]);
  assert.deepEqual(featureNames('full', 3), ['std_0', 'std_1', 'std_2', 'mean_0', 'mean_1', 'mean_2', 'max_mean', 'predictive_entropy', 'expected_entropy', 'mutual_information', 'variation_ratio']);
  // probs: the scores set without its two logit features, in the same order
  assert.deepEqual(FEATURE_SETS.probs, ['max_mean', 'predictive_entropy', 'expected_entropy', 'mutual_information', 'mean_std']);
  assert.deepEqual(FEATURE_SETS.scores, [...FEATURE_SETS.probs, 'energy', 'max_logit']);
  assert.ok(isFeatureSetName('std') && isFeatureSetName('full') && isFeatureSetName('probs') && !isFeatureSetName('Full'));
  assert.throws(() => featureNames('bogus' as FeatureSetName), UsageError);
});

test('feature vectors follow the names', () => {
  // the 'two of three agree' case, K = 3
  const summary = summariseSamples(Float32Array.from([1, 0, 0, 1, 0, 0, 0, 0, 1]), 3, 3);
  const s = Math.SQRT2 / 3;
  const h = LN3 - (2 / 3) * LN2;
  closeArray(featureVector(summary, 'std'), [s, 0, s], 1e-7, 'std');
  const full = featureVector(summary, 'full');
  assert.equal(full.length, featureNames('full', 3).length);
  closeArray(full, [s, 0, s, 2 / 3, 0, 1 / 3, 2 / 3, h, 0, h, 1 / 3], 1e-7, 'full');
  assert.equal(featureVector(summariseSamples(new Float32Array(10).fill(0.1), 1, 10), 'full').length, 25);
  // probs needs no logits; its mean std is the mean of the per-class stds
  closeArray(featureVector(summary, 'probs'), [2 / 3, h, 0, h, (2 * s) / 3], 1e-7, 'probs');
  assert.throws(() => featureVector(summary, 'scores'), UsageError, 'scores needs logit values');
  assert.throws(() => featureVector(summary, 'bogus' as FeatureSetName), UsageError);
});

test('bad input throws UsageError', () => {
  const bad: [string, () => unknown][] = [
    ['length mismatch', () => summariseSamples(new Float32Array(9), 2, 5)],
    ['empty', () => summariseSamples(new Float32Array(0), 0, 10)],
    ['zero classes', () => summariseSamples(new Float32Array(0), 3, 0)],
    ['fractional n', () => summariseSamples(new Float32Array(5), 2.5, 2)],
    ['NaN', () => summariseSamples(Float32Array.from([0.5, NaN]), 1, 2)],
    ['negative', () => summariseSamples(Float32Array.from([1.5, -0.5]), 1, 2)],
    ['infinite', () => summariseSamples(Float32Array.from([Infinity, 0]), 1, 2)],
    ['accumulator with no images', () => new SampleAccumulator(0, 10)],
    ['summary before any sample', () => new SampleAccumulator(2, 2).summary(1)],
    ['image index out of range', () => new SampleAccumulator(2, 2).addSample(2, [0.5, 0.5])],
    ['negative image index', () => new SampleAccumulator(2, 2).sampleCount(-1)],
    ['sample too short', () => new SampleAccumulator(1, 3).addSample(0, [0.5, 0.5])],
    ['offset past the end', () => new SampleAccumulator(1, 2).addSample(0, [0.5, 0.5, 0.5], 2)],
    ['NaN sample', () => new SampleAccumulator(1, 2).addSample(0, [NaN, 1])],
    ['block size mismatch', () => new SampleAccumulator(2, 2).addBlock(new Float32Array(6), { numImages: 2, numSamples: 2 })],
    ['block past the last image', () => new SampleAccumulator(2, 2).addBlock(new Float32Array(4), { firstImage: 1, numImages: 2, numSamples: 1 })],
    ['block with NaN', () => new SampleAccumulator(1, 2).addBlock(Float32Array.from([0.5, NaN]), { numImages: 1, numSamples: 1 })],
  ];
  for (const [name, run] of bad) assert.throws(run, UsageError, name);
});

test('a rejected sample leaves the accumulator unchanged', () => {
  const acc = new SampleAccumulator(1, 2);
  acc.addSample(0, [1, 0]);
  assert.throws(() => acc.addBlock(Float32Array.from([0, 1, NaN, 0]), { numImages: 1, numSamples: 2 }), UsageError);
  assert.equal(acc.sampleCount(0), 1);
  assert.deepEqual(Array.from(acc.summary(0).meanProbs), [1, 0]);
});
