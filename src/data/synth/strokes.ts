/**
 * The `synth-strokes` generator: non-digits *in MNIST's own stroke style*, the auxiliary
 * outliers of outlier exposure (DESIGN.md section 7: outliers that teach shape need MNIST's
 * stroke style, and must be diverse). Seven kinds, cycled so every prefix is balanced:
 *
 * - `cut`      the top (or left) part of one MNIST training digit joined to the bottom (right)
 *              part of a digit of another class, cut at 35-65%; nothing checks the result, and
 *              many joins are digits (the top of a 9 on the bottom of a 7 or 4 is a 9:
 *              docs/RESULTS.md, "Outlier exposure's cut kind"); `synth-strokes:-cut` leaves
 *              the kind out;
 * - `overlap`  two digits of different classes on top of each other, offset by 3-9 px;
 * - `mirror`   a digit mirrored, flipped or turned 90/180 degrees, only where the result is no
 *              digit (a flipped 0, 1 or 8 stays a digit and is never used; a turned 6 is a 9);
 * - `erase`    a digit elastically distorted with a wedge or half of its ink erased and a
 *              stroke of another digit's part added;
 * - `letter`   a letter from the single-stroke fonts (Hershey, EMS) drawn with an MNIST-like pen
 *              and elastic distortion (letters that are written like digits -- o O l I i s S z
 *              Z g q -- are left out);
 * - `scribble` a random smooth open or looping curve drawn with an MNIST-like pen;
 * - `symbol`   a symbol (# $ % & * + < = > ? @ ...) from the single-stroke fonts.
 *
 * Digits come only from MNIST *training* images before the validation tail (the first 90%),
 * so the gate's held-out digits and the test set are never drawn from. Image i depends only
 * on (seed, i). Everything ends with the MNIST preprocessing (20x20 box, centre of mass) and
 * MNIST's tone (`normaliseTone`), so no outlier differs from a digit by its grey levels alone.
 */
import { MNIST_SIZE, normaliseTone, preprocessToMnist, toBytes } from '../../image/load';
import type { ImageSet } from '../idx';
import type { LabelledImages } from '../types';
import { GLYPH_FONTS, Glyph, loadGlyph, SYMBOL_CHARS } from './glyphs';
import { hashSeed, makeRng, Rng } from './random';
import { renderGlyph, sampleStyle } from './render';

/** Bump when the drawing changes, so cached sets are regenerated. */
export const SYNTH_STROKES_VERSION = 2;

/** The kinds, in label order. */
export const STROKE_KINDS = ['cut', 'overlap', 'mirror', 'erase', 'letter', 'scribble', 'symbol'] as const;
export type StrokeKind = (typeof STROKE_KINDS)[number];

/** Letters left out of the `letter` kind because handwriting makes them look like digits. */
export const DIGIT_LIKE_LETTERS = 'oOlIisSzZgq';
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('').filter((c) => !DIGIT_LIKE_LETTERS.includes(c));
const STROKE_FONTS = GLYPH_FONTS.filter((f) => f.kind === 'stroke');

/** MNIST digits the generator may draw from. */
export interface DigitPool {
  images: ImageSet;
  labels: Uint8Array;
  /** indices usable, grouped by class */
  byClass: number[][];
}

/** The pool from MNIST train: only the first `fraction` (default 0.9, i.e. before the validation tail). */
export function digitPool(train: LabelledImages, fraction = 0.9): DigitPool {
  if (!train.labels) throw new Error('digitPool: the digit set has no labels');
  const n = Math.floor(train.images.count * fraction);
  const byClass: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < n; i++) byClass[train.labels[i]].push(i);
  return { images: train.images, labels: train.labels, byClass };
}

type Img = Float32Array; // 28x28, 0..1

function digitImage(pool: DigitPool, index: number): Img {
  const out = new Float32Array(784);
  const src = pool.images.pixels;
  for (let k = 0; k < 784; k++) out[k] = src[index * 784 + k] / 255;
  return out;
}

