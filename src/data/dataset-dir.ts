/**
 * A downloaded dataset's directory: atomic creation (staging directory renamed into place),
 * its manifest (what each file must be), and streamed IDX checks used by fetch and verify.
 *
 * Layout: `<dataDir>/<name>/` holds the dataset's files and `manifest.json`. It is only
 * ever created by renaming a complete staging directory `<dataDir>/.<name>.staging-*`, so a
 * directory with that name is complete; an interrupted fetch leaves at most hidden
 * `.staging-*` / `.old-*` siblings, which the next fetch of that dataset removes.
 */
import { createHash, Hash } from 'node:crypto';
import { createReadStream, promises as fsp, statSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { DataError } from '../errors';
import type { IdxType } from './idx';
import type { ProgressSink } from './fetch';
import type { Split } from './types';

/** Name of the manifest file in a dataset directory. */
export const MANIFEST_FILE = 'manifest.json';

/** One data file recorded in a manifest. */
export interface ManifestFile {
  /** file name inside the dataset directory */
  name: string;
  split: Split;
  role: 'images' | 'labels';
  /** size and sha256 of the file as stored (gzip-compressed or raw) */
  bytes: number;
  sha256: string;
  /** IDX dimensions, e.g. [20800, 28, 28] */
  dims: number[];
}

/** What `manifest.json` records about a fetched dataset. */
export interface DatasetManifest {
  format: 1;
  dataset: string;
  /** URL or local path the data came from */
  origin: string;
  /** the downloaded archive or file set, with its digests, when there was one */
  archive?: { name: string; bytes: number; md5: string; sha256: string };
  fetchedAt: string;
  files: ManifestFile[];
}

/** Final directory of a dataset in the data dir. */
/** Is `path` an existing directory (false when missing or unreadable). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function datasetDir(dataDir: string, name: string): string {
  return join(dataDir, name);
}

/** Where partial downloads of a dataset wait between runs (resume). */
export function downloadsDir(dataDir: string, name: string): string {
  return join(dataDir, '.downloads', name);
}

/** Remove a directory and its now-empty parents up to (not including) `stopAt`. */
export async function removeEmptyDirs(dir: string, stopAt: string): Promise<void> {
  let current = dir;
  while (current.startsWith(stopAt) && current !== stopAt) {
    try {
      await fsp.rmdir(current);
    } catch {
      return;
    }
    current = join(current, '..');
  }
}

/** Remove leftovers of interrupted fetches of `name` (hidden staging / old directories). */
export async function removeStaleStaging(dataDir: string, name: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fsp.readdir(dataDir);
  } catch {
    return;
  }
  const prefixes = [`.${name}.staging-`, `.${name}.old-`];
  for (const entry of entries) {
    if (prefixes.some((p) => entry.startsWith(p))) await fsp.rm(join(dataDir, entry), { recursive: true, force: true });
  }
}

/** Create a fresh hidden staging directory for `name` in the data dir. */
export async function createStagingDir(dataDir: string, name: string): Promise<string> {
  await fsp.mkdir(dataDir, { recursive: true });
  return fsp.mkdtemp(join(dataDir, `.${name}.staging-${process.pid}-`));
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // directories cannot be fsynced on every platform; the rename is still atomic
  }
}

/**
 * Move a complete staging directory to its final place. An existing directory there is
 * renamed aside first and deleted only after the new one is in place (restored if the
 * swap fails), so at every instant the final path is either absent, the old complete
 * dataset or the new complete dataset.
 */
export async function commitStagingDir(staging: string, finalDir: string): Promise<void> {
  await fsp.chmod(staging, 0o755); // mkdtemp made it private
  await fsyncDir(staging);
  const aside = join(finalDir, '..', `.${finalDir.split(/[\\/]/).pop()}.old-${process.pid}-${Date.now()}`);
  let movedAside = false;
  try {
    await fsp.rename(finalDir, aside);
    movedAside = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new DataError(`${finalDir}: cannot replace (${(e as Error).message})`);
  }
  try {
    await fsp.rename(staging, finalDir);
  } catch (e) {
    if (movedAside) await fsp.rename(aside, finalDir).catch(() => undefined);
    throw new DataError(`${finalDir}: cannot move the new dataset into place (${(e as Error).message})`);
  }
  await fsyncDir(join(finalDir, '..'));
  if (movedAside) await fsp.rm(aside, { recursive: true, force: true });
}

/** Write a file through a temporary name, fsync it, then rename it into place. */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const handle = await fsp.open(tmp, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsp.rename(tmp, path);
}

/** Write `manifest.json` into a dataset directory. */
export async function writeManifest(dir: string, manifest: DatasetManifest): Promise<void> {
  await writeFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
}

/** Read and sanity-check a dataset directory's `manifest.json` (DataError when unusable). */
export async function readManifest(dir: string): Promise<DatasetManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    throw new DataError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DataError(`${path}: not valid JSON`);
  }
  const m = parsed as DatasetManifest;
  const filesOk =
    Array.isArray(m?.files) &&
    m.files.every(
      (f) => typeof f?.name === 'string' && typeof f.sha256 === 'string' && typeof f.bytes === 'number' && Array.isArray(f.dims),
    );
  if (m?.format !== 1 || typeof m.dataset !== 'string' || !filesOk) throw new DataError(`${path}: not a udq dataset manifest`);
  return m;
}

