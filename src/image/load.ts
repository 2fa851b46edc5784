/**
 * Any picture -> one MNIST-style 28x28 digit image.
 *
 * The maths is pure (arrays in, arrays out) so it can be tested table-style and reused by
 * the synthetic adversaries; only {@link loadImageAsMnist} and {@link saveMnistPng} touch
 * files (through sharp).
 *
 * MNIST's own recipe (LeCun et al.): the ink is size-normalised to fit a 20x20 box keeping
 * its aspect ratio (anti-aliased), then placed in a 28x28 field so that its centre of mass
 * sits at the centre. Measured on the MNIST test set: the longer side of the non-zero bounding
 * box is 20 px for 9,997 of 10,000 digits, and the mean centre of mass, in pixel-index
 * coordinates, is (14.01, 13.99), each digit within [13.5, 14.5] — i.e. an integer shift of
 * `round(14 - com)`, which is what {@link preprocessToMnist} does.
 */
import type sharpType from 'sharp';
import { existsSync, writeFileSync } from 'node:fs';
import { ImageError } from '../errors';
import { InkOption, luminance, MEDIAN_NOISE, normaliseStrokeWidth, penGeometry, pictureToFlatInk, pictureToInk, PipelineInfo, pixelNoise } from './pipeline';
import { NumberDigit, segmentNumberGroups } from './number';
import { axisTaps, resize } from './resample';

export { axisTaps, resize };

/** sharp (native libvips) is loaded on first use, so importing this module stays cheap. */
function sharp(...args: Parameters<typeof sharpType>): ReturnType<typeof sharpType> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('sharp') as typeof sharpType)(...args);
}

/** Side of an MNIST image. */
export const MNIST_SIZE = 28;
/** Side of the box the ink's longer side is scaled to. */
export const MNIST_BOX = 20;

/** Options of {@link preprocessToMnist}. */
export interface PreprocessOptions {
  /**
   * Ink values at or below this are treated as background: they are set to 0 and do not
   * count towards the bounding box. Default 0.05 (about 13/255: above the ringing of a
   * quality-90 JPEG on white; MNIST digits themselves change by a mean of 0.0005).
   */
  threshold?: number;
  /** Scale the ink so its maximum is 1 (a grey pencil counts as black). Default true. */
  normalize?: boolean;
  /** Output side (default 28). */
  size?: number;
  /** Box the longer side of the ink is fitted into (default 20). */
  box?: number;
}

/** Bounding box in pixel indices, inclusive: x0..x1, y0..y1. */
export interface BBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Result of {@link preprocessToMnist}. */
export interface MnistImage {
  /** size*size row-major values in [0,1], white ink on black */
  pixels: Float32Array;
  /** true when no pixel exceeded the threshold (pixels are then all zero) */
  empty: boolean;
  /** ink bounding box in the input image, or null when empty */
  bbox: BBox | null;
  /** width and height of the ink after fitting into the box */
  fitted: { width: number; height: number };
  /** top-left corner where the fitted ink was pasted (may be negative: clipped) */
  offset: { x: number; y: number };
  /** centre of mass of the output image, pixel-index coordinates */
  centerOfMass: { x: number; y: number };
}

/**
 * Bounding box of the pixels whose value exceeds `threshold`, or null when there are none.
 */
export function inkBBox(img: ArrayLike<number>, width: number, height: number, threshold: number): BBox | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (img[row + x] > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { x0, y0, x1, y1 };
}

/**
 * Centre of mass (value-weighted mean pixel index) of an image; null when its sum is 0.
 */
export function centerOfMass(img: ArrayLike<number>, width: number, height: number): { x: number; y: number } | null {
  let m = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = img[y * width + x];
      m += v;
      sx += v * x;
      sy += v * y;
    }
  }
  return m > 0 ? { x: sx / m, y: sy / m } : null;
}

/**
 * Size of the ink once its longer side is fitted into `box`, keeping the aspect ratio
 * (the shorter side is rounded, at least 1).
 */
export function fitSize(width: number, height: number, box: number): { width: number; height: number } {
  if (width >= height) return { width: box, height: Math.max(1, Math.round((height * box) / width)) };
  return { width: Math.max(1, Math.round((width * box) / height)), height: box };
}

