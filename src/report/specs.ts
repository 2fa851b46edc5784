/**
 * Vega-lite specs of the report's plots, built by pure functions from plain rows (no
 * rendering, no I/O), so tests can compile them and check their data. Rendering to SVG/PNG
 * lives in render.ts.
 *
 * Every chart carries its own axis titles, legend and title, so a plot can be read without
 * report.md. Colours: digits blue, adversary orange everywhere; each score has one colour in
 * both curve plots; curves whose mode ends in "dropout off" are dashed.
 */
import type { TopLevelSpec } from 'vega-lite';

export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** Colours of the two image sets (Tableau 10 blue / orange). */
export const SET_COLOURS = ['#4c78a8', '#f58518'] as const;

/** Colours of the curves, in the order they are listed (gate first). */
export const CURVE_COLOURS = ['#d62728', '#4c78a8', '#f58518', '#54a24b', '#b279a2', '#7f7f7f', '#9d755d', '#17becf'];

/** Colours of the two verdicts. */
export const VERDICT_COLOURS = { digit: '#2ca02c', rejected: '#d62728' } as const;

const FONT = 'DejaVu Sans, Verdana, Arial, sans-serif';

/** Shared look: readable font sizes, white background. */
function config(): Record<string, unknown> {
  return {
    font: FONT,
    background: 'white',
    title: { fontSize: 15, subtitleFontSize: 12, anchor: 'start', offset: 10 },
    axis: { labelFontSize: 12, titleFontSize: 13, grid: true, gridColor: '#e6e6e6' },
    legend: { labelFontSize: 12, titleFontSize: 13, labelLimit: 360 },
    header: { labelFontSize: 13, titleFontSize: 13 },
    view: { stroke: '#bbbbbb' },
  };
}

// ---------------------------------------------------------------------------------------------
// 1. Histograms of the uncertainty

/** One bin of one set's histogram in one panel. */
export interface HistogramRow {
  /** which panel (e.g. `mc-dropout`, `dropout-off`) */
  panel: string;
  /** set label, e.g. `MNIST test digits` */
  set: string;
  binStart: number;
  binEnd: number;
  count: number;
  /** count / images in the set (so sets of different sizes compare) */
  fraction: number;
}

export interface HistogramGroup {
  panel: string;
  set: string;
  values: ArrayLike<number>;
}

/**
 * Bin every group's values into `bins` equal bins on [0, hi], hi = the largest value over all
 * groups (1 when all are 0), the last bin closed. Every bin is listed, empty ones too.
 */
export function histogramRows(groups: HistogramGroup[], bins: number = 40): HistogramRow[] {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  let hi = 0;
  for (const g of groups) for (let i = 0; i < g.values.length; i++) if (g.values[i] > hi) hi = g.values[i];
  if (!(hi > 0)) hi = 1;
  const width = hi / bins;
  const rows: HistogramRow[] = [];
  for (const g of groups) {
    const counts = new Array<number>(bins).fill(0);
    for (let i = 0; i < g.values.length; i++) {
      const v = g.values[i];
      if (!Number.isFinite(v)) continue;
      counts[Math.min(bins - 1, Math.max(0, Math.floor(v / width)))]++;
    }
    const n = g.values.length;
    counts.forEach((count, b) => rows.push({ panel: g.panel, set: g.set, binStart: b * width, binEnd: b === bins - 1 ? hi : (b + 1) * width, count, fraction: n ? count / n : 0 }));
  }
  return rows;
}

export interface HistogramPanel {
  /** the `panel` of its rows */
  key: string;
  title: string;
  subtitle?: string;
}

export interface UncertaintyHistogramInput {
  rows: HistogramRow[];
  /** [digits label, adversary label]: fixes the colours */
  sets: [string, string];
  panels: HistogramPanel[];
  /** x-axis title */
  xTitle?: string;
  /** subtitle of the whole chart (default: the std across passes) */
  subtitle?: string;
}

