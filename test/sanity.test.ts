import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkInput,
  deriveSanityThresholds,
  imageStatistics,
  ImageStatistics,
  mnistSanityThresholds,
  SanityThresholds,
  STATISTIC_NAMES,
} from '../src/gate/sanity';
import type { ImageSet } from '../src/data/idx';
import { loadMnist } from '../src/data/mnist';
import { generateNoise } from '../src/data/noise';
import { preprocessToMnist } from '../src/image/load';

const N = 28 * 28;

function close(actual: number, expected: number, what: string, tolerance = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: got ${actual}, expected ${expected}`);
}

function closeStats(actual: ImageStatistics, expected: ImageStatistics, what: string): void {
  for (const k of STATISTIC_NAMES) close(actual[k], expected[k], `${what} ${k}`);
}

/** A 28x28 float image with the given (x, y, value) pixels set. */
function image(pixels: [number, number, number][], width = 28, height = 28): Float32Array {
  const out = new Float32Array(width * height);
  for (const [x, y, v] of pixels) out[y * width + x] = v;
  return out;
}

// Hand-computed statistics. Reminder of the definitions (src/gate/sanity.ts):
// meanInk = sum / 784; inkFraction = #(v > 0.5) / 784; greyFraction = #(0.2 < v < 0.8) / #(v > 0.05);
// roughness = sum |a - b| over 4-neighbour pairs with either > 0.05, divided by the number of such pairs.
const STATISTICS_CASES: { name: string; pixels: ArrayLike<number>; scale?: number; width?: number; height?: number; expected: ImageStatistics }[] = [
  { name: 'all zero', pixels: new Float32Array(N), expected: { meanInk: 0, inkFraction: 0, greyFraction: 0, roughness: 0 } },
  {
    // 4 neighbour pairs, each |1 - 0| = 1
    name: 'one full pixel in the interior',
    pixels: image([[10, 10, 1]]),
    expected: { meanInk: 1 / N, inkFraction: 1 / N, greyFraction: 0, roughness: 1 },
  },
  {
    // a corner pixel has only 2 neighbour pairs, each of difference 1
    name: 'one full pixel in the corner',
    pixels: image([[0, 0, 1]]),
    expected: { meanInk: 1 / N, inkFraction: 1 / N, greyFraction: 0, roughness: 1 },
  },
  {
    // same single pixel as uint8 255 with scale 1/255
    name: 'one 255 byte, scale 1/255',
    pixels: (() => {
      const u = new Uint8Array(N);
      u[5 * 28 + 7] = 255;
      return u;
    })(),
    scale: 1 / 255,
    expected: { meanInk: 1 / N, inkFraction: 1 / N, greyFraction: 0, roughness: 1 },
  },
  {
    // 2x2 block of 1s: 4 inner pairs (difference 0) + 8 pairs with the outside (difference 1)
    name: '2x2 block of full ink',
    pixels: image([[12, 12, 1], [13, 12, 1], [12, 13, 1], [13, 13, 1]]),
    expected: { meanInk: 4 / N, inkFraction: 4 / N, greyFraction: 0, roughness: 8 / 12 },
  },
  {
    // 0.5 is not > 0.5 (no ink) but is grey; 8 outer pairs of difference 0.5 over 12 pairs
    name: '2x2 block of 0.5 grey',
    pixels: image([[12, 12, 0.5], [13, 12, 0.5], [12, 13, 0.5], [13, 13, 0.5]]),
    expected: { meanInk: 2 / N, inkFraction: 0, greyFraction: 1, roughness: 4 / 12 },
  },
  {
    // horizontal bar 1, 0.5, 0.1 at x = 5..7, y = 5:
    // horizontal pairs |0-1| + |1-0.5| + |0.5-0.1| + |0.1-0| = 2 (4 pairs),
    // vertical pairs 2 * (1 + 0.5 + 0.1) = 3.2 (6 pairs) -> 5.2 / 10
    name: 'bar 1, 0.5, 0.1',
    pixels: image([[5, 5, 1], [6, 5, 0.5], [7, 5, 0.1]]),
    expected: { meanInk: 1.6 / N, inkFraction: 1 / N, greyFraction: 1 / 3, roughness: 0.52 },
  },
  {
    // 0.04 is below the 0.05 "lit" level: no lit pixel, no counted pair
    name: 'one faint pixel (0.04)',
    pixels: image([[10, 10, 0.04]]),
    expected: { meanInk: 0.04 / N, inkFraction: 0, greyFraction: 0, roughness: 0 },
  },
  {
    // 2x2 image of all ones: 2 horizontal + 2 vertical inner pairs, all difference 0
    name: '2x2 image (width/height arguments), all ink',
    pixels: [1, 1, 1, 1],
    width: 2,
    height: 2,
    expected: { meanInk: 1, inkFraction: 1, greyFraction: 0, roughness: 0 },
  },
];

for (const c of STATISTICS_CASES) {
  test(`imageStatistics: ${c.name}`, () => {
    // Float32Array stores 0.1 etc. inexactly, so allow float32 rounding
    const s = imageStatistics(c.pixels, c.width ?? 28, c.height ?? 28, c.scale ?? 1);
    for (const k of STATISTIC_NAMES) close(s[k], c.expected[k], `${c.name} ${k}`, 1e-7);
  });
}

/**
 * Synthetic reference set: image i (i = 0..4) has i+1 isolated full pixels and one isolated
 * grey pixel of 100/255. With g = 100/255, by hand:
 *   meanInk = (i+1+g)/784, inkFraction = (i+1)/784, greyFraction = 1/(i+2),
 *   roughness = (4(i+1) + 4g) / (4(i+2)) = (i+1+g)/(i+2)  (every lit pixel has 4 unlit neighbours).
 */
function syntheticSet(): ImageSet {
  const count = 5;
  const pixels = new Uint8Array(count * N);
  for (let i = 0; i < count; i++) {
    const base = i * N;
    for (let j = 0; j <= i; j++) pixels[base + 4 * 28 + 4 + 3 * j] = 255;
    pixels[base + 20 * 28 + 10] = 100;
  }
  return { count, rows: 28, cols: 28, pixels };
}
const g = 100 / 255;

test('deriveSanityThresholds: quantiles 0 and 1 with no widening give the exact min and max', () => {
  const t = deriveSanityThresholds(syntheticSet(), { lowQuantile: 0, highQuantile: 1, widen: 0 });
  close(t.meanInk.min, (1 + g) / N, 'meanInk.min');
  close(t.meanInk.max, (5 + g) / N, 'meanInk.max');
  close(t.inkFraction.min, 1 / N, 'inkFraction.min');
  close(t.inkFraction.max, 5 / N, 'inkFraction.max');
  close(t.greyFraction.min, 1 / 6, 'greyFraction.min');
  close(t.greyFraction.max, 1 / 2, 'greyFraction.max');
  close(t.roughness.min, (1 + g) / 2, 'roughness.min');
  close(t.roughness.max, (5 + g) / 6, 'roughness.max');
});

test('deriveSanityThresholds: default quantiles interpolate linearly and widen by 25% of the width', () => {
  const t = deriveSanityThresholds(syntheticSet());
  // inkFraction values k/784, k = 1..5. Position (5-1)*0.0005 = 0.002 -> lo = 1.002/784;
  // (5-1)*0.9995 = 3.998 -> hi = 4.998/784; widen 0.25 * 3.996/784 = 0.999/784.
  close(t.inkFraction.min, (1.002 - 0.999) / N, 'inkFraction.min');
  close(t.inkFraction.max, (4.998 + 0.999) / N, 'inkFraction.max');
  // greyFraction sorted: 1/6, 1/5, 1/4, 1/3, 1/2
  const lo = 1 / 6 + (1 / 5 - 1 / 6) * 0.002;
  const hi = 1 / 3 + (1 / 2 - 1 / 3) * 0.998;
  close(t.greyFraction.min, lo - 0.25 * (hi - lo), 'greyFraction.min');
  close(t.greyFraction.max, hi + 0.25 * (hi - lo), 'greyFraction.max');
});

test('deriveSanityThresholds: custom quantiles, and the minimum is clamped at 0', () => {
  // quartiles of k/784 (k = 1..5) are exactly 2/784 and 4/784; widen 0.5 * 2/784 = 1/784
  const q = deriveSanityThresholds(syntheticSet(), { lowQuantile: 0.25, highQuantile: 0.75, widen: 0.5 });
  close(q.inkFraction.min, 1 / N, 'inkFraction.min');
  close(q.inkFraction.max, 5 / N, 'inkFraction.max');
  // lo 1/784, hi 5/784, widen 2 * 4/784 = 8/784: min would be -7/784, clamped to 0
  const w = deriveSanityThresholds(syntheticSet(), { lowQuantile: 0, highQuantile: 1, widen: 2 });
  assert.equal(w.inkFraction.min, 0);
  close(w.inkFraction.max, 13 / N, 'inkFraction.max');
});

test('checkInput: inside/outside a hand-made range, with the statistic named in detail', () => {
  const th: SanityThresholds = {
    meanInk: { min: 0.001, max: 0.5 },
    inkFraction: { min: 0, max: 0.5 },
    greyFraction: { min: 0, max: 0.5 },
    roughness: { min: 0, max: 0.9 },
  };
  // 2x2 block of ink: roughness 2/3, no grey -> valid
  const block = image([[12, 12, 1], [13, 12, 1], [12, 13, 1], [13, 13, 1]]);
  const ok = checkInput(block, th);
  assert.equal(ok.valid, true);
  assert.equal(ok.reason, undefined);
  close(ok.statistics.roughness, 2 / 3, 'roughness');
  // a single pixel: roughness 1 > 0.9 -> noise-like
  const dot = checkInput(image([[10, 10, 1]]), th);
  assert.equal(dot.valid, false);
  assert.equal(dot.reason, 'noise-like');
  assert.match(dot.detail!, /^roughness 1\.000 outside MNIST range \[0\.000, 0\.900\]/);
  // the bar 1, 0.5, 0.1 has greyFraction 1/3; with a lower grey max it is noise-like by greyFraction
  const bar = checkInput(image([[5, 5, 1], [6, 5, 0.5], [7, 5, 0.1]]), { ...th, greyFraction: { min: 0, max: 0.3 } });
  assert.equal(bar.reason, 'noise-like');
  assert.match(bar.detail!, /^greyFraction 0\.333/);
  // roughness below its min: 'unusual-pixels' (meanInk is in range, so not 'blank')
  const smooth = checkInput(block, { ...th, roughness: { min: 0.7, max: 0.9 } });
  assert.equal(smooth.reason, 'unusual-pixels');
  assert.match(smooth.detail!, /^roughness/);
  // faint but not empty image below the meanInk minimum: 'blank'
  const faint = checkInput(block, { ...th, meanInk: { min: 0.01, max: 0.5 } });
  assert.equal(faint.reason, 'blank');
  assert.match(faint.detail!, /^meanInk/);
});

// ---- MNIST-derived thresholds ----

let mnist: SanityThresholds;
function thresholds(): SanityThresholds {
  mnist ??= mnistSanityThresholds();
  return mnist;
}

test('MNIST thresholds: sensible ranges (MNIST mean ink is about 0.13)', () => {
  const t = thresholds();
  for (const k of STATISTIC_NAMES) {
    assert.ok(Number.isFinite(t[k].min) && Number.isFinite(t[k].max) && t[k].min >= 0 && t[k].min < t[k].max, `${k}: ${JSON.stringify(t[k])}`);
  }
  assert.ok(t.meanInk.min < 0.13 && 0.13 < t.meanInk.max, `meanInk ${JSON.stringify(t.meanInk)}`);
  // what makes raw noise 'mostly-ink' below: its mean is 0.5, above any MNIST digit's
  assert.ok(t.meanInk.max < 0.45, `meanInk.max ${t.meanInk.max}`);
  assert.ok(t.greyFraction.max < 0.9, `greyFraction.max ${t.greyFraction.max}`);
  assert.equal(mnistSanityThresholds(), t, 'computed once and cached');
});

test('MNIST thresholds (from train) accept at least 99.5% of the 10,000 MNIST test digits', () => {
  const t = thresholds();
  const testSet = loadMnist('test');
  assert.equal(testSet.images.count, 10000);
  let valid = 0;
  for (let i = 0; i < testSet.images.count; i++) {
    if (checkInput(testSet.images.pixels.subarray(i * N, (i + 1) * N), t, 1 / 255).valid) valid++;
  }
  assert.ok(valid >= 9950, `accepted ${valid} of 10000`);
});

test('MNIST thresholds reject every blank and every all-ink image', () => {
  const t = thresholds();
  const cases: { name: string; pixels: Float32Array; reason: string }[] = [
    { name: 'all zero', pixels: new Float32Array(N), reason: 'blank' },
    // below the 0.05 "lit" level everywhere: mean ink 0.0005 < 1e-3 and no pixel above 0.5
    { name: 'uniform 0.0005', pixels: new Float32Array(N).fill(0.0005), reason: 'blank' },
    { name: 'all ink (1.0)', pixels: new Float32Array(N).fill(1), reason: 'mostly-ink' },
    { name: 'all 0.9', pixels: new Float32Array(N).fill(0.9), reason: 'mostly-ink' },
  ];
  for (const c of cases) {
    const v = checkInput(c.pixels, t);
    assert.equal(v.valid, false, c.name);
    assert.equal(v.reason, c.reason, `${c.name}: ${v.detail}`);
  }
  // the same as preprocessToMnist sees them: a blank picture stays blank; an all-ink picture
  // is cropped to its bounding box and fills the central 20x20 box (400 of 784 pixels ~ 0.51 > max)
  const blank = preprocessToMnist(new Uint8Array(N), 28, 28);
  assert.equal(checkInput(blank.pixels, t).reason, 'blank');
  const full = preprocessToMnist(new Uint8Array(N).fill(255), 28, 28);
  const v = checkInput(full.pixels, t);
  assert.equal(v.reason, 'mostly-ink', v.detail);
  close(v.statistics.inkFraction, 400 / N, 'all-ink picture inkFraction after preprocessing');
});

test('MNIST thresholds reject 100% of uniform and Gaussian noise, raw and preprocessed', () => {
  const t = thresholds();
  const count = 400; // even indices uniform, odd Gaussian (src/data/noise.ts)
  const noise = generateNoise({ count, seed: 11, split: 'test' });
  const tally: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const kind = i % 2 === 0 ? 'uniform' : 'gaussian';
    const raw = noise.images.pixels.slice(i * N, (i + 1) * N);
    // raw 28x28 noise has mean 0.5 (both kinds are centred on half scale): above every MNIST
    // digit's mean ink, and meanInk is the first check -> mostly-ink
    const r = checkInput(raw, t, 1 / 255);
    assert.equal(r.valid, false, `${kind} ${i} raw accepted: ${JSON.stringify(r.statistics)}`);
    assert.equal(r.reason, 'mostly-ink', `${kind} ${i} raw: ${r.detail}`);
    // preprocessed (normalised, resized into 20x20, pasted into 28x28) the mean ink drops to
    // ~0.25, in MNIST's range, but the resized noise is almost all mid-grey texture: noise-like
    const p = checkInput(preprocessToMnist(raw, 28, 28).pixels, t);
    assert.equal(p.valid, false, `${kind} ${i} preprocessed accepted: ${JSON.stringify(p.statistics)}`);
    assert.equal(p.reason, 'noise-like', `${kind} ${i} preprocessed: ${p.detail}`);
    tally[kind] = (tally[kind] ?? 0) + 1;
  }
  assert.deepEqual(tally, { uniform: count / 2, gaussian: count / 2 });
});