/**
 * The MNIST preprocessing on an "ink" image (white-on-black, values 0..1; a Uint8Array is
 * read as 0..255): threshold, crop to the ink's bounding box, optionally normalise the
 * maximum to 1, fit the longer side into 20x20 keeping aspect, paste into 28x28 so the
 * centre of mass lands on pixel (14, 14) (integer shift, rounded; what falls outside is
 * clipped), clamp to [0,1]. Blank input gives all zeros with `empty: true`. Pure.
 */
export function preprocessToMnist(
  gray: Float32Array | Uint8Array,
  width: number,
  height: number,
  opts: PreprocessOptions = {},
): MnistImage {
  const threshold = opts.threshold ?? 0.05;
  const size = opts.size ?? MNIST_SIZE;
  const box = opts.box ?? MNIST_BOX;
  if (gray.length !== width * height) {
    throw new ImageError(`preprocessToMnist: ${gray.length} values for a ${width}x${height} image`);
  }
  const scale = gray instanceof Uint8Array ? 1 / 255 : 1;
  const img = new Float32Array(width * height);
  for (let i = 0; i < img.length; i++) {
    const v = gray[i] * scale;
    img[i] = v > threshold ? Math.min(1, v) : 0;
  }
  const pixels = new Float32Array(size * size);
  const bbox = inkBBox(img, width, height, 0);
  if (!bbox) {
    return { pixels, empty: true, bbox: null, fitted: { width: 0, height: 0 }, offset: { x: 0, y: 0 }, centerOfMass: { x: size / 2, y: size / 2 } };
  }
  const cw = bbox.x1 - bbox.x0 + 1;
  const ch = bbox.y1 - bbox.y0 + 1;
  const crop = new Float32Array(cw * ch);
  let max = 0;
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      const v = img[(bbox.y0 + y) * width + bbox.x0 + x];
      crop[y * cw + x] = v;
      if (v > max) max = v;
    }
  }
  if (opts.normalize ?? true) for (let i = 0; i < crop.length; i++) crop[i] /= max;
  const fitted = fitSize(cw, ch, box);
  const patch = resize(crop, cw, ch, fitted.width, fitted.height);
  const com = centerOfMass(patch, fitted.width, fitted.height) ?? { x: fitted.width / 2, y: fitted.height / 2 };
  const ox = Math.round(size / 2 - com.x);
  const oy = Math.round(size / 2 - com.y);
  for (let y = 0; y < fitted.height; y++) {
    const ty = y + oy;
    if (ty < 0 || ty >= size) continue;
    for (let x = 0; x < fitted.width; x++) {
      const tx = x + ox;
      if (tx < 0 || tx >= size) continue;
      pixels[ty * size + tx] = Math.min(1, Math.max(0, patch[y * fitted.width + x]));
    }
  }
  const outCom = centerOfMass(pixels, size, size) ?? { x: size / 2, y: size / 2 };
  return { pixels, empty: false, bbox, fitted, offset: { x: ox, y: oy }, centerOfMass: outCom };
}

/** Result of {@link loadImageAsMnist}. */
export interface LoadedMnistImage {
  /** 784 values in [0,1], white ink on black, MNIST-centred */
  pixels: Float32Array;
  /** size of the original picture (before the decode-time downscaling) */
  width: number;
  height: number;
  /** true when the picture held no ink (pixels all zero) */
  empty: boolean;
  /** what the picture pipeline decided (polarity, contrast, components) */
  info: PipelineInfo;
}

/** Pictures are downscaled while decoding so their longer side is at most this. */
export const MAX_DECODE_SIDE = 640;

/** Decoded 8-bit pixels of a picture, downscaled to at most `maxSide`. */
export interface DecodedPicture {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
  /** the picture's own size (after EXIF orientation) */
  originalWidth: number;
  originalHeight: number;
  /** sharp's 3x3 median was applied (the picture was noisy) */
  denoised: boolean;
}

/**
 * Decode any picture sharp reads (PNG, JPEG, WebP, GIF, TIFF, AVIF; grey, RGB, CMYK, palette,
 * 8 or 16 bits, alpha), apply its EXIF orientation, and downscale it as it is decoded
 * (JPEG shrink-on-load; libvips streams the rest) so the longer side is at most `maxSide`.
 * @throws ImageError when the file is missing or is not a decodable image
 */
