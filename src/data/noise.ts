/**
 * `noise`: a far-out-of-distribution sanity set of 28x28 noise images, generated on demand
 * and deterministically from a seed (no files). Even indices hold uniform noise (each
 * pixel uniform in 0..255), odd indices Gaussian noise (mean 0.5, sd 0.25 of full scale,
 * clipped to 0..255). Every image has its own generator seeded from (seed, split, index),
 * so image i is the same whatever `limit` is, and train and test never share an image.
 */
import type { DatasetSource, LabelledImages, LoadOptions, Split } from './types';
import { mulberry32 } from '../random';

/** Registry name of the noise set. */
export const NOISE = 'noise';

/** Class names: label 0 = uniform, 1 = Gaussian. */
export const NOISE_CLASSES = ['uniform', 'gaussian'];

/** Images per split when no limit is given. */
export const NOISE_COUNTS: Record<Split, number> = { train: 10_000, test: 2_000 };

/** Mean and standard deviation of the Gaussian images, as a fraction of full scale. */
export const GAUSSIAN_MEAN = 0.5;
export const GAUSSIAN_SD = 0.25;

const SIDE = 28;

/** 32-bit integer hash (murmur3 finaliser) used to derive per-image seeds. */
function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function imageSeed(seed: number, split: Split, index: number): number {
  return mix32(mix32(mix32(seed) ^ (split === 'train' ? 0x1b873593 : 0x5c4bcea9)) ^ index);
}

function fillUniform(out: Uint8Array, offset: number, rand: () => number): void {
  for (let i = 0; i < SIDE * SIDE; i++) out[offset + i] = Math.floor(rand() * 256);
}

function fillGaussian(out: Uint8Array, offset: number, rand: () => number): void {
  for (let i = 0; i < SIDE * SIDE; i += 2) {
    // Box-Muller: two independent standard normals from two uniforms
    const u1 = 1 - rand();
    const u2 = rand();
    const r = Math.sqrt(-2 * Math.log(u1));
    const z = [r * Math.cos(2 * Math.PI * u2), r * Math.sin(2 * Math.PI * u2)];
    for (let k = 0; k < 2 && i + k < SIDE * SIDE; k++) {
      const v = Math.round(255 * (GAUSSIAN_MEAN + GAUSSIAN_SD * z[k]));
      out[offset + i + k] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}

/** Options of {@link generateNoise}. */
export interface NoiseOptions {
  count: number;
  seed?: number;
  split?: Split;
}

/** Generate `count` noise images (alternating uniform, Gaussian) for a seed and split. */
export function generateNoise(opts: NoiseOptions): LabelledImages {
  const { count } = opts;
  const seed = opts.seed ?? 0;
  const split = opts.split ?? 'test';
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`noise: count must be a non-negative integer, got ${count}`);
  const pixels = new Uint8Array(count * SIDE * SIDE);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const rand = mulberry32(imageSeed(seed, split, n));
    labels[n] = n % 2;
    if (labels[n] === 0) fillUniform(pixels, n * SIDE * SIDE, rand);
    else fillGaussian(pixels, n * SIDE * SIDE, rand);
  }
  return { name: NOISE, images: { count, rows: SIDE, cols: SIDE, pixels }, labels, classNames: NOISE_CLASSES };
}

/** Registry entry of the noise set (generated; `locate` is null because it has no files). */
export const noiseSource: DatasetSource = {
  name: NOISE,
  kind: 'adversary',
  description: 'uniform and Gaussian noise 28x28 images from a seed (far-OOD sanity check)',
  source: 'generated',
  counts: { ...NOISE_COUNTS },
  locate: () => null,
  load: async (_dataDir: string, opts: LoadOptions) =>
    generateNoise({ count: Math.min(opts.limit ?? NOISE_COUNTS[opts.split], NOISE_COUNTS[opts.split]), seed: opts.seed, split: opts.split }),
};
