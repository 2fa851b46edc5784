/**
 * `synth-letters` as a dataset: generated on first use from a seed, then cached as IDX files
 * in `<dataDir>/synth-letters/`. The cache key holds the generator version, seed, split and
 * count, so a changed generator or other options never reuse stale files.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readIdxImages, readIdxLabels, writeIdx } from '../idx';
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
  const dir = join(dataDir, SYNTH_LETTERS);
  const stem = `v${SYNTH_LETTERS_VERSION}-seed${seed >>> 0}-n${count}-${split}`;
  return { dir, images: join(dir, `${stem}-images-idx3-ubyte`), labels: join(dir, `${stem}-labels-idx1-ubyte`) };
}

function readCache(files: { images: string; labels: string }, count: number): LabelledImages | null {
  if (!existsSync(files.images) || !existsSync(files.labels)) return null;
  try {
    const images = readIdxImages(files.images);
    const labels = readIdxLabels(files.labels);
    if (images.count !== count || images.rows !== 28 || images.cols !== 28 || labels.length !== count) return null;
    return { name: SYNTH_LETTERS, images, labels, classNames: [...LETTER_CLASSES] };
  } catch {
    return null; // corrupt cache: regenerate
  }
}

function writeCache(files: { dir: string; images: string; labels: string }, set: LabelledImages): void {
  try {
    mkdirSync(files.dir, { recursive: true });
    const tag = `.tmp-${process.pid}`;
    const { count, rows, cols, pixels } = set.images;
    writeIdx(files.images + tag, { dims: [count, rows, cols], data: pixels });
    writeIdx(files.labels + tag, { dims: [count], data: set.labels ?? new Uint8Array(count) });
    renameSync(files.labels + tag, files.labels);
    renameSync(files.images + tag, files.images);
  } catch {
    // a read-only data dir only costs regeneration next time
    for (const p of [files.images, files.labels]) rmSync(`${p}.tmp-${process.pid}`, { force: true });
  }
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
  const files = cacheFiles(dataDir, seed, opts.split, count);
  let set = readCache(files, count);
  if (!set) {
    set = await generateSynthLetters({ count, seed });
    writeCache(files, set);
  }
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
