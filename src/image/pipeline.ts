/**
 * One preprocessing pipeline for any picture (issues #9, #21): decoded pixels in, one
 * MNIST-style 28x28 digit out. Each step is a pure function on Float32Array images (values 0..1):
 *
 * 1. `luminance`          colour / grey / alpha -> luminance (alpha over the paper colour);
 *    `chromaImage`        and, for colour pictures, the ink's colour difference from the paper
 *                          (brightness changes of the paper, grain and shadows vanish there): a
 *                          teal pen on yellow paper is read from whichever shows clearer strokes;
 * 2. `median3`            3x3 median against sensor noise and JPEG specks (pictures > 64 px
 *                          whose pixel noise is above 0.015: on a clean scan it only erodes);
 *    `smoothGrain`        grainy paper (noise above GRAIN_NOISE) is blurred below a pen's scale;
 * 3. `estimateBackground` the paper (or screen) level at a large scale: block quantiles, blocks
 *                          that a thick stroke fills taking their paper neighbours' level
 *                          (`fillInkBlocks`: a digit filling a tight crop), smoothed and
 *                          interpolated, so uneven light, grey or coloured paper and ruled lines
 *                          thinner than a block are background;
 * 4. `detectPolarity`     dark ink on light ground or light ink on dark ground, from which side
 *                          of the background the strong deviations lie;
 * 5. `flattenInk`         ink = relative deviation from the paper's level (divided by it), the
 *                          noise floor (robust sigma around the paper's level) subtracted,
 *                          scaled so strokes reach 1; `snr`: the strokes' evidence at their scale;
 * 6. `segmentInk`         connected components of the ink: specks, dust and what touches the
 *                          frame edge are dropped when a clear character is elsewhere;
 * 7. `workingCrop`        the character cut out and shrunk by area averaging to WORK_SIDE at
 *                          most (a one-pixel pen on a large canvas keeps its ink);
 *    `fillThinHoles`      a thin pen's outline of a stroke is filled to the stroke;
 *    `normaliseStrokeWidth` a pen much thinner than MNIST's (relative to the character's
 *                          size) is thickened, so a fine pen on a big sheet reads like MNIST;
 * 8. the MNIST recipe (`preprocessToMnist` in image/load.ts): 20x20 box, centre of mass.
 *
 * What the steps measured (PipelineInfo) is the evidence of the input check (gate/sanity.ts
 * `checkPicture`): strokes found, their contrast at their own scale, their pen path.
 */
import { labelComponents, selectCharacter } from './components';
import { ImageError } from '../errors';
import { resize } from './resample';

export type Polarity = 'dark' | 'light';
export type InkOption = 'auto' | Polarity;

/**
 * Interleaved 8-bit pixels (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA) -> luminance 0..1 (Rec. 601).
 * Transparent pixels take the paper's colour: white, unless the opaque pixels are mostly light
 * (light strokes on a transparent layer), then black.
 */
export function luminance(data: Uint8Array, width: number, height: number, channels: number): Float32Array {
  const n = width * height;
  if (data.length !== n * channels || channels < 1 || channels > 4) throw new ImageError(`luminance: ${data.length} bytes for ${width}x${height}x${channels}`);
  const out = new Float32Array(n);
  const hasAlpha = channels === 2 || channels === 4;
  let opaqueLum = 0;
  let opaque = 0;
  let transparent = 0;
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    out[i] = channels <= 2 ? data[o] / 255 : (0.299 * data[o] + 0.587 * data[o + 1] + 0.114 * data[o + 2]) / 255;
    if (hasAlpha) {
      const a = data[o + channels - 1];
      if (a > 127) {
        opaqueLum += out[i];
        opaque++;
      }
      if (a < 128) transparent++;
    }
  }
  if (!hasAlpha || transparent === 0) return out;
  const paper = opaque > 0 && opaqueLum / opaque > 0.6 && transparent > opaque ? 0 : 1;
  for (let i = 0; i < n; i++) {
    const a = data[i * channels + channels - 1] / 255;
    out[i] = a * out[i] + (1 - a) * paper;
  }
  return out;
}

/**
 * Pixel noise of a picture: 1.4826 x the median absolute difference between horizontal
 * neighbours, / sqrt(2) (flat paper: the sensor noise; strokes are too few to move a median).
 */
export function pixelNoise(img: Float32Array, width: number, height: number): number {
  const d = new Float32Array((width - 1) * height);
  let k = 0;
  for (let y = 0; y < height; y++) for (let x = 0; x + 1 < width; x++) d[k++] = Math.abs(img[y * width + x + 1] - img[y * width + x]);
  return (1.4826 * quantile(d, 0.5)) / Math.SQRT2;
}

/** Above this pixel noise a picture is median-filtered before anything else (below it a median only erodes thin strokes). */
export const MEDIAN_NOISE = 0.015;

/** 3x3 median filter (edges replicate). */
export function median3(img: Float32Array, width: number, height: number): Float32Array {
  const out = new Float32Array(img.length);
  const w = new Float32Array(9);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let k = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = Math.min(height - 1, Math.max(0, y + dy));
        for (let dx = -1; dx <= 1; dx++) {
          const xx = Math.min(width - 1, Math.max(0, x + dx));
          w[k++] = img[yy * width + xx];
        }
      }
      w.sort();
      out[y * width + x] = w[4];
    }
  }
  return out;
}

/** Work space of {@link quantile}'s exact path (each worker thread has its own module instance). */
const SELECT_SCRATCH = new Float32Array(4096);

/**
 * The q-quantile of `values` as the element at rank floor(q (n - 1)): exact (the values as
 * float32, as a sorted Float32Array would hold them) for up to 4096 values, by selection;
 * {@link histogramQuantile} beyond.
 */
function quantile(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) return 0;
  if (n <= 4096) {
    const s = SELECT_SCRATCH;
    for (let i = 0; i < n; i++) s[i] = values[i];
    return selectKth(s, n, Math.min(n - 1, Math.max(0, Math.floor(q * (n - 1)))));
  }
  return histogramQuantile(values, q);
}

