/**
 * The `hand-digits` generator: digits in the handwriting conventions that neither MNIST's
 * writers nor the fonts of `synth-digits` draw, as parametric pen strokes (each image draws
 * its own proportions), rendered with the random pens of `synth-letters` and put through the
 * exact MNIST preprocessing. Extra *training digits* (`udq train --extra-digits hand-digits`).
 * Six styles in five slots, cycled so every prefix is balanced (the 4's slot alternates two):
 *
 * - `open-4`: a 4 in one movement down-left and across, its bar low (half to three quarters of
 *   the height) and running past a stem that starts anywhere in the top half: the Italian school 4;
 * - `short-4`: the same movement in a box about as wide as tall, its bar near the bottom, and a
 *   short stem near the bar's right end, from about the middle to just below the bar: the
 *   one-stroke 4s Semeion's writers draw, which MNIST's writers do not;
 * - `crossed-7`: a 7 with a bar across its stem, sometimes with a down-stroke at the top left;
 * - `looped-2`: a 2 whose bottom curls into a small loop before the base runs right;
 * - `flat-5`: a 5 whose flag is a flat bar drawn apart from the stem and the bowl;
 * - `wide-1`: the continental 1 with a long flag (from a third to 0.7 of the way down,
 *   climbing at 42 degrees or steeper, its stem near upright) in a box about as wide as tall,
 *   as writers who fill the space draw it (Semeion's scanned 1s); a foot on some.
 *
 * A second series, `hand-digits-b` (its own seed; image i: `hooked-9` when even, `long-1` when odd):
 *
 * - `hooked-9`: a closed bowl in the top third to half, drawn round from its right side in the
 *   same stroke as the stem, whose tail hooks back left along the bottom and ends low at the left;
 * - `long-1`: the continental 1 whose flag starts at the left edge low down (from 0.55 of the
 *   height to the bottom) and climbs to a peak 0.6-1 across, the stem straight down from it,
 *   leaning a little either way; a foot on some.
 *
 * Both are the shapes of the 9s the models misread and the 1s they refuse in Semeion's scans
 * (session 22), drawn from geometry like the others.
 *
 * A third series, `hand-digits-c` (its own seed; every image a `curled-9`):
 *
 * - `curled-9`: a small closed bowl high up and left of the middle, drawn from its right side;
 *   the tail swings out to the right edge and down, runs round along the bottom and curls up at
 *   the left (ending 0.55-0.8 of the way down): the lower half of a 3 under a 9's bowl, as most of the
 *   Semeion 9s the models misread as 3 or 8 are drawn (session 23).
 *
 * A fourth series, `hand-digits-d` (its own seed; every image a `retraced-1`):
 *
 * - `retraced-1`: the continental 1 written fast in one movement, up from the lower left
 *   (0.75 of the height to the bottom) to the top and back down the same line: the up-stroke
 *   runs along the stem's upper part, 0.02-0.06 to its left (horizontally), so the flag seems to
 *   join the stem 0.3-0.6 of the way down (a lambda) and the upper stem is inked twice; the
 *   stem's top is 0.7-1.1 across (0.6-1.1 right of the flag's start) and it leans with its foot
 *   up to 0.25 left of its top; 40% kick to the right at the foot: the Semeion 1s the models read
 *   right but refuse (session 24).
 *
 * (Until session 17 there were four styles, without `wide-1`: image i of those sets drew style
 * i % 4, so the sets and the models of RESULTS' "Hand-drawn digit styles" are not what the same
 * command draws now.)
 *
 * (Until session 18 the 4's slot drew only `open-4`; the even visits still draw the same images,
 * and sets without 4s are unchanged.)
 *
 * Image i of a seed depends only on (seed, i).
 */
import type { LabelledImages } from '../types';
import { DIGIT_CLASSES, Glyph } from './glyphs';
import { drawGlyph, generateGlyphSet } from './letters';
import type { Polyline, Pt } from './path';
import { hashSeed, makeRng, Rng } from './random';

/** The seed of the hand-drawn training digits (fixed: the set does not change with `--seed`). */
export const HAND_DIGITS_SEED = 7003;

/** Every style, with the digit it draws. */
export const HAND_STYLES = [
  { name: 'open-4', digit: 4 },
  { name: 'crossed-7', digit: 7 },
  { name: 'looped-2', digit: 2 },
  { name: 'flat-5', digit: 5 },
  { name: 'wide-1', digit: 1 },
  { name: 'short-4', digit: 4 },
  { name: 'hooked-9', digit: 9 },
  { name: 'long-1', digit: 1 },
  { name: 'curled-9', digit: 9 },
  { name: 'retraced-1', digit: 1 },
] as const;

export type HandStyle = (typeof HAND_STYLES)[number];

