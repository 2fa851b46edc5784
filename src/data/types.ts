/** Shared dataset types: every dataset (digits or adversary) loads into these. */
import type { ImageSet } from './idx';
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