/**
 * The k-th smallest of a[0..n) (0-based), partially reordering `a` (Hoare's selection, as in
 * Wirth's "Algorithms + Data Structures"): the value a sort would put at index k, in linear time.
 */
export function selectKth(a: Float32Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    do {
      while (a[i] < pivot) i++;
      while (pivot < a[j]) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    } while (i <= j);
    if (j < k) lo = i;
    if (k < i) hi = j;
  }
  return a[k];
}

/**
 * Quantile of many values through a 4096-bin histogram over their range (exact to 1/4096 of
 * the range): linear time instead of a sort.
 */
export function histogramQuantile(values: ArrayLike<number>, q: number): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > lo)) return lo;
  const bins = 4096;
  const hist = new Uint32Array(bins);
  const k = (bins - 1) / (hi - lo);
  // (v - lo) * k lies in [0, bins - 1]: truncation is the floor
  for (let i = 0; i < values.length; i++) hist[((values[i] - lo) * k) | 0]++;
  const target = Math.floor(q * (values.length - 1));
  let acc = 0;
  for (let b = 0; b < bins; b++) {
    acc += hist[b];
    // the bin's centre, but never beyond the values themselves (all values in one top bin)
    if (acc > target) return Math.min(hi, lo + (b + 0.5) / k);
  }
  return hi;
}

/**
 * Background level per pixel (`polarity`, when known, says which side of the paper the ink
 * is on). Small pictures (longer side <= 64, e.g. MNIST's 28x28 PNGs)
 * get one level: the median of the frame border, where a centred character is not. Larger
 * ones: the 80th percentile (dark ink; 20th for light ink; median when unknown) of blocks of about 1/14 of the longer side (the ink is a minority in each),
 * a 3x3 median over the inner block grid (a block full of ink takes its neighbours' level;
 * the rim keeps its own, as vignetting is steepest there), then
 * bilinear interpolation between block centres.
 */
export function estimateBackground(img: Float32Array, width: number, height: number, polarity?: Polarity): Float32Array {
  const out = new Float32Array(img.length);
  if (Math.max(width, height) <= 64) {
    const border: number[] = [];
    for (let x = 0; x < width; x++) border.push(img[x], img[(height - 1) * width + x]);
    for (let y = 0; y < height; y++) border.push(img[y * width], img[y * width + width - 1]);
    out.fill(quantile(border, 0.5));
    return out;
  }
  const block = Math.max(6, Math.round(Math.max(width, height) / 14));
  // the paper is the lighter majority of a block under dark ink (the darker under light ink):
  // a high quantile keeps a block right until ink covers 80% of it
  const blockQ = polarity === 'dark' ? 0.8 : polarity === 'light' ? 0.2 : 0.5;
  const gw = Math.ceil(width / block);
  const gh = Math.ceil(height / block);
  const grid = new Float32Array(gw * gh);
  const blockValues = new Float32Array(block * block);
  for (let by = 0; by < gh; by++) {
    for (let bx = 0; bx < gw; bx++) {
      let k = 0;
      for (let y = by * block; y < Math.min(height, (by + 1) * block); y++) for (let x = bx * block; x < Math.min(width, (bx + 1) * block); x++) blockValues[k++] = img[y * width + x];
      grid[by * gw + bx] = quantile(blockValues.subarray(0, k), blockQ);
    }
  }
  const buf: number[] = [];
  replaceBorderSteps(grid, gw, gh, 0.15, polarity);
  if (polarity) fillInkBlocks(grid, gw, gh, polarity);
  const smooth = new Float32Array(grid.length);
  for (let by = 0; by < gh; by++) {
    for (let bx = 0; bx < gw; bx++) {
      if (bx === 0 || by === 0 || bx === gw - 1 || by === gh - 1) {
        // the rim keeps its own level: light falls off fastest there (vignetting)
        smooth[by * gw + bx] = grid[by * gw + bx];
        continue;
      }
      buf.length = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const yy = by + dy;
        const xx = bx + dx;
        if (yy >= 0 && yy < gh && xx >= 0 && xx < gw) buf.push(grid[yy * gw + xx]);
      }
      smooth[by * gw + bx] = quantile(buf, 0.5);
    }
  }
  // bilinear between block centres, extrapolated linearly beyond the outer centres (light
  // keeps falling off towards a corner; clamping would leave the rim darker than its estimate)
  const axis = (pos: number, n: number): [number, number, number] => {
    const g = pos / block - 0.5;
    if (n === 1) return [0, 0, 0];
    const i0 = Math.min(n - 2, Math.max(0, Math.floor(g)));
    return [i0, i0 + 1, Math.max(-0.5, Math.min(1.5, g - i0))];
  };
  const xs0 = new Int32Array(width);
  const xs1 = new Int32Array(width);
  const fxs = new Float64Array(width);
  for (let x = 0; x < width; x++) [xs0[x], xs1[x], fxs[x]] = axis(x + 0.5, gw);
  for (let y = 0; y < height; y++) {
    const [y0, y1, fy] = axis(y + 0.5, gh);
    const r0 = y0 * gw;
    const r1 = y1 * gw;
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const x0 = xs0[x];
      const x1 = xs1[x];
      const fx = fxs[x];
      const top = smooth[r0 + x0] * (1 - fx) + smooth[r0 + x1] * fx;
      const bot = smooth[r1 + x0] * (1 - fx) + smooth[r1 + x1] * fx;
      out[row + x] = Math.min(1, Math.max(0, top * (1 - fy) + bot * fy));
    }
  }
  return out;
}

/**
 * In place on a grid of block levels: a block that a thick stroke fills (more than 80% ink, so
 * its quantile is the ink's) lies far on the ink's side of its brightest (dark ink; darkest for
 * light ink) 8-neighbour: more than 25% of the way to black (white) from that neighbour's level,
 * or from the slope continued from the block beyond it where light keeps falling off. Light
 * and shadow change slowly from block to block, a stroke's edge does not. Such blocks take the median of their
 * paper neighbours, three passes from the outside of an ink region in, so a digit filling a tight
 * crop, whose strokes run along the frame, does not become the paper.
 */
