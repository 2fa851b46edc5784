/**
 * Counter-based dropout masks: the keep/drop decision for (seed, dropout layer, image,
 * sample, unit) is a pure hash of those numbers. So an image's masks do not depend on
 * which other images share its batch, on the chunk size, or on the order passes run in,
 * and the cached and naive samplers see exactly the same masks.
 */

/** 32-bit integer hash (lowbias32 by C. Wellons). */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** The hash every unit of one (seed, layer, image, sample) mask starts from. */
export function maskBase(seed: number, layer: number, image: number, sample: number): number {
  return mix32(mix32(mix32(mix32(seed ^ 0x5bd1e995) ^ layer) ^ image) ^ Math.imul(sample, 0x9e3779b1));
}

/** Uniform value in [0,1) for one unit of one mask. */
export function maskUniform(seed: number, layer: number, image: number, sample: number, unit: number): number {
  return mix32(maskBase(seed, layer, image, sample) ^ unit) / 4294967296;
}

/**
 * Write the inverted-dropout mask (0 or 1/(1-rate)) of `units` values for one
 * (image, sample) into `out` at `offset`.
 */
export function fillDropoutMask(
  out: Float32Array,
  offset: number,
  units: number,
  rate: number,
  seed: number,
  layer: number,
  image: number,
  sample: number,
): void {
  const keep = 1 / (1 - rate);
  // u32 / 2^32 >= rate  <=>  u32 >= rate * 2^32: both sides are exact in float64
  const threshold = rate * 4294967296;
  const base = maskBase(seed, layer, image, sample);
  for (let u = 0; u < units; u++) {
    out[offset + u] = mix32(base ^ u) >= threshold ? keep : 0;
  }
}

/**
 * Standard normal values for one (image, sample) of a noise layer: Box-Muller on two hashed
 * uniforms per unit (hash inputs 2u and 2u+1), so, like the dropout masks, a pure function of
 * (seed, layer, image, sample, unit). out[offset+u] = mean + std * z.
 */
export function fillNormal(
  out: Float32Array,
  offset: number,
  units: number,
  mean: number,
  std: number,
  seed: number,
  layer: number,
  image: number,
  sample: number,
): void {
  const base = maskBase(seed, layer, image, sample);
  for (let u = 0; u < units; u++) {
    const u1 = (mix32(base ^ (2 * u)) + 0.5) / 4294967296; // in (0, 1): log is finite
    const u2 = mix32(base ^ (2 * u + 1)) / 4294967296;
    out[offset + u] = mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