export async function decodePicture(input: string | Buffer, maxSide = MAX_DECODE_SIDE, name?: string, opts: { median?: boolean } = {}): Promise<DecodedPicture> {
  const label = typeof input === 'string' ? input : (name ?? 'image buffer');
  try {
    const meta = await sharp(input, { limitInputPixels: 1e10 }).metadata();
    const rotated = (meta.orientation ?? 1) >= 5;
    const w0 = (rotated ? meta.height : meta.width) ?? 0;
    const h0 = (rotated ? meta.width : meta.height) ?? 0;
    let pipe = sharp(input, { limitInputPixels: 1e10, sequentialRead: true })
      .rotate()
      .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true });
    const { data, info } = await pipe.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    let pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // sharp's 3x3 median against sensor noise and JPEG specks, on noisy pictures larger than MNIST's
    let denoised = false;
    if (opts.median && Math.max(info.width, info.height) > 64 && pixelNoise(luminance(pixels, info.width, info.height, info.channels), info.width, info.height) > MEDIAN_NOISE) {
      const m = await sharp(Buffer.from(pixels), { raw: { width: info.width, height: info.height, channels: info.channels as 1 | 2 | 3 | 4 } }).median(3).raw().toBuffer();
      pixels = new Uint8Array(m.buffer, m.byteOffset, m.byteLength);
      denoised = true;
    }
    return { data: pixels, width: info.width, height: info.height, channels: info.channels, originalWidth: w0 || info.width, originalHeight: h0 || info.height, denoised };
  } catch (e) {
    throw new ImageError(`${label}: ${decodeFailure(input, e as Error)}`);
  }
}

/**
 * Why a picture could not be decoded. A path is "not found" when the file system says so, not
 * when sharp's message does: sharp tells a missing file from an unknown format by reading
 * libvips' error buffer, which all threads share, so with decode workers running side by side
 * one file's error can be read as another's (seen in CI: a missing file reported as an
 * unsupported format).
 */
export function decodeFailure(input: string | Buffer, err: Error): string {
  if (typeof input === 'string' && !existsSync(input)) return 'file not found';
  // sharp said "missing" for a file that is there: the other thread's message; the format is what is unknown
  const message = /^Input file is missing/.test(err.message) ? 'Input file contains unsupported image format' : err.message;
  return `not a readable image: ${message}`;
}

/**
 * Read a picture (a file path or its bytes) and preprocess it like MNIST through the picture
 * pipeline (src/image/pipeline.ts): polarity (or `ink` forced), background flattening,
 * contrast normalisation, the character's connected components, stroke width, then the MNIST
 * recipe and MNIST's tone ({@link normaliseTone}). Works for MNIST PNG exports (white on black, 28x28), scans, phone photos, drawings
 * with alpha.
 * @throws ImageError when the file is missing or is not a decodable image
 */
export async function loadImageAsMnist(input: string | Buffer, opts: PreprocessOptions & { name?: string; ink?: InkOption } = {}): Promise<LoadedMnistImage> {
  const pic = await decodePicture(input, MAX_DECODE_SIDE, opts.name, { median: true });
  const { ink, width, height, info } = pictureToInk(pic.data, pic.width, pic.height, pic.channels, { ink: opts.ink, noiseHandled: true });
  const r = preprocessToMnist(ink, width, height, { threshold: 0.02, ...opts });
  return { pixels: normaliseTone(r.pixels), width: pic.originalWidth, height: pic.originalHeight, empty: r.empty, info };
}

/**
 * MNIST's tone: in its training digits the median share of ink pixels (value > 0.05) that are
 * saturated (>= 250/255) is 0.37. Scans, photos and generated shapes come out of resampling
 * with softer cores (in some none are saturated), a style difference a model can learn to
 * reject instead of a shape. This scales an image so that its (1 - share) quantile of ink
 * pixels becomes 1 (clamped), and only ever brightens. Pure; in place on a copy.
 */
export const MNIST_SATURATED_SHARE = 0.37;

export function normaliseTone(pixels: Float32Array, share = MNIST_SATURATED_SHARE): Float32Array {
  const ink: number[] = [];
  for (let i = 0; i < pixels.length; i++) if (pixels[i] > 0.05) ink.push(pixels[i]);
  if (ink.length === 0) return pixels;
  ink.sort((a, b) => a - b);
  const q = ink[Math.min(ink.length - 1, Math.floor((1 - share) * (ink.length - 1)))];
  if (!(q > 0) || q >= 1) return pixels;
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = Math.min(1, pixels[i] / q);
  return out;
}

