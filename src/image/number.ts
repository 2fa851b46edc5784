/**
 * Numbers written with several digits (`udq predict --number`): the flattened ink of a
 * picture -> one ink image per written digit, left to right. Pure functions.
 *
 * 1. connected components of the ink; specks, ruled lines and bands along the frame edge go;
 * 2. the components on the writing line: those whose vertical span overlaps the line of the
 *    largest ones;
 * 3. merge: components whose horizontal extents overlap (the bar of a 5, a broken stroke of
 *    one digit) are one digit;
 *    much smaller groups (a detached tail) and flat ones (the bar of a 5 written apart) join
 *    their nearest neighbour;
 * 4. split: a group wider than one digit can be (1.15 x the height of the writing; MNIST's
 *    digits are 0.7 x their height wide on average) is cut into round(width / 0.75 height)
 *    digits at the columns with the least ink near the expected boundaries.
 */
import { Component, labelComponents } from './components';
import { removeRuledLines } from './pipeline';

/** One digit of a written number: its ink (a crop of the picture) and where it was. */
export interface NumberDigit {
  ink: Float32Array;
  width: number;
  height: number;
  /** its box in the picture */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

interface Group {
  comps: Component[];
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

function groupOf(cs: Component[]): Group {
  return { comps: cs, x0: Math.min(...cs.map((c) => c.x0)), x1: Math.max(...cs.map((c) => c.x1)), y0: Math.min(...cs.map((c) => c.y0)), y1: Math.max(...cs.map((c) => c.y1)) };
}

/** Typical width of one digit for writing of this height (MNIST: 0.7 x the height on average). */
export const DIGIT_ASPECT = 0.7;

/** A group wider than this many times the writing's height holds several digits. */
export const SPLIT_WIDTH = 1.15;

function massOf(g: Group): number {
  return g.comps.reduce((a, c) => a + c.mass, 0);
}

/**
 * Groups that cannot be a digit join the nearest neighbouring group: much smaller ones (under
 * 20% of the median group's ink and narrower than 0.4 x the line height: the detached tail of a
 * 2) and flat ones (under FLAT_FRAGMENT of the median group's height: the bar of a 5 written
 * apart, which may be as wide as a digit). Such a group farther than FRAGMENT_REACH x the line
 * height from both neighbours belongs to no digit (a speck of dust beside small writing) and is
 * dropped. Pure.
 */
export function absorbFragments(groups: Group[], lineH: number): Group[] {
  if (groups.length < 2) return groups;
  const masses = groups.map(massOf).sort((a, b) => a - b);
  const median = masses[Math.floor(masses.length / 2)];
  const heights = groups.map((g) => g.y1 - g.y0 + 1).sort((a, b) => a - b);
  const medianH = heights[Math.floor(heights.length / 2)];
  const out = [...groups];
  for (let i = 0; i < out.length; i++) {
    const g = out[i];
    const small = massOf(g) < 0.2 * median && g.x1 - g.x0 + 1 < 0.4 * lineH;
    const flat = g.y1 - g.y0 + 1 < FLAT_FRAGMENT * medianH;
    if (out.length < 2 || !(small || flat)) continue;
    const gapL = i > 0 ? g.x0 - out[i - 1].x1 : Infinity;
    const gapR = i + 1 < out.length ? out[i + 1].x0 - g.x1 : Infinity;
    // within reach it joins the nearer neighbour; beyond it, it is dropped
    if (Math.min(gapL, gapR) <= FRAGMENT_REACH * lineH) {
      const j = gapL <= gapR ? i - 1 : i + 1;
      out[j] = groupOf([...out[j].comps, ...g.comps]);
    }
    out.splice(i, 1);
    i--;
  }
  return out.sort((a, b) => a.x0 - b.x0);
}

/** A fragment joins a neighbour at most this many line heights away (the tail of a 2, a 5's bar). */
export const FRAGMENT_REACH = 0.6;

/** A group less tall than this share of the median group's height is a stroke of a digit, not a digit. */
export const FLAT_FRAGMENT = 0.4;

/**
 * Merge components into digit groups (overlap of horizontal extents >= `overlap` of the
 * narrower one), sorted left to right. Pure.
 */
export function mergeColumns(components: Component[], overlap = 0.5): Group[] {
  const sorted = [...components].sort((a, b) => a.x0 - b.x0);
  const groups: Group[] = [];
  for (const c of sorted) {
    const g = groups.find((g) => {
      const inter = Math.min(g.x1, c.x1) - Math.max(g.x0, c.x0) + 1;
      const narrow = Math.min(g.x1 - g.x0 + 1, c.x1 - c.x0 + 1);
      return inter >= overlap * narrow;
    });
    if (g) {
      const merged = groupOf([...g.comps, c]);
      Object.assign(g, merged);
    } else groups.push(groupOf([c]));
  }
  return groups.sort((a, b) => a.x0 - b.x0);
}

/**
 * Where to cut a group of width `w` holding `k` digits: for each expected boundary
 * (i * w / k), the column with the least ink within +-25% of a digit's width. Pure.
 */
export function splitColumns(columnInk: Float32Array, k: number): number[] {
  const w = columnInk.length;
  const cuts: number[] = [];
  for (let i = 1; i < k; i++) {
    const expect = (i * w) / k;
    const r = Math.max(1, Math.round((0.25 * w) / k));
    let best = Math.round(expect);
    let bestV = Infinity;
    for (let x = Math.max(1, Math.round(expect - r)); x <= Math.min(w - 2, Math.round(expect + r)); x++) {
      const v = columnInk[x] + 1e-3 * Math.abs(x - expect);
      if (v < bestV) {
        bestV = v;
        best = x;
      }
    }
    cuts.push(best);
  }
  return cuts;
}

/** Split the flattened ink of a picture into its written digits, left to right. */
export function segmentNumber(ink: Float32Array, width: number, height: number, level = 0.35): NumberDigit[] {
  const mask = new Uint8Array(ink.length);
  for (let i = 0; i < ink.length; i++) mask[i] = ink[i] >= level ? 1 : 0;
  removeRuledLines(mask, width, height);
  const { labels, components } = labelComponents(mask, width, height, ink);
  if (components.length === 0) return [];
  const isBand = (c: Component) => c.touchesEdge && (c.x1 - c.x0 + 1 >= 0.5 * width || c.y1 - c.y0 + 1 >= 0.5 * height);
  let cs = components.filter((c) => !isBand(c));
  const maxMass = Math.max(0, ...cs.map((c) => c.mass));
  cs = cs.filter((c) => c.mass >= 0.05 * maxMass && c.area >= 3);
  if (cs.length === 0) return [];
  // the writing line: the vertical span of the components holding at least 30% of the largest's ink
  const big = cs.filter((c) => c.mass >= 0.3 * maxMass);
  const lineY0 = Math.min(...big.map((c) => c.y0));
  const lineY1 = Math.max(...big.map((c) => c.y1));
  const lineH = lineY1 - lineY0 + 1;
  cs = cs.filter((c) => c.y1 >= lineY0 - 0.15 * lineH && c.y0 <= lineY1 + 0.15 * lineH);
  const groups = absorbFragments(mergeColumns(cs), lineH);
  const digitW = DIGIT_ASPECT * lineH;
  const out: NumberDigit[] = [];
  for (const g of groups) {
    const gw = g.x1 - g.x0 + 1;
    // a single digit is rarely wider than 1.15 x the line's height; touching digits are
    const k = gw > SPLIT_WIDTH * lineH ? Math.max(2, Math.round(gw / (1.07 * digitW))) : 1;
    const keep = new Set(g.comps.map((c) => c.label));
    // column profile of this group's ink
    const colInk = new Float32Array(gw);
    for (let y = g.y0; y <= g.y1; y++) for (let x = g.x0; x <= g.x1; x++) if (keep.has(labels[y * width + x])) colInk[x - g.x0] += ink[y * width + x];
    const cuts = k > 1 ? splitColumns(colInk, k) : [];
    const bounds = [0, ...cuts, gw];
    for (let p = 0; p + 1 < bounds.length; p++) {
      const a = g.x0 + bounds[p];
      const b = g.x0 + bounds[p + 1] - 1;
      const w = b - a + 1 + 2;
      const h = g.y1 - g.y0 + 1 + 2;
      const crop = new Float32Array(w * h);
      for (let y = g.y0; y <= g.y1; y++) {
        for (let x = a; x <= b; x++) {
          const q = y * width + x;
          if (!keep.has(labels[q])) continue;
          // the component's ink plus its anti-aliased fringe within the cut
          for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            const yy = y + dy;
            if (xx < a || xx > b || yy < 0 || yy >= height) continue;
            const v = ink[yy * width + xx];
            const t = (yy - g.y0 + 1) * w + (xx - a + 1);
            if (t >= 0 && t < crop.length && v > crop[t]) crop[t] = v;
          }
        }
      }
      out.push({ ink: crop, width: w, height: h, x0: a, y0: g.y0, x1: b, y1: g.y1 });
    }
  }
  return out;
}
