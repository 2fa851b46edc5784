/**
 * Generic download machinery: HTTP(S) download with progress, resume and digests, hashing
 * of local files, and streaming extraction of selected zip members.
 *
 * A download goes to `<dest>.part` and is renamed to `<dest>` only after its size and
 * digests were checked, so a file named `<dest>` is always complete. A `.part` left by an
 * interrupted download is resumed with an HTTP Range request; when the server ignores the
 * range (answers 200 with the whole file) the download restarts from byte 0.
 */
import { createHash, Hash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Readable } from 'node:stream';
import * as yauzl from 'yauzl';
import { DataError, NetworkError } from '../errors';

/** A file to download, with what is known about it in advance. */
export interface RemoteFile {
  url: string;
  /** exact size in bytes, when pinned */
  bytes?: number;
  /** lower-case hex digests, when pinned */
  md5?: string;
  sha256?: string;
}

/** Size and digests of a file's bytes. */
export interface FileDigest {
  bytes: number;
  md5: string;
  sha256: string;
}

/** Where progress goes: the CLI's `Io` satisfies it. Lines are written to stderr. */
export interface ProgressSink {
  err(text: string): void;
  isTTY: boolean;
}

/** Reports the progress of one byte-counting task. */
export interface ProgressReporter {
  update(doneBytes: number): void;
  finish(): void;
}

/** A sink that discards everything (library use without output). */
export const SILENT: ProgressSink = { err: () => undefined, isTTY: false };

const MB = 1024 * 1024;

function formatMb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

/**
 * Progress for a byte count. On a terminal: a bar redrawn in place at most 10 times a
 * second (cursor-up + clear-line, so it works through a line-based sink). Otherwise: one
 * plain line per 10% (or per 50 MB when the total is unknown), at most every 2 seconds.
 */
