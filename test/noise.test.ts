import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateNoise, GAUSSIAN_MEAN, GAUSSIAN_SD, NOISE_COUNTS, noiseSource } from '../src/data/noise';

function stats(pixels: Uint8Array, image: number): { mean: number; sd: number; min: number; max: number } {
  const px = pixels.subarray(image * 784, (image + 1) * 784);
  let sum = 0;
  let sq = 0;
  let min = 255;
  let max = 0;
  for (const v of px) {
    sum += v;
    sq += v * v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = sum / px.length;
  return { mean, sd: Math.sqrt(sq / px.length - mean * mean), min, max };
}

test('noise is a pure function of (seed, split, index): same seed same bytes, prefixes agree', () => {
  const a = generateNoise({ count: 10, seed: 7 });
  const b = generateNoise({ count: 10, seed: 7 });
  assert.deepEqual(a.images.pixels, b.images.pixels);
  const prefix = generateNoise({ count: 3, seed: 7 });
  assert.deepEqual(prefix.images.pixels, a.images.pixels.subarray(0, 3 * 784));
});

test('noise differs across seeds, splits and images', () => {
  const a = generateNoise({ count: 2, seed: 1 });
  const b = generateNoise({ count: 2, seed: 2 });
  const train = generateNoise({ count: 2, seed: 1, split: 'train' });
  assert.notDeepEqual(a.images.pixels, b.images.pixels);
  assert.notDeepEqual(a.images.pixels, train.images.pixels);
  const c = generateNoise({ count: 4, seed: 1 });
  assert.notDeepEqual(c.images.pixels.subarray(0, 784), c.images.pixels.subarray(2 * 784, 3 * 784));
});

test('even images are uniform noise, odd images Gaussian noise with the documented mean and sd', () => {
  const set = generateNoise({ count: 40, seed: 3 });
  assert.deepEqual(set.classNames, ['uniform', 'gaussian']);
  assert.equal(set.images.rows, 28);
  for (let i = 0; i < 40; i++) {
    const s = stats(set.images.pixels, i);
    assert.equal(set.labels![i], i % 2);
    if (i % 2 === 0) {
      // uniform on 0..255: mean 127.5, sd 255/sqrt(12) = 73.6
      assert.ok(Math.abs(s.mean - 127.5) < 10, `uniform image ${i}: mean ${s.mean}`);
      assert.ok(Math.abs(s.sd - 73.6) < 6, `uniform image ${i}: sd ${s.sd}`);
      assert.ok(s.min < 10 && s.max > 245, `uniform image ${i}: covers the range`);
    } else {
      // clipping at +-2 sd barely moves the mean and trims the sd a little
      assert.ok(Math.abs(s.mean - 255 * GAUSSIAN_MEAN) < 8, `gaussian image ${i}: mean ${s.mean}`);
      assert.ok(s.sd > 255 * GAUSSIAN_SD * 0.85 && s.sd < 255 * GAUSSIAN_SD * 1.08, `gaussian image ${i}: sd ${s.sd}`);
    }
  }
});

test('the noise source is always available, honours limit and seed, and caps at its split size', async () => {
  assert.equal(noiseSource.locate('/nonexistent'), null);
  const set = await noiseSource.load('/nonexistent', { split: 'test', limit: 5, seed: 9 });
  assert.equal(set.images.count, 5);
  assert.deepEqual(set.images.pixels, generateNoise({ count: 5, seed: 9, split: 'test' }).images.pixels);
  const all = await noiseSource.load('/nonexistent', { split: 'test', limit: 1e9 });
  assert.equal(all.images.count, NOISE_COUNTS.test);
});