/** A histogram row with the half of its bin its set's bar takes (set 0 left, set 1 right). */
function dodge(r: HistogramRow, setIndex: number): HistogramRow & { barStart: number; barEnd: number } {
  const half = (r.binEnd - r.binStart) / 2;
  const i = setIndex === 1 ? 1 : 0;
  return { ...r, barStart: r.binStart + i * half, barEnd: r.binStart + (i + 1) * half };
}

/**
 * Histograms (one colour per set, side by side in each bin), one panel per row, all on the same
 * x scale. Each bar is a filled rectangle from its half-bin's edges (x, x2) and from 0 (y2) up
 * to the set's fraction in that bin (y); empty bins draw nothing.
 */
export function uncertaintyHistogramSpec(input: UncertaintyHistogramInput): TopLevelSpec {
  const hi = Math.max(1e-12, ...input.rows.map((r) => r.binEnd));
  const colour = { domain: [...input.sets], range: [...SET_COLOURS] };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: 'Uncertainty of digits vs adversary images', subtitle: input.subtitle ?? 'mean over the 10 classes of the std of the softmax across passes' },
    config: config(),
    vconcat: input.panels.map((p) => ({
      title: p.subtitle ? { text: p.title, subtitle: p.subtitle, fontSize: 13 } : { text: p.title, fontSize: 13 },
      width: 600,
      height: 190,
      // side by side within each bin (digits left half, adversary right half): no overlap, no blended colours
      data: { values: input.rows.filter((r) => r.panel === p.key).map((r) => dodge(r, input.sets.indexOf(r.set))) },
      mark: { type: 'bar', opacity: 0.9 },
      encoding: {
        x: { field: 'barStart', type: 'quantitative', title: input.xTitle ?? 'mean std of the softmax (uncertainty)', scale: { domain: [0, hi], nice: false, padding: 0 }, axis: { labelFlush: false } },
        x2: { field: 'barEnd' },
        y: { field: 'fraction', type: 'quantitative', title: 'fraction of the set', stack: null, scale: { zero: true }, axis: { format: '.0%' } },
        y2: { datum: 0 },
        color: { field: 'set', type: 'nominal', title: 'images', scale: colour, legend: { orient: 'top-right', symbolOpacity: 0.7 } },
        tooltip: [{ field: 'set' }, { field: 'binStart', format: '.4f' }, { field: 'count' }],
      },
    })),
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------
// 2. ROC curves, 4. accuracy-rejection curves

export interface CurvePoint {
  x: number;
  y: number;
}

/** One point of a plotted curve. */
export interface CurveRow {
  /** legend label of the curve, e.g. `gate (AUROC 0.934)` */
  curve: string;
  /** `MC dropout` or `dropout off` (line style) */
  mode: string;
  x: number;
  y: number;
}

export interface CurveDef {
  label: string;
  mode?: string;
  points: CurvePoint[];
}

/** A marked point, e.g. the gate at its stored threshold. */
export interface MarkedPoint {
  label: string;
  x: number;
  y: number;
}

/**
 * Drop points closer than `minStep` (in x and in y) to the last kept one; the first and last
 * points are always kept. Keeps thousands-of-steps curves small without visible change.
 */
export function thinCurve<T extends CurvePoint>(points: T[], minStep: number = 0.002): T[] {
  if (points.length <= 2) return [...points];
  const kept: T[] = [points[0]];
  for (let i = 1; i < points.length - 1; i++) {
    const last = kept[kept.length - 1];
    if (Math.abs(points[i].x - last.x) >= minStep || Math.abs(points[i].y - last.y) >= minStep) kept.push(points[i]);
  }
  kept.push(points[points.length - 1]);
  return kept;
}

/** Rows of several curves, thinned. */
export function curveRows(curves: CurveDef[], minStep: number = 0.002): CurveRow[] {
  return curves.flatMap((c) => thinCurve(c.points, minStep).map((p) => ({ curve: c.label, mode: c.mode ?? 'MC dropout', x: p.x, y: p.y })));
}

interface CurveChartInput {
  curves: CurveDef[];
  marked?: MarkedPoint[];
  title: string;
  subtitle?: string;
  xTitle: string;
  yTitle: string;
  yDomain?: [number, number];
  xDomain?: [number, number];
  yFormat?: string;
  diagonal?: boolean;
  interpolate?: 'linear' | 'step-after';
}

