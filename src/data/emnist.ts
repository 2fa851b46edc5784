/**
 * EMNIST letters (NIST): fetched from NIST's `gzip.zip`, of which only the four letters
 * members are extracted (streamed from the archive on disk), kept gzip-compressed in
 * `<dataDir>/emnist-letters/` with a manifest of their sha256.
 *
 * EMNIST images are stored transposed relative to MNIST; they are transposed on load.
 * Labels 1..26 in the files become 0..25 (`a`..`z`) in memory.
 */
import { promises as fsp, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors';
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
  ManifestFile,
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
import { digestMismatch, downloadToFile, extractZipMembers, FileDigest, hashFile, isUrl, RemoteFile, SILENT } from './fetch';
import { ImageSet, readIdxImages, readIdxLabels } from './idx';
import { DatasetSource, LabelledImages, LoadOptions, Split, takeFirst } from './types';

/** Registry name of the EMNIST letters set. */
export const EMNIST_LETTERS = 'emnist-letters';

/** Class names of EMNIST letters, in label order (file label 1 = `a`). */
export const LETTER_CLASSES = 'abcdefghijklmnopqrstuvwxyz'.split('');

/** NIST's official archive: md5 as pinned by torchvision; its size and sha256 are not published. */
export const EMNIST_GZIP_ZIP: RemoteFile = {
  url: 'https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip',
  md5: '58c8d27c78d21e728a6bc7b3cc06412e',
};

/** What fetching EMNIST letters expects: the archive and the number of images per split. */
export interface EmnistLettersSpec {
  archive: RemoteFile;
  counts: Record<Split, number>;
}

/** The published facts: 124,800 training and 20,800 test letters (4,800 / 800 per letter). */
export const EMNIST_LETTERS_SPEC: EmnistLettersSpec = {
  archive: EMNIST_GZIP_ZIP,
  counts: { train: 124_800, test: 20_800 },
};

/** The official spec, with the archive URL replaced by `$UDQ_EMNIST_URL` (a mirror) when set. */
export function emnistLettersSpecFromEnv(env: NodeJS.ProcessEnv = process.env): EmnistLettersSpec {
  const url = env.UDQ_EMNIST_URL;
  return url ? { ...EMNIST_LETTERS_SPEC, archive: { ...EMNIST_LETTERS_SPEC.archive, url } } : EMNIST_LETTERS_SPEC;
}

/** One of the four letters files: its path inside `gzip.zip` and its name on disk. */
export interface EmnistMember {
  split: Split;
  role: 'images' | 'labels';
  member: string;
  name: string;
}

function member(split: Split, role: 'images' | 'labels'): EmnistMember {
  const name = `emnist-letters-${split}-${role === 'images' ? 'images-idx3' : 'labels-idx1'}-ubyte.gz`;
  return { split, role, member: `gzip/${name}`, name };
}

/** The members of `gzip.zip` that udq extracts. */
export const EMNIST_LETTERS_MEMBERS: EmnistMember[] = [
  member('train', 'images'),
  member('train', 'labels'),
  member('test', 'images'),
  member('test', 'labels'),
];

function fileOf(split: Split, role: 'images' | 'labels'): string {
  return EMNIST_LETTERS_MEMBERS.find((m) => m.split === split && m.role === role)!.name;
}

/** The dataset directory when a complete fetched copy is there, else null. */
export function locateEmnistLetters(dataDir: string): string | null {
  const dir = datasetDir(dataDir, EMNIST_LETTERS);
  return existsSync(join(dir, MANIFEST_FILE)) ? dir : null;
}

/** Options of {@link fetchEmnistLetters}. */
export interface EmnistFetchOptions extends DatasetFetchOptions {
  /** archive URL, digests and counts to expect (default: the official ones, URL from $UDQ_EMNIST_URL) */
  spec?: EmnistLettersSpec;
}

/**
 * Fetch EMNIST letters into `<dataDir>/emnist-letters/`. `from` may be a local copy of
 * `gzip.zip`, a mirror URL of it, or a folder holding the four extracted `.gz` members
 * (checked for structure and counts only: NIST publishes no per-file checksums). The zip
 * is downloaded to `<dataDir>/.downloads/` (resumable), checked against the pinned md5,
 * the four members are streamed out into a staging directory, checked, recorded in a
 * manifest and the directory renamed into place; the downloaded zip is then deleted.
 */
export async function fetchEmnistLetters(opts: EmnistFetchOptions): Promise<FetchOutcome> {
  const spec = opts.spec ?? emnistLettersSpecFromEnv();
  const sink = opts.progress ?? SILENT;
  const finalDir = datasetDir(opts.dataDir, EMNIST_LETTERS);
  if (!opts.force && locateEmnistLetters(opts.dataDir)) {
    return { name: EMNIST_LETTERS, status: 'present', path: finalDir, message: `${EMNIST_LETTERS} is already in ${finalDir} (use --force to fetch it again)` };
  }
  await removeStaleStaging(opts.dataDir, EMNIST_LETTERS);

  const from = opts.from;
  const localDir = from !== undefined && !isUrl(from) && isDirectory(from) ? from : null;
  const localZip = from !== undefined && !isUrl(from) && !localDir ? from : null;
  const downloads = downloadsDir(opts.dataDir, EMNIST_LETTERS);
  const downloadedZip = join(downloads, 'gzip.zip');

  let archive: { path: string; digest: FileDigest; origin: string } | null = null;
  const staging = await createStagingDir(opts.dataDir, EMNIST_LETTERS);
  try {
    if (localDir) {
      await copyMembersFromDir(localDir, staging);
    } else {
      if (localZip) {
        const digest = await hashFile(localZip, sink);
        const mismatch = digestMismatch(digest, spec.archive);
        if (mismatch) throw new DataError(`${localZip}: not NIST's EMNIST gzip.zip (${mismatch})`);
        archive = { path: localZip, digest, origin: localZip };
      } else {
        const remote = { ...spec.archive, url: from ?? spec.archive.url };
        sink.err(`fetching ${EMNIST_LETTERS} from ${remote.url} (about 540 MB; only the letters files are kept)`);
        const digest = await downloadToFile(remote, downloadedZip, { progress: sink, label: 'gzip.zip' });
        archive = { path: downloadedZip, digest, origin: remote.url };
      }
      await extractZipMembers(
        archive.path,
        EMNIST_LETTERS_MEMBERS.map((m) => ({ member: m.member, dest: join(staging, m.name) })),
      );
    }
    const scans = new Map<string, IdxScan>();
    const checks: VerifyCheck[] = [];
    for (const split of ['train', 'test'] as Split[]) {
      checks.push(
        ...(await checkSplitFiles(
          staging,
          { split, images: fileOf(split, 'images'), labels: fileOf(split, 'labels'), count: spec.counts[split], labelRange: [1, 26] },
          scans,
        )),
      );
    }
    const bad = checks.find((c) => !c.ok);
    if (bad) throw new DataError(`${EMNIST_LETTERS}: ${bad.target}: ${bad.detail}; nothing was installed`);
    const manifest: DatasetManifest = {
      format: 1,
      dataset: EMNIST_LETTERS,
      origin: archive?.origin ?? localDir!,
      fetchedAt: new Date().toISOString(),
      files: EMNIST_LETTERS_MEMBERS.map((m): ManifestFile => {
        const s = scans.get(m.name)!;
        return { name: m.name, split: m.split, role: m.role, bytes: s.fileBytes, sha256: s.sha256, dims: s.dims };
      }),
    };
    if (archive) manifest.archive = { name: 'gzip.zip', bytes: archive.digest.bytes, md5: archive.digest.md5, sha256: archive.digest.sha256 };
    await writeManifest(staging, manifest);
    await commitStagingDir(staging, finalDir);
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
    // a verified download is only needed until extraction: never keep 540 MB around
    if (archive?.path === downloadedZip) await fsp.rm(downloadedZip, { force: true });
    await removeEmptyDirs(downloads, opts.dataDir);
  }
  return {
    name: EMNIST_LETTERS,
    status: 'fetched',
    path: finalDir,
    message: `${EMNIST_LETTERS}: ${spec.counts.train} train + ${spec.counts.test} test letters in ${finalDir}`,
  };
}

async function copyMembersFromDir(dir: string, staging: string): Promise<void> {
  for (const m of EMNIST_LETTERS_MEMBERS) {
    const candidates = [join(dir, m.name), join(dir, 'gzip', m.name)];
    const found = candidates.find((c) => existsSync(c));
    if (!found) throw new DataError(`${dir}: no ${m.name} (expected the four emnist-letters-*.gz files of NIST's gzip.zip)`);
    await fsp.copyFile(found, join(staging, m.name));
  }
}

/**
 * Re-check a fetched copy: IDX structure, 28x28 uint8 images, labels 1..26 and as many as
 * images, and each file's size, sha256 and dimensions against the manifest written at
 * fetch time.
 */
export async function verifyEmnistLetters(dataDir: string): Promise<VerifyReport> {
  const dir = locateEmnistLetters(dataDir);
  if (!dir) {
    return report(EMNIST_LETTERS, null, [
      { target: EMNIST_LETTERS, ok: false, detail: `not in ${dataDir}; run \`udq data fetch ${EMNIST_LETTERS}\`` },
    ]);
  }
  const checks: VerifyCheck[] = [];
  let manifest: DatasetManifest | null = null;
  try {
    manifest = await readManifest(dir);
  } catch (e) {
    checks.push({ target: MANIFEST_FILE, ok: false, detail: (e as Error).message });
  }
  const scans = new Map<string, IdxScan>();
  for (const split of ['train', 'test'] as Split[]) {
    checks.push(
      ...(await checkSplitFiles(dir, { split, images: fileOf(split, 'images'), labels: fileOf(split, 'labels'), labelRange: [1, 26] }, scans)),
    );
  }
  if (manifest) checks.push(...checkAgainstManifest(manifest, scans));
  return report(EMNIST_LETTERS, dir, checks);
}

/**
 * Transpose every rows x cols image of a set (EMNIST's column-major storage -> MNIST's
 * row-major orientation). Returns a new set of cols x rows images.
 */
export function transposeImages(set: ImageSet): ImageSet {
  const { count, rows, cols, pixels } = set;
  const out = new Uint8Array(pixels.length);
  const size = rows * cols;
  for (let n = 0; n < count; n++) {
    const base = n * size;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) out[base + c * rows + r] = pixels[base + r * cols + c];
    }
  }
  return { count, rows: cols, cols: rows, pixels: out };
}

