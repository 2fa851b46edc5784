/** Pure helpers that turn uint8 image sets into training batches. */
import type { ImageSet } from '../data/idx';

/**
 * Copy images `indices[start..end)` into a float batch scaled to [0,1], optionally shifted
 * by up to `maxShift` pixels in x and y (zero fill), for augmentation.
 */
export function fillBatch(
  images: ImageSet,
  indices: ArrayLike<number>,
  start: number,
  end: number,
  out: Float32Array,
  opts: { maxShift?: number; random?: () => number } = {},
): Float32Array {
  const { rows, cols, pixels } = images;
  const size = rows * cols;
  const maxShift = opts.maxShift ?? 0;
  for (let b = 0; b < end - start; b++) {
    const src = indices[start + b] * size;
    const dst = b * size;
    if (maxShift === 0 || !opts.random) {
      for (let i = 0; i < size; i++) out[dst + i] = pixels[src + i] / 255;
      continue;
    }
    const dx = Math.floor(opts.random() * (2 * maxShift + 1)) - maxShift;
    const dy = Math.floor(opts.random() * (2 * maxShift + 1)) - maxShift;
    for (let y = 0; y < rows; y++) {
      const sy = y - dy;
      for (let x = 0; x < cols; x++) {
        const sx = x - dx;
        out[dst + y * cols + x] = sy >= 0 && sy < rows && sx >= 0 && sx < cols ? pixels[src + sy * cols + sx] / 255 : 0;
      }
    }
  }
  return out;
}

/** One-hot encode labels `indices[start..end)` into `out` (batch x classes). */
export function fillOneHot(labels: Uint8Array, indices: ArrayLike<number>, start: number, end: number, classes: number, out: Float32Array): Float32Array {
  out.fill(0, 0, (end - start) * classes);
  for (let b = 0; b < end - start; b++) out[b * classes + labels[indices[start + b]]] = 1;
  return out;
}

/** Split off the last `fraction` of a set (Keras `validation_split` convention). */
export function splitValidation(count: number, fraction: number): { train: number; val: number } {
  const val = Math.floor(count * fraction);
  return { train: count - val, val };
}
