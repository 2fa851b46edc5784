/** Offline synthetic adversaries. */
export { generateSynthLetters, drawSynthLetter, SYNTH_LETTERS_VERSION } from './letters';
export type { SynthOptions, SynthLetter } from './letters';
export { synthLettersSource, loadSynthLetters, SYNTH_LETTERS, SYNTH_LETTERS_COUNTS, splitSeed } from './source';
export { LETTER_CLASSES, GLYPH_FONTS } from './glyphs';
export { mulberry32, hashSeed, makeRng } from './random';
export type { Rng } from './random';
