/**
 * Numbers written with several digits (`udq predict --number`): the flattened ink of a
 * picture -> one ink image per written digit, left to right. Pure functions.
 *
 * 1. connected components of the ink: strokes at the ink level, less ruled lines and bands along
 *    the frame edge, and the fainter ink within a stroke's width of them ({@link growFaintInk});
 *    specks go;
 * 2. the components on the writing line: those whose vertical span overlaps the line of the
 *    largest ones ({@link writingLine}: those chained by vertical overlap to the one sharing its
 *    height with the most others);
 * 3. merge: components whose horizontal extents overlap (the bar of a 5, a broken stroke of
 *    one digit) are one digit;
 *    much smaller groups (a detached tail) and flat ones (the bar of a 5 written apart) join
 *    their nearest neighbour;
 * 4. split: a group wider than one digit can be (1.15 x the height of the writing; MNIST's
 *    digits are 0.7 x their height wide on average) is cut into round(width / 0.75 height)
 *    digits at the columns with the least ink near the expected boundaries, and, as
 *    alternatives the reader weighs with the model, into one digit fewer and one more.
 */
import { Component, isFrameBand, labelComponents, neighbours8 } from './components';
import { removeRuledLines, strokeWidth } from './pipeline';

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
 * 20% of the median group's ink, narrower than 0.4 x the line height and shorter than
 * TALL_PIECE x the line height: the detached tail of a 2, not a thin 1) and flat ones (under
 * FLAT_FRAGMENT of the median group's height: the bar of a 5 written apart, which may be as
 * wide as a digit). Such a group farther than FRAGMENT_REACH x the line height from both
 * neighbours belongs to no digit (a speck of dust beside small writing) and is dropped. Pure.
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
    // small in ink, width and height: a narrow 1 as tall as the writing is a digit, however light
    const small = massOf(g) < 0.2 * median && g.x1 - g.x0 + 1 < 0.4 * lineH && g.y1 - g.y0 + 1 < TALL_PIECE * lineH;
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

/** A piece at least this many line heights tall is never a small fragment (a thin 1 beside a heavy 0). */
export const TALL_PIECE = 0.6;

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

/** How many digits a group of width `gw` holds by its width alone: round(width / 0.75 x the line height) when wider than SPLIT_WIDTH x the line height, else 1. Pure. */
export function digitCountByWidth(gw: number, lineH: number): number {
  return gw > SPLIT_WIDTH * lineH ? Math.max(2, Math.round(gw / (1.07 * DIGIT_ASPECT * lineH))) : 1;
}

/** A piece of a group between two of its candidate cuts, which may hold one digit. */
export interface NumberSegment extends NumberDigit {
  /** indices into the group's `points` of its left and right cut */
  from: number;
  to: number;
}

/** A group of touching or overlapping strokes and the ways it may be cut into digits. */
export interface DigitGroupCuts {
  /** candidate cut columns, left to right: the group's left edge, the cuts, one past its right edge */
  points: number[];
  /** the pieces between two points that may each hold one digit */
  segments: NumberSegment[];
  /** the cut by width alone, as indices into `segments`, left to right */
  byWidth: number[];
}

/** A piece between two candidate cuts is a digit candidate if it is this wide (times the line height) or wider: a narrow 1. */
export const SEGMENT_MIN_WIDTH = 0.15;
/** ... and at most this wide: a wide 0 or a 2 with a long base. */
export const SEGMENT_MAX_WIDTH = 1.3;
/** At most this many candidate cuts inside one group (those with the least ink). */
export const MAX_CUTS = 10;

/**
 * Candidate cut columns of a group `gw` wide (column ink `colInk`): the width-based cuts for k - 1,
 * k and k + 1 digits ({@link splitColumns}, k = {@link digitCountByWidth}), and the local minima
 * of the column ink at least SEGMENT_MIN_WIDTH line heights from either end; at most MAX_CUTS of
 * the minima, those with the least ink; a cut 2 px or closer to one already kept is dropped (the
 * width-based cuts for k are kept first, exactly). Relative to the group's left edge, sorted. Pure.
 */
