/**
 * Draws the sample "finger drawings" in figures/ so anyone can regenerate them:
 *   node --import tsx scripts/draw-figures.ts [outDir]
 * Each is a 280x280 PNG of dark, round-capped strokes 14-18 px wide, like a finger on a
 * tablet: transparent background (8.png on white, to cover both cases).
 * - 3.png, 8.png: digits (should be accepted and read as 3 and 8);
 * - zhong.png: the Chinese character 中, from hanzi-writer-data's stroke medians;
 * - yoda.png: a doodle of a small big-eared creature's head (should be rejected).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';

const SIZE = 280;
const INK = '#1c1c28';

interface Drawing {
  file: string;
  /** SVG path data in a 280x280 box */
  paths: string[];
  width: number;
  /** filled dots (eyes): [cx, cy, r] */
  dots?: [number, number, number][];
  background?: string;
}

function svg(d: Drawing): string {
  const bg = d.background ? `<rect width="${SIZE}" height="${SIZE}" fill="${d.background}"/>` : '';
  const paths = d.paths.map((p) => `<path d="${p}"/>`).join('');
  const dots = (d.dots ?? []).map(([x, y, r]) => `<circle cx="${x}" cy="${y}" r="${r}" fill="${INK}" stroke="none"/>`).join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}">${bg}` +
    `<g fill="none" stroke="${INK}" stroke-width="${d.width}" stroke-linecap="round" stroke-linejoin="round">${paths}${dots}</g></svg>`
  );
}

/** 中 from hanzi-writer-data: stroke medians in a 1024 box, y up (the glyph sits in y -124..900). */
function zhongPaths(): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const data = require('hanzi-writer-data/中.json') as { medians: [number, number][][] };
  const pts = data.medians.flat();
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => 900 - p[1]);
  const x0 = Math.min(...xs);
  const y0 = Math.min(...ys);
  const span = Math.max(Math.max(...xs) - x0, Math.max(...ys) - y0);
  const s = 200 / span; // the character spans 200 of the 280 px
  const ox = (SIZE - (Math.max(...xs) - x0) * s) / 2;
  const oy = (SIZE - (Math.max(...ys) - y0) * s) / 2;
  return data.medians.map((m) =>
    m.map(([x, y], i) => `${i === 0 ? 'M' : 'L'} ${((x - x0) * s + ox).toFixed(1)} ${((900 - y - y0) * s + oy).toFixed(1)}`).join(' '),
  );
}

const DRAWINGS: Drawing[] = [
  {
    file: '3.png',
    width: 18,
    paths: ['M 86 78 C 108 44, 192 46, 188 98 C 185 126, 156 136, 126 140 C 166 138, 206 160, 199 202 C 191 244, 118 250, 80 214'],
  },
  {
    file: '8.png',
    width: 18,
    background: '#ffffff',
    paths: ['M 146 134 C 98 118, 96 58, 142 52 C 190 47, 194 108, 146 134 C 96 154, 92 232, 144 234 C 202 236, 200 156, 146 134'],
  },
  { file: 'zhong.png', width: 17, paths: zhongPaths() },
  {
    file: 'yoda.png',
    width: 15,
    paths: [
      // head
      'M 98 112 C 100 72, 180 70, 182 112 C 186 160, 170 204, 140 206 C 110 204, 94 160, 98 112',
      // big pointed ears
      'M 100 116 L 22 92 C 38 128, 70 146, 102 146',
      'M 180 116 L 258 92 C 242 128, 210 146, 178 146',
      // brow, mouth, wrinkles under the eyes
      'M 116 100 Q 140 92 164 100',
      'M 124 174 Q 140 182 156 174',
      'M 112 150 Q 122 156 132 150',
      'M 148 150 Q 158 156 168 150',
    ],
    dots: [
      [122, 126, 7],
      [158, 126, 7],
    ],
  },
];

async function main(): Promise<void> {
  const outDir = resolve(process.argv[2] ?? join(__dirname, '..', 'figures'));
  mkdirSync(outDir, { recursive: true });
  for (const d of DRAWINGS) {
    const file = join(outDir, d.file);
    await sharp(Buffer.from(svg(d))).ensureAlpha().png().toFile(file);
    console.log(`wrote ${file}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