export function fillInkBlocks(grid: Float32Array, gw: number, gh: number, polarity: Polarity, step = 0.25): void {
  const ink = new Uint8Array(grid.length);
  for (let pass = 0; pass < 3; pass++) {
    let marked = 0;
    for (let by = 0; by < gh; by++) {
      for (let bx = 0; bx < gw; bx++) {
        const i = by * gw + bx;
        if (ink[i]) continue;
        let ref = polarity === 'dark' ? -Infinity : Infinity;
        let rx = 0;
        let ry = 0;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
          const xx = bx + dx;
          const yy = by + dy;
          if ((!dx && !dy) || xx < 0 || yy < 0 || xx >= gw || yy >= gh || ink[yy * gw + xx]) continue;
          const v = grid[yy * gw + xx];
          if (polarity === 'dark' ? v > ref : v < ref) {
            ref = v;
            rx = dx;
            ry = dy;
          }
        }
        if (!Number.isFinite(ref)) continue;
        // light that keeps falling off (vignetting towards a corner) continues the slope from
        // two blocks away: expect that level, not the neighbour's
        const x2 = bx + 2 * rx;
        const y2 = by + 2 * ry;
        let expected = ref;
        if (x2 >= 0 && y2 >= 0 && x2 < gw && y2 < gh && !ink[y2 * gw + x2]) {
          const slope = 2 * ref - grid[y2 * gw + x2];
          expected = polarity === 'dark' ? Math.min(ref, slope) : Math.max(ref, slope);
        }
        const far = polarity === 'dark' ? grid[i] < expected * (1 - step) : grid[i] > expected + (1 - expected) * step;
        if (far) {
          ink[i] = 1;
          marked++;
        }
      }
    }
    if (!marked) break;
  }
  const out = Float32Array.from(grid);
  for (let pass = 0; pass < Math.max(gw, gh); pass++) {
    let left = 0;
    for (let i = 0; i < grid.length; i++) {
      if (ink[i] !== 1) continue;
      const bx = i % gw;
      const by = (i - bx) / gw;
      const paper: number[] = [];
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const xx = bx + dx;
        const yy = by + dy;
        if ((dx || dy) && xx >= 0 && yy >= 0 && xx < gw && yy < gh && ink[yy * gw + xx] !== 1) paper.push(out[yy * gw + xx]);
      }
      if (paper.length === 0) {
        left++;
        continue;
      }
      out[i] = quantile(paper, 0.5);
      ink[i] = 2;
    }
    if (!left) break;
  }
  grid.set(out);
}

/**
 * In place on a grid of block levels: a block in the two outer rings that differs from its
 * neighbour one step towards the centre by more than `step` (a table edge, a dark rim, a
 * shadow band: a step, where uneven light is a slope) takes that neighbour's level, inner ring
 * first, so the background under a band along the frame is the paper's. With the ink's
 * `polarity` known only a step towards the ink's side counts.
 */
export function replaceBorderSteps(grid: Float32Array, gw: number, gh: number, step = 0.15, polarity?: Polarity): void {
  if (gw < 5 || gh < 5) return;
  for (const ring of [1, 0]) {
    for (let by = 0; by < gh; by++) {
      for (let bx = 0; bx < gw; bx++) {
        const d = Math.min(bx, by, gw - 1 - bx, gh - 1 - by);
        if (d !== ring) continue;
        // one step towards the centre along the nearest edge's normal
        const ix = bx === d ? bx + 1 : gw - 1 - bx === d ? bx - 1 : bx;
        const iy = by === d ? by + 1 : gh - 1 - by === d ? by - 1 : by;
        const inner = grid[iy * gw + ix];
        // only a step towards the ink's side: a rim brighter than a block of dark ink next to it
        // (a digit filling a tight crop) is the paper
        const diff = grid[by * gw + bx] - inner;
        if (polarity === 'dark' ? diff < -step : polarity === 'light' ? diff > step : Math.abs(diff) > step) grid[by * gw + bx] = inner;
      }
    }
  }
}

/** Robust noise level: 1.4826 x the median absolute deviation of img - background. */
export function noiseSigma(img: Float32Array, bg: Float32Array): number {
  const d = new Float32Array(img.length);
  for (let i = 0; i < img.length; i++) d[i] = Math.abs(img[i] - bg[i]);
  return 1.4826 * quantile(d, 0.5);
}

/**
 * Which way the ink deviates from the background: the total strong deviation (beyond
 * 3 sigma + 0.04) below the background vs above it, where the background is at the paper's
 * level. Ties (a blank picture) say `dark`.
 */
export function detectPolarity(img: Float32Array, bg: Float32Array, sigma = noiseSigma(img, bg)): Polarity {
  const tau = 3 * sigma + 0.04;
  let below = 0;
  let above = 0;
  // only where the background is the paper's (within 0.2 of its median level): the rim of a
  // table or a shadow band along the frame says nothing about the ink
  const paper = quantile(bg, 0.5);
  for (let i = 0; i < img.length; i++) {
    const b = bg[i];
    if (Math.abs(b - paper) > 0.2) continue;
    const d = img[i] - b;
    if (d < -tau) below += -d - tau;
    else if (d > tau) above += d - tau;
  }
  return above > below ? 'light' : 'dark';
}

/** Ink weaker than this (relative to the background, above the noise floor) is no writing. */
export const MIN_INK = 0.2;

/** Result of {@link flattenInk}. */
export interface FlatInk {
  /** ink 0..1, background 0 */
  ink: Float32Array;
  /** noise level of the relative deviation (robust sigma) */
  sigma: number;
  /** the strongest ink before scaling, in units of the noise floor (low: nothing written) */
  contrast: number;
  /**
   * Stroke evidence at the stroke's own scale: the median relative deviation of the strong ink
   * (scaled ink >= 0.5) over the noise of the deviation averaged over 5x5 pixels. Paper grain
   * and sensor noise average out over a stroke's width, a written stroke does not.
   */
  snr: number;
}

