/**
 * Letter shapes from fonts that ship on npm, as polylines (y-down, font units):
 * - single-stroke fonts (drawn as centre lines with a pen): Hershey fonts from
 *   `hersheytext/hersheytext.json` and the EMS single-line SVG fonts in `hersheytext/svg_fonts`;
 * - handwriting outline fonts (filled): `@fontsource/*` WOFF files read with opentype.js.
 * {@link loadGlyph} (the outlier sets) never loads a digit: only a-z, A-Z and a few symbols;
 * {@link loadDigitGlyph} loads 0-9 for the extra training digits (`udq train --extra-digits`).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataError } from '../../errors';
import { flattenCommands, parseSvgPath, PathCommand, Polyline } from './path';

/** The 52 classes of synthetic letters, in label order: a..z then A..Z. */
export const LETTER_CLASSES: string[] = [
  ...'abcdefghijklmnopqrstuvwxyz'.split(''),
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split(''),
];

/** How a glyph is drawn: `stroke` = centre lines traced with a pen, `fill` = closed outlines filled. */
export type GlyphKind = 'stroke' | 'fill';

/** A font the generator may draw from. */
export interface GlyphFont {
  /** stable id, e.g. `hershey:scripts`, `ems:EMSAllure`, `woff:caveat` */
  id: string;
  kind: GlyphKind;
}

/** One letter's geometry. */
export interface Glyph {
  font: string;
  char: string;
  kind: GlyphKind;
  /** y-down polylines; closed contours (fill) repeat their first point */
  lines: Polyline[];
}

// ('cursive' is left out: 67 of its 95 glyphs are identical to 'scripts')
const HERSHEY_FONTS = ['futural', 'scripts'];
const EMS_FONTS = [
  'EMSAllure',
  'EMSElfin',
  'EMSFelix',
  'EMSNixish',
  'EMSNixishItalic',
  'EMSReadability',
  'EMSReadabilityItalic',
  'EMSTech',
];
const WOFF_FONTS = ['caveat', 'indie-flower', 'patrick-hand', 'shadows-into-light', 'kalam', 'gloria-hallelujah'];

/** Every font used, single-stroke ones first. */
export const GLYPH_FONTS: readonly GlyphFont[] = [
  ...HERSHEY_FONTS.map((f) => ({ id: `hershey:${f}`, kind: 'stroke' as const })),
  ...EMS_FONTS.map((f) => ({ id: `ems:${f}`, kind: 'stroke' as const })),
  ...WOFF_FONTS.map((f) => ({ id: `woff:${f}`, kind: 'fill' as const })),
];

function resolvePackageFile(pkg: string, ...rest: string[]): string {
  let root: string;
  try {
    root = dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new DataError(`synth-letters: the npm package ${pkg} is not installed (run npm install)`);
  }
  return join(root, ...rest);
}

interface HersheyJson {
  [font: string]: { name: string; chars: { d: string; o: number }[] };
}

let hersheyJson: HersheyJson | null = null;
function hersheyGlyph(font: string, ch: string): Polyline[] | null {
  // chars[0] is '!' (code 33), as in hersheytext's own renderer
  hersheyJson ??= JSON.parse(readFileSync(resolvePackageFile('hersheytext', 'hersheytext.json'), 'utf8')) as HersheyJson;
  const entry = hersheyJson[font]?.chars[ch.charCodeAt(0) - 33];
  if (!entry || !entry.d) return null;
  return flattenCommands(parseSvgPath(entry.d));
}

