/**
 * The `synth-digits` generator: digits 0-9 from the same handwriting and single-stroke fonts as
 * `synth-letters`, drawn with the same random pens and put through the exact MNIST
 * preprocessing. They are extra *training digits* (`udq train --extra-digits synth-digits`):
 * shapes MNIST's writers rarely used and people draw in paint programs (a 1 with a flag and no
 * foot, a 4 with a closed top, a plain oval 0). Image i of a seed depends only on (seed, i);
 * labels cycle 0..9.
 */
import { normaliseTone, preprocessToMnist, toBytes } from '../../image/load';
import type { LabelledImages } from '../types';
import { DIGIT_CLASSES, GLYPH_FONTS, GlyphFont, loadDigitGlyph } from './glyphs';
import { STROKE_SHARE } from './letters';
import { hashSeed, makeRng } from './random';
import { renderGlyph, sampleStyle } from './render';

const STROKE_FONTS = GLYPH_FONTS.filter((f) => f.kind === 'stroke');
const FILL_FONTS = GLYPH_FONTS.filter((f) => f.kind === 'fill');

/** The seed of the extra training digits (fixed: the set does not change with `--seed`). */
export const SYNTH_DIGITS_SEED = 7001;

/** Draw digit image `index` of the set with seed `seed`: its label (index mod 10), font and 784 MNIST-style bytes. Deterministic. */
export function drawSynthDigit(seed: number, index: number): { label: number; font: string; pixels: Uint8Array } {
  const label = index % DIGIT_CLASSES.length;
  const rng = makeRng(hashSeed(seed, index));
  for (let attempt = 0; attempt < 20; attempt++) {
    const fonts: readonly GlyphFont[] = rng.next() < STROKE_SHARE ? STROKE_FONTS : FILL_FONTS;
    const font = rng.pick(fonts);
    const glyph = loadDigitGlyph(font, DIGIT_CLASSES[label]);
    const style = sampleStyle(rng, font.kind);
    if (!glyph) continue;
    const canvas = renderGlyph(glyph, style);
    const r = preprocessToMnist(canvas.data, canvas.width, canvas.height);
    if (r.empty) continue;
    return { label, font: font.id, pixels: toBytes(normaliseTone(r.pixels, rng.uniform(0.24, 0.52))) };
  }
  throw new Error(`synth-digits: could not draw ${label} (seed ${seed}, image ${index})`);
}

/** `count` synthetic digits of `seed` as a labelled set (labels 0-9, uint8 28x28 MNIST-style). */
export async function generateSynthDigits(opts: { count: number; seed: number }): Promise<LabelledImages> {
  const { count, seed } = opts;
  const pixels = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const d = drawSynthDigit(seed, i);
    pixels.set(d.pixels, i * 784);
    labels[i] = d.label;
    if (i % 500 === 499) await new Promise<void>((r) => setImmediate(r));
  }
  return { name: 'synth-digits', images: { count, rows: 28, cols: 28, pixels }, labels, classNames: [...DIGIT_CLASSES] };
}
