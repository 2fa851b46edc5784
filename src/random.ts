/** Small seeded pseudo-random generators (deterministic for a seed, fast, not cryptographic). */

/** mulberry32: 32-bit state, uniform floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derive an independent 32-bit seed from a seed and a stream label (e.g. an epoch). */
export function deriveSeed(seed: number, ...labels: (number | string)[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const label of labels) {
    const s = String(label);
    for (let i = 0; i < s.length; i++) {
      h = Math.imul(h ^ s.charCodeAt(i), 0x85ebca6b) >>> 0;
      h = (h ^ (h >>> 13)) >>> 0;
    }
    h = Math.imul(h ^ 0x2f, 0xc2b2ae35) >>> 0;
  }
  return h >>> 0;
}

/** Fisher-Yates shuffle of 0..n-1 driven by `random`. */
export function shuffledIndices(n: number, random: () => number): Uint32Array {
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx;
}

/**
 * Run `fn` with Math.random replaced by a seeded generator, restoring it afterwards.
 * tfjs draws the seeds of unseeded random ops (training-time dropout masks) from
 * Math.random, so this makes a training run reproducible on a given backend.
 */
export async function withSeededMathRandom<T>(seed: number | undefined, fn: () => Promise<T>): Promise<T> {
  if (seed === undefined) return fn();
  const original = Math.random;
  Math.random = mulberry32(deriveSeed(seed, 'Math.random'));
  try {
    return await fn();
  } finally {
    Math.random = original;
  }
}