const emsFonts = new Map<string, Map<string, string>>();
function emsGlyph(font: string, ch: string): Polyline[] | null {
  let glyphs = emsFonts.get(font);
  if (!glyphs) {
    glyphs = new Map();
    const svg = readFileSync(resolvePackageFile('hersheytext', 'svg_fonts', `${font}.svg`), 'utf8');
    for (const tag of svg.match(/<glyph\b[^>]*>/g) ?? []) {
      const u = /\bunicode="([^"]*)"/.exec(tag)?.[1];
      const d = /\bd="([^"]*)"/.exec(tag)?.[1];
      if (u && d && u.length === 1) glyphs.set(u, d);
    }
    emsFonts.set(font, glyphs);
  }
  const d = glyphs.get(ch);
  if (!d) return null;
  // SVG fonts are y-up: flip to y-down
  return flattenCommands(parseSvgPath(d)).map((l) => l.map(([x, y]) => [x, -y]));
}

interface OtGlyph {
  index: number;
  getPath(x: number, y: number, fontSize: number): { commands: PathCommand[] };
}
interface OtFont {
  charToGlyph(c: string): OtGlyph;
}
// opentype.js ships no type declarations: use the two calls we need through a narrow type.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const opentype = require('opentype.js') as { parse(buf: ArrayBuffer): OtFont };

const woffFonts = new Map<string, OtFont>();
function woffGlyph(font: string, ch: string): Polyline[] | null {
  let f = woffFonts.get(font);
  if (!f) {
    const buf = readFileSync(resolvePackageFile(`@fontsource/${font}`, 'files', `${font}-latin-400-normal.woff`));
    try {
      f = opentype.parse(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
    } catch (e) {
      throw new DataError(`synth-letters: cannot parse font ${font} (${(e as Error).message})`);
    }
    woffFonts.set(font, f);
  }
  const g = f.charToGlyph(ch);
  if (!g || g.index === 0) return null;
  // opentype.js paths are already y-down; size 1000 = font units at 1000/em
  return flattenCommands(g.getPath(0, 0, 1000).commands);
}

/** Non-letter symbols that {@link loadGlyph} also draws (none of them looks like a digit). */
export const SYMBOL_CHARS = '#$%&*+<=>?@[]{}~^\\';

const glyphCache = new Map<string, Glyph | null>();

/**
 * The geometry of `ch` in `font` (cached), or null when the font lacks it or it has no
 * ink. Only letters a-z / A-Z and {@link SYMBOL_CHARS} are accepted.
 * @throws DataError for a non-letter or an unknown font
 */
export function loadGlyph(font: GlyphFont, ch: string): Glyph | null {
  if (!/^[A-Za-z]$/.test(ch) && !SYMBOL_CHARS.includes(ch)) throw new DataError(`synth-letters: only letters a-z, A-Z and the symbols ${SYMBOL_CHARS} are drawn, not ${JSON.stringify(ch)}`);
  return glyphOf(font, ch);
}

/** The 10 classes of synthetic digits, in label order. */
export const DIGIT_CLASSES: string[] = '0123456789'.split('');

/**
 * The geometry of digit `ch` (0-9) in `font` (cached), or null when the font lacks it.
 * @throws DataError for anything but a digit, or an unknown font
 */
export function loadDigitGlyph(font: GlyphFont, ch: string): Glyph | null {
  if (!/^[0-9]$/.test(ch)) throw new DataError(`synth-digits: only the digits 0-9 are drawn, not ${JSON.stringify(ch)}`);
  return glyphOf(font, ch);
}

function glyphOf(font: GlyphFont, ch: string): Glyph | null {
  const key = `${font.id}\u0000${ch}`;
  if (glyphCache.has(key)) return glyphCache.get(key) ?? null;
  const [family, name] = font.id.split(':');
  let lines: Polyline[] | null;
  if (family === 'hershey') lines = hersheyGlyph(name, ch);
  else if (family === 'ems') lines = emsGlyph(name, ch);
  else if (family === 'woff') lines = woffGlyph(name, ch);
  else throw new DataError(`synth-letters: unknown font ${font.id}`);
  const glyph = lines && lines.length > 0 ? { font: font.id, char: ch, kind: font.kind, lines } : null;
  glyphCache.set(key, glyph);
  return glyph;
}
