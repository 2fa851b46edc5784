/**
 * `synth-letters` as a dataset: generated on first use from a seed, then cached as IDX files
 * in `<dataDir>/synth-letters/`. The cache key holds the generator version, seed, split and
 * count, so a changed generator or other options never reuse stale files.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cachedGeneratedSet, generatedCacheFiles } from './cache';
import { DatasetSource, LabelledImages, LoadOptions, Split, takeFirst } from '../types';
import { LETTER_CLASSES } from './glyphs';
import { generateSynthLetters, SYNTH_LETTERS_VERSION } from './letters';
import { hashSeed } from './random';

/** Registry name. */
export const SYNTH_LETTERS = 'synth-letters';

/** Images generated per split when no larger limit is asked for. */
export const SYNTH_LETTERS_COUNTS: Record<Split, number> = { train: 3000, test: 2000 };

/** Base seed when none is given. */
export const SYNTH_LETTERS_DEFAULT_SEED = 1;

/**
 * The generator seed of a split: the base seed itself for `train`, a hash of it for `test`
 * (so the splits never share an image, and no base seed's test split is another's train).
 */
export function splitSeed(seed: number, split: Split): number {
  return split === 'train' ? seed >>> 0 : hashSeed(seed, 0x7e57);
}

/** Cache file paths of one generated split. */
export function cacheFiles(dataDir: string, seed: number, split: Split, count: number): { dir: string; images: string; labels: string } {
  return generatedCacheFiles(dataDir, { name: SYNTH_LETTERS, version: SYNTH_LETTERS_VERSION, seed, split, count });
}

/**
 * Load (generate or read from cache) a split of synth-letters. `limit` above the default
 * count generates that many; below it, the first `limit` of the default set (image i depends
 * only on the seed and i, so this is the same as generating `limit`). `counts` overrides the
 * default per-split sizes (tests use small ones).
 */
export async function loadSynthLetters(
  dataDir: string,
  opts: LoadOptions,
  counts: Record<Split, number> = SYNTH_LETTERS_COUNTS,
): Promise<LabelledImages> {
  const seed = splitSeed(opts.seed ?? SYNTH_LETTERS_DEFAULT_SEED, opts.split);
  const count = Math.max(counts[opts.split], opts.limit ?? 0);
  const key = { name: SYNTH_LETTERS, version: SYNTH_LETTERS_VERSION, seed, split: opts.split, count };
  const set = await cachedGeneratedSet(dataDir, key, LETTER_CLASSES, () => generateSynthLetters({ count, seed }));
  return takeFirst(set, opts.limit);
}

/** The registry entry's source part (the registry marks it `generated`). */
export const synthLettersSource: DatasetSource = {
  name: SYNTH_LETTERS,
  kind: 'adversary',
  description: 'letters a-z/A-Z drawn from npm handwriting + single-stroke fonts, jittered, MNIST-preprocessed (offline)',
  source: 'generated (npm fonts)',
  counts: { ...SYNTH_LETTERS_COUNTS },
  locate: (dataDir: string) => {
    const dir = join(dataDir, SYNTH_LETTERS);
    return existsSync(dir) ? dir : null;
  },
  load: (dataDir: string, opts: LoadOptions) => loadSynthLetters(dataDir, opts),
};