/** Float [0,1] pixels -> bytes 0..255 (rounded, clamped). */
export function toBytes(pixels: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, pixels[i])) * 255);
  return out;
}

/** 784 values (0..1, or bytes 0..255 if a Uint8Array) as the bytes of a 28x28 grayscale PNG, white ink on black as in MNIST. */
export async function mnistPng(pixels: Float32Array | Uint8Array): Promise<Buffer> {
  if (pixels.length !== MNIST_SIZE * MNIST_SIZE) throw new ImageError(`expected 784 pixels, got ${pixels.length}`);
  const bytes = pixels instanceof Uint8Array ? pixels : toBytes(pixels);
  return sharp(Buffer.from(bytes), { raw: { width: MNIST_SIZE, height: MNIST_SIZE, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}

/** Write {@link mnistPng} to `path` (for `--save-preprocessed`). */
export async function saveMnistPng(pixels: Float32Array | Uint8Array, path: string): Promise<void> {
  if (pixels.length !== MNIST_SIZE * MNIST_SIZE) throw new ImageError(`saveMnistPng: expected 784 pixels, got ${pixels.length}`);
  try {
    writeFileSync(path, await mnistPng(pixels));
  } catch (e) {
    throw new ImageError(`${path}: cannot write PNG (${(e as Error).message})`);
  }
}

/** Result of {@link loadNumberAsMnist}. */
export interface LoadedNumber {
  /** one MNIST-style 784-value image per written digit, left to right */
  digits: Float32Array[];
  /** each digit's box in the (decode-scaled) picture */
  boxes: DigitBox[];
  /**
   * per group of touching strokes, left to right, the pieces between its candidate cuts (each an
   * MNIST-style image, its box and the indices of its cuts among the group's `points`) and the
   * cut by width alone (`byWidth`, indices into `segments`: the pieces in `digits`)
   */
  groups: { points: number[]; segments: { digit: Float32Array; box: DigitBox; from: number; to: number }[]; byWidth: number[] }[];
  info: PipelineInfo;
}

/** Where a digit of a written number lies in the (decode-scaled) picture. */
export interface DigitBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Read a picture of a number written with several digits: the picture pipeline's flattened
 * ink, split into digits left to right (src/image/number.ts), each through the stroke-width
 * normalisation and the MNIST recipe.
 */
export async function loadNumberAsMnist(input: string | Buffer, opts: { name?: string; ink?: InkOption } = {}): Promise<LoadedNumber> {
  const pic = await decodePicture(input, MAX_DECODE_SIDE, opts.name, { median: true });
  const { flat, polarity, channel } = pictureToFlatInk(pic.data, pic.width, pic.height, pic.channels, { ink: opts.ink, noiseHandled: true });
  const toMnist = (d: NumberDigit): Float32Array => {
    const ink = normaliseStrokeWidth(d.ink, d.width, d.height, { x0: 0, y0: 0, x1: d.width - 1, y1: d.height - 1 });
    return normaliseTone(preprocessToMnist(ink, d.width, d.height, { threshold: 0.02 }).pixels);
  };
  const cut = segmentNumberGroups(flat.ink, pic.width, pic.height);
  const groups = cut.map((g) => ({
    points: g.points,
    segments: g.segments.map((s) => ({ digit: toMnist(s), box: { x0: s.x0, y0: s.y0, x1: s.x1, y1: s.y1 }, from: s.from, to: s.to })),
    byWidth: g.byWidth,
  }));
  const parts = cut.flatMap((g) => g.byWidth.map((i) => g.segments[i]));
  return {
    digits: groups.flatMap((g) => g.byWidth.map((i) => g.segments[i].digit)),
    boxes: groups.flatMap((g) => g.byWidth.map((i) => g.segments[i].box)),
    groups,
    info: { polarity, contrast: flat.contrast, noise: flat.sigma, channel, snr: flat.snr, components: parts.length, kept: parts.length, rivals: 0, dominance: 1, ...penGeometry(flat.ink, pic.width, pic.height, Math.max(1, ...parts.map((d) => Math.max(d.width, d.height)))), thickened: false },
  };
}
