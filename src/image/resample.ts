/**
 * Resampling of single-channel float images: an exact area average when shrinking (a one-pixel
 * stroke keeps its ink, spread over the wider pixel), linear interpolation when enlarging. Pure.
 */

/** One destination sample along an axis: source indices and their weights (summing to 1). */
export interface Tap {
  idx: number[];
  w: number[];
}

/**
 * Resampling weights along one axis. Shrinking (dst <= src) is an exact area average (box
 * filter with fractional overlaps, so the mean is preserved); enlarging is linear
 * interpolation between pixel centres (edges clamped).
 */
export function axisTaps(src: number, dst: number): Tap[] {
  const taps: Tap[] = [];
  if (dst <= src) {
    const scale = src / dst;
    for (let d = 0; d < dst; d++) {
      const a = d * scale;
      const b = a + scale;
      const idx: number[] = [];
      const w: number[] = [];
      for (let s = Math.floor(a); s < Math.min(src, Math.ceil(b)); s++) {
        const overlap = Math.min(b, s + 1) - Math.max(a, s);
        if (overlap > 1e-12) {
          idx.push(s);
          w.push(overlap / scale);
        }
      }
      taps.push({ idx, w });
    }
  } else {
    const scale = src / dst;
    for (let d = 0; d < dst; d++) {
      const c = Math.min(src - 1, Math.max(0, (d + 0.5) * scale - 0.5));
      const s0 = Math.floor(c);
      const f = c - s0;
      if (f < 1e-12 || s0 + 1 >= src) taps.push({ idx: [s0], w: [1] });
      else taps.push({ idx: [s0, s0 + 1], w: [1 - f, f] });
    }
  }
  return taps;
}

/**
 * Resize a single-channel image (separable: area average when shrinking an axis, linear
 * interpolation when enlarging it). Pure.
 */
export function resize(src: ArrayLike<number>, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const tx = axisTaps(sw, dw);
  const ty = axisTaps(sh, dh);
  const tmp = new Float32Array(dw * sh);
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < dw; x++) {
      const t = tx[x];
      let v = 0;
      for (let k = 0; k < t.idx.length; k++) v += src[y * sw + t.idx[k]] * t.w[k];
      tmp[y * dw + x] = v;
    }
  }
  const out = new Float32Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    const t = ty[y];
    for (let x = 0; x < dw; x++) {
      let v = 0;
      for (let k = 0; k < t.idx.length; k++) v += tmp[t.idx[k] * dw + x] * t.w[k];
      out[y * dw + x] = v;
    }
  }
  return out;
}