/**
 * The slots images cycle through (image i: slot i % 5); a slot with several styles takes them in
 * turn on its successive visits (image i: style floor(i / 5) % its length).
 */
export const HAND_SLOTS: ReadonlyArray<readonly HandStyle['name'][]> = [['open-4', 'short-4'], ['crossed-7'], ['looped-2'], ['flat-5'], ['wide-1']];

/** The slots of the second series, `hand-digits-b` (image i: `hooked-9` when i is even, `long-1` when odd). */
export const HAND_SLOTS_B: ReadonlyArray<readonly HandStyle['name'][]> = [['hooked-9'], ['long-1']];

/** The seed of the second series (fixed, like {@link HAND_DIGITS_SEED}). */
export const HAND_DIGITS_B_SEED = 7004;

/** The slots of the third series, `hand-digits-c` (every image a `curled-9`). */
export const HAND_SLOTS_C: ReadonlyArray<readonly HandStyle['name'][]> = [['curled-9']];

/** The seed of the third series (fixed). */
export const HAND_DIGITS_C_SEED = 7005;

/** The slots of the fourth series, `hand-digits-d` (every image a `retraced-1`). */
export const HAND_SLOTS_D: ReadonlyArray<readonly HandStyle['name'][]> = [['retraced-1']];

/** The seed of the fourth series (fixed). */
export const HAND_DIGITS_D_SEED = 7006;

/** A series of hand-drawn digits: its `--extra-digits` name, its fixed seed and the slots its images cycle through. */
export interface HandSeries {
  readonly name: string;
  readonly seed: number;
  readonly slots: ReadonlyArray<readonly HandStyle['name'][]>;
}

/** The series, first to fourth: `hand-digits`, `hand-digits-b`, `hand-digits-c`, `hand-digits-d`. */
export const HAND_SERIES: readonly HandSeries[] = [
  { name: 'hand-digits', seed: HAND_DIGITS_SEED, slots: HAND_SLOTS },
  { name: 'hand-digits-b', seed: HAND_DIGITS_B_SEED, slots: HAND_SLOTS_B },
  { name: 'hand-digits-c', seed: HAND_DIGITS_C_SEED, slots: HAND_SLOTS_C },
  { name: 'hand-digits-d', seed: HAND_DIGITS_D_SEED, slots: HAND_SLOTS_D },
];

/** The style image `index` of a set with `slots` draws (the first series unless said). Pure. */
export function handStyleOf(index: number, slots: ReadonlyArray<readonly HandStyle['name'][]> = HAND_SLOTS): HandStyle {
  const slot = slots[index % slots.length];
  const name = slot[Math.floor(index / slots.length) % slot.length];
  return HAND_STYLES.find((s) => s.name === name)!;
}

/**
 * A Catmull-Rom spline through `points` (each span cut into `steps` segments), as one
 * polyline that starts at the first point and ends at the last. Pure.
 */
export function catmullRom(points: readonly Pt[], steps = 8): Polyline {
  if (points.length < 3) return points.map(([x, y]) => [x, y]);
  const out: Polyline = [[points[0][0], points[0][1]]];
  for (let i = 0; i < points.length - 1; i++) {
    const p0 = points[Math.max(0, i - 1)];
    const p1 = points[i];
    const p2 = points[i + 1];
    const p3 = points[Math.min(points.length - 1, i + 2)];
    for (let s = 1; s <= steps; s++) {
      const t = s / steps;
      const t2 = t * t;
      const t3 = t2 * t;
      const c = (a: number, b: number, d: number, e: number) => 0.5 * (2 * b + (-a + d) * t + (2 * a - 5 * b + 4 * d - e) * t2 + (-a + 3 * b - 3 * d + e) * t3);
      out.push([c(p0[0], p1[0], p2[0], p3[0]), c(p0[1], p1[1], p2[1], p3[1])]);
    }
  }
  return out;
}

