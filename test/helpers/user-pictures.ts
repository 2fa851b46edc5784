/**
 * Test-side generators of the kinds of pictures real users bring (issue #21), learnt from what
 * the real dev pictures show, never copied from them: digits filling a tight crop on grainy
 * paper; coloured and textured paper (yellow, green, grey, kraft, with grain and fibres) with
 * coloured inks close to the paper's luminance (teal, blue, purple, pencil); digital drawings
 * with 1-3 px strokes on canvases of 200-1000 px; outlined digits; a small drawing in a corner;
 * white strokes on a black canvas; zeros drawn as round circles; and grainy coloured paper with
 * no stroke at all. Shapes come from MNIST digits: their skeleton (Zhang-Suen thinning of the
 * upscaled digit) or their outline, redrawn as pen strokes of any width at any size.
 */
import sharp from 'sharp';
import type { Rng } from '../../src/data/synth/random';
import { drawSegment } from '../../src/train/augment';

export type UserGroup = 'tight-crop' | 'colour-paper' | 'thin-drawing' | 'outline' | 'corner' | 'dark-canvas' | 'round-zero' | 'paper-texture';

export const USER_GROUPS: readonly UserGroup[] = ['tight-crop', 'colour-paper', 'thin-drawing', 'outline', 'corner', 'dark-canvas', 'round-zero', 'paper-texture'];

/** A segment of a pen path, in units of the 28 px MNIST frame. */
export type Segment = [number, number, number, number];

const UP = 4; // skeleton/outline resolution: 4 x 28 = 112 px

/** Bilinear upscale of a 28x28 uint8 digit by `k`, thresholded at `level` (0..1). */
function upscaledMask(d: Uint8Array, k: number, level: number): Uint8Array {
  const n = 28 * k;
  const m = new Uint8Array(n * n);
  const at = (x: number, y: number) => (x < 0 || y < 0 || x > 27 || y > 27 ? 0 : d[y * 28 + x] / 255);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const sx = (x + 0.5) / k - 0.5;
      const sy = (y + 0.5) / k - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const v = (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
      m[y * n + x] = v >= level ? 1 : 0;
    }
  }
  return m;
}

/** Zhang-Suen thinning of a binary mask, in place: a one-pixel-wide skeleton. */
export function thin(m: Uint8Array, w: number, h: number): Uint8Array {
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= w || y >= h ? 0 : m[y * w + x]);
  let changed = true;
  const del: number[] = [];
  while (changed) {
    changed = false;
    for (const step of [0, 1]) {
      del.length = 0;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          if (!m[y * w + x]) continue;
          const p = [at(x, y - 1), at(x + 1, y - 1), at(x + 1, y), at(x + 1, y + 1), at(x, y + 1), at(x - 1, y + 1), at(x - 1, y), at(x - 1, y - 1)];
          const b = p.reduce((s, v) => s + v, 0);
          if (b < 2 || b > 6) continue;
          let a = 0;
          for (let i = 0; i < 8; i++) if (!p[i] && p[(i + 1) % 8]) a++;
          if (a !== 1) continue;
          if (step === 0 ? p[0] * p[2] * p[4] || p[2] * p[4] * p[6] : p[0] * p[2] * p[6] || p[0] * p[4] * p[6]) continue;
          del.push(y * w + x);
        }
      }
      for (const i of del) m[i] = 0;
      if (del.length) changed = true;
    }
  }
  return m;
}

/** Segments joining 8-adjacent set pixels of a mask (each pair once), scaled to 28 px units. */
function maskSegments(m: Uint8Array, n: number, k: number): Segment[] {
  const segs: Segment[] = [];
  const c = (v: number) => (v + 0.5) / k - 0.5;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      if (!m[y * n + x]) continue;
      let alone = true;
      for (const [dx, dy] of [[1, 0], [0, 1], [1, 1], [-1, 1]]) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= n || yy >= n || !m[yy * n + xx]) continue;
        segs.push([c(x), c(y), c(xx), c(yy)]);
        alone = false;
      }
      if (alone) segs.push([c(x), c(y), c(x), c(y)]);
    }
  }
  return segs;
}

