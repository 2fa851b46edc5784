/**
 * Fashion-MNIST (Zalando): found at Debian's install path (package `dataset-fashion-mnist`)
 * or fetched from Zalando's official URLs into `<dataDir>/fashion-mnist/`.
 *
 * Each file is accepted when either its md5 is the one Zalando publishes for the `.gz`
 * (the official download) or the sha256 of its uncompressed IDX bytes is the one pinned
 * below. The latter were computed from Debian's package `dataset-fashion-mnist`
 * 0.0~git20200523.55506a9-1, whose `.gz` files differ from Zalando's only in the gzip
 * header (no stored file name; each is shorter by exactly the name's length + 1).
 */
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { DataError, UsageError } from '../errors';
import {
  checkAgainstManifest,
  checkSplitFiles,
  commitStagingDir,
  createStagingDir,
  datasetDir,
  DatasetFetchOptions,
  DatasetManifest,
  downloadsDir,
  FetchOutcome,
  IdxScan,
  MANIFEST_FILE,
  readManifest,
  removeEmptyDirs,
  removeStaleStaging,
  report,
  VerifyCheck,
  VerifyReport,
  writeManifest,
  isDirectory,
} from './dataset-dir';
import { downloadToFile, isUrl, SILENT } from './fetch';
import { readIdxImages, readIdxLabels } from './idx';
import { DatasetSource, LabelledImages, LoadOptions, Split, takeFirst } from './types';

/** Registry name of Fashion-MNIST. */
export const FASHION_MNIST = 'fashion-mnist';

/** Class names, in label order (labels 0..9). */
export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Where distribution packages install it (Debian/Ubuntu: `apt install dataset-fashion-mnist`). */
export const FASHION_SYSTEM_DIRS = ['/usr/share/datasets/fashion-mnist'];

/** One of the four files, with what identifies it. */
export interface FashionFile {
  split: Split;
  role: 'images' | 'labels';
  /** file name, both at the URL base and on disk */
  name: string;
  /** md5 of the official `.gz` as published in the fashion-mnist README */
  md5: string;
  /** sha256 of the uncompressed IDX bytes */
  contentSha256: string;
}

/** Where to fetch from and what to expect. */
export interface FashionMnistSpec {
  /** base URL; each file is at `baseUrl + name` */
  baseUrl: string;
  files: FashionFile[];
  counts: Record<Split, number>;
}

/** The official files and counts (60,000 train / 10,000 test). */
export const FASHION_MNIST_SPEC: FashionMnistSpec = {
  baseUrl: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
  files: [
    {
      split: 'train',
      role: 'images',
      name: 'train-images-idx3-ubyte.gz',
      md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
      contentSha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
    },
    {
      split: 'train',
      role: 'labels',
      name: 'train-labels-idx1-ubyte.gz',
      md5: '25c81989df183df01b3e8a0aad5dffbe',
      contentSha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
    },
    {
      split: 'test',
      role: 'images',
      name: 't10k-images-idx3-ubyte.gz',
      md5: 'bef4ecab320f06d8554ea6380940ec79',
      contentSha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
    },
    {
      split: 'test',
      role: 'labels',
      name: 't10k-labels-idx1-ubyte.gz',
      md5: 'bb300cfdad3c16e7a12a480ee83cd310',
      contentSha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
    },
  ],
  counts: { train: 60_000, test: 10_000 },
};

