/**
 * `omniglot-dev`: 2,120 real handwritten characters from Omniglot (Lake et al. 2015, MIT
 * licence; Japanese katakana, Sanskrit, Tagalog), vendored as `data/omniglot-dev.zip` beside
 * its licence notice, converted to MNIST style by the same picture pipeline as `udq predict`
 * and cached as IDX files in `<dataDir>/omniglot-dev/`.
 *
 * Labels are the alphabet (0 katakana, 1 sanskrit, 2 tagalog), so one alphabet can be held
 * out whenever the set trains or fits anything: `omniglot-dev:-tagalog` is every alphabet but
 * Tagalog, `omniglot-dev:tagalog` only Tagalog (see `selectClasses` in ./types).
 * Both splits are the whole set: holding out is done by alphabet, never by a random split,
 * because characters of one alphabet share a style.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as yauzl from 'yauzl';
import { DataError } from '../errors';
import { PACKAGE_ROOT } from '../paths';
import { readIdxCache, writeIdxCache } from './synth/cache';
import { DatasetSource, LabelledImages, LoadOptions, takeFirst } from './types';
import { mulberry32, shuffledIndices } from '../random';

export const OMNIGLOT_DEV = 'omniglot-dev';
export const OMNIGLOT_ZIP = 'omniglot-dev.zip';
export const OMNIGLOT_COUNT = 2120;
/** Alphabet folder names inside the zip, in label order, and the short class names used on the command line. */
export const OMNIGLOT_ALPHABETS: readonly { folder: string; name: string }[] = [
  { folder: 'Japanese_(katakana)', name: 'katakana' },
  { folder: 'Sanskrit', name: 'sanskrit' },
  { folder: 'Tagalog', name: 'tagalog' },
];

/** The zip: `<dataDir>/omniglot-dev.zip` if a user put one there, else the vendored copy. */
export function omniglotZipPath(dataDir: string): string | null {
  for (const p of [join(dataDir, OMNIGLOT_ZIP), join(PACKAGE_ROOT, 'data', OMNIGLOT_ZIP)]) if (existsSync(p)) return p;
  return null;
}

/** One PNG member of the zip. */
export interface OmniglotMember {
  path: string;
  alphabet: number;
  data: Buffer;
}

/** Read every PNG of the zip into memory (about 600 KB), sorted by path. */
export async function readOmniglotZip(zipPath: string): Promise<OmniglotMember[]> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false });
  } catch (e) {
    throw new DataError(`${zipPath}: not a readable zip archive (${(e as Error).message})`);
  }
  const out: OmniglotMember[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      if (!/\.png$/i.test(entry.fileName)) continue;
      const parts = entry.fileName.split('/');
      const alphabet = OMNIGLOT_ALPHABETS.findIndex((a) => parts.includes(a.folder));
      if (alphabet < 0) continue;
      const stream = await zip.openReadStreamPromise(entry);
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      out.push({ path: entry.fileName, alphabet, data: Buffer.concat(chunks) });
    }
  } catch (e) {
    throw new DataError(`${zipPath}: corrupt zip archive (${(e as Error).message})`);
  } finally {
    zip.close();
  }
  if (out.length === 0) throw new DataError(`${zipPath}: no Omniglot PNG images of ${OMNIGLOT_ALPHABETS.map((a) => a.folder).join(', ')}`);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

type BufferLoader = (data: Buffer) => Promise<{ pixels: Float32Array }>;

function defaultLoader(): BufferLoader {
  // required at call time so sharp is only loaded when pictures are converted
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('../image/load') as typeof import('../image/load');
  return (data) => mod.loadImageAsMnist(data, { name: 'omniglot' });
}

/**
 * Convert the zip to an MNIST-style set, in a fixed shuffled order (so any prefix mixes the
 * alphabets), labels = alphabet index.
 */
export async function convertOmniglot(zipPath: string, load: BufferLoader = defaultLoader()): Promise<LabelledImages> {
  const members = await readOmniglotZip(zipPath);
  const order = shuffledIndices(members.length, mulberry32(0x0e61));
  const pixels = new Uint8Array(members.length * 784);
  const labels = new Uint8Array(members.length);
  for (let i = 0; i < members.length; i++) {
    const m = members[order[i]];
    const { pixels: p } = await load(m.data);
    for (let k = 0; k < 784; k++) pixels[i * 784 + k] = Math.max(0, Math.min(255, Math.round(p[k] * 255)));
    labels[i] = m.alphabet;
  }
  return { name: OMNIGLOT_DEV, images: { count: members.length, rows: 28, cols: 28, pixels }, labels, classNames: OMNIGLOT_ALPHABETS.map((a) => a.name) };
}

/** Bump when the conversion changes (the picture pipeline), so caches are rebuilt. */
export const OMNIGLOT_CONVERSION_VERSION = 5;

function cachePaths(dataDir: string): { dir: string; images: string; labels: string } {
  const dir = join(dataDir, OMNIGLOT_DEV);
  const stem = `v${OMNIGLOT_CONVERSION_VERSION}`;
  return { dir, images: join(dir, `${stem}-images-idx3-ubyte`), labels: join(dir, `${stem}-labels-idx1-ubyte`) };
}

/** Load omniglot-dev (converted once, then read from the cache). */
export async function loadOmniglot(dataDir: string, opts: Pick<LoadOptions, 'limit'> = {}): Promise<LabelledImages> {
  const classNames = OMNIGLOT_ALPHABETS.map((a) => a.name);
  const files = cachePaths(dataDir);
  const cached = readIdxCache(files, OMNIGLOT_DEV, classNames);
  if (cached) return takeFirst(cached, opts.limit);
  const zip = omniglotZipPath(dataDir);
  if (!zip) throw new DataError(`${OMNIGLOT_ZIP} is missing (expected in ${join(PACKAGE_ROOT, 'data')} or ${dataDir})`);
  const set = await convertOmniglot(zip);
  writeIdxCache(files, set);
  return takeFirst(set, opts.limit);
}

export const omniglotSource: DatasetSource = {
  name: OMNIGLOT_DEV,
  kind: 'adversary',
  description: 'real handwritten characters (Omniglot: katakana, Sanskrit, Tagalog), MNIST-converted; hold out an alphabet with omniglot-dev:-NAME',
  source: 'vendored data/omniglot-dev.zip (Lake et al. 2015, MIT)',
  counts: { train: OMNIGLOT_COUNT, test: OMNIGLOT_COUNT },
  locate: (dataDir: string) => omniglotZipPath(dataDir),
  load: (dataDir: string, opts: LoadOptions) => loadOmniglot(dataDir, opts),
};