export function candidateCuts(colInk: Float32Array, lineH: number): { cuts: number[]; byWidth: number[] } {
  const gw = colInk.length;
  const k = digitCountByWidth(gw, lineH);
  if (k === 1) return { cuts: [], byWidth: [] };
  const byWidth = splitColumns(colInk, k);
  const fixed = [...byWidth, ...(k - 1 >= 2 ? splitColumns(colInk, k - 1) : []), ...splitColumns(colInk, k + 1)];
  const margin = Math.max(1, Math.round(SEGMENT_MIN_WIDTH * lineH));
  const smooth = (x: number) => (colInk[x - 1] + colInk[x] + colInk[x + 1]) / 3;
  const minima: number[] = [];
  for (let x = Math.max(2, margin); x <= Math.min(gw - 3, gw - margin); x++) {
    if (!(smooth(x) <= smooth(x - 1) && smooth(x) < smooth(x + 1))) continue;
    // the column with the least ink of the three
    minima.push([x - 1, x, x + 1].reduce((b, c) => (colInk[c] < colInk[b] ? c : b), x));
  }
  minima.sort((a, b) => colInk[a] - colInk[b]);
  // the width-based cuts exactly, then the others farther than 2 px from every cut kept
  const cuts: number[] = [];
  for (const x of [...byWidth, ...fixed, ...minima.slice(0, MAX_CUTS)]) if (cuts.every((c) => Math.abs(c - x) > 2)) cuts.push(x);
  return { cuts: cuts.sort((a, b) => a - b), byWidth };
}

/**
 * Ink at least this dark (0..1), below the stroke level, belongs to a stroke when it lies within
 * reach of one ({@link growFaintInk}): the faint bar of a 5 or a 7, or a light stroke of a 4,
 * which MNIST's grey digits keep and a cut at the stroke level alone loses.
 */
export const FAINT_LEVEL = 0.15;

/**
 * `seeds` (the stroke pixels) grown into the pixels of `ink` at or above `low` that are not
 * `blocked`, 8-connected, at most `reach` steps from a seed: faint ink joins the strokes it
 * touches, while a faint structure of its own (a shadow, a thick faint line, an underline) adds
 * at most `reach` pixels to a stroke it touches. Returns a new mask. Pure.
 */
export function growFaintInk(seeds: Uint8Array, ink: ArrayLike<number>, width: number, height: number, low: number, reach: number, blocked?: Uint8Array): Uint8Array {
  const mask = Uint8Array.from(seeds);
  const around = new Int32Array(8);
  let frontier: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i]) frontier.push(i);
  for (let step = 0; step < reach && frontier.length; step++) {
    const next: number[] = [];
    for (const p of frontier) {
      const x = p % width;
      const n = neighbours8(x, (p - x) / width, width, height, around);
      for (let j = 0; j < n; j++) {
        const q = around[j];
        if (!mask[q] && ink[q] >= low && !blocked?.[q]) {
          mask[q] = 1;
          next.push(q);
        }
      }
    }
    frontier = next;
  }
  return mask;
}

/** Faint ink joins a stroke up to this many times the strokes' width away (at least 2 px). */
export const FAINT_REACH = 1.5;

function heaviest(cs: Component[]): number {
  return cs.reduce((m, c) => Math.max(m, c.mass), 0);
}

/**
 * The vertical span of the writing among `big` components (the digits' strokes, at least one):
 * the component that shares its height with the most others (ties: the heaviest), and every
 * component chained to it through neighbours whose vertical spans overlap or lie less than
 * LINE_GAP x the median component height apart, so a line that climbs or falls, even with small
 * vertical steps between its digits, stays whole. A big mark alone farther above or below the
 * writing (a blot, a dot over a photographed number) is not part of it: it no longer stretches
 * the line, and the caller's filter then drops it when it lies more than 0.15 x the line height
 * off the line (a mark closer than that stays, and may still join the digit under it). Pure.
 */
