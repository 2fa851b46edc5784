/**
 * Contact sheets: a grid of small images (e.g. 28x28 MNIST-style samples), upscaled with
 * nearest-neighbour pixels and separated by thin grey lines, as one grayscale PNG.
 */
import type sharpType from 'sharp';
import type { ImageSet } from '../data/idx';
import { ImageError } from '../errors';

/** sharp (native libvips) is loaded on first use, so importing this module stays cheap. */
function sharp(...args: Parameters<typeof sharpType>): ReturnType<typeof sharpType> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('sharp') as typeof sharpType)(...args);
}

/** Options of {@link contactSheet}. */
export interface ContactSheetOptions {
  /** images to show, the first ones (default all, at most 400) */
  count?: number;
  /** images per row (default: about the square root of the count) */
  cols?: number;
  /** upscaling factor per image (default 3) */
  scale?: number;
  /** separator width in output pixels (default 1) */
  sep?: number;
  /** separator gray level 0..255 (default 96) */
  sepValue?: number;
}

/** A single-channel 8-bit bitmap. */
export interface GrayBitmap {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Lay images out in a grid (pure). Empty cells of the last row stay black. */
export function contactSheet(images: ImageSet, opts: ContactSheetOptions = {}): GrayBitmap {
  const n = Math.min(images.count, opts.count ?? 400);
  if (n <= 0) throw new ImageError('contact sheet: no images to show');
  const cols = Math.max(1, Math.min(n, opts.cols ?? Math.ceil(Math.sqrt(n))));
  const rows = Math.ceil(n / cols);
  const scale = Math.max(1, Math.floor(opts.scale ?? 3));
  const sep = Math.max(0, Math.floor(opts.sep ?? 1));
  const cw = images.cols * scale;
  const ch = images.rows * scale;
  const width = cols * cw + (cols + 1) * sep;
  const height = rows * ch + (rows + 1) * sep;
  const data = new Uint8Array(width * height).fill(opts.sepValue ?? 96);
  const per = images.rows * images.cols;
  for (let k = 0; k < rows * cols; k++) {
    const ox = sep + (k % cols) * (cw + sep);
    const oy = sep + Math.floor(k / cols) * (ch + sep);
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) {
        const v = k < n ? images.pixels[k * per + Math.floor(y / scale) * images.cols + Math.floor(x / scale)] : 0;
        data[(oy + y) * width + ox + x] = v;
      }
    }
  }
  return { width, height, data };
}

/** Write a contact sheet of `images` as a grayscale PNG at `path`. */
export async function writeContactSheet(images: ImageSet, path: string, opts: ContactSheetOptions = {}): Promise<GrayBitmap> {
  const sheet = contactSheet(images, opts);
  try {
    await sharp(Buffer.from(sheet.data), { raw: { width: sheet.width, height: sheet.height, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(path);
  } catch (e) {
    throw new ImageError(`${path}: cannot write contact sheet (${(e as Error).message})`);
  }
  return sheet;
}