/** What a streamed pass over an IDX file found. */
export interface IdxScan {
  /** size, sha256 and md5 of the file as stored (compressed or not) */
  fileBytes: number;
  sha256: string;
  md5: string;
  /** sha256 of the uncompressed IDX bytes (equals `sha256` for a raw file) */
  contentSha256: string;
  gzip: boolean;
  type: IdxType;
  dims: number[];
  /** smallest and largest value, for rank-1 uint8 files (labels) */
  min?: number;
  max?: number;
}

const IDX_TYPES: Record<number, { type: IdxType; bytes: number }> = {
  0x08: { type: 'uint8', bytes: 1 },
  0x09: { type: 'int8', bytes: 1 },
  0x0b: { type: 'int16', bytes: 2 },
  0x0c: { type: 'int32', bytes: 4 },
  0x0d: { type: 'float32', bytes: 4 },
  0x0e: { type: 'float64', bytes: 8 },
};

/** Incremental IDX header parser and length counter (the data itself is not kept). */
class IdxCounter extends Writable {
  private header = Buffer.alloc(0);
  private headerBytes = 0;
  type: IdxType | null = null;
  elementBytes = 0;
  dims: number[] = [];
  dataBytes = 0;
  trackRange = false;
  min = 255;
  max = 0;

  constructor(
    private readonly name: string,
    private readonly contentHash: Hash,
  ) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      this.contentHash.update(chunk);
      let data = chunk;
      if (this.type === null) {
        this.header = Buffer.concat([this.header, chunk]);
        if (!this.parseHeader()) return callback();
        data = this.header.subarray(this.headerBytes);
      }
      this.dataBytes += data.length;
      if (this.trackRange) {
        for (let i = 0; i < data.length; i++) {
          const v = data[i];
          if (v < this.min) this.min = v;
          if (v > this.max) this.max = v;
        }
      }
      callback();
    } catch (e) {
      callback(e as Error);
    }
  }

  /** true once the whole header has been read */
  private parseHeader(): boolean {
    const h = this.header;
    if (h.length < 4) return false;
    if (h[0] !== 0 || h[1] !== 0) throw new DataError(`${this.name}: not an IDX file (bad magic)`);
    const code = IDX_TYPES[h[2]];
    if (!code) throw new DataError(`${this.name}: unknown IDX data type 0x${h[2].toString(16)}`);
    const rank = h[3];
    if (rank < 1) throw new DataError(`${this.name}: IDX rank is 0`);
    const headerBytes = 4 + 4 * rank;
    if (h.length < headerBytes) return false;
    for (let i = 0; i < rank; i++) this.dims.push(h.readUInt32BE(4 + 4 * i));
    this.type = code.type;
    this.elementBytes = code.bytes;
    this.headerBytes = headerBytes;
    this.trackRange = rank === 1 && code.type === 'uint8';
    return true;
  }
}

/**
 * Stream an IDX file (raw or gzip) once: checks its header, that its length matches its
 * dimensions exactly, and computes the stored file's sha256. Throws DataError naming the
 * problem. Memory use is constant whatever the file size.
 */