/**
 * In place: remove the spurs thinning leaves on a skeleton (a branch from an end point to a
 * junction shorter than `maxLength` pixels), so a thick 0 does not grow a tick.
 */
export function pruneSpurs(m: Uint8Array, w: number, h: number, maxLength: number): Uint8Array {
  const nb = (p: number): number[] => {
    const x = p % w;
    const y = (p - x) / w;
    const out: number[] = [];
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      if (!dx && !dy) continue;
      const xx = x + dx;
      const yy = y + dy;
      if (xx >= 0 && yy >= 0 && xx < w && yy < h && m[yy * w + xx]) out.push(yy * w + xx);
    }
    return out;
  };
  const ends: number[] = [];
  for (let p = 0; p < m.length; p++) if (m[p] && nb(p).length === 1) ends.push(p);
  for (const e of ends) {
    const path = [e];
    let prev = -1;
    let cur = e;
    for (;;) {
      const next = nb(cur).filter((q) => q !== prev && !path.includes(q));
      if (next.length !== 1 || path.length > maxLength) break;
      if (nb(next[0]).length > 2) break; // reached a junction: what we walked is a spur
      prev = cur;
      cur = next[0];
      path.push(cur);
    }
    const atJunction = nb(cur).some((q) => !path.includes(q) && nb(q).length > 2);
    if (path.length <= maxLength && atJunction) for (const p of path) m[p] = 0;
  }
  return m;
}

/** The pen path of an MNIST digit: its skeleton (spurs pruned), as segments in 28 px units. */
export function skeletonSegments(d: Uint8Array): Segment[] {
  const n = 28 * UP;
  return maskSegments(pruneSpurs(thin(upscaledMask(d, UP, 0.45), n, n), n, n, 2.5 * UP), n, UP);
}

/** The outline of an MNIST digit's ink (its boundary pixels), as segments in 28 px units. */
export function outlineSegments(d: Uint8Array): Segment[] {
  const n = 28 * UP;
  const m = upscaledMask(d, UP, 0.35);
  const edge = new Uint8Array(m.length);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      if (!m[y * n + x]) continue;
      const inside = x > 0 && y > 0 && x < n - 1 && y < n - 1 && m[y * n + x - 1] && m[y * n + x + 1] && m[(y - 1) * n + x] && m[(y + 1) * n + x];
      if (!inside) edge[y * n + x] = 1;
    }
  }
  return maskSegments(edge, n, UP);
}

/** A zero drawn as one round stroke: an ellipse of aspect `aspect` (width / height), a little wobble and overshoot. */
export function roundZeroSegments(r: Rng, aspect: number): Segment[] {
  const segs: Segment[] = [];
  const ry = 10;
  const rx = ry * aspect;
  const start = r.uniform(0, 2 * Math.PI);
  const sweep = 2 * Math.PI * r.uniform(0.97, 1.12);
  const wob = r.uniform(0, 0.06);
  const phase = r.uniform(0, 2 * Math.PI);
  const steps = 120;
  let prev: [number, number] | null = null;
  for (let i = 0; i <= steps; i++) {
    const t = start + (sweep * i) / steps;
    const s = 1 + wob * Math.sin(3 * t + phase) - 0.04 * (i / steps);
    const p: [number, number] = [13.5 + rx * s * Math.cos(t), 13.5 + ry * s * Math.sin(t)];
    if (prev) segs.push([prev[0], prev[1], p[0], p[1]]);
    prev = p;
  }
  return segs;
}

/** Extent of segments in their own units. */
function extent(segs: Segment[]): { x0: number; y0: number; x1: number; y1: number } {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const [ax, ay, bx, by] of segs) {
    x0 = Math.min(x0, ax, bx);
    x1 = Math.max(x1, ax, bx);
    y0 = Math.min(y0, ay, by);
    y1 = Math.max(y1, ay, by);
  }
  return { x0, y0, x1, y1 };
}

