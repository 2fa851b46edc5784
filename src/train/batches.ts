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

/**
 * In place on a filled batch: each image, with probability `p`, is resampled (bilinear) through
 * a small random affine map (rotation +-10 degrees, scale 0.9-1.1, shear +-0.15, shift +-1.5 px).
 * Outlier exposure applies it to digits and outliers alike: its MNIST-derived outliers are all
 * resampled, and resampling must not be what tells a non-digit from a digit (a scanned or
 * photographed digit is resampled too).
 */
export function warpBatch(out: Float32Array, count: number, random: () => number, p = 0.5): void {
  const img = new Float32Array(784);
  const at = (x: number, y: number) => (x < 0 || y < 0 || x > 27 || y > 27 ? 0 : img[y * 28 + x]);
  for (let b = 0; b < count; b++) {
    if (random() >= p) continue;
    const o = b * 784;
    img.set(out.subarray(o, o + 784));
    const u = (a: number, c: number) => a + (c - a) * random();
    const rot = (u(-10, 10) * Math.PI) / 180;
    const scale = u(0.9, 1.1);
    const shear = u(-0.15, 0.15);
    const tx = u(-1.5, 1.5);
    const ty = u(-1.5, 1.5);
    const c = Math.cos(rot);
    const s = Math.sin(rot);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const X = (x - 13.5 - tx) / scale;
        const Y = (y - 13.5 - ty) / scale;
        const rx = c * X + s * Y;
        const ry = -s * X + c * Y;
        const sx = rx - shear * ry + 13.5;
        const sy = ry + 13.5;
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const fx = sx - x0;
        const fy = sy - y0;
        out[o + y * 28 + x] = (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
      }
    }
  }
}