/** Box blur (mean over a (2r+1) x (2r+1) square, edges clamped), separably with running sums. Pure. */
export function boxBlur(img: Float32Array, width: number, height: number, r: number): Float32Array {
  if (r <= 0) return img;
  const tmp = new Float32Array(img.length);
  const out = new Float32Array(img.length);
  const k = 2 * r + 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let sum = 0;
    for (let d = -r; d <= r; d++) sum += img[row + Math.min(width - 1, Math.max(0, d))];
    for (let x = 0; x < width; x++) {
      tmp[row + x] = sum / k;
      sum += img[row + Math.min(width - 1, x + r + 1)] - img[row + Math.max(0, x - r)];
    }
  }
  for (let x = 0; x < width; x++) {
    let sum = 0;
    for (let d = -r; d <= r; d++) sum += tmp[Math.min(height - 1, Math.max(0, d)) * width + x];
    for (let y = 0; y < height; y++) {
      out[y * width + x] = sum / k;
      sum += tmp[Math.min(height - 1, y + r + 1) * width + x] - tmp[Math.max(0, y - r) * width + x];
    }
  }
  return out;
}

/** Robust sigma (1.4826 x median absolute deviation) of `values` around `centre` (the deviations as float32). */
function robustSigma(values: Float32Array, centre: number): number {
  const a = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) a[i] = Math.abs(values[i] - centre);
  return 1.4826 * quantile(a, 0.5);
}

/**
 * Ink relative to the background: (bg - L) / bg for dark ink (a shadow darkens ink and paper
 * alike, so dividing flattens it), (L - bg) / (1 - bg) for light ink; minus the noise floor
 * (3 sigma of the relative deviation); scaled so the 98th percentile of the ink pixels is 1.
 */
export function flattenInk(img: Float32Array, bg: Float32Array, polarity: Polarity, width: number, height: number): FlatInk {
  const rel = new Float32Array(img.length);
  if (polarity === 'dark') {
    for (let i = 0; i < img.length; i++) {
      const b = bg[i];
      rel[i] = (b - img[i]) / Math.max(b, 0.05);
    }
  } else {
    for (let i = 0; i < img.length; i++) {
      const b = bg[i];
      rel[i] = (img[i] - b) / Math.max(1 - b, 0.05);
    }
  }
  // the paper's own level of rel is not 0 where the background sits at a high quantile of a
  // block (grainy paper under a background at its 80th percentile): noise is measured around it
  const paper = quantile(rel, 0.5);
  const sigma = robustSigma(rel, paper);
  const floor = Math.max(0, paper) + 3 * sigma + 0.03;
  const ink = new Float32Array(rel.length);
  // the ink values above the floor, unrounded (as doubles)
  const lit = new Float64Array(rel.length);
  let count = 0;
  let max = 0;
  for (let i = 0; i < rel.length; i++) {
    const v = rel[i] - floor;
    if (v > 0) {
      ink[i] = v;
      lit[count++] = v;
      if (v > max) max = v;
    }
  }
  const top = count ? quantile(lit.subarray(0, count), 0.98) : 0;
  // nothing written: no ink stands out by MIN_INK above the noise floor (blank paper, flat noise)
  if (top < MIN_INK) return { ink: new Float32Array(rel.length), sigma, contrast: 0, snr: 0 };
  // a faint pencil still spans 0..1; noise alone stays faint because top is small in units of sigma
  for (let i = 0; i < ink.length; i++) ink[i] = Math.min(1, ink[i] / top);
  return { ink, sigma, contrast: (max + floor - Math.max(0, paper)) / Math.max(sigma, 0.004), snr: strokeSnr(rel, ink, width, height) };
}

/**
 * {@link FlatInk.snr}: the median of `rel` where `ink` >= 0.5, above the paper's level (the
 * median of `rel`), over the spread of `rel` box-blurred over 5x5 pixels (1.4826 x its median
 * absolute deviation, at least 0.004).
 */
export function strokeSnr(rel: Float32Array, ink: Float32Array, width: number, height: number): number {
  const core = new Float32Array(ink.length);
  let count = 0;
  for (let i = 0; i < ink.length; i++) if (ink[i] >= 0.5) core[count++] = rel[i];
  if (count === 0) return 0;
  const smooth = Math.max(width, height) > 64 ? boxBlur(rel, width, height, 2) : rel;
  const level = quantile(smooth, 0.5);
  return (quantile(core.subarray(0, count), 0.5) - level) / Math.max(robustSigma(smooth, level), 0.004);
}

/** Result of {@link segmentInk}. */
export interface Segmented {
  ink: Float32Array;
  /** components found, kept */
  components: number;
  kept: number;
  /** bounding box of the kept ink, or null */
  bbox: { x0: number; y0: number; x1: number; y1: number } | null;
  /** area of the kept components' mask */
  area: number;
  /** components left out that hold at least 30% of the ink of the character's largest part */
  rivals: number;
  /** the kept components' share of the ink mass of every component (1: nothing else was marked) */
  dominance: number;
}

/**
 * Keep the written character: threshold the ink at `level` (default 0.35), label components,
 * keep those `selectCharacter` picks, and keep the ink (with its anti-aliased fringe, one
 * pixel around) under them.
 */