/**
 * Pen coverage (0..1, anti-aliased) of `segs` drawn into a W x H frame with a round pen of
 * `width` px: the shape's height is scaled to `height` px, rotated by `angle`, its box's
 * top-left corner put at (x, y).
 */
export function drawSegments(W: number, H: number, segs: Segment[], o: { x: number; y: number; height: number; angle: number; width: number }): Float32Array {
  const out = new Float32Array(W * H);
  const e = extent(segs);
  const s = o.height / Math.max(1e-6, e.y1 - e.y0);
  const cos = Math.cos(o.angle);
  const sin = Math.sin(o.angle);
  const cx = (e.x0 + e.x1) / 2;
  const cy = (e.y0 + e.y1) / 2;
  const ox = o.x + ((e.x1 - e.x0) * s) / 2;
  const oy = o.y + o.height / 2;
  const map = (px: number, py: number): [number, number] => {
    const dx = (px - cx) * s;
    const dy = (py - cy) * s;
    return [ox + cos * dx - sin * dy, oy + sin * dx + cos * dy];
  };
  for (const seg of segs) {
    const [ax, ay] = map(seg[0], seg[1]);
    const [bx, by] = map(seg[2], seg[3]);
    drawSegment(out, W, ax, ay, bx, by, o.width);
  }
  return out;
}

/** Width/height of segments once drawn `height` px tall. */
function drawnWidth(segs: Segment[], height: number): number {
  const e = extent(segs);
  return ((e.x1 - e.x0) / Math.max(1e-6, e.y1 - e.y0)) * height;
}

type Rgb = [number, number, number];

/** Luminance (Rec. 601) of a linear 0..1 colour. */
const lum = (c: Rgb) => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];

const PAPERS: Rgb[] = [
  [0.93, 0.88, 0.45], // yellow note
  [0.78, 0.88, 0.62], // green
  [0.7, 0.7, 0.68], // grey
  [0.82, 0.7, 0.52], // kraft
  [0.9, 0.9, 0.86], // off-white
];
const INKS: Rgb[] = [
  [0.1, 0.42, 0.45], // teal
  [0.15, 0.25, 0.7], // blue
  [0.42, 0.2, 0.58], // purple
  [0.5, 0.5, 0.5], // pencil (scaled to the paper below)
];

/**
 * Grainy paper of colour `paper` (W x H x 3, 0..1): fine grain (blurred per-pixel noise),
 * blotches at a larger scale and a few fibres (thin curved strands a little lighter or darker).
 */