/** The strokes of one style with proportions drawn from `rng` (y down, height about 1). */
export function handStrokes(style: HandStyle['name'], rng: Rng): Polyline[] {
  const u = (a: number, b: number) => rng.uniform(a, b);
  switch (style) {
    case 'open-4': {
      const bar = u(0.55, 0.8);
      const right = u(0.75, 1);
      const stemX = u(0.5, 0.75);
      const stemTop = u(0, 0.45);
      const lean = u(-0.06, 0.06);
      const x0 = u(0.05, 0.45);
      // down-left and across: a straight diagonal, or a stem that bends into the bar
      const stroke: Polyline = rng.next() < 0.5
        ? [[x0, 0], [u(-0.02, 0.06), bar], [right, bar + u(-0.04, 0.04)]]
        : catmullRom([[x0, 0], [x0 * 0.5, bar * 0.6], [x0 * 0.3 + 0.05, bar], [(x0 + right) / 2, bar + u(-0.03, 0.03)], [right, bar + u(-0.05, 0.03)]]);
      const stem: Polyline = [[stemX, stemTop], [stemX - lean, u(0.85, 1)]];
      return [stroke, stem];
    }
    case 'crossed-7': {
      const w = u(0.6, 0.85);
      const foot = u(0.15, 0.45);
      const top: Pt[] = [[0, u(-0.02, 0.03)], [w, 0]];
      const strokes: Polyline[] = [[...top, [foot, 1]]];
      if (rng.next() < 0.4) strokes[0].unshift([u(-0.02, 0.04), u(0.1, 0.2)]);
      const y = u(0.42, 0.6);
      const xAt = w + (foot - w) * y;
      const half = u(0.18, 0.3);
      strokes.push([[xAt - half, y + u(-0.03, 0.03)], [xAt + half, y + u(-0.03, 0.03)]]);
      return strokes;
    }
    case 'looped-2': {
      const w = u(0.65, 0.85);
      const R = u(0.1, 0.15);
      const cx = u(0.1, 0.2) + R;
      const cy = 0.97 - R;
      const pts: Pt[] = [
        [0.03, u(0.2, 0.32)], [0.25 * w, 0.02], [0.7 * w, 0.03], [0.95 * w, u(0.22, 0.32)], [0.6 * w, u(0.5, 0.6)],
        [cx + 0.2 * R, cy - R], [cx - R, cy], [cx, cy + R], [cx + R, cy], [cx + 0.2 * R, cy - R], [cx - 0.6 * R, cy - 0.3 * R],
        [cx + 0.8 * R, cy + R], [w, u(0.94, 1)],
      ];
      return [catmullRom(pts)];
    }
    case 'flat-5': {
      const w = u(0.6, 0.8);
      const neck = u(0.38, 0.5);
      const bar: Polyline = [[u(0.05, 0.15), 0], [w, u(-0.04, 0.02)]];
      const body = catmullRom([[0.1, 0], [0.08, neck], [0.4 * w, neck - 0.08], [0.95 * w, neck + 0.08], [w, 0.72], [0.75 * w, 0.95], [0.35 * w, 1], [0.02, u(0.85, 0.92)]]);
      return [body, bar];
    }
    case 'wide-1': {
      const peakX = u(0.45, 0.75);
      // the flag climbs at 42 degrees or steeper (flagY / peakX >= 0.9): flatter, it is a 7's bar
      const flagY = Math.min(0.7, Math.max(0.3, peakX * u(0.9, 1.4)));
      // the stem near upright: leaning far left from the top, it is a 7's
      const footX = peakX + u(-0.15, 0.1);
      const bend = u(-0.06, 0.06);
      // the flag up to the top (a little curved on some), then the stem down to the bottom
      const flag = catmullRom([[0, flagY], [0.5 * peakX + bend, 0.5 * flagY - bend], [peakX, 0]], 4);
      const strokes: Polyline[] = [[...flag, [footX, 1]]];
      if (rng.next() < 0.3) {
        const half = u(0.15, 0.3);
        strokes.push([[footX - half, 1], [footX + half, 1 + u(-0.02, 0.02)]]);
      }
      return strokes;
    }
    case 'long-1': {
      // the continental 1 as Semeion's writers draw it into a filled box: the flag from the left
      // edge low down (0.55 of the height to the bottom) to the top at the right, as wide as 0.6-1
      const peakX = u(0.6, 1);
      const flagY = Math.max(0.55 * peakX, u(0.55, 1));
      const bend = u(-0.08, 0.08);
      const flag = catmullRom([[0, flagY], [0.5 * peakX + bend, 0.5 * flagY - bend], [peakX, 0]], 4);
      // the stem down from the peak, leaning a little either way (far left it is a 7's)
      const footX = peakX + u(-0.25, 0.1);
      const strokes: Polyline[] = [[...flag, [footX, 1]]];
      if (rng.next() < 0.2) {
        const half = u(0.12, 0.25);
        strokes.push([[footX - half, 1], [footX + half, 1 + u(-0.02, 0.02)]]);
      }
      return strokes;
    }
    case 'hooked-9': {
      // a closed bowl in the top third to half, drawn from its right side up and round; the stem
      // goes down from there and its tail hooks back left along the bottom, ending low at the left
      const w = u(0.6, 1);
      const bh = u(0.35, 0.55);
      const rx = w * u(0.38, 0.48);
      const cx = w - rx - u(0, 0.08);
      const cy = bh / 2;
      const bowl: Pt[] = [];
      const overshoot = u(0, 0.5);
      for (let k = 0; k <= 24; k++) {
        const t = ((2 * Math.PI + overshoot) * k) / 24;
        bowl.push([cx + rx * Math.cos(t), cy - (bh / 2) * Math.sin(t)]);
      }
      const stemX = cx + rx + u(-0.12, 0.05);
      const endX = u(0, 0.45) * w;
      const endY = u(0.75, 1);
      const tail = catmullRom([[cx + rx, cy], [stemX, u(0.6, 0.75)], [stemX - u(0.05, 0.15), u(0.94, 1)], [(stemX + endX) / 2, 1], [endX, endY]], 6);
      return [[...bowl, ...tail.slice(1)]];
    }
    case 'curled-9': {
      // a small closed bowl high up at the left, drawn from its right side up and round; from
      // there the tail swings out to the right edge and down, round along the bottom and curls
      // up at the left: the lower half of a 3 under a 9's bowl
      const w = u(0.8, 1.1);
      const bh = u(0.3, 0.45);
      const rx = w * u(0.18, 0.3);
      const cx = rx + u(0, 0.12) * w;
      const cy = bh / 2 + u(0, 0.05);
      const bowl: Pt[] = [];
      const overshoot = u(-0.2, 0.4);
      for (let k = 0; k <= 24; k++) {
        const t = ((2 * Math.PI + overshoot) * k) / 24;
        bowl.push([cx + rx * Math.cos(t), cy - (bh / 2) * Math.sin(t)]);
      }
      const outX = w * u(0.85, 1);
      const endX = u(0, 0.2) * w;
      const endY = u(0.55, 0.8);
      const tail = catmullRom([bowl[24], [outX, u(0.5, 0.68)], [outX - u(0.1, 0.25) * w, u(0.9, 1)], [(outX + endX) / 2, 1], [endX, endY]], 6);
      return [[...bowl, ...tail.slice(1)]];
    }
    case 'retraced-1': {
      // the continental 1 written fast in one movement: up from the lower left to the top and
      // back down the same line, so the up-stroke runs along the stem's upper part and the flag
      // seems to join the stem part way down (a lambda); the upper stem is inked twice, a little
      // apart; a kick to the right at the foot on some
      const topX = u(0.7, 1.1);
      const footX = topX - u(0, 0.25);
      const join = u(0.3, 0.6);
      const joinX = topX + (footX - topX) * join;
      const start: Pt = [u(0, 0.1), u(0.75, 1)];
      const gap = u(0.02, 0.06);
      const flag = catmullRom([start, [(start[0] + joinX) / 2 - u(0, 0.05), (start[1] + join) / 2 + u(0, 0.05)], [joinX - gap, join]], 4);
      const stem: Polyline = [[topX, 0], [footX, 1]];
      if (rng.next() < 0.4) stem.push([footX + u(0.1, 0.3), 1 - u(0, 0.1)]);
      return [[...flag, [topX - gap, 0]], stem];
    }
    case 'short-4': {
      const bar = u(0.72, 0.88);
      const right = u(0.85, 1.05);
      const x0 = u(0.25, 0.6);
      const left = u(-0.02, 0.1);
      // down-left and along the bottom: a straight diagonal, or one that bows out to the left
      const stroke: Polyline = rng.next() < 0.5
        ? [[x0, 0], [left, bar], [right, bar + u(-0.04, 0.04)]]
        : catmullRom([[x0, 0], [(x0 + left) / 2 - u(0, 0.1), bar * 0.5], [left, bar], [(left + right) / 2, bar + u(-0.03, 0.03)], [right, bar + u(-0.04, 0.03)]]);
      // a short stem near the bar's right end, from the middle down to just below the bar
      const stemX = right * u(0.7, 0.9);
      const stem: Polyline = [[stemX, u(0.3, bar - 0.25)], [stemX - u(-0.04, 0.04), bar + u(0.09, 0.16)]];
      return [stroke, stem];
    }
  }
}

/** Draw image `index` of `series` (the first unless said) with seed `seed`: its label, style and 784 MNIST-style bytes. Deterministic. */
export function drawHandDigit(seed: number, index: number, series: HandSeries = HAND_SERIES[0]): { label: number; style: string; pixels: Uint8Array } {
  const s = handStyleOf(index, series.slots);
  const rng = makeRng(hashSeed(seed, index));
  const glyph: Glyph = { font: `hand:${s.name}`, char: DIGIT_CLASSES[s.digit], kind: 'stroke', lines: handStrokes(s.name, rng) };
  return { label: s.digit, style: s.name, pixels: drawGlyph(rng, glyph, series.name, index) };
}

/** `count` hand-drawn digits of `series` (the first unless said) with `seed` as a labelled set (labels 0-9, uint8 28x28 MNIST-style). */
export async function generateHandDigits(opts: { count: number; seed: number }, series: HandSeries = HAND_SERIES[0]): Promise<LabelledImages> {
  return generateGlyphSet(series.name, opts.count, DIGIT_CLASSES, (i) => drawHandDigit(opts.seed, i, series));
}
