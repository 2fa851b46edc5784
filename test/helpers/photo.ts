/**
 * Test-side generator of real-world pictures of MNIST digits (issue #9): MNIST-format PNG
 * exports, scans, phone-style photos (grey or coloured, unevenly lit paper, ruled lines,
 * sensor noise, blur, JPEG, rotation, the digit anywhere in the frame, a table edge or dust),
 * and pictures with no digit (blank paper, noise, textured surfaces). Every parameter is drawn
 * from a broad range by a seeded generator.
 */
import sharp from 'sharp';
import { makeRng, Rng } from '../../src/data/synth/random';
import { renderUserPicture, UserGroup, USER_GROUPS } from './user-pictures';

export type PhotoGroup = 'mnist-png' | 'scan' | 'photo' | 'colour' | 'blank' | 'noise' | 'texture' | UserGroup;

/** Groups whose pictures hold no digit (every one must be rejected). */
export const NO_DIGIT_GROUPS: readonly PhotoGroup[] = ['blank', 'noise', 'texture', 'paper-texture'];

export type Rand = Rng;

/** The generators' seeded random draws (src/data/synth/random.ts). */
export const makeRand = (seed: number): Rand => makeRng(seed);

/** Bilinear sample of a 28x28 uint8 digit (0..1), 0 outside. */
function sampleDigit(d: Uint8Array, x: number, y: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const at = (xx: number, yy: number) => (xx < 0 || yy < 0 || xx > 27 || yy > 27 ? 0 : d[yy * 28 + xx] / 255);
  return (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
}

/**
 * Ink coverage (0..1) of `digits` written side by side into a W x H frame: each digit scaled to
 * `height` px, rotated by `angle`, the first one's box at (x, y); `gap` px between digits
 * (negative: touching / overlapping).
 */
export function inkLayer(W: number, H: number, digits: Uint8Array[], o: { x: number; y: number; height: number; angle: number; gap: number }): Float32Array {
  const out = new Float32Array(W * H);
  const scale = o.height / 28;
  const cos = Math.cos(o.angle);
  const sin = Math.sin(o.angle);
  const step = 20 * scale + o.gap; // MNIST ink is about 20 px of the 28 px frame
  const cx0 = o.x + 14 * scale;
  const cy = o.y + 14 * scale;
  for (let k = 0; k < digits.length; k++) {
    const cx = cx0 + k * step;
    const r = 16 * scale;
    for (let py = Math.max(0, Math.floor(cy - 2 * r)); py < Math.min(H, cy + 2 * r); py++) {
      for (let px = Math.max(0, Math.floor(cx - 2 * r)); px < Math.min(W, cx + 2 * r); px++) {
        const dx = px - cx;
        const dy = py - cy;
        const sx = (cos * dx + sin * dy) / scale + 13.5;
        const sy = (-sin * dx + cos * dy) / scale + 13.5;
        const v = sampleDigit(digits[k], sx, sy);
        if (v > out[py * W + px]) out[py * W + px] = v;
      }
    }
  }
  return out;
}

export interface PhotoOptions {
  group: PhotoGroup;
  seed: number;
  /** the digits written (one for a single-digit picture) */
  digits?: Uint8Array[];
  /** gap between digits in units of the digit height (default random 0.05..0.4) */
  gap?: number;
}

/**
 * Render one picture; returns encoded bytes (PNG or JPEG), its format, and the label when the
 * group draws its own digit (round zeros) instead of the one given.
 */
export async function renderPhoto(o: PhotoOptions): Promise<{ data: Buffer; format: 'png' | 'jpeg'; label?: number }> {
  const r = makeRand(o.seed);
  const digits = o.digits ?? [];
  if ((USER_GROUPS as readonly string[]).includes(o.group)) return renderUserPicture(o.group as UserGroup, r, digits[0]);
  if (o.group === 'mnist-png') {
    // the format every MNIST PNG export uses: 28x28, white digit on black
    return { data: await sharp(Buffer.from(digits[0]), { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer(), format: 'png' };
  }
  if (o.group === 'noise') {
    const W = 28 + r.int(400);
    const H = 28 + r.int(400);
    const buf = Buffer.alloc(W * H * 3);
    const smooth = r.next() < 0.5;
    for (let i = 0; i < buf.length; i++) buf[i] = r.int(256);
    let img = sharp(buf, { raw: { width: W, height: H, channels: 3 } });
    if (smooth) img = img.blur(r.uniform(0.5, 2));
    return { data: await img.png().toBuffer(), format: 'png' };
  }
  const scan = o.group === 'scan';
  const W = scan ? 200 + r.int(200) : 320 + r.int(161);
  const H = scan ? 200 + r.int(200) : 320 + r.int(161);
  const n = Math.max(1, digits.length);
  const gapFrac = o.gap ?? r.uniform(0.05, 0.4);
  // the whole number fits in 90% of the width: n digits of ~0.72 x height plus the gaps
  const fit = (0.9 * W) / (n * (20 / 28) + (n - 1) * Math.max(0, gapFrac));
  const height = scan ? r.uniform(0.35, 0.8) * Math.min(H, fit) : r.uniform(0.12, 0.45) * Math.min(H, fit * 2.2);
  const gap = gapFrac * height;
  const width = n * (20 / 28) * height + (n - 1) * gap;
  const x = r.uniform(0.05 * W, Math.max(0.05 * W + 1, W - width - 0.05 * W));
  const y = r.uniform(0.05 * H, Math.max(0.05 * H + 1, H - height - 0.05 * H));
  const angle = ((scan ? r.uniform(-3, 3) : r.uniform(-8, 8)) * Math.PI) / 180;
  const ink = digits.length ? inkLayer(W, H, digits, { x, y, height, angle, gap }) : new Float32Array(W * H);
  // paper and ink colours (linear 0..1 RGB)
  let paper: [number, number, number];
  let inkRgb: [number, number, number];
  if (o.group === 'colour') {
    const papers: [number, number, number][] = [
      [0.98, 0.93, 0.45], // yellow sticky note
      [0.75, 0.9, 0.98], // light blue
      [0.98, 0.8, 0.85], // pink
      [0.85, 0.95, 0.75], // green
    ];
    const inks: [number, number, number][] = [
      [0.1, 0.15, 0.6], // blue ballpoint
      [0.05, 0.05, 0.05],
      [0.55, 0.05, 0.05], // red
      [0.05, 0.3, 0.1],
    ];
    paper = papers[r.int(papers.length)];
    inkRgb = inks[r.int(inks.length)];
  } else {
    const g = scan ? r.uniform(0.85, 1) : r.uniform(0.45, 0.95);
    const tint = scan ? 0 : r.uniform(-0.04, 0.04);
    paper = [g + tint, g, g - tint];
    const ig = r.uniform(0.02, scan ? 0.25 : 0.3) * g;
    inkRgb = [ig, ig, ig * r.uniform(0.9, 1.5)];
  }
  const grad = scan ? 0 : r.uniform(0, 0.45); // light falls off across the sheet
  const gAngle = r.uniform(0, 2 * Math.PI);
  const vignette = scan ? 0 : r.uniform(0, 0.3);
  const noise = scan ? r.uniform(0, 0.01) : r.uniform(0.005, 0.04);
  const lined = !scan && r.next() < 0.3;
  const lineGap = r.uniform(18, 40);
  const tableEdge = !scan && o.group !== 'blank' && r.next() < 0.3 ? r.int(4) : -1;
  // the table shows in the margin beside the writing, never under it
  const margins = [x / W, y / H, 1 - (x + width) / W, 1 - (y + height) / H];
  const tableWidth = tableEdge >= 0 ? Math.min(r.uniform(0.04, 0.15), margins[tableEdge] - 0.02) : 0;
  const dust = scan ? r.int(3) : r.int(12);
  const dustAt: [number, number, number][] = Array.from({ length: dust }, () => [r.uniform(0, W), r.uniform(0, H), r.uniform(0.6, 2)]);
  const texture = o.group === 'texture';
  const texFreq = r.uniform(0.05, 0.3);
  const texAmp = r.uniform(0.08, 0.25);
  const rgb = Buffer.alloc(W * H * 3);
  for (let py = 0; py < H; py++) {
    for (let px = 0; px < W; px++) {
      const u = (px / W - 0.5) * Math.cos(gAngle) + (py / H - 0.5) * Math.sin(gAngle);
      const rr = Math.hypot(px / W - 0.5, py / H - 0.5);
      let light = 1 - grad * (u + 0.5) - vignette * rr * rr * 2;
      let p: [number, number, number] = [...paper];
      if (lined && Math.abs(((py + 7) % lineGap) - lineGap / 2) < 0.7) p = [p[0] * 0.75, p[1] * 0.85, p[2]];
      if (texture) {
        // wood grain / fabric: strong structure everywhere, no strokes
        const t = texAmp * Math.sin(px * texFreq + 3 * Math.sin(py * texFreq * 0.3)) + texAmp * 0.5 * Math.sin(py * texFreq * 1.7 + px * 0.05);
        p = [p[0] + t, p[1] + t * 0.8, p[2] + t * 0.6];
      }
      if (tableEdge >= 0) {
        const d = [px / W, py / H, 1 - px / W, 1 - py / H][tableEdge];
        if (d < tableWidth) {
          p = [0.25, 0.18, 0.12];
          light *= 0.9;
        }
      }
      let v = ink[py * W + px];
      for (const [dx, dy, dr] of dustAt) if (Math.hypot(px - dx, py - dy) < dr) v = Math.max(v, 0.8);
      for (let c = 0; c < 3; c++) {
        const val = (p[c] * (1 - v) + inkRgb[c] * v) * light + noise * r.normal();
        rgb[(py * W + px) * 3 + c] = Math.max(0, Math.min(255, Math.round(val * 255)));
      }
    }
  }
  let img = sharp(rgb, { raw: { width: W, height: H, channels: 3 } });
  const blur = scan ? r.uniform(0, 0.6) : r.uniform(0, 1.5);
  if (blur >= 0.3) img = img.blur(blur);
  if (scan) return { data: await img.png().toBuffer(), format: 'png' };
  return { data: await img.jpeg({ quality: 50 + r.int(46) }).toBuffer(), format: 'jpeg' };
}