export function segmentInk(ink: Float32Array, width: number, height: number, level = 0.35): Segmented {
  const mask = new Uint8Array(ink.length);
  for (let i = 0; i < ink.length; i++) mask[i] = ink[i] >= level ? 1 : 0;
  removeRuledLines(mask, width, height);
  const { labels, components } = labelComponents(mask, width, height, ink);
  const minArea = Math.max(3, Math.round((width * height) / 40000));
  // a character is at least 4% of the frame's longer side (8 px): smaller marks are dust
  const minSide = Math.max(8, 0.04 * Math.max(width, height));
  const big = components.filter((c) => Math.max(c.x1 - c.x0 + 1, c.y1 - c.y0 + 1) >= minSide / 2 || c.area >= minSide);
  let keep = new Set(selectCharacter(big, { minArea, frame: { width, height } }));
  const kb = boundsOf(components.filter((c) => keep.has(c.label)));
  if (!kb || Math.max(kb.x1 - kb.x0 + 1, kb.y1 - kb.y0 + 1) < minSide) keep = new Set();
  const keptMass = Math.max(0, ...components.filter((c) => keep.has(c.label)).map((c) => c.mass));
  const rivals = components.filter((c) => !keep.has(c.label) && c.mass >= 0.3 * keptMass).length;
  let allMass = 0;
  let keptTotal = 0;
  for (const c of components) {
    allMass += c.mass;
    if (keep.has(c.label)) keptTotal += c.mass;
  }
  const dominance = allMass > 0 ? keptTotal / allMass : 0;
  const out = new Float32Array(ink.length);
  let area = 0;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  const kept = new Uint8Array(ink.length);
  const keepLabel = new Uint8Array(components.length + 1);
  for (const l of keep) keepLabel[l] = 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!keepLabel[labels[y * width + x]]) continue;
      kept[y * width + x] = 1;
      area++;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  // the strokes' soft edges (ink below the mask level) belong to them: keep the ink within a
  // fringe of 4% of the character's size around the kept components (a 2 px MNIST edge is
  // 16 px wide in a 8x scan; cutting it thins every stroke)
  const side = x1 < 0 ? 0 : Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const fringe = boxDilate(kept, width, height, Math.max(1, Math.round(0.04 * side)));
  for (let i = 0; i < ink.length; i++) if (fringe[i]) out[i] = ink[i];
  return { ink: out, components: components.length, kept: keep.size, bbox: x1 < 0 ? null : { x0, y0, x1, y1 }, area, rivals, dominance };
}

/** Binary dilation with a (2r+1) x (2r+1) square, separably (running counts). */
export function boxDilate(mask: Uint8Array, width: number, height: number, r: number): Uint8Array {
  const tmp = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    let count = 0;
    for (let x = 0; x < Math.min(width, r); x++) count += mask[y * width + x];
    for (let x = 0; x < width; x++) {
      if (x + r < width) count += mask[y * width + x + r];
      if (x - r - 1 >= 0) count -= mask[y * width + x - r - 1];
      tmp[y * width + x] = count > 0 ? 1 : 0;
    }
  }
  const out = new Uint8Array(mask.length);
  for (let x = 0; x < width; x++) {
    let count = 0;
    for (let y = 0; y < Math.min(height, r); y++) count += tmp[y * width + x];
    for (let y = 0; y < height; y++) {
      if (y + r < height) count += tmp[(y + r) * width + x];
      if (y - r - 1 >= 0) count -= tmp[(y - r - 1) * width + x];
      out[y * width + x] = count > 0 ? 1 : 0;
    }
  }
  return out;
}

function boundsOf(cs: { x0: number; y0: number; x1: number; y1: number }[]): { x0: number; y0: number; x1: number; y1: number } | null {
  if (cs.length === 0) return null;
  return { x0: Math.min(...cs.map((c) => c.x0)), y0: Math.min(...cs.map((c) => c.y0)), x1: Math.max(...cs.map((c) => c.x1)), y1: Math.max(...cs.map((c) => c.y1)) };
}

/**
 * In place: clear ruled lines (and margin lines) from a mask: a row whose thin ink (vertical
 * extent at most 2% of the height, 3 px at least) covers half the width or more is a line, and
 * its thin pixels are cleared; the same for columns. Where a written stroke crosses a line
 * the ink is not thin there, so the character stays whole.
 */
export function removeRuledLines(mask: Uint8Array, width: number, height: number): void {
  const thinV = Math.max(2, Math.round(0.006 * height));
  const thinH = Math.max(2, Math.round(0.006 * width));
  const vRun = runLengths(mask, width, height, true);
  const hRun = runLengths(mask, width, height, false);
  const clear: number[] = [];
  for (let y = 0; y < height; y++) {
    let n = 0;
    for (let x = 0; x < width; x++) if (mask[y * width + x] && vRun[y * width + x] <= thinV) n++;
    if (n >= 0.5 * width) for (let x = 0; x < width; x++) if (mask[y * width + x] && vRun[y * width + x] <= thinV) clear.push(y * width + x);
  }
  for (let x = 0; x < width; x++) {
    let n = 0;
    for (let y = 0; y < height; y++) if (mask[y * width + x] && hRun[y * width + x] <= thinH) n++;
    if (n >= 0.5 * height) for (let y = 0; y < height; y++) if (mask[y * width + x] && hRun[y * width + x] <= thinH) clear.push(y * width + x);
  }
  for (const i of clear) mask[i] = 0;
}

/** Length of the run of set pixels through each pixel, vertically or horizontally. */
function runLengths(mask: Uint8Array, width: number, height: number, vertical: boolean): Uint16Array {
  const out = new Uint16Array(mask.length);
  const outer = vertical ? width : height;
  const inner = vertical ? height : width;
  // pixel (o, i) of a line is at o * lineStep + i * step
  const step = vertical ? width : 1;
  const lineStep = vertical ? 1 : width;
  for (let o = 0; o < outer; o++) {
    const base = o * lineStep;
    let i = 0;
    while (i < inner) {
      if (!mask[base + i * step]) {
        i++;
        continue;
      }
      let j = i;
      while (j < inner && mask[base + j * step]) j++;
      const run = Math.min(65535, j - i);
      for (let k = i; k < j; k++) out[base + k * step] = run;
      i = j;
    }
  }
  return out;
}

/**
 * Mean stroke width of a binary-ish ink image: 2 x area / perimeter of the mask ink >= 0.35
 * (a long stroke of width w has area ~ L w and perimeter ~ 2 L).
 */
export function strokeWidth(ink: ArrayLike<number>, width: number, height: number): number {
  let area = 0;
  let perimeter = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      if (!(ink[i] >= 0.35)) continue;
      area++;
      // set 4-neighbours inside the frame
      const n = (x > 0 && ink[i - 1] >= 0.35 ? 1 : 0) + (x + 1 < width && ink[i + 1] >= 0.35 ? 1 : 0) + (y > 0 && ink[i - width] >= 0.35 ? 1 : 0) + (y + 1 < height && ink[i + width] >= 0.35 ? 1 : 0);
      perimeter += 4 - n;
    }
  }
  return perimeter > 0 ? (2 * area) / perimeter : 0;
}