/** The official spec, with the base URL replaced by `$UDQ_FASHION_MNIST_URL` (a mirror) when set. */
export function fashionMnistSpecFromEnv(env: NodeJS.ProcessEnv = process.env): FashionMnistSpec {
  const url = env.UDQ_FASHION_MNIST_URL;
  return url ? { ...FASHION_MNIST_SPEC, baseUrl: url } : FASHION_MNIST_SPEC;
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function fileOf(spec: FashionMnistSpec, split: Split, role: 'images' | 'labels'): FashionFile {
  return spec.files.find((f) => f.split === split && f.role === role)!;
}

function hasAllFiles(dir: string, spec: FashionMnistSpec): boolean {
  return spec.files.every((f) => existsSync(join(dir, f.name)));
}

/**
 * Where Fashion-MNIST is: the fetched copy in the data dir first, else the first system
 * directory holding all four files, else null.
 */
export function locateFashionMnist(dataDir: string, systemDirs: string[] = FASHION_SYSTEM_DIRS, spec: FashionMnistSpec = FASHION_MNIST_SPEC): string | null {
  const own = datasetDir(dataDir, FASHION_MNIST);
  if (existsSync(join(own, MANIFEST_FILE))) return own;
  return systemDirs.find((d) => hasAllFiles(d, spec)) ?? null;
}

/** Is this file one of the pinned ones (by its `.gz` md5 or its uncompressed sha256)? */
export function identifyFashionFile(scan: IdxScan, file: FashionFile): VerifyCheck {
  if (scan.md5 === file.md5) return { target: `${file.name} checksum`, ok: true, detail: `md5 ${file.md5} as published by Zalando` };
  if (scan.contentSha256 === file.contentSha256) {
    return { target: `${file.name} checksum`, ok: true, detail: `uncompressed sha256 ${file.contentSha256.slice(0, 12)}… as pinned` };
  }
  return {
    target: `${file.name} checksum`,
    ok: false,
    detail: `neither the published md5 (${scan.md5}, expected ${file.md5}) nor the pinned uncompressed sha256 match`,
  };
}

/** Options of {@link fetchFashionMnist}. */
export interface FashionFetchOptions extends DatasetFetchOptions {
  /** base URL, checksums and counts (default: official, base URL from $UDQ_FASHION_MNIST_URL) */
  spec?: FashionMnistSpec;
  /** system directories to look in before downloading (default: Debian's path) */
  systemDirs?: string[];
}

/**
 * Fetch Fashion-MNIST into `<dataDir>/fashion-mnist/`. Nothing is downloaded when a copy
 * is already in the data dir or a system directory (unless `force`). `from` may be a
 * folder holding the four `.gz` files (e.g. Debian's) or a mirror base URL. Files are
 * downloaded to `<dataDir>/.downloads/` (resumable), checked, moved into a staging
 * directory, recorded in a manifest and renamed into place.
 */
export async function fetchFashionMnist(opts: FashionFetchOptions): Promise<FetchOutcome> {
  const spec = opts.spec ?? fashionMnistSpecFromEnv();
  const sink = opts.progress ?? SILENT;
  const finalDir = datasetDir(opts.dataDir, FASHION_MNIST);
  if (!opts.force) {
    const found = locateFashionMnist(opts.dataDir, opts.from === undefined ? (opts.systemDirs ?? FASHION_SYSTEM_DIRS) : [], spec);
    if (found) {
      const where = found === finalDir ? found : `${found} (installed by the system); use --force to copy it into the data dir`;
      return { name: FASHION_MNIST, status: 'present', path: found, message: `${FASHION_MNIST} is already in ${where}` };
    }
  }
  const from = opts.from;
  if (from !== undefined && !isUrl(from) && !isDirectory(from)) {
    throw new UsageError(`--from for ${FASHION_MNIST} takes a folder or a base URL holding its four .gz files; ${from} is neither`);
  }
  await removeStaleStaging(opts.dataDir, FASHION_MNIST);
  const downloads = downloadsDir(opts.dataDir, FASHION_MNIST);
  const staging = await createStagingDir(opts.dataDir, FASHION_MNIST);
  const origin = from ?? spec.baseUrl;
  try {
    if (from !== undefined && !isUrl(from)) {
      for (const f of spec.files) {
        await fsp.copyFile(join(from, f.name), join(staging, f.name)).catch((e: NodeJS.ErrnoException) => {
          throw new DataError(`${join(from, f.name)}: cannot copy (${e.code ?? e.message})`);
        });
      }
    } else {
      sink.err(`fetching ${FASHION_MNIST} from ${origin}`);
      // all four first (a rerun after a failure reuses the verified ones), then move them
      for (const f of spec.files) {
        await downloadToFile({ url: withSlash(origin) + f.name, md5: f.md5 }, join(downloads, f.name), { progress: sink, label: f.name });
      }
      for (const f of spec.files) await fsp.rename(join(downloads, f.name), join(staging, f.name));
    }
    const scans = new Map<string, IdxScan>();
    const checks: VerifyCheck[] = [];
    for (const split of ['train', 'test'] as Split[]) {
      const images = fileOf(spec, split, 'images').name;
      const labels = fileOf(spec, split, 'labels').name;
      checks.push(...(await checkSplitFiles(staging, { split, images, labels, count: spec.counts[split], labelRange: [0, 9] }, scans)));
    }
    for (const f of spec.files) {
      const scan = scans.get(f.name);
      if (scan) checks.push(identifyFashionFile(scan, f));
    }
    const bad = checks.find((c) => !c.ok);
    if (bad) throw new DataError(`${FASHION_MNIST}: ${bad.target}: ${bad.detail}; nothing was installed`);
    const manifest: DatasetManifest = {
      format: 1,
      dataset: FASHION_MNIST,
      origin,
      fetchedAt: new Date().toISOString(),
      files: spec.files.map((f) => {
        const s = scans.get(f.name)!;
        return { name: f.name, split: f.split, role: f.role, bytes: s.fileBytes, sha256: s.sha256, dims: s.dims };
      }),
    };
    await writeManifest(staging, manifest);
    await commitStagingDir(staging, finalDir);
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
    await removeEmptyDirs(downloads, opts.dataDir);
  }
  return {
    name: FASHION_MNIST,
    status: 'fetched',
    path: finalDir,
    message: `${FASHION_MNIST}: ${spec.counts.train} train + ${spec.counts.test} test images in ${finalDir}`,
  };
}

/**
 * Re-check Fashion-MNIST where it is found: IDX structure, counts, labels 0..9, each file
 * identified by its published md5 or pinned content sha256, and (for a fetched copy) the
 * manifest's sizes and sha256.
 */
export async function verifyFashionMnist(
  dataDir: string,
  systemDirs: string[] = FASHION_SYSTEM_DIRS,
  spec: FashionMnistSpec = FASHION_MNIST_SPEC,
): Promise<VerifyReport> {
  const dir = locateFashionMnist(dataDir, systemDirs, spec);
  if (!dir) {
    return report(FASHION_MNIST, null, [
      { target: FASHION_MNIST, ok: false, detail: `not in ${dataDir} nor ${systemDirs.join(', ')}; run \`udq data fetch ${FASHION_MNIST}\`` },
    ]);
  }
  const checks: VerifyCheck[] = [];
  const scans = new Map<string, IdxScan>();
  for (const split of ['train', 'test'] as Split[]) {
    const images = fileOf(spec, split, 'images').name;
    const labels = fileOf(spec, split, 'labels').name;
    checks.push(...(await checkSplitFiles(dir, { split, images, labels, count: spec.counts[split], labelRange: [0, 9] }, scans)));
  }
  for (const f of spec.files) {
    const scan = scans.get(f.name);
    if (scan) checks.push(identifyFashionFile(scan, f));
  }
  if (dir === datasetDir(dataDir, FASHION_MNIST)) {
    try {
      checks.push(...checkAgainstManifest(await readManifest(dir), scans));
    } catch (e) {
      checks.push({ target: MANIFEST_FILE, ok: false, detail: (e as Error).message });
    }
  }
  return report(FASHION_MNIST, dir, checks);
}

const cache = new Map<string, LabelledImages>();

/** Load one split of Fashion-MNIST from a directory holding its four files. */
export function loadFashionMnist(dir: string, split: Split, limit?: number, spec: FashionMnistSpec = FASHION_MNIST_SPEC): LabelledImages {
  const key = `${dir}\u0000${split}`;
  let set = cache.get(key);
  if (!set) {
    const images = readIdxImages(join(dir, fileOf(spec, split, 'images').name));
    const labels = readIdxLabels(join(dir, fileOf(spec, split, 'labels').name));
    if (labels.length !== images.count) throw new DataError(`${FASHION_MNIST} ${split}: ${images.count} images but ${labels.length} labels`);
    if (images.rows !== 28 || images.cols !== 28) {
      throw new DataError(`${FASHION_MNIST} ${split}: images are ${images.rows}x${images.cols}, expected 28x28`);
    }
    const bad = labels.findIndex((l) => l > 9);
    if (bad >= 0) throw new DataError(`${FASHION_MNIST} ${split}: label ${labels[bad]} at index ${bad} is outside 0..9`);
    set = { name: FASHION_MNIST, images, labels, classNames: FASHION_CLASSES };
    cache.set(key, set);
  }
  return takeFirst(set, limit);
}

/** Registry entry of Fashion-MNIST. */
export const fashionMnistSource: DatasetSource = {
  name: FASHION_MNIST,
  kind: 'adversary',
  description: 'Fashion-MNIST clothing images (Zalando), a real non-digit set',
  source: `${FASHION_MNIST_SPEC.baseUrl} or Debian package dataset-fashion-mnist`,
  counts: { ...FASHION_MNIST_SPEC.counts },
  locate: (dataDir: string) => locateFashionMnist(dataDir),
  load: async (dataDir: string, opts: LoadOptions) => {
    const dir = locateFashionMnist(dataDir);
    if (!dir) throw new DataError(`${FASHION_MNIST} is not available; run \`udq data fetch ${FASHION_MNIST}\` or install the Debian package dataset-fashion-mnist`);
    return loadFashionMnist(dir, opts.split, opts.limit);
  },
};