export async function scanIdxFile(path: string): Promise<IdxScan> {
  let gzip = false;
  try {
    const handle = await fsp.open(path, 'r');
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
      gzip = bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
    } finally {
      await handle.close();
    }
  } catch (e) {
    throw new DataError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const sha = createHash('sha256');
  const md5 = createHash('md5');
  const contentSha = createHash('sha256');
  let fileBytes = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      sha.update(chunk);
      md5.update(chunk);
      fileBytes += chunk.length;
      callback(null, chunk);
    },
  });
  const counter = new IdxCounter(path, contentSha);
  try {
    if (gzip) await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), hasher, createGunzip(), counter);
    else await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), hasher, counter);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${path}: ${gzip ? 'corrupt gzip stream' : 'cannot read'} (${(e as Error).message})`);
  }
  if (counter.type === null) throw new DataError(`${path}: truncated IDX header`);
  const expected = counter.dims.reduce((a, b) => a * b, 1) * counter.elementBytes;
  if (counter.dataBytes < expected) {
    throw new DataError(`${path}: truncated: ${counter.dataBytes} data bytes, header [${counter.dims.join('x')}] needs ${expected}`);
  }
  if (counter.dataBytes > expected) {
    throw new DataError(`${path}: ${counter.dataBytes - expected} unexpected trailing bytes after [${counter.dims.join('x')}] data`);
  }
  const storedSha256 = sha.digest('hex');
  const scan: IdxScan = {
    fileBytes,
    sha256: storedSha256,
    md5: md5.digest('hex'),
    contentSha256: contentSha.digest('hex'),
    gzip,
    type: counter.type,
    dims: counter.dims,
  };
  if (counter.trackRange && counter.dataBytes > 0) {
    scan.min = counter.min;
    scan.max = counter.max;
  }
  return scan;
}

/** Options shared by every dataset's fetch function. */
export interface DatasetFetchOptions {
  /** the data directory to write into (normally `dataDir()`) */
  dataDir: string;
  /** a local file or folder, or a mirror URL, to take the data from instead of the official source */
  from?: string;
  /** fetch again even when the dataset is already present */
  force?: boolean;
  /** where progress lines go (stderr); silent when absent */
  progress?: ProgressSink;
}

/** What a fetch did. */
export interface FetchOutcome {
  name: string;
  /** fetched now, already present, or nothing to fetch (shipped with the install / generated) */
  status: 'fetched' | 'present' | 'builtin';
  /** where the dataset now is, or null for generated sets */
  path: string | null;
  /** one line for the user */
  message: string;
}

/** One check made by `udq data verify`. */
export interface VerifyCheck {
  /** what was checked: a file name or an aspect of the dataset */
  target: string;
  ok: boolean;
  detail: string;
}

/** Result of verifying one dataset. */
export interface VerifyReport {
  name: string;
  /** where it was found, or null when absent */
  path: string | null;
  ok: boolean;
  checks: VerifyCheck[];
}

/** Expectations for one split's image and label files (beyond the manifest). */
export interface SplitExpectation {
  split: Split;
  images: string;
  labels: string;
  /** number of images, when pinned */
  count?: number;
  /** allowed label range, inclusive */
  labelRange: [number, number];
}

/**
 * Check an image/label file pair: IDX structure, uint8 28x28 images, as many labels as
 * images, labels in range, count as pinned. Returns one check per file; `scans` receives
 * the scans of the files that could be read.
 */
export async function checkSplitFiles(dir: string, exp: SplitExpectation, scans: Map<string, IdxScan> = new Map()): Promise<VerifyCheck[]> {
  const checks: VerifyCheck[] = [];
  const scanOrFail = async (name: string): Promise<IdxScan | null> => {
    try {
      const s = await scanIdxFile(join(dir, name));
      scans.set(name, s);
      return s;
    } catch (e) {
      checks.push({ target: name, ok: false, detail: (e as Error).message });
      return null;
    }
  };
  const images = await scanOrFail(exp.images);
  const labels = await scanOrFail(exp.labels);
  if (images) {
    const [n, rows, cols] = images.dims;
    let problem: string | null = null;
    if (images.type !== 'uint8' || images.dims.length !== 3) problem = `expected uint8 [N x 28 x 28], found ${images.type} [${images.dims.join('x')}]`;
    else if (rows !== 28 || cols !== 28) problem = `images are ${rows}x${cols}, expected 28x28`;
    else if (exp.count !== undefined && n !== exp.count) problem = `${n} images, expected ${exp.count}`;
    checks.push({ target: exp.images, ok: problem === null, detail: problem ?? `${n} images of 28x28, ${exp.split} split` });
  }
  if (labels) {
    const n = labels.dims[0];
    const [lo, hi] = exp.labelRange;
    let problem: string | null = null;
    if (labels.type !== 'uint8' || labels.dims.length !== 1) problem = `expected uint8 [N], found ${labels.type} [${labels.dims.join('x')}]`;
    else if (images && images.dims.length === 3 && n !== images.dims[0]) problem = `${n} labels for ${images.dims[0]} images`;
    else if (exp.count !== undefined && n !== exp.count) problem = `${n} labels, expected ${exp.count}`;
    else if (n > 0 && (labels.min! < lo || labels.max! > hi)) problem = `labels span ${labels.min}..${labels.max}, expected ${lo}..${hi}`;
    checks.push({ target: exp.labels, ok: problem === null, detail: problem ?? `${n} labels in ${lo}..${hi}` });
  }
  return checks;
}

/** Compare files with what the manifest recorded (size, sha256, dimensions). */
export function checkAgainstManifest(manifest: DatasetManifest, scans: Map<string, IdxScan>): VerifyCheck[] {
  const checks: VerifyCheck[] = [];
  for (const f of manifest.files) {
    const scan = scans.get(f.name);
    if (!scan) continue; // unreadable: already reported
    let problem: string | null = null;
    if (scan.fileBytes !== f.bytes) problem = `${scan.fileBytes} bytes, manifest says ${f.bytes}`;
    else if (scan.sha256 !== f.sha256) problem = `sha256 ${scan.sha256}, manifest says ${f.sha256}`;
    else if (scan.dims.join('x') !== f.dims.join('x')) problem = `dims [${scan.dims.join('x')}], manifest says [${f.dims.join('x')}]`;
    checks.push({ target: `${f.name} checksum`, ok: problem === null, detail: problem ?? `sha256 ${f.sha256.slice(0, 12)}… matches the manifest` });
  }
  return checks;
}

/** Assemble a report from checks. */
export function report(name: string, path: string | null, checks: VerifyCheck[]): VerifyReport {
  return { name, path, ok: checks.length > 0 && checks.every((c) => c.ok), checks };
}