/** Curves of a "dropout off" baseline (`dropout off`, `m0 alone, dropout off`, ...) are dashed. */
export function isDashedMode(mode: string): boolean {
  return /dropout off$/.test(mode);
}

function curveChart(input: CurveChartInput): TopLevelSpec {
  const labels = input.curves.map((c) => c.label);
  const modes = [...new Set(input.curves.map((c) => c.mode ?? 'MC dropout'))];
  const layers: Record<string, unknown>[] = [];
  if (input.diagonal) {
    layers.push({
      data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
      mark: { type: 'line', color: '#aaaaaa', strokeDash: [2, 3], strokeWidth: 1 },
      encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
    });
  }
  layers.push({
    data: { values: curveRows(input.curves) },
    mark: { type: 'line', strokeWidth: 2.2, interpolate: input.interpolate ?? 'linear', clip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: input.xTitle, scale: { domain: input.xDomain ?? [0, 1] }, axis: { format: '.0%' } },
      y: { field: 'y', type: 'quantitative', title: input.yTitle, scale: { domain: input.yDomain ?? [0, 1], zero: false }, axis: { format: input.yFormat ?? '.0%' } },
      color: { field: 'curve', type: 'nominal', title: 'score', scale: { domain: labels, range: CURVE_COLOURS.slice(0, labels.length) }, sort: labels, legend: { orient: 'right', symbolStrokeWidth: 3 } },
      strokeDash: {
        field: 'mode',
        type: 'nominal',
        title: 'sampling',
        scale: { domain: modes, range: modes.map((m) => (isDashedMode(m) ? [6, 3] : [1, 0])) },
        legend: modes.length > 1 ? { orient: 'right', symbolStrokeWidth: 2 } : null,
      },
      order: { field: 'x', type: 'quantitative' },
    },
  });
  if (input.marked?.length) {
    layers.push({
      data: { values: input.marked },
      mark: { type: 'point', shape: 'diamond', size: 140, filled: true, color: 'black', stroke: 'white', strokeWidth: 1 },
      encoding: {
        x: { field: 'x', type: 'quantitative' },
        y: { field: 'y', type: 'quantitative' },
        shape: { field: 'label', type: 'nominal', title: 'operating point', scale: { range: ['diamond'] }, legend: { orient: 'right' } },
      },
    });
  }
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: input.subtitle ? { text: input.title, subtitle: input.subtitle } : input.title,
    config: config(),
    width: 440,
    height: 440,
    layer: layers,
  } as unknown as TopLevelSpec;
}

export interface RocInput {
  /** one curve per score, gate first; points as RocPoint {fpr, tpr} mapped to {x, y} */
  curves: CurveDef[];
  /** e.g. the gate at its stored threshold */
  marked?: MarkedPoint[];
  adversaryName: string;
}

/** ROC curves for detecting the adversary: x = digits rejected, y = adversary rejected. */
export function rocSpec(input: RocInput): TopLevelSpec {
  return curveChart({
    curves: input.curves,
    marked: input.marked,
    title: `ROC: rejecting ${input.adversaryName} vs MNIST digits`,
    subtitle: 'each score thresholded at every value; higher and further left is better',
    xTitle: 'digits rejected (false-positive rate)',
    yTitle: `${input.adversaryName} rejected (true-positive rate)`,
    diagonal: true,
  });
}

export interface AccuracyRejectionInput {
  curves: CurveDef[];
  marked?: MarkedPoint[];
}

