/**
 * Font-free text for the PNGs: replace the `<text>` elements of a vega SVG by stroked paths of
 * the Hershey "futural" single-stroke font (shipped with the npm package hersheytext), so
 * librsvg draws readable labels on machines with no system font. The SVG files keep real text.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { textWidth } from './render';

interface HersheyGlyph {
  d: string;
  /** half the advance width */
  o: number;
}

let glyphs: HersheyGlyph[] | undefined;

/** futural glyphs; chars[0] is '!' (code 33). */
function futural(): HersheyGlyph[] {
  if (!glyphs) {
    const file = join(dirname(require.resolve('hersheytext/package.json')), 'hersheytext.json');
    const fonts = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { chars: HersheyGlyph[] }>;
    glyphs = fonts.futural.chars;
  }
  return glyphs;
}

/** Hershey units: baseline at y = 22, capitals from y = 1 (cap height 21). */
const BASELINE = 22;
const CAP_HEIGHT = 21;
/** cap height of the font the layout was measured for (DejaVu Sans), in em */
const CAP_EM = 0.73;
const SPACE_ADVANCE = 16;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? m;
  });
}

/** Characters the font lacks, spelled with ones it has. */
function simplify(text: string): string {
  return text.replace(/\u2026/g, '...').replace(/[\u2212\u2013\u2014]/g, '-').replace(/\u2265/g, '>=').replace(/\u2264/g, '<=').replace(/\u00a0/g, ' ');
}

/** A line of text as one path in Hershey units (origin at the baseline start), and its advance. */
export function strokeLine(text: string): { d: string; advance: number } {
  const chars = futural();
  let x = 0;
  const parts: string[] = [];
  for (const ch of simplify(text)) {
    const code = ch.codePointAt(0)!;
    const g = code >= 33 && code <= 126 ? chars[code - 33] : code === 32 ? undefined : chars['?'.charCodeAt(0) - 33];
    if (!g) {
      x += SPACE_ADVANCE;
      continue;
    }
    // shift the glyph's coordinates by x and move the baseline to y = 0
    parts.push(g.d.replace(/(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)/g, (_m, a: string, b: string) => `${+a + x},${+b - BASELINE}`));
    x += 2 * g.o;
  }
  return { d: parts.join(' '), advance: x };
}

function attr(attrs: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${name}="([^"]*)"`).exec(attrs);
  return m ? m[1] : undefined;
}

/** One `<text>` element as a group of stroked paths (empty when invisible). */
function outlineText(attrs: string, content: string): string {
  const opacity = attr(attrs, 'opacity');
  if (opacity !== undefined && Number(opacity) === 0) return '';
  const size = parseFloat(attr(attrs, 'font-size') ?? '11') || 11;
  const weight = attr(attrs, 'font-weight');
  const bold = weight === 'bold' || Number(weight) >= 600;
  const anchor = attr(attrs, 'text-anchor') ?? 'start';
  const fill = attr(attrs, 'fill') ?? '#000';
  const transform = attr(attrs, 'transform');
  const x0 = parseFloat(attr(attrs, 'x') ?? '0') || 0;
  const y0 = parseFloat(attr(attrs, 'y') ?? '0') || 0;
  // lines: plain content, or <tspan>s with dy offsets
  const lines: { text: string; dy: number }[] = [];
  if (content.includes('<tspan')) {
    let y = 0;
    for (const m of content.matchAll(/<tspan([^>]*)>([\s\S]*?)<\/tspan>/g)) {
      y += parseFloat(attr(m[1], 'dy') ?? '0') || 0;
      lines.push({ text: decodeEntities(m[2]), dy: y });
    }
  } else {
    lines.push({ text: decodeEntities(content), dy: 0 });
  }
  const k = (CAP_EM * size) / CAP_HEIGHT;
  const strokeWidth = (bold ? size / 8 : size / 13) / k;
  const paths = lines
    .map((l) => {
      const line = l.text.trim();
      const { d, advance } = strokeLine(line);
      if (!d) return '';
      // squeeze or stretch to the width vega laid the text out for (DejaVu Sans metrics)
      const kx = Math.min(k * 1.15, Math.max(k * 0.7, textWidth(line, size, bold) / advance));
      const dx = anchor === 'middle' ? -advance / 2 : anchor === 'end' ? -advance : 0;
      return `<path d="${d}" transform="translate(${x0},${y0 + l.dy}) scale(${kx.toFixed(5)},${k.toFixed(5)}) translate(${dx},0)" stroke-width="${strokeWidth.toFixed(3)}"/>`;
    })
    .join('');
  if (!paths) return '';
  const opacityAttr = opacity !== undefined ? ` opacity="${opacity}"` : '';
  return `<g${transform ? ` transform="${transform}"` : ''}${opacityAttr} fill="none" stroke="${fill}" stroke-linecap="round" stroke-linejoin="round">${paths}</g>`;
}

/** Replace every `<text>` element of an SVG by stroked single-stroke-font paths. */
export function outlineSvgText(svg: string): string {
  return svg.replace(/<text([^>]*)>([\s\S]*?)<\/text>/g, (_m, attrs: string, content: string) => outlineText(attrs, content));
}
