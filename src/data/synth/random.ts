/**
 * Small seeded pseudo-random generators (no dependencies), so every synthetic image and
 * every `--seed` run is reproducible bit for bit on any machine.
 */

import { mulberry32 } from '../../random';
export { mulberry32 };

/**
 * Mix several integers into one 32-bit seed (murmur3's finaliser applied per part), so
 * that nearby inputs such as (seed, 0), (seed, 1) give unrelated streams.
 */
export function hashSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    let k = Math.imul((p | 0) ^ Math.floor(p / 4294967296), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Convenience draws on top of a [0,1) source. */
export interface Rng {
  /** float in [0, 1) */
  next(): number;
  /** float in [lo, hi) */
  uniform(lo: number, hi: number): number;
  /** integer in [0, n) */
  int(n: number): number;
  /** standard normal (Box-Muller) */
  normal(): number;
  /** one element of a non-empty array */
  pick<T>(items: readonly T[]): T;
}

/** A {@link Rng} over mulberry32(seed). */
export function makeRng(seed: number): Rng {
  const next = mulberry32(seed);
  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (n) => Math.floor(next() * n),
    normal: () => {
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
  };
}