/** Digit accuracy of the accepted digits as more digits are rejected by each score. */
export function accuracyRejectionSpec(input: AccuracyRejectionInput): TopLevelSpec {
  let lo = 1;
  for (const c of input.curves) for (const p of c.points) lo = Math.min(lo, p.y);
  for (const m of input.marked ?? []) lo = Math.min(lo, m.y);
  lo = Math.max(0, Math.floor(lo * 50) / 50 - 0.02);
  // x range: up to a little past where every curve has reached its final accuracy
  let xEnd = 0;
  for (const c of input.curves) {
    const last = c.points.length ? c.points[c.points.length - 1].y : 1;
    const reached = c.points.find((p) => p.y >= last - 1e-9);
    xEnd = Math.max(xEnd, reached ? reached.x : 1);
  }
  const xMax = Math.min(1, Math.max(0.2, Math.ceil((xEnd + 0.05) * 10) / 10));
  return curveChart({
    curves: input.curves.map((c) => ({ ...c, points: c.points.filter((p) => p.x <= xMax + 1e-9) })),
    marked: input.marked,
    title: 'Accuracy of the accepted digits vs digits rejected',
    subtitle: `MNIST test digits only: the least confident ones (per score) are rejected first${xMax < 1 ? `; x axis cut at ${Math.round(xMax * 100)}%` : ''}`,
    xTitle: 'digits rejected',
    yTitle: 'accuracy of the accepted digits',
    yDomain: [lo, 1],
    xDomain: [0, xMax],
    yFormat: 1 - lo < 0.1 ? '.1%' : '.0%',
  });
}

// ---------------------------------------------------------------------------------------------
// 3. Per-class breakdown

/** Uncertainty and gate outcome of one class of one set. */
export interface ClassRow {
  /** set label */
  set: string;
  /** class name: the true digit, a letter, ... */
  className: string;
  /** position on the x axis */
  order: number;
  n: number;
  mean: number;
  p10: number;
  q1: number;
  median: number;
  q3: number;
  p90: number;
  /** fraction of the class rejected (sanity check or gate) */
  rejected: number;
}

/** Linear-interpolation quantile of sorted values (q in [0, 1]). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Per-class statistics of `values` grouped by `classes[i]` (an index into `classNames`;
 * undefined or out of range counts as the class `all` when there are no names).
 * Classes without images are left out; rows follow the order of `classNames`.
 */
export function classRows(set: string, values: ArrayLike<number>, rejected: ArrayLike<boolean>, classes: ArrayLike<number> | undefined, classNames: string[] | undefined): ClassRow[] {
  const names = classes && classNames?.length ? classNames : ['all'];
  const groups: { v: number[]; r: number }[] = names.map(() => ({ v: [], r: 0 }));
  for (let i = 0; i < values.length; i++) {
    const c = classes && classNames?.length ? classes[i] : 0;
    const g = groups[c];
    if (!g) continue;
    g.v.push(values[i]);
    if (rejected[i]) g.r++;
  }
  const rows: ClassRow[] = [];
  groups.forEach((g, c) => {
    if (g.v.length === 0) return;
    const s = g.v.sort((a, b) => a - b);
    rows.push({
      set,
      className: names[c],
      order: c,
      n: s.length,
      mean: s.reduce((a, b) => a + b, 0) / s.length,
      p10: quantileSorted(s, 0.1),
      q1: quantileSorted(s, 0.25),
      median: quantileSorted(s, 0.5),
      q3: quantileSorted(s, 0.75),
      p90: quantileSorted(s, 0.9),
      rejected: g.r / s.length,
    });
  });
  return rows;
}

export interface PerClassInput {
  rows: ClassRow[];
  /** [digits label, adversary label] */
  sets: [string, string];
  /** y title of the uncertainty panels */
  yTitle?: string;
}

/**
 * Four stacked panels: uncertainty per class (box: quartiles, whiskers: 10th-90th percentile,
 * white tick: median) for the digits and for the adversary, then the fraction of each class
 * the gate rejects.
 */
