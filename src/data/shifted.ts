/**
 * Digits rendered the ways users bring them: a labelled set with every image passed through an
 * augmentation recipe (src/train/augment.ts; probability 1, seeded), back to 8-bit pixels. The
 * reject gate is fitted and thresholded on these beside plain MNIST digits, so that a legible
 * narrow, slanted, thick or cut-out digit is not what it learns to reject.
 */
import type { AugmentRecipe } from '../train/augment';
import { augmentBatch, augmentSpec } from '../train/augment';
import { deriveSeed, mulberry32 } from '../random';
import type { LabelledImages } from './types';

export function shiftedDigits(set: LabelledImages, recipe: AugmentRecipe, seed: number): LabelledImages {
  const { count, rows, cols, pixels } = set.images;
  const size = rows * cols;
  const floats = Float32Array.from(pixels.subarray(0, count * size), (v) => v / 255);
  const original = floats.slice();
  const pool = { count, image: (i: number) => original.subarray(i * size, (i + 1) * size) };
  augmentBatch(floats, count, { ...recipe, p: 1 }, mulberry32(deriveSeed(seed, 'shifted-digits')), pool, set.labels ? (i) => set.labels![i] : undefined);
  const out = new Uint8Array(count * size);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(floats[i] * 255)));
  return { ...set, name: `${set.name}, augmented (${augmentSpec(recipe)})`, images: { count, rows, cols, pixels: out } };
}
