/**
 * `udq report`: pure spec builders (they compile with vega-lite and hold the expected rows),
 * the CSV / markdown builders, the stroke-font text fallback, and an end-to-end report on a
 * tiny model trained here (about 30-40 s: train 600 images, calibrate, report on 100 + 100).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli } from './helpers/cli';
import { ExitCode } from '../src/errors';
import { summariseSamples, SampleSummary } from '../src/uq/features';
import { oodReport } from '../src/gate/ood-report';
import type { LogisticModel } from '../src/gate/logistic';
import {
  accuracyRejectionSpec,
  classRows,
  curveRows,
  figuresSpec,
  figureTitle,
  histogramRows,
  perClassSpec,
  pixelRows,
  quantileSorted,
  rocSpec,
  thinCurve,
  uncertaintyHistogramSpec,
} from '../src/report/specs';
import { baselineLabel, csvColumns, featuresCsv, ImageRecord, metricsTable, PLOTS, ReportData, reportMarkdown, reportSpecs, samplesPerImage, samplingLabel } from '../src/report/build';
import { compileSpec, renderSvg, textWidth } from '../src/report/render';
import { outlineSvgText, strokeLine } from '../src/report/stroke-text';

// ---------------------------------------------------------------------------------------------
// pure parts

/** Walk a spec and collect every inline `data.values` array. */
function dataArrays(spec: unknown): Record<string, unknown>[][] {
  const found: Record<string, unknown>[][] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      const data = o.data as { values?: unknown } | undefined;
      if (data && Array.isArray(data.values)) found.push(data.values as Record<string, unknown>[]);
      for (const [k, v] of Object.entries(o)) if (k !== 'data') walk(v);
    }
  };
  walk(spec);
  return found;
}

test('histogramRows: equal bins on [0, max], every bin listed, fractions per set; all-zero values land in the first bin', () => {
  const rows = histogramRows([
    { panel: 'mc', set: 'd', values: [0, 0.1, 0.2, 0.4] },
    { panel: 'mc', set: 'a', values: [0.4, 0.4] },
    { panel: 'off', set: 'd', values: [0, 0, 0] },
  ], 4);
  assert.equal(rows.length, 12);
  const d = rows.filter((r) => r.panel === 'mc' && r.set === 'd');
  assert.deepEqual(d.map((r) => r.count), [1, 1, 1, 1]); // 0 | 0.1 | 0.2 | 0.4 (max, last bin closed)
  assert.deepEqual(d.map((r) => r.binStart), [0, 0.1, 0.2, 0.30000000000000004]);
  assert.equal(d[3].binEnd, 0.4);
  assert.deepEqual(rows.filter((r) => r.set === 'a').map((r) => r.fraction), [0, 0, 0, 1]);
  assert.deepEqual(rows.filter((r) => r.panel === 'off').map((r) => r.count), [3, 0, 0, 0]);
  // nothing but zeros: the range is [0, 1]
  const zeros = histogramRows([{ panel: 'p', set: 's', values: [0, 0] }], 2);
  assert.deepEqual(zeros.map((r) => [r.binStart, r.binEnd, r.count]), [[0, 0.5, 2], [0.5, 1, 0]]);
});

test('thinCurve keeps the end points and drops points closer than the step; quantiles interpolate', () => {
  const pts = Array.from({ length: 1001 }, (_, i) => ({ x: i / 1000, y: i / 1000 }));
  const thin = thinCurve(pts, 0.01);
  assert.equal(thin[0], pts[0]);
  assert.equal(thin[thin.length - 1], pts[1000]);
  assert.ok(thin.length >= 100 && thin.length <= 102, `${thin.length}`);
  assert.equal(curveRows([{ label: 'c', points: pts.slice(0, 2) }])[0].mode, 'MC dropout');
  assert.equal(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantileSorted([5], 0.9), 5);
});