export function perClassSpec(input: PerClassInput): TopLevelSpec {
  const colour = { domain: [...input.sets], range: [...SET_COLOURS] };
  const yMax = Math.max(1e-12, ...input.rows.map((r) => r.p90)) * 1.05;
  const step = (set: string) => (input.rows.filter((r) => r.set === set).length > 20 ? 16 : 36);
  const xFor = (set: string, title: string) => ({
    field: 'className',
    type: 'nominal',
    title,
    sort: { field: 'order' },
    axis: { labelAngle: 0, labelFontSize: input.rows.filter((r) => r.set === set).length > 20 ? 11 : 13 },
    scale: { paddingInner: 0.25 },
  });
  const uncertaintyPanel = (set: string, classTitle: string) => ({
    title: { text: `${set}: uncertainty per ${classTitle}`, subtitle: 'box: quartiles, white tick: median, line: 10th to 90th percentile', fontSize: 13 },
    width: { step: step(set) },
    height: 170,
    data: { values: input.rows.filter((r) => r.set === set) },
    encoding: { x: xFor(set, classTitle) },
    layer: [
      {
        mark: { type: 'rule', strokeWidth: 1.5 },
        encoding: {
          y: { field: 'p10', type: 'quantitative', title: input.yTitle ?? 'mean std', scale: { domain: [0, yMax], nice: false } },
          y2: { field: 'p90' },
          color: { field: 'set', type: 'nominal', scale: colour, legend: null },
        },
      },
      {
        mark: { type: 'bar', size: step(set) * 0.6 },
        encoding: {
          y: { field: 'q1', type: 'quantitative' },
          y2: { field: 'q3' },
          color: { field: 'set', type: 'nominal', scale: colour, title: 'images', legend: { orient: 'top-right' } },
          tooltip: [{ field: 'className' }, { field: 'n' }, { field: 'median', format: '.4f' }, { field: 'mean', format: '.4f' }],
        },
      },
      {
        mark: { type: 'tick', color: 'white', thickness: 2, size: step(set) * 0.6 },
        encoding: { y: { field: 'median', type: 'quantitative' } },
      },
    ],
  });
  const rejectedPanel = (set: string, classTitle: string) => ({
    title: { text: `${set}: fraction rejected per ${classTitle}`, subtitle: 'by the gate or the input sanity check', fontSize: 13 },
    width: { step: step(set) },
    height: 110,
    data: { values: input.rows.filter((r) => r.set === set) },
    mark: { type: 'bar', size: step(set) * 0.6 },
    encoding: {
      x: xFor(set, classTitle),
      y: { field: 'rejected', type: 'quantitative', title: 'rejected', scale: { domain: [0, 1] }, axis: { format: '.0%', tickCount: 5 } },
      color: { field: 'set', type: 'nominal', scale: colour, legend: null },
      tooltip: [{ field: 'className' }, { field: 'n' }, { field: 'rejected', format: '.1%' }],
    },
  });
  const [digits, adversary] = input.sets;
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: 'Per-class breakdown', subtitle: 'digits by their true label; adversary images by their class' },
    config: config(),
    vconcat: [
      uncertaintyPanel(digits, 'true digit'),
      uncertaintyPanel(adversary, 'class'),
      rejectedPanel(digits, 'true digit'),
      rejectedPanel(adversary, 'class'),
    ],
    resolve: { scale: { x: 'independent', y: 'independent' } },
  } as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------
// 5. The figures and their verdicts

export interface FigureInput {
  /** file name shown above the image */
  name: string;
  /** 28x28 preprocessed pixels in [0, 1] (absent: the file could not be read) */
  pixels?: ArrayLike<number>;
  verdict: 'digit' | 'rejected' | 'error';
  /** why it was rejected */
  reason?: string;
  digit?: number;
  probability?: number;
  gateProbability?: number;
  meanStd?: number;
  error?: string;
}

/** Title lines of one figure: name, verdict, digit and p(reject). */
export function figureTitle(f: FigureInput, threshold?: number): string[] {
  const lines = [f.name];
  if (f.verdict === 'error') return [...lines, 'error', (f.error ?? '').slice(0, 40)];
  lines.push(f.verdict === 'digit' ? `DIGIT: ${f.digit}` : f.reason?.startsWith('invalid-input') ? `REJECTED (${f.reason.slice('invalid-input:'.length)})` : 'REJECTED (uncertain)');
  if (f.digit !== undefined) lines.push(`model says ${f.digit} (p ${(f.probability ?? NaN).toFixed(2)})`);
  if (f.gateProbability !== undefined) lines.push(`p(reject) ${f.gateProbability.toFixed(3)}${threshold !== undefined ? ` / ${threshold.toFixed(3)}` : ''}`);
  return lines;
}