export function createProgress(sink: ProgressSink, label: string, totalBytes?: number, clock: () => number = Date.now): ProgressReporter {
  const started = clock();
  let lastDraw = -Infinity;
  let drawn = false;
  let lastStep = -1;
  let done = 0;
  const rate = (): string => {
    const seconds = (clock() - started) / 1000;
    return seconds > 0.5 ? ` ${formatMb(done / seconds)}/s` : '';
  };
  const describe = (): string => {
    if (totalBytes && totalBytes > 0) {
      const pct = Math.min(100, (100 * done) / totalBytes);
      return `${pct.toFixed(0).padStart(3)}% ${formatMb(done)} of ${formatMb(totalBytes)}`;
    }
    return formatMb(done);
  };
  const drawBar = (): void => {
    let bar = '';
    if (totalBytes && totalBytes > 0) {
      const width = 30;
      const filled = Math.round((width * Math.min(done, totalBytes)) / totalBytes);
      bar = ` [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    }
    sink.err(`${drawn ? '\x1b[1A\x1b[2K' : ''}${label}${bar} ${describe()}${rate()}`);
    drawn = true;
  };
  return {
    update(doneBytes: number) {
      done = doneBytes;
      const now = clock();
      if (sink.isTTY) {
        if (now - lastDraw >= 100) {
          lastDraw = now;
          drawBar();
        }
        return;
      }
      const step = totalBytes && totalBytes > 0 ? Math.floor((10 * done) / totalBytes) : Math.floor(done / (50 * MB));
      if (step > lastStep && now - lastDraw >= 2000) {
        lastStep = step;
        lastDraw = now;
        sink.err(`${label}: ${describe()}`);
      }
    },
    finish() {
      if (sink.isTTY) drawBar();
      else sink.err(`${label}: done, ${formatMb(done)}`);
    },
  };
}

/** Hashes bytes into md5 and sha256 at once. */
class DigestAccumulator {
  private readonly md5: Hash = createHash('md5');
  private readonly sha256: Hash = createHash('sha256');
  bytes = 0;
  add(chunk: Uint8Array): void {
    this.md5.update(chunk);
    this.sha256.update(chunk);
    this.bytes += chunk.length;
  }
  digest(): FileDigest {
    return { bytes: this.bytes, md5: this.md5.digest('hex'), sha256: this.sha256.digest('hex') };
  }
}

async function hashInto(acc: DigestAccumulator, path: string, progress?: ProgressReporter): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: MB })) {
    acc.add(chunk as Buffer);
    progress?.update(acc.bytes);
  }
}

/** Size, md5 and sha256 of a local file, streamed (never held in memory); progress for big files. */
export async function hashFile(path: string, sink: ProgressSink = SILENT, label: string = basename(path)): Promise<FileDigest> {
  const acc = new DigestAccumulator();
  let total: number | undefined;
  try {
    total = (await fsp.stat(path)).size;
  } catch (e) {
    throw new DataError(`${path}: cannot read (${errnoOf(e)})`);
  }
  const progress = total > 64 * MB ? createProgress(sink, `checking ${label}`, total) : undefined;
  try {
    await hashInto(acc, path, progress);
  } catch (e) {
    throw new DataError(`${path}: cannot read (${errnoOf(e)})`);
  }
  progress?.finish();
  return acc.digest();
}

/**
 * Compare a digest with what is pinned; returns a one-line description of the first
 * difference, or null when everything pinned matches.
 */
export function digestMismatch(actual: FileDigest, expected: Pick<RemoteFile, 'bytes' | 'md5' | 'sha256'>): string | null {
  if (expected.bytes !== undefined && actual.bytes !== expected.bytes) {
    return `size ${actual.bytes} bytes, expected ${expected.bytes}`;
  }
  if (expected.md5 && actual.md5 !== expected.md5.toLowerCase()) return `md5 ${actual.md5}, expected ${expected.md5}`;
  if (expected.sha256 && actual.sha256 !== expected.sha256.toLowerCase()) {
    return `sha256 ${actual.sha256}, expected ${expected.sha256}`;
  }
  return null;
}

/** The errno code (or message) of a filesystem / network error, for one-line messages. */
export function errnoOf(e: unknown): string {
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err?.cause?.code ?? err?.code;
  if (code === 'ENOSPC') return 'ENOSPC: no space left on device';
  if (code) return code;
  return err?.cause?.message ?? err?.message ?? String(e);
}

/** True for http:// and https:// addresses. */
export function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

async function removeQuietly(path: string): Promise<void> {
  await fsp.rm(path, { force: true, recursive: true }).catch(() => undefined);
}

/** Options of {@link downloadToFile}. */
export interface DownloadOptions {
  progress?: ProgressSink;
  /** give up when no byte arrives for this long (default 60 s) */
  stallTimeoutMs?: number;
  /** label for progress and messages (default: the file name of `dest`) */
  label?: string;
}

interface RangeAnswer {
  /** byte offset the body starts at */
  start: number;
  /** total size of the file, when the server says */
  total?: number;
}

function parseContentRange(header: string | null): RangeAnswer | null {
  const m = header?.match(/^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i);
  if (!m) return null;
  return { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await fsp.stat(path)).size;
  } catch {
    return 0;
  }
}

/**
 * Download `remote.url` to `dest`, resuming `<dest>.part` when one is there. Checks size
 * and digests when `remote` pins them; on a mismatch the partial file is deleted and a
 * NetworkError thrown. Network failures keep the `.part` so a rerun resumes. Returns the
 * size and digests of the complete file. Progress goes to `opts.progress` (stderr).
 */
export async function downloadToFile(remote: RemoteFile, dest: string, opts: DownloadOptions = {}): Promise<FileDigest> {
  const part = `${dest}.part`;
  const label = opts.label ?? basename(dest);
  const sink = opts.progress ?? SILENT;
  await fsp.mkdir(dirname(dest), { recursive: true });
  if ((remote.md5 || remote.sha256) && (await sizeOf(dest)) > 0) {
    // a complete, verified download from an earlier run is reused when it still matches
    const previous = await hashFile(dest, sink, label);
    if (!digestMismatch(previous, remote)) return previous;
    await removeQuietly(dest);
  }

  let offset = await sizeOf(part);
  if (remote.bytes !== undefined && offset > remote.bytes) {
    await removeQuietly(part);
    offset = 0;
  }
  const complete = remote.bytes !== undefined && offset === remote.bytes;
  if (!complete) await fetchInto(remote, part, offset, label, sink, opts.stallTimeoutMs ?? 60_000);

  const digest = await hashFile(part, sink, label);
  const mismatch = digestMismatch(digest, remote);
  if (mismatch) {
    await removeQuietly(part);
    throw new NetworkError(`${label}: checksum mismatch (${mismatch}) from ${remote.url}; the file was deleted`);
  }
  await fsp.rename(part, dest);
  return digest;
}

/** Append (or write from scratch) the remote bytes from `offset` into `part`. */
async function fetchInto(remote: RemoteFile, part: string, offset: number, label: string, sink: ProgressSink, stallMs: number): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const controller = new AbortController();
    let stalled = false;
    let timer = setTimeout(() => ((stalled = true), controller.abort()), stallMs);
    const resetTimer = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => ((stalled = true), controller.abort()), stallMs);
    };
    try {
      const headers: Record<string, string> = { 'accept-encoding': 'identity' };
      if (offset > 0) headers.range = `bytes=${offset}-`;
      let res: Response;
      try {
        res = await fetch(remote.url, { headers, signal: controller.signal, redirect: 'follow' });
      } catch (e) {
        throw new NetworkError(`${label}: cannot download ${remote.url} (${stalled ? 'no answer' : errnoOf(e)})`);
      }
      if (res.status === 416 && offset > 0) {
        await res.body?.cancel().catch(() => undefined);
        // `bytes */N` with N == what we have: the partial file is already complete
        const whole = res.headers.get('content-range')?.match(/^bytes\s+\*\/(\d+)$/i);
        if (whole && Number(whole[1]) === offset) return;
        // otherwise our partial file is not something the server recognises: start over
        await removeQuietly(part);
        offset = 0;
        continue;
      }
      if (res.status !== 200 && res.status !== 206) {
        await res.body?.cancel().catch(() => undefined);
        throw new NetworkError(`${label}: ${remote.url} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
      }
      let start = 0;
      let total: number | undefined;
      if (res.status === 206) {
        const range = parseContentRange(res.headers.get('content-range'));
        if (!range || range.start !== offset) {
          // a range we did not ask for: retry without Range
          await res.body?.cancel().catch(() => undefined);
          await removeQuietly(part);
          offset = 0;
          continue;
        }
        start = range.start;
        total = range.total;
      } else {
        const length = res.headers.get('content-length');
        total = length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
        if (offset > 0) sink.err(`${label}: the server does not resume downloads; starting again from the beginning`);
      }
      if (remote.bytes !== undefined && total !== undefined && total !== remote.bytes) {
        await res.body?.cancel().catch(() => undefined);
        await removeQuietly(part);
        throw new NetworkError(`${label}: ${remote.url} has ${total} bytes, expected ${remote.bytes}; not downloaded`);
      }
      if (start > 0) sink.err(`${label}: resuming at ${formatMb(start)}`);
      await streamBody(res, part, start, total ?? remote.bytes, label, sink, resetTimer, () => stalled);
      return;
    } finally {
      clearTimeout(timer);
    }
  }
  throw new NetworkError(`${label}: ${remote.url} refused to resume and to restart the download`);
}