function randomDigit(pool: DigitPool, rng: Rng, notClass = -1): { img: Img; label: number } {
  let c = rng.int(10);
  while (c === notClass) c = rng.int(10);
  const idx = rng.pick(pool.byClass[c]);
  return { img: digitImage(pool, idx), label: c };
}

/** Bilinear sample of a 28x28 image at (x, y), zero outside. */
export function sample(img: Img, x: number, y: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const at = (xx: number, yy: number) => (xx < 0 || yy < 0 || xx >= MNIST_SIZE || yy >= MNIST_SIZE ? 0 : img[yy * MNIST_SIZE + xx]);
  return (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
}

/** Map every output pixel through `f` (output coords -> source coords). Pure. */
export function warp(img: Img, f: (x: number, y: number) => [number, number]): Img {
  const out = new Float32Array(784);
  for (let y = 0; y < MNIST_SIZE; y++) {
    for (let x = 0; x < MNIST_SIZE; x++) {
      const [sx, sy] = f(x, y);
      out[y * MNIST_SIZE + x] = sample(img, sx, sy);
    }
  }
  return out;
}

/** Smooth random displacement (sum of a few sine waves), amplitude in pixels. */
export function elastic(img: Img, rng: Rng, amp: number): Img {
  const waves = Array.from({ length: 4 }, () => ({
    ax: rng.normal() * amp * 0.5,
    ay: rng.normal() * amp * 0.5,
    fx: rng.uniform(-0.12, 0.12),
    fy: rng.uniform(-0.12, 0.12),
    p: rng.uniform(0, 2 * Math.PI),
  }));
  return warp(img, (x, y) => {
    let dx = 0;
    let dy = 0;
    for (const w of waves) {
      const s = Math.sin(2 * Math.PI * (w.fx * x + w.fy * y) + w.p);
      dx += w.ax * s;
      dy += w.ay * s;
    }
    return [x + dx, y + dy];
  });
}

function maxCombine(a: Img, b: Img): Img {
  const out = new Float32Array(784);
  for (let k = 0; k < 784; k++) out[k] = Math.max(a[k], b[k]);
  return out;
}

function shift(img: Img, dx: number, dy: number): Img {
  return warp(img, (x, y) => [x - dx, y - dy]);
}

/** Which rigid maps turn which digits into non-digits. */
const MIRROR_OK: Record<string, number[]> = {
  hflip: [2, 3, 4, 5, 6, 7, 9],
  vflip: [2, 4, 5, 6, 7, 9],
  rot90: [1, 2, 3, 4, 5, 6, 7, 9],
  rot180: [3, 4, 7],
};

function mirror(pool: DigitPool, rng: Rng): Img {
  const op = rng.pick(Object.keys(MIRROR_OK));
  const c = rng.pick(MIRROR_OK[op]);
  const img = digitImage(pool, rng.pick(pool.byClass[c]));
  const m = MNIST_SIZE - 1;
  const turn = rng.next() < 0.5;
  switch (op) {
    case 'hflip':
      return warp(img, (x, y) => [m - x, y]);
    case 'vflip':
      return warp(img, (x, y) => [x, m - y]);
    case 'rot90':
      return turn ? warp(img, (x, y) => [y, m - x]) : warp(img, (x, y) => [m - y, x]);
    default:
      return warp(img, (x, y) => [m - x, m - y]);
  }
}

function cut(pool: DigitPool, rng: Rng): Img {
  const a = randomDigit(pool, rng);
  const b = randomDigit(pool, rng, a.label);
  const at = rng.uniform(0.35, 0.65) * MNIST_SIZE;
  const vertical = rng.next() < 0.65; // top of a + bottom of b; else left of a + right of b
  const gap = rng.uniform(-2, 2);
  const out = new Float32Array(784);
  for (let y = 0; y < MNIST_SIZE; y++) {
    for (let x = 0; x < MNIST_SIZE; x++) {
      const first = vertical ? y < at : x < at;
      const k = y * MNIST_SIZE + x;
      out[k] = first ? a.img[k] : vertical ? sample(b.img, x, y - gap) : sample(b.img, x - gap, y);
    }
  }
  return out;
}

function overlap(pool: DigitPool, rng: Rng): Img {
  const a = randomDigit(pool, rng);
  const b = randomDigit(pool, rng, a.label);
  const r = rng.uniform(3, 9);
  const t = rng.uniform(0, 2 * Math.PI);
  return maxCombine(a.img, shift(b.img, r * Math.cos(t), r * Math.sin(t)));
}

function erase(pool: DigitPool, rng: Rng): Img {
  const a = randomDigit(pool, rng);
  const d = elastic(a.img, rng, rng.uniform(1.5, 3));
  // erase the ink on one side of a random line through the centre of mass region
  const t = rng.uniform(0, 2 * Math.PI);
  const nx = Math.cos(t);
  const ny = Math.sin(t);
  const off = rng.uniform(-3, 3);
  const out = new Float32Array(784);
  for (let y = 0; y < MNIST_SIZE; y++) {
    for (let x = 0; x < MNIST_SIZE; x++) {
      const side = (x - 14) * nx + (y - 14) * ny - off;
      out[y * MNIST_SIZE + x] = side > 0 ? 0 : d[y * MNIST_SIZE + x];
    }
  }
  // and add a part of another digit, turned, so the remains are not simply a smaller digit
  const b = randomDigit(pool, rng, a.label);
  const turn = rng.uniform(Math.PI / 3, (5 * Math.PI) / 3);
  const c = Math.cos(turn);
  const s = Math.sin(turn);
  const part = warp(b.img, (x, y) => [14 + c * (x - 14) - s * (y - 14), 14 + s * (x - 14) + c * (y - 14)]);
  for (let y = 0; y < MNIST_SIZE; y++) {
    for (let x = 0; x < MNIST_SIZE; x++) {
      const side = (x - 14) * nx + (y - 14) * ny - off;
      if (side > 0) out[y * MNIST_SIZE + x] = part[y * MNIST_SIZE + x];
    }
  }
  return out;
}

/** Draw a glyph (polylines) with the letter renderer's MNIST-like pen and jitter. */
function drawGlyph(glyph: Glyph, rng: Rng): { data: Float32Array; width: number; height: number } {
  const style = sampleStyle(rng, 'stroke');
  style.warpX = style.warpX.map((w) => ({ ...w, amp: w.amp * 1.6 }));
  style.warpY = style.warpY.map((w) => ({ ...w, amp: w.amp * 1.6 }));
  // MNIST's and EMNIST's pens are often broader than the letter generator's
  style.penWidth *= rng.uniform(1, 1.7);
  return renderGlyph(glyph, style);
}

function letter(rng: Rng): { data: Float32Array; width: number; height: number } | null {
  const glyph = loadGlyph(rng.pick(STROKE_FONTS), rng.pick(LETTERS));
  return glyph ? drawGlyph(glyph, rng) : null;
}

function symbol(rng: Rng): { data: Float32Array; width: number; height: number } | null {
  const glyph = loadGlyph(rng.pick(STROKE_FONTS), rng.pick(SYMBOL_CHARS.split('')));
  return glyph ? drawGlyph(glyph, rng) : null;
}

/** A random smooth curve: a Catmull-Rom spline through 4-8 random points, sometimes closed or looping. */
export function scribbleLines(rng: Rng): [number, number][][] {
  const n = 4 + rng.int(5);
  const pts: [number, number][] = [];
  let x = rng.uniform(0, 1);
  let y = rng.uniform(0, 1);
  let heading = rng.uniform(0, 2 * Math.PI);
  const turnRate = rng.uniform(0.6, 2.4) * (rng.next() < 0.5 ? -1 : 1);
  for (let i = 0; i < n; i++) {
    pts.push([x, y]);
    heading += turnRate * rng.uniform(0.3, 1.2) + rng.normal() * 0.6;
    const step = rng.uniform(0.25, 0.6);
    x += step * Math.cos(heading);
    y += step * Math.sin(heading);
  }
  if (rng.next() < 0.25) pts.push(pts[0], pts[1]);
  const line: [number, number][] = [];
  for (let i = 0; i + 1 < pts.length; i++) {
    const p0 = pts[Math.max(0, i - 1)];
    const p1 = pts[i];
    const p2 = pts[i + 1];
    const p3 = pts[Math.min(pts.length - 1, i + 2)];
    for (let s = 0; s < 12; s++) {
      const t = s / 12;
      const t2 = t * t;
      const t3 = t2 * t;
      const f = (a: number, b: number, c: number, d: number) => 0.5 * (2 * b + (-a + c) * t + (2 * a - 5 * b + 4 * c - d) * t2 + (-a + 3 * b - 3 * c + d) * t3);
      line.push([f(p0[0], p1[0], p2[0], p3[0]), f(p0[1], p1[1], p2[1], p3[1])]);
    }
  }
  line.push(pts[pts.length - 1]);
  const lines = [line];
  if (rng.next() < 0.3) {
    // a second short stroke
    const a: [number, number] = [rng.uniform(-0.2, 1.2), rng.uniform(-0.2, 1.2)];
    const t = rng.uniform(0, 2 * Math.PI);
    const l = rng.uniform(0.3, 0.8);
    lines.push([a, [a[0] + l * Math.cos(t), a[1] + l * Math.sin(t)]]);
  }
  return lines;
}

function scribble(rng: Rng): { data: Float32Array; width: number; height: number } {
  return drawGlyph({ font: 'scribble', char: '~', kind: 'stroke', lines: scribbleLines(rng) }, rng);
}

/** One generated image. */
export interface SynthStroke {
  kind: StrokeKind;
  /** 784 bytes, white ink on black, MNIST-preprocessed */
  pixels: Uint8Array;
}

/** Draw image `index` for `seed`. Deterministic given the pool. */
export function drawSynthStroke(pool: DigitPool, seed: number, index: number): SynthStroke {
  const label = index % STROKE_KINDS.length;
  const kind = STROKE_KINDS[label];
  const rng = makeRng(hashSeed(seed, index, 0x57));
  for (let attempt = 0; attempt < 20; attempt++) {
    let canvas: { data: Float32Array; width: number; height: number } | null;
    switch (kind) {
      case 'cut':
        canvas = { data: cut(pool, rng), width: 28, height: 28 };
        break;
      case 'overlap':
        canvas = { data: overlap(pool, rng), width: 28, height: 28 };
        break;
      case 'mirror':
        canvas = { data: elastic(mirror(pool, rng), rng, rng.uniform(0, 1.5)), width: 28, height: 28 };
        break;
      case 'erase':
        canvas = { data: erase(pool, rng), width: 28, height: 28 };
        break;
      case 'letter':
        canvas = letter(rng);
        break;
      case 'scribble':
        canvas = scribble(rng);
        break;
      default:
        canvas = symbol(rng);
    }
    if (!canvas) continue;
    const r = preprocessToMnist(canvas.data, canvas.width, canvas.height);
    if (r.empty) continue;
    let ink = 0;
    for (let k = 0; k < 784; k++) ink += r.pixels[k];
    if (ink < 20) continue; // a speck, not a shape
    // MNIST's tone, with the saturated share drawn from MNIST's own 10-90% range (0.24-0.52)
    return { kind, pixels: toBytes(normaliseTone(r.pixels, rng.uniform(0.24, 0.52))) };
  }
  throw new Error(`synth-strokes: could not draw a ${kind} (seed ${seed}, image ${index})`);
}

/** Generate `count` images: labels index STROKE_KINDS. */
export async function generateSynthStrokes(pool: DigitPool, opts: { count: number; seed: number }): Promise<LabelledImages> {
  const pixels = new Uint8Array(opts.count * 784);
  const labels = new Uint8Array(opts.count);
  for (let i = 0; i < opts.count; i++) {
    const s = drawSynthStroke(pool, opts.seed, i);
    pixels.set(s.pixels, i * 784);
    labels[i] = STROKE_KINDS.indexOf(s.kind);
    if (i % 500 === 499) await new Promise<void>((r) => setImmediate(r));
  }
  return { name: 'synth-strokes', images: { count: opts.count, rows: 28, cols: 28, pixels }, labels, classNames: [...STROKE_KINDS] };
}