/** Pixel rows {x, y, v} of a 28x28 image (only non-zero pixels; the background is black). */
export function pixelRows(pixels: ArrayLike<number>, side: number = 28): { x: number; y: number; v: number }[] {
  const rows: { x: number; y: number; v: number }[] = [];
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
    const v = pixels[y * side + x];
    if (v > 0) rows.push({ x, y, v: Math.round(v * 1000) / 1000 });
  }
  return rows;
}

/**
 * A grid of the figures as the model saw them (28x28, white ink on black), each with its
 * verdict as a coloured strip (green digit, red rejected) and as title text.
 */
export function figuresSpec(figures: FigureInput[], opts: { threshold?: number; columns?: number } = {}): TopLevelSpec {
  const cell = 168;
  const scaleX = { domain: [0, 28], nice: false, zero: true };
  const scaleY = { domain: [0, 32], nice: false, reverse: true };
  const charts = figures.map((f) => {
    const verdict = f.verdict === 'digit' ? 'digit' : f.verdict === 'rejected' ? 'rejected' : 'error';
    const strip = { verdict, x: 0, x2: 28, y: 28.8, y2: 32, text: verdict === 'digit' ? `digit ${f.digit}` : verdict };
    return {
      title: { text: figureTitle(f, opts.threshold), fontSize: 12, anchor: 'middle', lineHeight: 15 },
      width: cell,
      height: Math.round((cell * 32) / 28),
      layer: [
        {
          data: { values: [{ x: 0, x2: 28, y: 0, y2: 28 }] },
          mark: { type: 'rect', color: 'black' },
          encoding: { x: { field: 'x', type: 'quantitative', scale: scaleX, axis: null }, x2: { field: 'x2' }, y: { field: 'y', type: 'quantitative', scale: scaleY, axis: null }, y2: { field: 'y2' } },
        },
        {
          data: { values: f.pixels ? pixelRows(f.pixels) : [] },
          transform: [{ calculate: 'datum.x + 1', as: 'x2' }, { calculate: 'datum.y + 1', as: 'y2' }],
          mark: { type: 'rect' },
          encoding: {
            x: { field: 'x', type: 'quantitative', scale: scaleX, axis: null },
            x2: { field: 'x2' },
            y: { field: 'y', type: 'quantitative', scale: scaleY, axis: null },
            y2: { field: 'y2' },
            color: { field: 'v', type: 'quantitative', scale: { domain: [0, 1], range: ['black', 'white'] }, legend: null },
          },
        },
        {
          data: { values: [strip] },
          mark: { type: 'rect' },
          encoding: {
            x: { field: 'x', type: 'quantitative', scale: scaleX, axis: null },
            x2: { field: 'x2' },
            y: { field: 'y', type: 'quantitative', scale: scaleY, axis: null },
            y2: { field: 'y2' },
            fill: { field: 'verdict', type: 'nominal', title: 'verdict', scale: { domain: ['digit', 'rejected', 'error'], range: [VERDICT_COLOURS.digit, VERDICT_COLOURS.rejected, '#7f7f7f'] }, legend: { orient: 'right' } },
          },
        },
        {
          data: { values: [{ ...strip, xm: 14, ym: 30.4 }] },
          mark: { type: 'text', color: 'white', fontWeight: 'bold', fontSize: 13, baseline: 'middle' },
          encoding: { x: { field: 'xm', type: 'quantitative', scale: scaleX, axis: null }, y: { field: 'ym', type: 'quantitative', scale: scaleY, axis: null }, text: { field: 'text' } },
        },
      ],
      resolve: { scale: { color: 'independent' } },
    };
  });
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: 'The figures as the model sees them, and their verdicts', subtitle: 'preprocessed 28x28 images (white ink on black); strip: green = accepted as a digit, red = rejected' },
    config: { ...config(), view: { stroke: null } },
    columns: opts.columns ?? Math.min(4, Math.max(1, figures.length)),
    concat: charts,
    spacing: 24,
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}