/** Grey dilation (max filter) with a disc of `radius` pixels. */
export function dilate(ink: Float32Array, width: number, height: number, radius: number): Float32Array {
  if (radius <= 0) return ink;
  const out = new Float32Array(ink.length);
  const offs: [number, number][] = [];
  for (let dy = -radius; dy <= radius; dy++) for (let dx = -radius; dx <= radius; dx++) if (dx * dx + dy * dy <= radius * radius + 0.5) offs.push([dx, dy]);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let m = 0;
      for (const [dx, dy] of offs) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
        const v = ink[yy * width + xx];
        if (v > m) m = v;
      }
      out[y * width + x] = m;
    }
  }
  return out;
}

/**
 * MNIST's pen: the median stroke of its training digits is 2.1 px in the 20 px box (0.106 of
 * the character's longer side; 10% of them are under 1.64 px). A stroke thinner than 70% of
 * `target` x the character's longer side is thickened by dilation to about `target`; thick
 * strokes are left alone (MNIST has thick ones too).
 */
export function normaliseStrokeWidth(ink: Float32Array, width: number, height: number, bbox: { x0: number; y0: number; x1: number; y1: number }, target = 0.1): Float32Array {
  const side = Math.max(bbox.x1 - bbox.x0 + 1, bbox.y1 - bbox.y0 + 1);
  const w = strokeWidth(ink, width, height);
  const want = target * side;
  if (w <= 0 || w >= 0.7 * want) return ink;
  const radius = Math.round((want - w) / 2);
  return radius >= 1 ? dilate(ink, width, height, radius) : ink;
}

/** What the pipeline saw, for `--save-preprocessed` users and the sanity check. */
export interface PipelineInfo {
  polarity: Polarity;
  /** strongest ink in units of the noise floor */
  contrast: number;
  /** noise level (robust sigma of the relative deviation from the background) */
  noise: number;
  components: number;
  kept: number;
  /** components as strong as the character that were left out (many: texture, not writing) */
  rivals: number;
  /** the stroke width was normalised */
  thickened: boolean;
  /** which image the ink was read from */
  channel: InkChannel;
  /** stroke evidence at the stroke's scale ({@link FlatInk.snr}) */
  snr: number;
  /** the kept components' share of all the marks' ink ({@link Segmented.dominance}) */
  dominance: number;
  /** the character's pen width, in units of its longer side (MNIST: about 0.1) */
  strokeWidth: number;
  /** the character's pen path length (kept area / pen width), in units of its longer side (a digit: 1.5-5) */
  strokeLength: number;
}

/** Options of {@link pictureToInk}. */
export interface PipelineOptions {
  ink?: InkOption;
  /** the decoder already decided on step 2 (and applied sharp's 3x3 median where the picture was noisy), so it is skipped here */
  noiseHandled?: boolean;
}

/**
 * Colour pictures: the ink's colour difference from the paper, as a grey image (paper about
 * 0.8, the ink's colour about 0.2, dark-ink polarity). Each pixel's colour minus its projection
 * on the paper's colour (the per-channel median) is what brightness changes cannot make: paper
 * grain, shadows and uneven light scale the paper's colour and vanish here, a teal or blue pen on
 * yellow, green or grey paper does not. The direction is that of the 3% most distinct pixels'
 * mean difference; null for grey pictures or when no colour stands out.
 */
export function chromaImage(data: Uint8Array, width: number, height: number, channels: number): Float32Array | null {
  if (channels < 3) return null;
  const n = width * height;
  // a grey picture stored as RGB (a scan, a screenshot) has no colour to read: no pixel is off the grey axis
  let grey = true;
  for (let i = 0; i < n && grey; i++) {
    const o = i * channels;
    grey = data[o] === data[o + 1] && data[o] === data[o + 2];
  }
  if (grey) return null;
  const paper = [0, 1, 2].map((c) => {
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = data[i * channels + c] / 255;
    return histogramQuantile(v, 0.5);
  });
  const norm = Math.hypot(paper[0], paper[1], paper[2]);
  if (norm < 0.05) return null;
  const p = paper.map((v) => v / norm);
  const perp = new Float32Array(n * 3);
  const mag = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    const r = data[o] / 255;
    const g = data[o + 1] / 255;
    const b = data[o + 2] / 255;
    const along = r * p[0] + g * p[1] + b * p[2];
    const d = [r - along * p[0], g - along * p[1], b - along * p[2]];
    perp.set(d, i * 3);
    mag[i] = Math.hypot(d[0], d[1], d[2]);
  }
  const cut = histogramQuantile(mag, 0.97);
  const dir = [0, 0, 0];
  for (let i = 0; i < n; i++) if (mag[i] >= cut) for (let c = 0; c < 3; c++) dir[c] += perp[i * 3 + c];
  const len = Math.hypot(dir[0], dir[1], dir[2]);
  if (len === 0) return null;
  const u = dir.map((v) => v / len);
  const proj = new Float32Array(n);
  for (let i = 0; i < n; i++) proj[i] = perp[i * 3] * u[0] + perp[i * 3 + 1] * u[1] + perp[i * 3 + 2] * u[2];
  // the ink's colour must stand out of the colour noise (JPEG, sensor) by itself: at least
  // CHROMA_MIN in RGB units and 6 robust sigmas of the picture's own colour spread along u
  const ink = histogramQuantile(proj, 0.99);
  const centre = histogramQuantile(proj, 0.5);
  const dev = new Float32Array(n);
  for (let i = 0; i < n; i++) dev[i] = Math.abs(proj[i] - centre);
  const spread = 1.4826 * histogramQuantile(dev, 0.5);
  if (!(ink - centre > CHROMA_MIN) || ink - centre < 6 * spread) return null;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(1, Math.max(0, 0.8 - (0.6 * (proj[i] - centre)) / (ink - centre)));
  return out;
}

