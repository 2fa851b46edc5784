/**
 * `synth-strokes` as a dataset: non-digits in MNIST's stroke style (./strokes.ts), generated
 * on first use from a seed and the MNIST training digits, cached as IDX files in
 * `<dataDir>/synth-strokes/`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadMnist } from '../mnist';
import { DatasetSource, LoadOptions, LabelledImages, Split, takeFirst } from '../types';
import { cachedGeneratedSet } from './cache';
import { splitSeed } from './source';
import { digitPool, generateSynthStrokes, STROKE_KINDS, SYNTH_STROKES_VERSION } from './strokes';

export const SYNTH_STROKES = 'synth-strokes';
export const SYNTH_STROKES_COUNTS: Record<Split, number> = { train: 7000, test: 2100 };
export const SYNTH_STROKES_DEFAULT_SEED = 1;

export async function loadSynthStrokes(dataDir: string, opts: LoadOptions, counts: Record<Split, number> = SYNTH_STROKES_COUNTS): Promise<LabelledImages> {
  const seed = splitSeed(opts.seed ?? SYNTH_STROKES_DEFAULT_SEED, opts.split);
  const count = Math.max(counts[opts.split], opts.limit ?? 0);
  const key = { name: SYNTH_STROKES, version: SYNTH_STROKES_VERSION, seed, split: opts.split, count };
  const set = await cachedGeneratedSet(dataDir, key, [...STROKE_KINDS], () => generateSynthStrokes(digitPool(loadMnist('train')), { count, seed }));
  return takeFirst(set, opts.limit);
}

export const synthStrokesSource: DatasetSource = {
  name: SYNTH_STROKES,
  kind: 'adversary',
  description: 'non-digits in MNIST stroke style: MNIST training digits cut, overlapped, mirrored, erased; pen letters, scribbles, symbols (offline)',
  source: 'generated (MNIST train + npm fonts)',
  counts: { ...SYNTH_STROKES_COUNTS },
  locate: (dataDir: string) => {
    const dir = join(dataDir, SYNTH_STROKES);
    return existsSync(dir) ? dir : null;
  },
  load: (dataDir: string, opts: LoadOptions) => loadSynthStrokes(dataDir, opts),
};