export function writingLine(big: Component[]): { y0: number; y1: number } {
  const heights = big.map((c) => c.y1 - c.y0 + 1).sort((a, b) => a - b);
  const tolerance = LINE_GAP * heights[Math.floor(heights.length / 2)];
  const near = (a: Component, b: Component) => Math.max(a.y0, b.y0) - Math.min(a.y1, b.y1) - 1 < tolerance;
  const shared = big.map((c) => big.filter((d) => near(c, d)).length);
  let anchor = 0;
  for (let i = 1; i < big.length; i++) if (shared[i] > shared[anchor] || (shared[i] === shared[anchor] && big[i].mass > big[anchor].mass)) anchor = i;
  // breadth-first from the anchor over "near in height"
  const line = new Set([anchor]);
  const queue = [anchor];
  while (queue.length) {
    const j = queue.shift()!;
    for (let i = 0; i < big.length; i++) {
      if (line.has(i) || !near(big[i], big[j])) continue;
      line.add(i);
      queue.push(i);
    }
  }
  const on = [...line].map((i) => big[i]);
  return { y0: Math.min(...on.map((c) => c.y0)), y1: Math.max(...on.map((c) => c.y1)) };
}

/** Two components of the writing line may lie this many times the median component height apart vertically (a steep line's steps). */
export const LINE_GAP = 0.5;

/** The components that are not specks: at least 5% of the heaviest one's ink, and 3 px. */
function withoutSpecks(cs: Component[]): Component[] {
  const max = heaviest(cs);
  return cs.filter((c) => c.mass >= 0.05 * max && c.area >= 3);
}

/**
 * Split the flattened ink of a picture into groups of touching or overlapping strokes, left to
 * right, each with its candidate cuts and the pieces between them ({@link candidateCuts}): the
 * reader ({@link predictNumbers}) picks the cut whose digits the model is likeliest to accept.
 */
export function segmentNumberGroups(ink: Float32Array, width: number, height: number, level = 0.35): DigitGroupCuts[] {
  // ruled lines and bands are decided on the strokes; faint ink then joins what is left, never through them
  const strong = new Uint8Array(ink.length);
  for (let i = 0; i < ink.length; i++) strong[i] = ink[i] >= level ? 1 : 0;
  removeRuledLines(strong, width, height);
  const blocked = new Uint8Array(ink.length);
  for (let i = 0; i < ink.length; i++) if (ink[i] >= level && !strong[i]) blocked[i] = 1;
  const first = labelComponents(strong, width, height, ink);
  const bands = new Set(first.components.filter((c) => isFrameBand(c, width, height)).map((c) => c.label));
  // faint ink grows from the strokes, not from specks (dust, the broken edge of a table)
  const seedLabels = new Set(withoutSpecks(first.components.filter((c) => !bands.has(c.label))).map((c) => c.label));
  const seeds = new Uint8Array(ink.length);
  for (let i = 0; i < ink.length; i++) {
    if (bands.has(first.labels[i])) blocked[i] = 1;
    else if (seedLabels.has(first.labels[i])) seeds[i] = 1;
  }
  const reach = Math.max(2, Math.round(FAINT_REACH * strokeWidth(seeds, width, height)));
  const mask = growFaintInk(seeds, ink, width, height, Math.min(FAINT_LEVEL, level), reach, blocked);
  // the specks' own stroke pixels stay (the filter below drops them unless a stroke reached them)
  for (let i = 0; i < ink.length; i++) if (strong[i] && !blocked[i]) mask[i] = 1;
  // a line broken at the stroke level may be whole once its faint gaps are filled
  removeRuledLines(mask, width, height);
  const { labels, components } = labelComponents(mask, width, height, ink);
  // (bands were taken out at the stroke level: a digit near the edge that faint ink carried to it is not one)
  let cs = withoutSpecks(components);
  if (cs.length === 0) return [];
  const maxMass = heaviest(cs);
  // the writing line: of the components holding at least 30% of the largest's ink, those on one line
  const { y0: lineY0, y1: lineY1 } = writingLine(cs.filter((c) => c.mass >= 0.3 * maxMass));
  const lineH = lineY1 - lineY0 + 1;
  cs = cs.filter((c) => c.y1 >= lineY0 - 0.15 * lineH && c.y0 <= lineY1 + 0.15 * lineH);
  return absorbFragments(mergeColumns(cs), lineH).map((g) => {
    const gw = g.x1 - g.x0 + 1;
    const keep = new Set(g.comps.map((c) => c.label));
    // column profile of this group's ink
    const colInk = new Float32Array(gw);
    for (let y = g.y0; y <= g.y1; y++) for (let x = g.x0; x <= g.x1; x++) if (keep.has(labels[y * width + x])) colInk[x - g.x0] += ink[y * width + x];
    const { cuts, byWidth } = candidateCuts(colInk, lineH);
    const points = [0, ...cuts, gw];
    // the width-based cut's pieces: from each point of its path to the next
    const widthPath = [0, ...byWidth.map((c) => points.indexOf(c)), points.length - 1];
    const nextOnPath = new Map(widthPath.slice(0, -1).map((p, k) => [p, widthPath[k + 1]]));
    const segments: NumberSegment[] = [];
    const byWidthSegments: number[] = [];
    for (let i = 0; i + 1 < points.length; i++) {
      for (let j = i + 1; j < points.length; j++) {
        const w = points[j] - points[i];
        const onPath = nextOnPath.get(i) === j;
        if (!onPath && (w < SEGMENT_MIN_WIDTH * lineH || w > SEGMENT_MAX_WIDTH * lineH)) continue;
        if (onPath) byWidthSegments.push(segments.length);
        segments.push({ ...cropDigit(ink, labels, keep, width, height, g, g.x0 + points[i], g.x0 + points[j] - 1), from: i, to: j });
      }
    }
    return { points: points.map((p) => g.x0 + p), segments, byWidth: byWidthSegments };
  });
}