/** Least colour difference (RGB units 0..1) between ink and paper for the chroma image to be used. */
export const CHROMA_MIN = 0.08;

/** Which image the ink was read from: brightness, or the colour difference from the paper. */
export type InkChannel = 'luminance' | 'chroma';

/** The chroma image is used when its stroke evidence is this many times the luminance's. */
export const CHROMA_GAIN = 1.5;

/** Polarity, background and flattened ink of one grey image (steps 3-5). */
function flattenGrey(lum: Float32Array, width: number, height: number, forced?: Polarity): { flat: FlatInk; polarity: Polarity } {
  // polarity: a first guess against the picture's median level (the paper is most of the frame,
  // even where thick strokes fill whole blocks), then the background for that polarity,
  // checked once more against it
  let polarity = forced ?? detectPolarity(lum, new Float32Array(lum.length).fill(quantile(lum, 0.5)));
  let bg = estimateBackground(lum, width, height, polarity);
  if (!forced) {
    const again = detectPolarity(lum, bg);
    if (again !== polarity) {
      polarity = again;
      bg = estimateBackground(lum, width, height, polarity);
    }
  }
  return { flat: flattenInk(lum, bg, polarity, width, height), polarity };
}

/**
 * Steps 1-5: decoded pixels -> the whole picture's flattened ink (every mark, nothing
 * segmented). Colour pictures are read from brightness and from colour ({@link chromaImage});
 * the one with the clearer strokes ({@link FlatInk.snr}, chroma by a margin of CHROMA_GAIN) wins.
 */
export function pictureToFlatInk(data: Uint8Array, width: number, height: number, channels: number, opts: PipelineOptions = {}): { flat: FlatInk; polarity: Polarity; channel: InkChannel } {
  let lum = luminance(data, width, height, channels);
  if (Math.max(width, height) > 64 && !opts.noiseHandled && pixelNoise(lum, width, height) > MEDIAN_NOISE) lum = median3(lum, width, height);
  const forced = opts.ink && opts.ink !== 'auto' ? opts.ink : undefined;
  const small = Math.max(width, height) <= 64;
  let byLum = flattenGrey(lum, width, height, forced);
  // grainy paper: the grain is finer than a pen's stroke, so a blur at a scale below the
  // stroke's (about 1.5 px) takes it out and leaves the stroke
  const grainy = !small && byLum.flat.sigma > GRAIN_NOISE;
  if (grainy) byLum = flattenGrey(smoothGrain(lum, width, height), width, height, forced);
  if (forced || small) return { ...byLum, channel: 'luminance' };
  let chroma = chromaImage(data, width, height, channels);
  if (!chroma) return { ...byLum, channel: 'luminance' };
  if (grainy) chroma = smoothGrain(chroma, width, height);
  const byChroma = flattenGrey(chroma, width, height, 'dark');
  return byChroma.flat.snr > CHROMA_GAIN * byLum.flat.snr ? { ...byChroma, channel: 'chroma' } : { ...byLum, channel: 'luminance' };
}

/** Above this noise level (relative to the paper) a picture's paper is grainy and is smoothed before its ink is read. */
export const GRAIN_NOISE = 0.035;

/** Two 3x3 box blurs (about a Gaussian of sigma 1.15 px). */
export function smoothGrain(img: Float32Array, width: number, height: number): Float32Array {
  return boxBlur(boxBlur(img, width, height, 1), width, height, 1);
}

/**
 * Steps 1-7: decoded pixels -> an ink image (white on black, 0..1) holding only the
 * character (cut out of a large picture and worked on at WORK_SIDE at most: {@link workingCrop}),
 * its size, and what was decided. Step 8 (the MNIST recipe) is done by the caller.
 */
export function pictureToInk(data: Uint8Array, width: number, height: number, channels: number, opts: PipelineOptions = {}): { ink: Float32Array; width: number; height: number; info: PipelineInfo } {
  const { flat, polarity, channel } = pictureToFlatInk(data, width, height, channels, opts);
  const base = { polarity, contrast: flat.contrast, noise: flat.sigma, channel, snr: flat.snr };
  if (Math.max(width, height) <= 64) {
    // an MNIST-size picture keeps every mark (no component is dropped from 28 px); only a
    // one-pixel pen (a drawing made at 28x28, not an MNIST export) is thickened
    const bbox = inkBBoxOf(flat.ink, width, height);
    const ink = bbox && strokeWidth(flat.ink, width, height) < 1.3 ? normaliseStrokeWidth(flat.ink, width, height, bbox) : flat.ink;
    const side = bbox ? Math.max(bbox.x1 - bbox.x0 + 1, bbox.y1 - bbox.y0 + 1) : 1;
    const marked = bbox ? 1 : 0;
    return { ink, width, height, info: { ...base, components: marked, kept: marked, rivals: 0, dominance: 1, ...penGeometry(flat.ink, width, height, side), thickened: ink !== flat.ink } };
  }
  const seg = segmentInk(flat.ink, width, height);
  const side = seg.bbox ? Math.max(seg.bbox.x1 - seg.bbox.x0 + 1, seg.bbox.y1 - seg.bbox.y0 + 1) : 1;
  const info = { ...base, components: seg.components, kept: seg.kept, rivals: seg.rivals, dominance: seg.dominance, ...penGeometry(seg.ink, width, height, side) };
  if (!seg.bbox) return { ink: seg.ink, width, height, info: { ...info, thickened: false } };
  const crop = workingCrop(seg.ink, width, height, seg.bbox);
  // the character's own box inside the crop's border: sizes are relative to it
  const box = crop.box;
  const charSide = Math.max(box.x1 - box.x0 + 1, box.y1 - box.y0 + 1);
  // a thin pen that outlined a digit encloses the stroke's inside: filled, it is the stroke
  const thinPen = strokeWidth(crop.ink, crop.width, crop.height) < 0.7 * 0.1 * charSide;
  const filled = thinPen ? fillThinHoles(crop.ink, crop.width, crop.height, MAX_FILL_THICKNESS * charSide) : crop.ink;
  const ink = normaliseStrokeWidth(filled, crop.width, crop.height, box);
  return { ink, width: crop.width, height: crop.height, info: { ...info, thickened: ink !== filled } };
}

