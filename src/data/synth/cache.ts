/**
 * Generated sets are made on first use from a seed, then cached as IDX files in
 * `<dataDir>/<name>/`. The cache key holds the generator version, seed, split and count, so a
 * changed generator or other options never reuse stale files; a read-only data dir only costs
 * regeneration next time.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readIdxImages, readIdxLabels, writeIdx } from '../idx';
import type { LabelledImages, Split } from '../types';

export interface GeneratedSetKey {
  name: string;
  version: number;
  seed: number;
  split: Split;
  count: number;
}

/** Cache file paths of one generated split. */
export function generatedCacheFiles(dataDir: string, key: GeneratedSetKey): { dir: string; images: string; labels: string } {
  const dir = join(dataDir, key.name);
  const stem = `v${key.version}-seed${key.seed >>> 0}-n${key.count}-${key.split}`;
  return { dir, images: join(dir, `${stem}-images-idx3-ubyte`), labels: join(dir, `${stem}-labels-idx1-ubyte`) };
}

/**
 * A cached 28x28 labelled set, or null when it is absent, corrupt, or (with `count`) of another
 * size: the caller then makes it again.
 */
export function readIdxCache(files: { images: string; labels: string }, name: string, classNames: string[], count?: number): LabelledImages | null {
  if (!existsSync(files.images) || !existsSync(files.labels)) return null;
  try {
    const images = readIdxImages(files.images);
    const labels = readIdxLabels(files.labels);
    if (images.rows !== 28 || images.cols !== 28 || labels.length !== images.count) return null;
    if (count !== undefined && images.count !== count) return null;
    return { name, images, labels, classNames: [...classNames] };
  } catch {
    return null; // corrupt cache: regenerate
  }
}

/** Write a set as IDX files atomically (temporary names, then renames); a failure only costs a rebuild next time. */
export function writeIdxCache(files: { dir: string; images: string; labels: string }, set: LabelledImages): void {
  try {
    mkdirSync(files.dir, { recursive: true });
    const tag = `.tmp-${process.pid}`;
    const { count, rows, cols, pixels } = set.images;
    writeIdx(files.images + tag, { dims: [count, rows, cols], data: pixels });
    writeIdx(files.labels + tag, { dims: [count], data: set.labels ?? new Uint8Array(count) });
    renameSync(files.labels + tag, files.labels);
    renameSync(files.images + tag, files.images);
  } catch {
    for (const p of [files.images, files.labels]) rmSync(`${p}.tmp-${process.pid}`, { force: true });
  }
}

/** Read the set from the cache, or generate and cache it. */
export async function cachedGeneratedSet(dataDir: string, key: GeneratedSetKey, classNames: string[], generate: () => Promise<LabelledImages>): Promise<LabelledImages> {
  const files = generatedCacheFiles(dataDir, key);
  const cached = readIdxCache(files, key.name, classNames, key.count);
  if (cached) return cached;
  const set = await generate();
  writeIdxCache(files, set);
  return set;
}