async function grainyPaper(r: Rng, W: number, H: number, paper: Rgb, grain: number): Promise<Float32Array> {
  const noise = Buffer.alloc(W * H);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.max(0, Math.min(255, Math.round(128 + 40 * r.normal())));
  const fine = await sharp(noise, { raw: { width: W, height: H, channels: 1 } }).blur(r.uniform(0.5, 1.2)).raw().toBuffer();
  const coarse = await sharp(noise, { raw: { width: W, height: H, channels: 1 } }).blur(Math.max(2, Math.min(W, H) / 25)).raw().toBuffer();
  const field = new Float32Array(W * H);
  // blurring shrinks the noise: rescale each to unit spread
  const spread = (b: Buffer) => {
    let s = 0;
    for (let i = 0; i < b.length; i++) s += (b[i] - 128) ** 2;
    return Math.sqrt(s / b.length) || 1;
  };
  const sf = spread(fine);
  const sc = spread(coarse);
  for (let i = 0; i < field.length; i++) field[i] = (grain * (fine[i] - 128)) / sf + (0.4 * grain * (coarse[i] - 128)) / sc;
  const fibres = r.int(Math.round((W * H) / 4000));
  for (let f = 0; f < fibres; f++) {
    let x = r.uniform(0, W);
    let y = r.uniform(0, H);
    let a = r.uniform(0, 2 * Math.PI);
    const len = r.uniform(5, 30);
    const amp = r.uniform(-2, 1.5) * grain;
    for (let t = 0; t < len; t++) {
      const xi = Math.round(x);
      const yi = Math.round(y);
      if (xi >= 0 && yi >= 0 && xi < W && yi < H) field[yi * W + xi] += amp;
      a += r.uniform(-0.3, 0.3);
      x += Math.cos(a);
      y += Math.sin(a);
    }
  }
  const rgb = new Float32Array(W * H * 3);
  for (let i = 0; i < W * H; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = paper[c] * (1 + field[i]);
  return rgb;
}

async function encode(rgb: Float32Array, W: number, H: number, format: 'png' | 'jpeg', r: Rng, blur = 0): Promise<{ data: Buffer; format: 'png' | 'jpeg' }> {
  const buf = Buffer.alloc(W * H * 3);
  for (let i = 0; i < buf.length; i++) buf[i] = Math.max(0, Math.min(255, Math.round(rgb[i] * 255)));
  let img = sharp(buf, { raw: { width: W, height: H, channels: 3 } });
  if (blur >= 0.3) img = img.blur(blur);
  return format === 'png' ? { data: await img.png().toBuffer(), format } : { data: await img.jpeg({ quality: 60 + r.int(36) }).toBuffer(), format };
}

/** Ink of colour `ink` over a paper image, with light falling off across the sheet. */
function inkOnPaper(paperRgb: Float32Array, cover: Float32Array, ink: Rgb, W: number, H: number, r: Rng, noise: number): Float32Array {
  const grad = r.uniform(0, 0.2);
  const ga = r.uniform(0, 2 * Math.PI);
  const out = new Float32Array(paperRgb.length);
  for (let py = 0; py < H; py++) {
    for (let px = 0; px < W; px++) {
      const i = py * W + px;
      const u = (px / W - 0.5) * Math.cos(ga) + (py / H - 0.5) * Math.sin(ga);
      const light = 1 - grad * (u + 0.5);
      const v = cover[i];
      for (let c = 0; c < 3; c++) out[i * 3 + c] = (paperRgb[i * 3 + c] * (1 - v) + ink[c] * v) * light + noise * r.normal();
    }
  }
  return out;
}

/**
 * Render one picture of `group`. `digit` is an MNIST digit (28x28 bytes) that gives the shape;
 * the round-zero group draws a zero whatever it is given, and paper-texture draws nothing.
 */
export async function renderUserPicture(group: UserGroup, r: Rng, digit?: Uint8Array): Promise<{ data: Buffer; format: 'png' | 'jpeg'; label?: number }> {
  if (group === 'tight-crop' || group === 'colour-paper' || group === 'paper-texture') {
    const W = 90 + r.int(180);
    const H = Math.round(W * r.uniform(0.9, 1.35));
    const colour = group !== 'tight-crop';
    const paper: Rgb = colour ? r.pick(PAPERS) : (() => { const g = r.uniform(0.75, 0.97); return [g, g, g * r.uniform(0.93, 1)] as Rgb; })();
    let ink: Rgb;
    if (colour) {
      const base = r.pick(INKS);
      // ink luminance 35-70% of the paper's: close to it, as a teal pen on yellow paper is
      const want = lum(paper) * r.uniform(0.35, 0.7);
      const k = want / lum(base);
      ink = [base[0] * k, base[1] * k, base[2] * k].map((v) => Math.min(1, v)) as Rgb;
    } else ink = [0.08, 0.08, r.uniform(0.08, 0.35)];
    const grain = colour ? r.uniform(0.03, 0.08) : r.uniform(0.01, 0.05);
    const paperRgb = await grainyPaper(r, W, H, paper, grain);
    let cover: Float32Array = new Float32Array(W * H);
    if (group !== 'paper-texture' && digit) {
      // the digit's ink fills 70-95% of the frame's height (a tight crop)
      const fill = group === 'tight-crop' ? r.uniform(0.7, 0.95) : r.uniform(0.5, 0.95);
      const segs = skeletonSegments(digit);
      const height = fill * H;
      const width = Math.min(drawnWidth(segs, height), 0.95 * W);
      const pen = height * r.uniform(0.05, 0.11);
      const x = r.uniform(0.02 * W, Math.max(0.02 * W + 1, W - width - 0.02 * W));
      const y = r.uniform(pen / 2, Math.max(pen / 2 + 1, H - height - pen / 2));
      cover = drawSegments(W, H, segs, { x, y, height: height - pen, angle: (r.uniform(-6, 6) * Math.PI) / 180, width: pen });
    }
    const rgb = inkOnPaper(paperRgb, cover, ink, W, H, r, r.uniform(0.003, 0.02));
    return encode(rgb, W, H, r.next() < 0.5 ? 'png' : 'jpeg', r, r.uniform(0, 1));
  }
  // digital drawings: canvases with round pens
  const dark = group === 'dark-canvas' || (group === 'round-zero' && r.next() < 0.3);
  const W = group === 'corner' ? 400 + r.int(600) : 200 + r.int(800);
  const H = group === 'corner' ? 400 + r.int(600) : Math.round(W * r.uniform(0.6, 1.2));
  const side = Math.min(W, H);
  let segs: Segment[];
  let label: number | undefined;
  if (group === 'round-zero') {
    segs = roundZeroSegments(r, r.uniform(0.82, 1.05));
    label = 0;
  } else if (group === 'outline') segs = outlineSegments(digit!);
  else segs = skeletonSegments(digit!);
  const height = group === 'corner' ? side * r.uniform(0.08, 0.2) : side * r.uniform(0.3, 0.85);
  const pen =
    group === 'thin-drawing' || group === 'outline' ? r.uniform(1, 3) : group === 'corner' ? Math.max(1.5, height * r.uniform(0.03, 0.1)) : group === 'dark-canvas' ? Math.max(2, height * r.uniform(0.02, 0.12)) : Math.max(1, height * r.uniform(0.01, 0.1));
  const width = drawnWidth(segs, height);
  let x: number;
  let y: number;
  if (group === 'corner') {
    const m = r.uniform(0.02, 0.08) * side;
    x = r.next() < 0.5 ? m : W - width - m;
    y = r.next() < 0.5 ? m : H - height - m;
  } else {
    x = r.uniform(0.05 * W, Math.max(0.05 * W + 1, W - width - 0.05 * W));
    y = r.uniform(0.05 * H, Math.max(0.05 * H + 1, H - height - 0.05 * H));
  }
  const cover = drawSegments(W, H, segs, { x, y, height, angle: (r.uniform(-5, 5) * Math.PI) / 180, width: pen });
  const bgv = dark ? r.uniform(0, 0.12) : r.uniform(0.92, 1);
  const inkv: Rgb = dark ? [1, 1, 1] : r.next() < 0.7 ? [0, 0, 0] : [r.uniform(0, 0.3), r.uniform(0, 0.3), r.uniform(0.2, 0.8)];
  // a third of the light canvases are transparent layers with black strokes (alpha = coverage)
  if (!dark && r.next() < 0.33) {
    const buf = Buffer.alloc(W * H * 4);
    for (let i = 0; i < W * H; i++) {
      for (let c = 0; c < 3; c++) buf[i * 4 + c] = Math.round(inkv[c] * 255);
      buf[i * 4 + 3] = Math.round(cover[i] * 255);
    }
    return { data: await sharp(buf, { raw: { width: W, height: H, channels: 4 } }).png().toBuffer(), format: 'png', label };
  }
  const rgb = new Float32Array(W * H * 3);
  for (let i = 0; i < W * H; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = bgv * (1 - cover[i]) + inkv[c] * cover[i];
  const enc = await encode(rgb, W, H, r.next() < 0.75 ? 'png' : 'jpeg', r);
  return { ...enc, label };
}