const cache = new Map<string, LabelledImages>();

/**
 * Load one split of a fetched EMNIST letters directory: images transposed to MNIST
 * orientation, labels 0..25 for `a`..`z`.
 */
export function loadEmnistLetters(dir: string, split: Split, limit?: number): LabelledImages {
  const key = `${dir}\u0000${split}`;
  let set = cache.get(key);
  if (!set) {
    const images = readIdxImages(join(dir, fileOf(split, 'images')));
    const fileLabels = readIdxLabels(join(dir, fileOf(split, 'labels')));
    if (fileLabels.length !== images.count) {
      throw new DataError(`${EMNIST_LETTERS} ${split}: ${images.count} images but ${fileLabels.length} labels`);
    }
    if (images.rows !== 28 || images.cols !== 28) {
      throw new DataError(`${EMNIST_LETTERS} ${split}: images are ${images.rows}x${images.cols}, expected 28x28`);
    }
    const labels = new Uint8Array(fileLabels.length);
    for (let i = 0; i < fileLabels.length; i++) {
      const l = fileLabels[i];
      if (l < 1 || l > 26) throw new DataError(`${EMNIST_LETTERS} ${split}: label ${l} at index ${i} is outside 1..26`);
      labels[i] = l - 1;
    }
    set = { name: EMNIST_LETTERS, images: transposeImages(images), labels, classNames: LETTER_CLASSES };
    cache.set(key, set);
  }
  return takeFirst(set, limit);
}

/** Registry entry of EMNIST letters. */
export const emnistLettersSource: DatasetSource = {
  name: EMNIST_LETTERS,
  kind: 'adversary',
  description: 'EMNIST handwritten letters a-z (NIST), transposed to MNIST orientation',
  source: EMNIST_GZIP_ZIP.url,
  counts: { ...EMNIST_LETTERS_SPEC.counts },
  locate: locateEmnistLetters,
  load: async (dataDir: string, opts: LoadOptions) => {
    const dir = locateEmnistLetters(dataDir);
    if (!dir) throw new DataError(`${EMNIST_LETTERS} is not downloaded; run \`udq data fetch ${EMNIST_LETTERS}\``);
    return loadEmnistLetters(dir, opts.split, opts.limit);
  },
};
