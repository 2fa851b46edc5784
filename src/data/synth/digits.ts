/**
 * The `synth-digits` generator: digits 0-9 from the same handwriting and single-stroke fonts as
 * `synth-letters`, drawn with the same random pens and put through the exact MNIST
 * preprocessing. They are extra *training digits* (`udq train --extra-digits synth-digits`):
 * shapes MNIST's writers rarely used and people draw in paint programs (a 1 with a flag and no
 * foot, a 4 with a closed top, a plain oval 0). Image i of a seed depends only on (seed, i);
 * labels cycle 0..9.
 */
import type { LabelledImages } from '../types';
import { DIGIT_CLASSES, loadDigitGlyph } from './glyphs';
import { drawGlyphImage, generateGlyphSet } from './letters';

/** The seed of the extra training digits (fixed: the set does not change with `--seed`). */
export const SYNTH_DIGITS_SEED = 7001;

/** Draw digit image `index` of the set with seed `seed`: its label (index mod 10), font and 784 MNIST-style bytes. Deterministic. */
export function drawSynthDigit(seed: number, index: number): { label: number; font: string; pixels: Uint8Array } {
  const label = index % DIGIT_CLASSES.length;
  return { label, ...drawGlyphImage(seed, index, DIGIT_CLASSES[label], loadDigitGlyph, 'synth-digits') };
}

/** `count` synthetic digits of `seed` as a labelled set (labels 0-9, uint8 28x28 MNIST-style). */
export async function generateSynthDigits(opts: { count: number; seed: number }): Promise<LabelledImages> {
  return generateGlyphSet('synth-digits', opts.count, DIGIT_CLASSES, (i) => drawSynthDigit(opts.seed, i));
}