test('classRows: per-class quartiles and rejection in class-name order; no labels -> one group', () => {
  const rows = classRows('letters', [1, 2, 3, 4, 10], [true, false, false, false, true], [1, 1, 1, 1, 0], ['a', 'b', 'c']);
  assert.deepEqual(rows.map((r) => [r.className, r.n]), [['a', 1], ['b', 4]]); // 'c' has no images
  assert.equal(rows[1].median, 2.5);
  assert.equal(rows[1].q1, 1.75);
  assert.equal(rows[1].rejected, 0.25);
  assert.equal(rows[0].rejected, 1);
  const all = classRows('folder', [1, 2], [false, true], undefined, undefined);
  assert.deepEqual(all.map((r) => [r.className, r.n, r.rejected]), [['all', 2, 0.5]]);
});

test('every spec builder produces valid vega-lite holding the expected rows', () => {
  const hist = uncertaintyHistogramSpec({
    rows: histogramRows([
      { panel: 'mc', set: 'digits', values: [0.01, 0.02] },
      { panel: 'mc', set: 'letters', values: [0.05] },
      { panel: 'off', set: 'digits', values: [0, 0] },
      { panel: 'off', set: 'letters', values: [0] },
    ], 10),
    sets: ['digits', 'letters'],
    panels: [{ key: 'mc', title: 'with dropout' }, { key: 'off', title: 'without dropout', subtitle: 'std 0' }],
  });
  compileSpec(hist);
  const histData = dataArrays(hist);
  assert.equal(histData.length, 2);
  assert.equal(histData[0].length, 20);
  assert.ok(histData[1].every((r) => r.panel === 'off'));
  assert.equal(histData[1].find((r) => r.set === 'digits' && r.binStart === 0)!.count, 2);

  const curves = [
    { label: 'gate (AUROC 0.9)', points: [{ x: 0, y: 0 }, { x: 0.1, y: 0.8 }, { x: 1, y: 1 }] },
    { label: 'entropy, dropout off', mode: 'dropout off', points: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
  ];
  const roc = rocSpec({ curves, marked: [{ label: 'gate at threshold', x: 0.05, y: 0.6 }], adversaryName: 'letters' });
  compileSpec(roc);
  const rocRows = dataArrays(roc).find((rows) => rows.some((r) => 'curve' in r))!;
  assert.equal(rocRows.length, 5);
  assert.deepEqual([...new Set(rocRows.map((r) => r.mode))], ['MC dropout', 'dropout off']);

  const ar = accuracyRejectionSpec({ curves: [{ label: 'gate', points: [{ x: 0, y: 0.9 }, { x: 0.5, y: 1 }, { x: 0.9, y: 1 }] }] });
  compileSpec(ar);
  // the x axis stops a little after every curve has reached its final accuracy (here 60%)
  assert.deepEqual(dataArrays(ar)[0].map((r) => r.x), [0, 0.5]);

  const perClass = perClassSpec({
    rows: [...classRows('digits', [0.1, 0.2], [false, true], [0, 1], ['0', '1']), ...classRows('letters', [0.3], [true], [0], ['a'])],
    sets: ['digits', 'letters'],
  });
  compileSpec(perClass);
  assert.deepEqual(dataArrays(perClass).map((rows) => rows.length), [2, 1, 2, 1]);

  const pixels = new Float32Array(784);
  pixels[0] = 1;
  pixels[783] = 0.5;
  const figures = figuresSpec([
    { name: 'a.png', pixels, verdict: 'digit', digit: 3, probability: 0.9, gateProbability: 0.1 },
    { name: 'b.png', verdict: 'error', error: 'cannot read' },
  ], { threshold: 0.5 });
  compileSpec(figures);
  assert.equal((figures as { concat: unknown[] }).concat.length, 2);
  assert.deepEqual(pixelRows(pixels), [{ x: 0, y: 0, v: 1 }, { x: 27, y: 27, v: 0.5 }]);
  assert.deepEqual(figureTitle({ name: 'x.png', verdict: 'rejected', reason: 'invalid-input:blank', digit: 1, probability: 0.5, gateProbability: 0.7 }, 0.6), ['x.png', 'REJECTED (blank)', 'model says 1 (p 0.50)', 'p(reject) 0.700 / 0.600']);
});

/** Bars of a rendered SVG: set and count from the aria label, the rectangle from the path. */
function svgBars(svg: string): { set: string; count: number; x: number; y: number; w: number; h: number }[] {
  const bars = [];
  const num = '(-?[\\d.]+(?:e-?\\d+)?)';
  const re = new RegExp(`<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="bar" d="M${num},${num}h${num}v${num}h`, 'g');
  for (const m of svg.matchAll(re)) {
    const label = Object.fromEntries(m[1].split('; ').map((kv) => kv.split(': ')));
    bars.push({ set: label.set, count: Number(label.count), x: Number(m[2]), y: Number(m[3]), w: Number(m[4]), h: Number(m[5]) });
  }
  return bars;
}

test('uncertainty histogram renders filled bars from 0 up to each fraction, the two sets side by side in each bin', async () => {
  const spec = uncertaintyHistogramSpec({
    rows: histogramRows([
      { panel: 'mc', set: 'digits', values: [0.01, 0.01, 0.05, 0.09] }, // fractions 0.5, 0.25, 0.25
      { panel: 'mc', set: 'letters', values: [0.09] }, // fraction 1
    ], 10),
    sets: ['digits', 'letters'],
    panels: [{ key: 'mc', title: 'with dropout' }],
  });
  const bars = svgBars(await renderSvg(spec)).filter((b) => b.count > 0);
  assert.equal(bars.length, 4);
  const height = 190; // the panel's plot height: y runs from 0 (top) to 190 (fraction 0)
  for (const b of bars) assert.ok(Math.abs(b.y + b.h - height) < 1e-6, `a bar must reach down to 0: ${JSON.stringify(b)}`);
  const byCount = (set: string, count: number) => bars.find((b) => b.set === set && b.count === count)!;
  assert.ok(Math.abs(byCount('letters', 1).h - height) < 1e-6, 'fraction 1 fills the whole panel');
  assert.ok(Math.abs(byCount('digits', 2).h - height / 2) < 1e-6, 'fraction 0.5 fills half of it');
  assert.ok(Math.abs(byCount('digits', 1).h - height / 4) < 1e-6);
  // last bin: digits in its left half, letters in its right half, each as wide as half a bin
  const lastDigits = bars.find((b) => b.set === 'digits' && b.x > 500)!;
  const lastLetters = byCount('letters', 1);
  assert.ok(Math.abs(lastDigits.x + lastDigits.w - lastLetters.x) < 1e-6 && Math.abs(lastDigits.w - lastLetters.w) < 1e-6 && lastLetters.w > 20, JSON.stringify([lastDigits, lastLetters]));
});

/** A summary with the given softmax samples (rows of 10 probabilities). */
function summary(rows: number[][]): SampleSummary {
  return summariseSamples(Float32Array.from(rows.flat()), rows.length, 10);
}

function oneHot(k: number, p: number): number[] {
  return Array.from({ length: 10 }, (_, i) => (i === k ? p : (1 - p) / 9));
}

/** A small synthetic ReportData: confident digits, uncertain letters. */
function fakeData(): ReportData {
  const logistic: LogisticModel = { weights: Array(10).fill(50), bias: -2, mean: Array(10).fill(0), std: Array(10).fill(1), l2: 0, iterations: 1, converged: true };
  const digitSummaries = Array.from({ length: 20 }, (_, i) => summary([oneHot(i % 10, 0.95 - (i % 3) * 0.01), oneHot(i % 10, 0.9)]));
  const letterSummaries = Array.from({ length: 12 }, (_, i) => summary([oneHot(i % 10, 0.6), oneHot((i + 1) % 10, 0.5)]));
  const digitLabels = digitSummaries.map((_, i) => (i === 3 ? 5 : i % 10)); // one digit wrong
  const letterLabels = letterSummaries.map((_, i) => i % 3);
  const gate = { logistic, features: 'std' as const, threshold: 0.5 };
  const ood = oodReport(
    { summaries: digitSummaries, valid: digitSummaries.map(() => true), labels: digitLabels },
    { summaries: letterSummaries, valid: letterSummaries.map((_, i) => i !== 0) },
    gate,
    0.95,
  );
  const record = (set: 'digits' | 'adversary', s: SampleSummary, i: number, label: number, valid: boolean): ImageRecord => ({
    set,
    index: i,
    label,
    summary: s,
    noDropout: summary([Array.from(s.meanProbs), Array.from(s.meanProbs)]),
    valid,
    sanityReason: valid ? undefined : 'blank',
    gateProbability: set === 'digits' ? 0.1 + 0.01 * i : 0.6 + 0.01 * i,
  });
  return {
    command: 'udq report --adversary letters',
    date: '2026-01-01T00:00:00.000Z',
    udqVersion: '0.0.0',
    backend: 'cpu',
    modelDir: '/m',
    arch: 'basic',
    samples: 2,
    seed: 1,
    limit: 20,
    gate: { threshold: 0.5, features: 'std', acceptRate: 0.95, fittedOn: 'letters', samples: 2 },
    digitsLabel: 'MNIST test digits',
    adversaryName: 'letters',
    digitClassNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    adversaryClassNames: ['a', 'b', 'c'],
    digits: digitSummaries.map((s, i) => record('digits', s, i, digitLabels[i], true)),
    adversary: letterSummaries.map((s, i) => record('adversary', s, i, letterLabels[i], i !== 0)),
    ood,
    noDropout: { source: 'model', passes: 2, maxAbsDiff: 0 },
    figures: [{ name: 'f.png', pixels: new Float32Array(784).fill(0.5), verdict: 'rejected', reason: 'uncertain', digit: 4, probability: 0.4, gateProbability: 0.9, meanStd: 0.05 }],
  };
}

test('report builders: specs for every plot compile; metrics include dropout-off scores; CSV has one row per image; markdown links every plot', () => {
  const data = fakeData();
  const specs = reportSpecs(data);
  assert.deepEqual(Object.keys(specs), [...PLOTS]);
  for (const spec of Object.values(specs)) compileSpec(spec!);
  // histograms: the dropout-off panel has every image in the first bin
  const off = dataArrays(specs['uncertainty-histograms']).flat().filter((r) => r.panel === 'off' && r.count !== 0);
  assert.deepEqual(off.map((r) => [r.set, r.binStart, r.count]), [['MNIST test digits', 0, 20], ['letters', 0, 12]]);
  // per class: 10 digits + 3 letters, twice (uncertainty, rejected)
  assert.deepEqual(dataArrays(specs['per-class']).map((rows) => rows.length), [10, 3, 10, 3]);

  const table = metricsTable(data);
  assert.deepEqual(table.map((r) => r.key), ['gate', 'maxSoftmax', 'entropy', 'mutualInformation', 'meanStd', 'maxSoftmaxNoDropout', 'entropyNoDropout']);
  assert.equal(table[0].metrics, data.ood.ood);

  const csv = featuresCsv(data).trimEnd().split('\n');
  assert.equal(csv.length, 1 + 20 + 12);
  assert.deepEqual(csv[0].split(','), csvColumns());
  assert.ok(csvColumns().includes('std_9') && csvColumns().includes('gateProbability') && csvColumns().includes('verdict'));
  const firstLetter = csv[21].split(',');
  assert.equal(firstLetter[0], 'letters');
  assert.equal(firstLetter[2], 'a'); // label by class name
  assert.equal(firstLetter[csvColumns().indexOf('verdict')], 'rejected');
  assert.equal(firstLetter[csvColumns().indexOf('reason')], 'invalid-input:blank');

  const md = reportMarkdown(data);
  for (const p of PLOTS) assert.match(md, new RegExp(`\\(${p}\\.png\\)`));
  assert.match(md, /udq report --adversary letters/);
  assert.match(md, /\| gate \(std features\) \| MC dropout \|/);
  assert.match(md, /dropout off/);
  assert.doesNotMatch(md, /no system font/);
  assert.match(reportMarkdown({ ...data, pngText: false }), /no system font/);
  // no figures: no figures plot
  assert.deepEqual(Object.keys(reportSpecs({ ...data, figures: [] })), PLOTS.filter((p) => p !== 'figures'));
});

test('report builders for an ensemble: sampling and baseline named in labels, panels and report.md; baseline curves dashed', () => {
  const base = fakeData();
  const disagreement: ReportData = { ...base, modelDir: '/ens', sampling: { kind: 'ensemble', members: 3, ensembleMode: 'disagreement' }, noDropout: { source: 'member', member: 'members/m0', passes: 2, maxAbsDiff: 0 } };
  assert.equal(samplingLabel(disagreement), 'ensemble disagreement');
  assert.equal(baselineLabel(disagreement), 'm0 alone, dropout off');
  assert.equal(samplesPerImage(disagreement), 3);
  const specs = reportSpecs(disagreement);
  for (const spec of Object.values(specs)) compileSpec(spec!);
  const hist = JSON.stringify(specs['uncertainty-histograms']);
  assert.match(hist, /ensemble disagreement: 3 members, one softmax each per image/);
  assert.match(hist, /without dropout, one network: members\/m0 alone/);
  assert.deepEqual(metricsTable(disagreement).map((r) => r.mode), [...Array(5).fill('ensemble disagreement'), 'm0 alone, dropout off', 'm0 alone, dropout off']);
  // the baseline's curves are dashed, the ensemble's solid
  const dash = (specs.roc as { layer: { encoding?: { strokeDash?: { scale: { domain: string[]; range: number[][] } } } }[] }).layer.find((l) => l.encoding?.strokeDash)!.encoding!.strokeDash!.scale;
  assert.deepEqual(dash.domain, ['ensemble disagreement', 'm0 alone, dropout off']);
  assert.deepEqual(dash.range, [[1, 0], [6, 3]]);
  const md = reportMarkdown(disagreement);
  assert.match(md, /an ensemble of 3 basic members, sampled in `disagreement` mode/);
  assert.match(md, /\| sampling \| ensemble disagreement: one deterministic softmax/);
  assert.match(md, /This is an \*\*ensemble\*\* of 3 members sampled in `disagreement` mode/);
  assert.match(md, /`members\/m0` alone runs 2 passes per image with dropout off/);
  assert.match(md, /\| max softmax, m0 alone, dropout off \| m0 alone, dropout off \|/);
  assert.doesNotMatch(md, /\| MC dropout \|/);

  const mc: ReportData = { ...base, sampling: { kind: 'ensemble', members: 3, ensembleMode: 'mc' }, noDropout: { source: 'ensemble', passes: 3 } };
  assert.equal(samplingLabel(mc), 'ensemble + MC dropout');
  assert.equal(samplesPerImage(mc), 6);
  for (const spec of Object.values(reportSpecs(mc))) compileSpec(spec!);
  assert.match(JSON.stringify(reportSpecs(mc)['uncertainty-histograms']), /ensemble \+ MC dropout: 3 members x 2 stochastic passes per image.*the same 3 members with dropout off/);
  const mcMd = reportMarkdown(mc);
  assert.match(mcMd, /2 MC-dropout passes inside each of the 3 members \(6 samples per image\)/);
  assert.match(mcMd, /Lower panel: the same 3 members with dropout off/);
  assert.match(mcMd, /Dashed curves use the ensemble with dropout off/);

  // a single model keeps its wording
  assert.equal(samplingLabel(base), 'MC dropout');
  assert.match(reportMarkdown(base), /\| sampling \| MC dropout: 2 passes per image, seed 1/);
});

test('stroke-font fallback: <text> becomes stroked paths (hidden labels dropped), widths match the layout metrics', async () => {
  const svg = await renderSvg(rocSpec({ curves: [{ label: 'gate', points: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }], adversaryName: 'letters' }));
  assert.match(svg, /<text/);
  const outlined = outlineSvgText(svg);
  assert.doesNotMatch(outlined, /<text/);
  assert.ok((outlined.match(/stroke-linecap="round"/g) ?? []).length >= 5);
  const multi = outlineSvgText('<svg><text text-anchor="middle" transform="translate(5,5)" font-size="12px" fill="#000"><tspan>ab</tspan><tspan x="0" dy="15">c &amp; d</tspan></text><text opacity="0">hidden</text></svg>');
  assert.equal((multi.match(/<path /g) ?? []).length, 2);
  assert.match(multi, /translate\(0,15\)/);
  assert.ok(strokeLine('WWW').advance > 2 * strokeLine('iii').advance);
  assert.ok(textWidth('WWW', 12) > 2 * textWidth('iii', 12));
});

// ---------------------------------------------------------------------------------------------
// end to end

const ROOT = mkdtempSync(join(tmpdir(), 'udq-report-'));
const MODEL = join(ROOT, 'model');
const savedDataDir = process.env.UDQ_DATA_DIR;

before(async () => {
  process.env.UDQ_DATA_DIR = join(ROOT, 'data');
  const t = await runCli(['train', '--arch', 'basic', '--limit', '600', '--epochs', '1', '--seed', '3', '--out', MODEL, '--backend', 'wasm']);
  assert.equal(t.code, 0, t.stderr);
  const c = await runCli(['calibrate', '--model', MODEL, '--adversary', 'synth-letters', '--features', 'std', '--samples', '5', '--limit', '100', '--backend', 'wasm']);
  assert.equal(c.code, 0, c.stderr);
});

after(() => {
  if (savedDataDir === undefined) delete process.env.UDQ_DATA_DIR;
  else process.env.UDQ_DATA_DIR = savedDataDir;
  rmSync(ROOT, { recursive: true, force: true });
});

test('udq report writes every plot (PNG + SVG), features.csv and report.md; refuses a non-empty --out without --force', async () => {
  const out = join(ROOT, 'reports', 'letters');
  const args = ['report', '--model', MODEL, '--adversary', 'synth-letters', '--out', out, '--samples', '5', '--limit', '100', '--backend', 'wasm', '--json'];
  const r = await runCli(args);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.digits, 100);
  assert.equal(summary.adversary, 100);
  const expected = [...PLOTS.flatMap((p) => [`${p}.svg`, `${p}.png`]), 'features.csv', 'report.md'];
  assert.deepEqual(readdirSync(out).sort(), [...expected].sort());
  assert.deepEqual([...summary.files].sort(), [...expected].sort());

  for (const p of PLOTS) {
    const meta = await sharp(join(out, `${p}.png`)).metadata();
    assert.equal(meta.format, 'png');
    assert.ok(meta.width! >= 400 && meta.width! <= 6000 && meta.height! >= 300 && meta.height! <= 6000, `${p}.png is ${meta.width}x${meta.height}`);
    const stats = await sharp(join(out, `${p}.png`)).stats();
    assert.ok(stats.channels.some((c) => c.stdev > 10), `${p}.png is not blank`);
    assert.match(readFileSync(join(out, `${p}.svg`), 'utf8'), /^<svg[^>]*width="\d+(\.\d+)?"/);
  }

  const csv = readFileSync(join(out, 'features.csv'), 'utf8').trimEnd().split('\n');
  assert.equal(csv.length - 1, 100 + 100, 'one row per digit and adversary image');
  assert.deepEqual(csv[0].split(','), csvColumns());
  assert.equal(csv.filter((l) => l.startsWith('digits,')).length, 100);
  assert.equal(csv.filter((l) => l.startsWith('synth-letters,')).length, 100);

  const md = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(md, /udq report --model .* --adversary synth-letters .*--samples 5 --limit 100 --seed 1/);
  for (const p of PLOTS) assert.ok(md.includes(`](${p}.png)`), `report.md links ${p}.png`);
  assert.match(md, /\| gate \(std features\) \| MC dropout \| \d\.\d{4} \|/);
  assert.match(md, /3\.png/); // the package figures

  // existing non-empty folder: refused before any sampling, with the exists exit code
  const again = await runCli(args);
  assert.equal(again.code, ExitCode.exists);
  assert.match(again.stderr, /not empty; use --force/);
  // --force writes into it (no figures this time: the figures plot of the earlier run is removed)
  const emptyFigures = join(ROOT, 'no-figures');
  rmSync(emptyFigures, { recursive: true, force: true });
  const forced = await runCli([...args, '--force', '--figures', emptyFigures, '--limit', '30']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.ok(!readdirSync(out).includes('figures.png'));
  assert.equal(readFileSync(join(out, 'features.csv'), 'utf8').trimEnd().split('\n').length - 1, 60);
});

test('report.md shows paths relative to the working directory, never a machine absolute path', async () => {
  const { relativePath: shownPath } = await import('../src/paths');
  assert.equal(shownPath(join(process.cwd(), 'models', 'deep')), join('models', 'deep'));
  assert.equal(shownPath(process.cwd()), '.');
  assert.equal(shownPath('models/basic'), 'models/basic');
});