/** Enclosed paper thinner than this (in units of the character's side) is the inside of an outlined stroke. */
export const MAX_FILL_THICKNESS = 0.06;

/**
 * Fill the holes of the ink whose thickness (2 x area / perimeter, the perimeter counted as the
 * hole's pixels next to ink) is below `maxThickness` px, or below 2.5 times that when the hole
 * is long and narrow (perimeter^2 / area > 30): the inside of
 * a stroke drawn as an outline is as thick as the stroke (MNIST's pen: about 0.1 of the
 * character) and runs along it, a digit's loop (0, 6, 8, 9) is round and thicker, and stays open. Holes are 4-connected paper regions (below WALL: a faint pen, shrunk
 * from a large canvas, still closes them) that do not reach the border.
 */
const WALL = 0.15;

export function fillThinHoles(ink: Float32Array, width: number, height: number, maxThickness: number): Float32Array {
  const n = width * height;
  const label = new Int32Array(n).fill(-1);
  const out = Float32Array.from(ink);
  const stack: number[] = [];
  let changed = false;
  for (let start = 0; start < n; start++) {
    if (ink[start] >= WALL || label[start] >= 0) continue;
    const members: number[] = [];
    let touches = false;
    let perimeter = 0;
    label[start] = start;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      members.push(p);
      const x = p % width;
      const y = (p - x) / width;
      if (x === 0 || y === 0 || x === width - 1 || y === height - 1) touches = true;
      let wall = false;
      for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
        const q = yy * width + xx;
        if (ink[q] >= WALL) wall = true;
        else if (label[q] < 0) {
          label[q] = start;
          stack.push(q);
        }
      }
      if (wall) perimeter++;
    }
    const thickness = (2 * members.length) / Math.max(1, perimeter);
    // thin, or up to 2.5 times as thick when long and narrow (P^2 / A: a disc about 15, a 10:1 bar 48)
    const elongated = (perimeter * perimeter) / members.length > 30;
    if (touches || perimeter === 0 || thickness >= (elongated ? 2.5 : 1) * maxThickness) continue;
    for (const p of members) out[p] = 1;
    changed = true;
  }
  return changed ? out : ink;
}

/** The character is worked on at most this many pixels on its longer side (5x MNIST's 20 px box). */
export const WORK_SIDE = 100;

/**
 * The character's box (and a 2 px margin for its strokes' soft edges) cut out of the ink; a character larger than WORK_SIDE
 * is shrunk to it by area averaging, so a one-pixel pen on a large canvas keeps its ink (fainter,
 * wider) instead of vanishing between samples, then rescaled so its strongest ink is 1 again;
 * then an empty border of 8% of its size for the thickened pen. Stroke-width normalisation then
 * works at this size whatever the picture's.
 */
export function workingCrop(ink: Float32Array, width: number, height: number, box: { x0: number; y0: number; x1: number; y1: number }): { ink: Float32Array; width: number; height: number; box: { x0: number; y0: number; x1: number; y1: number } } {
  // a 2 px margin keeps the strokes' anti-aliased edges (a margin as wide as segmentInk's fringe
  // moved a test drawing's 28x28 image away from the MNIST recipe applied to its ink: 0.0115 vs < 0.01)
  const margin = 2;
  const x0 = Math.max(0, box.x0 - margin);
  const y0 = Math.max(0, box.y0 - margin);
  const cw = Math.min(width - 1, box.x1 + margin) - x0 + 1;
  const ch = Math.min(height - 1, box.y1 + margin) - y0 + 1;
  const crop = new Float32Array(cw * ch);
  for (let y = 0; y < ch; y++) crop.set(ink.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + cw), y * cw);
  const side = Math.max(cw, ch);
  let work: Float32Array = crop;
  let w = cw;
  let h = ch;
  if (side > WORK_SIDE) {
    const k = WORK_SIDE / side;
    w = Math.max(1, Math.round(cw * k));
    h = Math.max(1, Math.round(ch * k));
    work = resize(crop, cw, ch, w, h);
    let max = 0;
    for (const v of work) if (v > max) max = v;
    if (max > 0) for (let i = 0; i < work.length; i++) work[i] = Math.min(1, work[i] / max);
  }
  // room around the character for the pen to be thickened into (MNIST's pen is 0.1 of the
  // character): clipped at the crop's edge, a thickened round 0 would come out square-shouldered
  const pad = Math.ceil(0.08 * Math.max(w, h)) + 1;
  const W = w + 2 * pad;
  const out = new Float32Array(W * (h + 2 * pad));
  for (let y = 0; y < h; y++) out.set(work.subarray(y * w, (y + 1) * w), (y + pad) * W + pad);
  // where the character's own box (without the soft-edge margin) lies in the result
  const k = w / cw;
  const at = (v: number) => Math.round(v * k);
  return {
    ink: out,
    width: W,
    height: h + 2 * pad,
    box: { x0: pad + at(box.x0 - x0), y0: pad + at(box.y0 - y0), x1: pad + Math.min(w - 1, at(box.x1 - x0)), y1: pad + Math.min(h - 1, at(box.y1 - y0)) },
  };
}

/** Pen width and path length of an ink image, in units of the character's longer side `side`. */
export function penGeometry(ink: Float32Array, width: number, height: number, side: number): { strokeWidth: number; strokeLength: number } {
  let area = 0;
  for (let i = 0; i < ink.length; i++) if (ink[i] >= 0.35) area++;
  const w = strokeWidth(ink, width, height);
  return { strokeWidth: w / side, strokeLength: w > 0 ? area / w / side : 0 };
}

/** Bounding box of the ink >= 0.35, or null. */
function inkBBoxOf(ink: Float32Array, width: number, height: number): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    if (ink[y * width + x] < 0.35) continue;
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return x1 < 0 ? null : { x0, y0, x1, y1 };
}
