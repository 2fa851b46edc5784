/**
 * The `synth-letters` generator: handwritten-looking letters a-z / A-Z, put through the exact
 * MNIST preprocessing. Image i of a seed depends only on (seed, i), so any prefix of a set is
 * the same images, and labels cycle a..z A..Z (balanced in every prefix of 52k images).
 */
import { normaliseTone, preprocessToMnist, toBytes } from '../../image/load';
import type { LabelledImages } from '../types';
import { Glyph, GLYPH_FONTS, GlyphFont, LETTER_CLASSES, loadGlyph } from './glyphs';
import { hashSeed, makeRng, Rng } from './random';
import { LetterStyle, renderGlyph, sampleStyle } from './render';

/** Bump when the drawing changes, so cached sets are regenerated. */
export const SYNTH_LETTERS_VERSION = 2;

/** Share of images drawn from single-stroke fonts (the rest from handwriting outline fonts). */
export const STROKE_SHARE = 0.5;

/** Options of {@link generateSynthLetters}. */
export interface SynthOptions {
  count: number;
  seed: number;
}

/** One generated image with what it was drawn from. */
export interface SynthLetter {
  label: number;
  char: string;
  font: string;
  /** 784 bytes, 0..255, white ink on black */
  pixels: Uint8Array;
}

const STROKE_FONTS = GLYPH_FONTS.filter((f) => f.kind === 'stroke');
const FILL_FONTS = GLYPH_FONTS.filter((f) => f.kind === 'fill');

/** Draw image `index` of the set with seed `seed`. Deterministic. */
export function drawSynthLetter(seed: number, index: number): SynthLetter {
  const label = index % LETTER_CLASSES.length;
  const ch = LETTER_CLASSES[label];
  return { label, char: ch, ...drawGlyphImage(seed, index, ch, loadGlyph, 'synth-letters') };
}

/**
 * Character `ch` as image `index` of the set with seed `seed`: a font (single-stroke with
 * probability STROKE_SHARE) and a random pen, through the MNIST recipe and MNIST's tone, the
 * glyph loaded by `load`; fonts that lack it are redrawn. Deterministic; `set` names the
 * generator in the error when no font draws it. The draw of synth-letters and synth-digits.
 */
export function drawGlyphImage(seed: number, index: number, ch: string, load: (font: GlyphFont, ch: string) => Glyph | null, set: string): { font: string; pixels: Uint8Array } {
  const rng = makeRng(hashSeed(seed, index));
  for (let attempt = 0; attempt < 20; attempt++) {
    const fonts: readonly GlyphFont[] = rng.next() < STROKE_SHARE ? STROKE_FONTS : FILL_FONTS;
    const font = rng.pick(fonts);
    const glyph = load(font, ch);
    const style = sampleStyle(rng, font.kind);
    if (!glyph) continue;
    const pixels = inkOf(rng, glyph, style);
    if (pixels) return { font: font.id, pixels };
  }
  throw new Error(`${set}: could not draw ${ch} (seed ${seed}, image ${index})`);
}

/** A glyph rendered with `style`, through the MNIST recipe and MNIST's tone (the saturated share drawn from `rng`); null when it has no ink. */
function inkOf(rng: Rng, glyph: Glyph, style: LetterStyle): Uint8Array | null {
  const canvas = renderGlyph(glyph, style);
  const r = preprocessToMnist(canvas.data, canvas.width, canvas.height);
  if (r.empty) return null;
  // MNIST's tone, with the saturated share drawn from MNIST's own 10-90% range
  return toBytes(normaliseTone(r.pixels, rng.uniform(0.24, 0.52)));
}

/**
 * One given glyph with a random pen drawn from `rng`, as 784 MNIST-style bytes (the draw of
 * `hand-digits`); redrawn with another pen when it comes out without ink. Deterministic.
 */
export function drawGlyph(rng: Rng, glyph: Glyph, set: string, index: number): Uint8Array {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pixels = inkOf(rng, glyph, sampleStyle(rng, glyph.kind));
    if (pixels) return pixels;
  }
  throw new Error(`${set}: could not draw image ${index} (${glyph.font})`);
}

/**
 * Generate `count` letter images for `seed`: labels index `classNames` (the 52 letters),
 * pixels are uint8 28x28 MNIST-style.
 */
export async function generateSynthLetters(opts: SynthOptions): Promise<LabelledImages> {
  return generateGlyphSet('synth-letters', opts.count, LETTER_CLASSES, (i) => drawSynthLetter(opts.seed, i));
}

/** `count` images `draw(0..count-1)` as a labelled set named `name` (uint8 28x28), yielding to the event loop every 500. */
export async function generateGlyphSet(name: string, count: number, classNames: string[], draw: (index: number) => { label: number; pixels: Uint8Array }): Promise<LabelledImages> {
  const pixels = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const s = draw(i);
    pixels.set(s.pixels, i * 784);
    labels[i] = s.label;
    // yield to the event loop now and then so a CLI spinner/progress can run
    if (i % 500 === 499) await new Promise<void>((r) => setImmediate(r));
  }
  return { name, images: { count, rows: 28, cols: 28, pixels }, labels, classNames: [...classNames] };
}