/** Split the flattened ink of a picture into its written digits, left to right, each group cut by width alone ({@link segmentNumberGroups}' `byWidth`). */
export function segmentNumber(ink: Float32Array, width: number, height: number, level = 0.35): NumberDigit[] {
  return segmentNumberGroups(ink, width, height, level).flatMap((g) => g.byWidth.map((i) => g.segments[i]));
}

/**
 * The best way to cut a group: the path of segments from its first point to its last with the
 * highest total score (a sum of the segments' `score`s), found by dynamic programming; the
 * width-based cut (`byWidth`) unless another beats it by more than `margin`. Returns indices into
 * `segments`, left to right. Pure.
 */
export function bestCut(group: Pick<DigitGroupCuts, 'points' | 'byWidth'> & { segments: { from: number; to: number }[] }, score: (segment: number) => number, margin: number): number[] {
  const n = group.points.length;
  const best = new Array<number>(n).fill(-Infinity);
  const via = new Array<number>(n).fill(-1);
  best[0] = 0;
  const bySource = group.segments.map((s, i) => ({ ...s, i })).sort((a, b) => a.from - b.from);
  for (const s of bySource) {
    if (best[s.from] === -Infinity) continue;
    const v = best[s.from] + score(s.i);
    if (v > best[s.to]) {
      best[s.to] = v;
      via[s.to] = s.i;
    }
  }
  const widthScore = group.byWidth.reduce((a, i) => a + score(i), 0);
  if (!(best[n - 1] > widthScore + margin)) return group.byWidth;
  const path: number[] = [];
  for (let p = n - 1; p > 0; p = group.segments[via[p]].from) path.unshift(via[p]);
  return path;
}

/** The ink of a group's components between columns a and b (and its anti-aliased fringe within them), with a 1 px margin. */
function cropDigit(ink: Float32Array, labels: Int32Array, keep: Set<number>, width: number, height: number, g: Group, a: number, b: number): NumberDigit {
  const w = b - a + 1 + 2;
  const h = g.y1 - g.y0 + 1 + 2;
  const crop = new Float32Array(w * h);
  for (let y = g.y0; y <= g.y1; y++) {
    for (let x = a; x <= b; x++) {
      const q = y * width + x;
      if (!keep.has(labels[q])) continue;
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
  return { ink: crop, width: w, height: h, x0: a, y0: g.y0, x1: b, y1: g.y1 };
}