async function streamBody(
  res: Response,
  part: string,
  start: number,
  total: number | undefined,
  label: string,
  sink: ProgressSink,
  onChunk: () => void,
  stalled: () => boolean,
): Promise<void> {
  const progress = createProgress(sink, `downloading ${label}`, total);
  let file: fsp.FileHandle;
  try {
    file = await fsp.open(part, start > 0 ? 'a' : 'w');
  } catch (e) {
    throw new DataError(`${part}: cannot write (${errnoOf(e)})`);
  }
  let written = start;
  try {
    if (!res.body) throw new NetworkError(`${label}: empty answer from ${res.url}`);
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    try {
      for await (const chunk of body) {
        onChunk();
        try {
          await file.write(chunk as Buffer);
        } catch (e) {
          await file.close().catch(() => undefined);
          await removeQuietly(part);
          throw new DataError(`${part}: cannot write (${errnoOf(e)}); the partial download was deleted`);
        }
        written += (chunk as Buffer).length;
        progress.update(written);
      }
    } catch (e) {
      if (e instanceof DataError) throw e;
      const why = stalled() ? 'no data for too long' : errnoOf(e);
      throw new NetworkError(`${label}: download interrupted after ${formatMb(written)} (${why}); run the same command again to resume`);
    }
    if (total !== undefined && written < total) {
      throw new NetworkError(
        `${label}: download truncated at ${written} of ${total} bytes; run the same command again to resume`,
      );
    }
    await file.sync();
  } finally {
    await file.close().catch(() => undefined);
  }
  progress.finish();
}

/** One member to take out of a zip archive. */
export interface ZipMemberRequest {
  /** path inside the archive, e.g. `gzip/emnist-letters-test-images-idx3-ubyte.gz` */
  member: string;
  /** where to write it (its parent directory must exist) */
  dest: string;
}

/**
 * Stream the requested members of a zip file to disk (the archive is never read into
 * memory; members not requested are skipped without reading them). Each output is
 * fsynced. Throws DataError when the archive is unreadable or a member is missing.
 * Returns the size and digests of each member's extracted bytes, by member path.
 */
export async function extractZipMembers(zipPath: string, requests: ZipMemberRequest[]): Promise<Map<string, FileDigest>> {
  const wanted = new Map(requests.map((r) => [r.member, r.dest]));
  const digests = new Map<string, FileDigest>();
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false });
  } catch (e) {
    throw new DataError(`${zipPath}: not a readable zip archive (${(e as Error).message})`);
  }
  try {
    for await (const entry of zip.eachEntry()) {
      const dest = wanted.get(entry.fileName);
      if (dest === undefined) continue;
      const stream = await zip.openReadStreamPromise(entry);
      digests.set(entry.fileName, await writeStream(stream, dest, `${zipPath}: member ${entry.fileName}`));
      if (digests.size === wanted.size) break;
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${zipPath}: corrupt zip archive (${(e as Error).message})`);
  } finally {
    zip.close();
  }
  const missing = requests.filter((r) => !digests.has(r.member)).map((r) => r.member);
  if (missing.length > 0) throw new DataError(`${zipPath}: archive lacks ${missing.join(', ')}`);
  return digests;
}

async function writeStream(stream: Readable, dest: string, what: string): Promise<FileDigest> {
  const acc = new DigestAccumulator();
  let file: fsp.FileHandle;
  try {
    file = await fsp.open(dest, 'w');
  } catch (e) {
    throw new DataError(`${dest}: cannot write (${errnoOf(e)})`);
  }
  try {
    for await (const chunk of stream) {
      acc.add(chunk as Buffer);
      try {
        await file.write(chunk as Buffer);
      } catch (e) {
        throw new DataError(`${dest}: cannot write (${errnoOf(e)})`);
      }
    }
    await file.sync();
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${what}: cannot extract (${(e as Error).message})`);
  } finally {
    await file.close().catch(() => undefined);
  }
  return acc.digest();
}
