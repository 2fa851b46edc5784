/** Shared dataset types: every dataset (digits or adversary) loads into these. */
import type { ImageSet } from './idx';
import { UsageError } from '../errors';
export type { ImageSet } from './idx';

export interface LabelledImages {
  /** dataset name, e.g. `mnist`, `emnist-letters`, or the path it came from */
  name: string;
  images: ImageSet;
  /** class index per image, when the set has classes */
  labels?: Uint8Array;
  /** names of the classes that `labels` index, e.g. ['0'..'9'] or ['a'..'z'] */
  classNames?: string[];
}

export type Split = 'train' | 'test';

export interface LoadOptions {
  split: Split;
  /** take at most this many images (the first ones, or a seeded sample where the source says so) */
  limit?: number;
  seed?: number;
}

export interface DatasetSource {
  name: string;
  kind: 'digit' | 'adversary';
  description: string;
  /** where it comes from: an npm package, a URL, `generated` */
  source: string;
  /** number of images per split, when known */
  counts?: Partial<Record<Split, number>>;
  /** local directory or file holding it, or null when absent */
  locate(dataDir: string): string | null;
  load(dataDir: string, opts: LoadOptions): Promise<LabelledImages>;
}

/** Take the first `limit` images (and labels) of a set. */
export function takeFirst(set: LabelledImages, limit?: number): LabelledImages {
  if (limit === undefined || limit >= set.images.count) return set;
  const { rows, cols } = set.images;
  return {
    ...set,
    images: { count: limit, rows, cols, pixels: set.images.pixels.subarray(0, limit * rows * cols) },
    labels: set.labels?.subarray(0, limit),
  };
}

/**
 * Keep or drop classes of a labelled set by name: `spec` is a `+`-separated list of class
 * names to keep (`a+b+c`), or, after a leading `-`, to drop (`-tagalog`, `-a+b`). Used to hold
 * a class (an alphabet, some letters) out of fitting and to score on it alone.
 * @throws UsageError on an unknown class name or a set without class names
 */
export function selectClasses(set: LabelledImages, spec: string): LabelledImages {
  const names = set.classNames;
  if (!set.labels || !names) throw new UsageError(`${set.name} has no classes to select (${spec})`);
  const drop = spec.startsWith('-');
  const parts = (drop ? spec.slice(1) : spec).split('+').map((p) => p.trim()).filter((p) => p.length > 0);
  if (parts.length === 0) throw new UsageError(`empty class selection for ${set.name}`);
  const wanted = new Set<number>();
  for (const n of parts) {
    const k = names.indexOf(n);
    if (k < 0) throw new UsageError(`${set.name} has no class "${n}" (classes: ${names.join(', ')})`);
    wanted.add(k);
  }
  const keep: number[] = [];
  for (let i = 0; i < set.labels.length; i++) if (wanted.has(set.labels[i]) !== drop) keep.push(i);
  return { ...set, name: `${set.name}:${spec}`, images: pickImages(set.images, keep), labels: Uint8Array.from(keep, (i) => set.labels![i]) };
}

/** Take images at `indices` from a set (copy). */
export function pickImages(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const size = set.rows * set.cols;
  const pixels = new Uint8Array(indices.length * size);
  for (let i = 0; i < indices.length; i++) pixels.set(set.pixels.subarray(indices[i] * size, (indices[i] + 1) * size), i * size);
  return { count: indices.length, rows: set.rows, cols: set.cols, pixels };
}
