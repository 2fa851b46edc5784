/**
 * Rendering vega-lite specs: SVG with vega's headless renderer, PNG through sharp (librsvg).
 * Text in the PNG needs a system font that fontconfig can find; `canRenderText` checks
 * whether one is there, so callers can say so when labels would be missing.
 */
import type sharpType from 'sharp';
import type { TopLevelSpec } from 'vega-lite';
import { ImageError } from '../errors';

/** vega, vega-lite and sharp are loaded on first use, so importing this module stays cheap. */
function load<T>(name: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(name) as T;
}

/**
 * Advance widths of DejaVu Sans (the font the specs ask for first) in 1/1000 em, for the
 * printable ASCII characters from space (32) to tilde (126).
 */
// prettier-ignore
const DEJAVU_SANS_WIDTHS = [
  318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337,
  636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531,
  1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787,
  603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500,
  500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612,
  635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
];

/** Width in pixels of one line of text in DejaVu Sans (bold about 12% wider). */
export function textWidth(text: string, fontSize: number, bold: boolean = false): number {
  let em = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    em += c >= 32 && c <= 126 ? DEJAVU_SANS_WIDTHS[c - 32] : 650;
  }
  return (em / 1000) * fontSize * (bold ? 1.12 : 1);
}

interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
  limit?: number;
}

let metricsInstalled = false;

/**
 * Without a canvas, vega estimates text as 0.8 em per character, about 40% too wide for
 * DejaVu Sans: plots get wide empty margins and legends truncate early. Measure with the
 * font's advance widths instead (vega supports a user-defined `textMetrics.width`).
 */
function installTextMetrics(vega: typeof import('vega')): void {
  if (metricsInstalled) return;
  metricsInstalled = true;
  const metrics = (vega as unknown as { textMetrics: unknown }).textMetrics as { width: (item: TextItem, text?: unknown) => number };
  metrics.width = (item: TextItem, text?: unknown) => {
    const line = text == null ? '' : String(text).trim();
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
    const w = textWidth(line, size, bold);
    return item.limit && item.limit > 0 ? Math.min(w, item.limit) : w;
  };
}

/** Compile a vega-lite spec to vega (throws on an invalid spec). */
export function compileSpec(spec: TopLevelSpec): unknown {
  const vl = load<typeof import('vega-lite')>('vega-lite');
  return vl.compile(spec, { logger: quietLogger() }).spec;
}

/** A vega logger that drops warnings (vega-lite prints them to the console) and throws errors. */
function quietLogger(): import('vega').LoggerInterface {
  let level = 0;
  const logger: import('vega').LoggerInterface = {
    level(l?: number) {
      if (l === undefined) return level as never;
      level = l;
      return logger as never;
    },
    error(...args: readonly unknown[]) {
      throw new Error(args.map(String).join(' '));
    },
    warn: () => logger,
    info: () => logger,
    debug: () => logger,
  } as import('vega').LoggerInterface;
  return logger;
}

/** Render a vega-lite spec to an SVG string (no browser, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vega = load<typeof import('vega')>('vega');
  installTextMetrics(vega);
  const view = new vega.View(vega.parse(compileSpec(spec) as import('vega').Spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterise an SVG string to a PNG buffer at `scale` times its size (white background). */
export async function svgToPng(svg: string, scale: number = 2): Promise<Buffer> {
  const sharp = load<typeof sharpType>('sharp');
  try {
    return await sharp(Buffer.from(svg), { density: 72 * scale })
      .flatten({ background: '#ffffff' })
      .png()
      .toBuffer();
  } catch (e) {
    throw new ImageError(`cannot rasterise SVG to PNG (${(e as Error).message})`);
  }
}

let textCheck: Promise<boolean> | undefined;

/** Width in pixels of the ink of `text` drawn by librsvg at 32px. */
async function inkWidth(text: string): Promise<number> {
  const sharp = load<typeof sharpType>('sharp');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="48"><rect width="400" height="48" fill="white"/><text x="8" y="36" font-family="DejaVu Sans, sans-serif" font-size="32" fill="black">${text}</text></svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).greyscale().raw().toBuffer({ resolveWithObject: true });
  let left = info.width;
  let right = -1;
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      if (data[y * info.width + x] < 128) {
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    }
  }
  return right < left ? 0 : right - left + 1;
}

/**
 * Does librsvg draw real glyphs here? Without any font it draws nothing or, with pango, the
 * same "missing glyph" box for every character; then "iiii" and "WWWW" are equally wide,
 * while in any real font W is several times wider than i. Checked once per process. False
 * means the PNGs have no readable titles, labels or legends (the SVGs still do).
 */
export function canRenderText(): Promise<boolean> {
  textCheck ??= (async () => {
    try {
      const narrow = await inkWidth('iiii');
      const wide = await inkWidth('WWWW');
      return narrow > 0 && wide > 2 * narrow;
    } catch {
      return false;
    }
  })();
  return textCheck;
}
