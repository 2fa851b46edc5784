/**
 * `--shard K/N`: a stable 1/N of a list of pictures, chosen by a hash of each path as listed,
 * so N processes (machines, a Kubernetes Indexed Job, a Slurm array, `xargs -P`) given the same
 * arguments share the work without talking to each other: every picture lands in exactly one
 * shard, whatever the order or the other files.
 */
import { UsageError } from '../errors';

export interface Shard {
  /** 0-based index of this shard */
  index: number;
  /** number of shards */
  count: number;
}

/** Parse "K/N" (0 <= K < N): e.g. "$JOB_COMPLETION_INDEX/4". */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new UsageError(`--shard expects K/N with 0 <= K < N (e.g. 0/4), got "${text}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) throw new UsageError(`--shard ${text}: K must be 0..N-1 and N at least 1`);
  return { index, count };
}

/** FNV-1a (32-bit) of a string's UTF-8 bytes. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The shard (0..count-1) a picture path belongs to. */
export function shardOf(path: string, count: number): number {
  return fnv1a32(path.split('\\').join('/')) % count;
}

/** The paths of `files` in shard `shard`, in their order. */
export function takeShard(files: string[], shard: Shard): string[] {
  return files.filter((f) => shardOf(f, shard.count) === shard.index);
}
