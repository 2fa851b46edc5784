/**
 * The report's content from scored images, without I/O: the plot specs, features.csv and
 * report.md. `collect.ts` produces the ReportData; `report.ts` renders and writes.
 */
import { relativePath } from '../paths';
import { stringify } from 'csv-stringify/sync';
import type { TopLevelSpec } from 'vega-lite';
import type { SampleSummary } from '../uq/features';
import type { EnsembleMode } from '../uq/ensemble';
import { samplesPerImage as samplesFor } from '../uq/sample-count';
import type { OodReport, ScoreMetrics, SimpleScoreName } from '../gate/ood-report';
import { SIMPLE_SCORES, scoreMetrics } from '../gate/ood-report';
import { accuracyRejectionCurve, rocCurve } from '../gate/metrics';
import {
  accuracyRejectionSpec,
  classRows,
  ClassRow,
  CurveDef,
  FigureInput,
  figuresSpec,
  HistogramPanel,
  histogramRows,
  MarkedPoint,
  perClassSpec,
  rocSpec,
  uncertaintyHistogramSpec,
} from './specs';

/** One scored image of the digits or the adversary set. */
export interface ImageRecord {
  set: 'digits' | 'adversary';
  /** index in its set (as loaded, after --limit) */
  index: number;
  /** class index in the set's classNames, when the set has labels */
  label?: number;
  /** MC-dropout summary */
  summary: SampleSummary;
  /** summary of the dropout-off baseline (see ReportData.noDropout; absent when not computed) */
  noDropout?: SampleSummary;
  /** false where the input sanity check rejected the image */
  valid: boolean;
  /** the sanity check's reason when invalid */
  sanityReason?: string;
  /** P(not a digit) from the gate */
  gateProbability: number;
}

/** What an image's samples are: MC-dropout passes of one model, or an ensemble's samples. */
export interface ReportSampling {
  kind: 'model' | 'ensemble';
  /** ensembles: number of members */
  members?: number;
  /** ensembles: `disagreement` (one deterministic softmax per member) or `mc` (MC dropout inside each member) */
  ensembleMode?: EnsembleMode;
}

/**
 * The baseline without dropout that the report sets against the samples:
 * - `model`: the same model with dropout off (identical passes, every std 0);
 * - `member`: one ensemble member alone with dropout off (identical passes, every std 0), the
 *   baseline of an ensemble sampled by disagreement (whose samples already have dropout off);
 * - `ensemble`: the ensemble with dropout off (one deterministic softmax per member), the
 *   baseline of an ensemble sampled with MC dropout inside its members.
 */
export interface NoDropoutBaseline {
  source: 'model' | 'member' | 'ensemble';
  /** passes per image (`ensemble`: one per member) */
  passes: number;
  /** `model` / `member`: the largest difference measured between passes of the same image */
  maxAbsDiff?: number;
  /** `member`: its directory inside the ensemble, e.g. `members/m0` */
  member?: string;
}

export interface ReportData {
  /** the command line that made the report */
  command: string;
  date: string;
  udqVersion: string;
  backend?: string;
  modelDir: string;
  arch: string;
  /** MC-dropout passes asked for (per member for an ensemble in `mc` mode; unused in `disagreement` mode) */
  samples: number;
  /** what the samples are (absent: a single model with MC dropout) */
  sampling?: ReportSampling;
  seed: number;
  limit: number;
  gate: { threshold: number; features: string; acceptRate: number; fittedOn: string; samples: number };
  /** display label of the digits, e.g. `MNIST test digits` */
  digitsLabel: string;
  adversaryName: string;
  digitClassNames: string[];
  adversaryClassNames?: string[];
  digits: ImageRecord[];
  adversary: ImageRecord[];
  ood: OodReport;
  /** the baseline without dropout (absent when not computed) */
  noDropout?: NoDropoutBaseline;
  figures: FigureInput[];
  figuresDir?: string;
  /** false when no system font was found (PNG text drawn with a stroke font) */
  pngText?: boolean;
}

/** Plot file stems, in report order. */
export const PLOTS = ['uncertainty-histograms', 'roc', 'per-class', 'accuracy-rejection', 'figures'] as const;
export type PlotName = (typeof PLOTS)[number];

export const SCORE_LABELS: Record<SimpleScoreName, string> = {
  maxSoftmax: 'max softmax',
  entropy: 'predictive entropy',
  mutualInformation: 'mutual information',
  meanStd: 'mean std',
  energy: 'energy',
};

/** accept as a digit iff valid and gate probability < threshold */
export function isRejected(r: ImageRecord, threshold: number): boolean {
  return !r.valid || r.gateProbability >= threshold;
}

/** The score an image is decided on: sanity-rejected images get the largest finite score. */
function decisionScores(records: ImageRecord[], score: (r: ImageRecord) => number): number[] {
  return records.map((r) => (r.valid ? score(r) : Number.MAX_VALUE));
}

/** Short name of how the samples were drawn: `MC dropout`, `ensemble disagreement` or `ensemble + MC dropout`. */
export function samplingLabel(data: ReportData): string {
  if (data.sampling?.kind !== 'ensemble') return 'MC dropout';
  return data.sampling.ensembleMode === 'mc' ? 'ensemble + MC dropout' : 'ensemble disagreement';
}

/** Short name of the baseline without dropout; always ends in `dropout off` (such curves are dashed). */
export function baselineLabel(data: ReportData): string {
  switch (data.noDropout?.source) {
    case 'member':
      // the member's own name (m0), not its path: this label is repeated in legends and tables
      return `${data.noDropout.member?.split('/').pop() ?? 'one member'} alone, dropout off`;
    case 'ensemble':
      return 'ensemble, dropout off';
    default:
      return 'dropout off';
  }
}

/** Softmax samples per image: MC passes, members, or members x passes. */
export function samplesPerImage(data: ReportData): number {
  return data.sampling ? samplesFor(data.sampling, data.samples) : data.samples;
}

/** One line on what the samples of an image are, for report.md. */
function samplingSentence(data: ReportData): string {
  const s = data.sampling;
  if (s?.kind !== 'ensemble') return `MC dropout: ${data.samples} passes per image, seed ${data.seed}, BatchNorm in inference mode`;
  if (s.ensembleMode === 'mc') {
    return `ensemble + MC dropout: ${data.samples} MC-dropout passes inside each of the ${s.members} members (${samplesPerImage(data)} samples per image), seed ${data.seed}, BatchNorm in inference mode`;
  }
  return `ensemble disagreement: one deterministic softmax (dropout off, BatchNorm in inference mode) per member, ${s.members} samples per image; --samples is not used`;
}

interface ScoreDef {
  key: string;
  label: string;
  /** samplingLabel() or baselineLabel() */
  mode: string;
  score: (r: ImageRecord) => number;
}

/** The gate, the simple scores (energy only where the sampler saw logits) on the samples, and (when computed) two scores of the baseline without dropout. */
export function scoreDefs(data: ReportData): ScoreDef[] {
  const mode = samplingLabel(data);
  const defs: ScoreDef[] = [{ key: 'gate', label: `gate (${data.gate.features} features)`, mode, score: (r) => r.gateProbability }];
  for (const [name, f] of Object.entries(SIMPLE_SCORES) as [SimpleScoreName, (s: SampleSummary) => number][]) {
    if (![...data.digits, ...data.adversary].every((r) => Number.isFinite(f(r.summary)))) continue; // energy needs logits
    defs.push({ key: name, label: SCORE_LABELS[name], mode, score: (r) => f(r.summary) });
  }
  if (data.noDropout && data.digits.every((r) => r.noDropout) && data.adversary.every((r) => r.noDropout)) {
    const off = baselineLabel(data);
    defs.push({ key: 'maxSoftmaxNoDropout', label: `max softmax, ${off}`, mode: off, score: (r) => SIMPLE_SCORES.maxSoftmax(r.noDropout!) });
    defs.push({ key: 'entropyNoDropout', label: `predictive entropy, ${off}`, mode: off, score: (r) => SIMPLE_SCORES.entropy(r.noDropout!) });
  }
  return defs;
}

/** Metrics of every score (the gate with its stored threshold, others at the gate's accept rate). */
export function metricsTable(data: ReportData): { key: string; label: string; mode: string; metrics: ScoreMetrics }[] {
  const forced = { digits: data.digits.map((r) => !r.valid), adversary: data.adversary.map((r) => !r.valid) };
  return scoreDefs(data).map((d) => {
    const row = { key: d.key, label: d.label, mode: d.mode };
    if (d.key === 'gate') return { ...row, metrics: data.ood.ood };
    const known = data.ood.scores[d.key as SimpleScoreName];
    if (known) return { ...row, metrics: known };
    return { ...row, metrics: scoreMetrics(data.digits.map(d.score), data.adversary.map(d.score), data.gate.acceptRate, undefined, forced) };
  });
}

// ---------------------------------------------------------------------------------------------
// specs

/** Title and subtitle of the histogram panel of the samples. */
function samplesPanel(data: ReportData): HistogramPanel {
  const s = data.sampling;
  if (s?.kind !== 'ensemble') return { key: 'mc', title: `with MC dropout: ${data.samples} stochastic passes per image`, subtitle: 'dropout on (its trained rate), BatchNorm in inference mode' };
  if (s.ensembleMode === 'mc') {
    return { key: 'mc', title: `ensemble + MC dropout: ${s.members} members x ${data.samples} stochastic passes per image`, subtitle: 'dropout on inside every member (its trained rate), BatchNorm in inference mode' };
  }
  return { key: 'mc', title: `ensemble disagreement: ${s.members} members, one softmax each per image`, subtitle: 'every member with dropout off (inference mode): the spread is how much the members disagree' };
}

/** Title and subtitle of the histogram panel of the baseline without dropout. */
function baselinePanel(data: ReportData, off: NoDropoutBaseline): HistogramPanel {
  const identical = `the passes are identical (largest difference ${(off.maxAbsDiff ?? 0).toExponential(1)}), so every std is 0: all images in the first bin`;
  switch (off.source) {
    case 'member':
      return { key: 'off', title: `without dropout, one network: ${off.member ?? 'one member'} alone, ${off.passes} passes per image with dropout off`, subtitle: identical };
    case 'ensemble':
      return { key: 'off', title: `without dropout: the same ${off.passes} members with dropout off, one softmax each per image`, subtitle: 'what is left is the disagreement of the members' };
    default:
      return { key: 'off', title: `without dropout: ${off.passes} passes per image with dropout off (inference mode)`, subtitle: identical };
  }
}

export function histogramSpec(data: ReportData): TopLevelSpec {
  const sets: [string, string] = [data.digitsLabel, data.adversaryName];
  const groups = [
    { panel: 'mc', set: sets[0], values: data.digits.map((r) => r.summary.meanStd) },
    { panel: 'mc', set: sets[1], values: data.adversary.map((r) => r.summary.meanStd) },
  ];
  const panels = [samplesPanel(data)];
  if (data.noDropout) {
    groups.push(
      { panel: 'off', set: sets[0], values: data.digits.map((r) => r.noDropout?.meanStd ?? NaN) },
      { panel: 'off', set: sets[1], values: data.adversary.map((r) => r.noDropout?.meanStd ?? NaN) },
    );
    panels.push(baselinePanel(data, data.noDropout));
  }
  const subtitle = data.sampling?.kind === 'ensemble' ? "mean over the 10 classes of the std of the softmax across an image's samples" : undefined;
  return uncertaintyHistogramSpec({ rows: histogramRows(groups, 40), sets, panels, subtitle });
}

export function rocPlotSpec(data: ReportData): TopLevelSpec {
  const labels = [...data.digits.map(() => 0), ...data.adversary.map(() => 1)];
  const table = metricsTable(data);
  const curves: CurveDef[] = scoreDefs(data).map((d) => {
    const scores = [...decisionScores(data.digits, d.score), ...decisionScores(data.adversary, d.score)];
    const auroc = table.find((t) => t.key === d.key)!.metrics.auroc;
    return { label: `${d.label} (AUROC ${auroc.toFixed(3)})`, mode: d.mode, points: rocCurve(scores, labels).map((p) => ({ x: p.fpr, y: p.tpr })) };
  });
  const g = data.ood.ood;
  const marked: MarkedPoint[] = [{ label: `gate at its threshold ${data.gate.threshold.toFixed(3)}`, x: 1 - g.digitAcceptRate, y: g.adversaryRejectRate }];
  return rocSpec({ curves, marked, adversaryName: data.adversaryName });
}

export function accuracyRejectionPlotSpec(data: ReportData): TopLevelSpec {
  const correct = data.digits.map((r) => r.label === r.summary.predicted);
  const steps = Math.min(100, data.digits.length);
  const curves: CurveDef[] = scoreDefs(data).map((d) => ({
    label: d.label,
    mode: d.mode,
    points: accuracyRejectionCurve(decisionScores(data.digits, d.score).map((s) => -s), correct, steps).map((p) => ({ x: p.rejectedFraction, y: p.accuracy })),
  }));
  const marked: MarkedPoint[] = [];
  if (Number.isFinite(data.ood.acceptedDigitAccuracy)) {
    marked.push({ label: `gate at its threshold ${data.gate.threshold.toFixed(3)}`, x: 1 - data.ood.ood.digitAcceptRate, y: data.ood.acceptedDigitAccuracy });
  }
  return accuracyRejectionSpec({ curves, marked });
}

export function perClassRows(data: ReportData): ClassRow[] {
  const t = data.gate.threshold;
  const rows = (set: string, records: ImageRecord[], names: string[] | undefined) =>
    classRows(
      set,
      records.map((r) => r.summary.meanStd),
      records.map((r) => isRejected(r, t)),
      records.every((r) => r.label !== undefined) ? records.map((r) => r.label!) : undefined,
      names,
    );
  return [...rows(data.digitsLabel, data.digits, data.digitClassNames), ...rows(data.adversaryName, data.adversary, data.adversaryClassNames)];
}

export function perClassPlotSpec(data: ReportData): TopLevelSpec {
  return perClassSpec({ rows: perClassRows(data), sets: [data.digitsLabel, data.adversaryName] });
}

/** All plot specs, by file stem (figures only when there are figures). */
export function reportSpecs(data: ReportData): Partial<Record<PlotName, TopLevelSpec>> {
  const specs: Partial<Record<PlotName, TopLevelSpec>> = {
    'uncertainty-histograms': histogramSpec(data),
    roc: rocPlotSpec(data),
    'per-class': perClassPlotSpec(data),
    'accuracy-rejection': accuracyRejectionPlotSpec(data),
  };
  if (data.figures.length) specs.figures = figuresSpec(data.figures, { threshold: data.gate.threshold });
  return specs;
}

// ---------------------------------------------------------------------------------------------
// features.csv

export function csvColumns(classes: number = 10): string[] {
  return [
    'set',
    'index',
    'label',
    'predicted',
    'maxMean',
    'meanStd',
    'predictiveEntropy',
    'expectedEntropy',
    'mutualInformation',
    'variationRatio',
    ...Array.from({ length: classes }, (_, k) => `std_${k}`),
    'gateProbability',
    'verdict',
    'reason',
    'maxMeanNoDropout',
  ];
}

const num = (x: number | undefined): number | string => (x === undefined || !Number.isFinite(x) ? '' : Number(x.toPrecision(6)));

/** Per-image features, digits first, then the adversary. */
export function featuresCsv(data: ReportData): string {
  const classes = data.digits[0]?.summary.stdProbs.length ?? data.adversary[0]?.summary.stdProbs.length ?? 10;
  const rows: (string | number)[][] = [csvColumns(classes)];
  const add = (r: ImageRecord, setLabel: string, names: string[] | undefined) => {
    const s = r.summary;
    const rejected = isRejected(r, data.gate.threshold);
    rows.push([
      setLabel,
      r.index,
      r.label === undefined ? '' : (names?.[r.label] ?? String(r.label)),
      s.predicted,
      num(s.maxMean),
      num(s.meanStd),
      num(s.predictiveEntropy),
      num(s.expectedEntropy),
      num(s.mutualInformation),
      num(s.variationRatio),
      ...Array.from(s.stdProbs, (v) => num(v)),
      num(r.gateProbability),
      rejected ? 'rejected' : 'digit',
      !r.valid ? `invalid-input:${r.sanityReason ?? ''}` : rejected ? 'uncertain' : '',
      num(r.noDropout?.maxMean),
    ]);
  };
  data.digits.forEach((r) => add(r, 'digits', data.digitClassNames));
  data.adversary.forEach((r) => add(r, data.adversaryName, data.adversaryClassNames));
  return stringify(rows);
}

// ---------------------------------------------------------------------------------------------
// report.md

const f4 = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');
const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : 'n/a');

function median(values: number[]): number {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
}

function mdTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** What the baseline without dropout is, in a few words. */
function baselineSentence(data: ReportData): string {
  const off = data.noDropout;
  if (!off) return 'not computed';
  if (off.source === 'member') return `${off.member ?? 'one member'} of the ensemble alone, dropout off`;
  if (off.source === 'ensemble') return `the ensemble's members with dropout off, their softmax averaged`;
  return 'the same model with dropout off';
}

/** The paragraph under the histograms: what each panel shows. */
function histogramText(data: ReportData, medD: number, medA: number): string {
  const off = data.noDropout;
  const medians = `the median is ${f4(medD)} for digits and ${f4(medA)} for ${data.adversaryName}: the further apart the two histograms, the more the spread alone says "not a digit".`;
  const identical = (subject: string) =>
    ` ${subject} runs ${off!.passes} passes per image with dropout off (inference mode) and measures a largest difference of ${(off!.maxAbsDiff ?? 0).toExponential(1)} between them, so every std is exactly 0 and this feature cannot separate anything.`;
  if (data.sampling?.kind === 'ensemble') {
    const k = data.sampling.members;
    if (data.sampling.ensembleMode === 'mc') {
      let text = `This is an **ensemble** of ${k} members sampled in \`mc\` mode. Upper panel: the mean (over the 10 classes) standard deviation of the softmax across each image's ${samplesPerImage(data)} samples (${data.samples} MC-dropout passes inside each member), as a fraction of each set; ${medians}`;
      if (off?.source === 'ensemble') {
        text += ` Lower panel: the same ${off.passes} members with dropout off (one deterministic softmax each, as in \`disagreement\` mode): the spread that is left comes from the members disagreeing, not from dropout.`;
      }
      return text;
    }
    let text = `This is an **ensemble** of ${k} members sampled in \`disagreement\` mode, so there is no dropout anywhere: every member runs once with dropout off. Upper panel: the mean (over the 10 classes) standard deviation of the softmax across the ${k} members, as a fraction of each set (ensemble disagreement); ${medians}`;
    if (off?.source === 'member') {
      text += ` Lower panel: a single network without dropout, for comparison:${identical(`\`${off.member ?? 'one member'}\` alone`)} The spread in the upper panel exists only because several independently trained members are asked.`;
    }
    return text;
  }
  return (
    `Distribution of the mean (over the 10 classes) standard deviation of the softmax across passes, as a fraction of each set. With MC dropout ${medians}` +
    (off
      ? ` Without dropout the network is deterministic:${identical('the lower panel')} The spread exists only because dropout is kept on at prediction time.`
      : ' (The dropout-off panel was not drawn.)')
  );
}

/** The sentence on the dashed curves of the ROC plot. */
function dashedText(data: ReportData): string {
  if (!data.noDropout) return '';
  switch (data.noDropout.source) {
    case 'member':
      return `Dashed curves use the deterministic softmax of ${data.noDropout.member ?? 'one member'} alone (dropout off): what a single network's plain softmax gives, next to the ensemble.`;
    case 'ensemble':
      return 'Dashed curves use the ensemble with dropout off (the members\' deterministic softmax, averaged): what the ensemble gives without MC dropout.';
    default:
      return 'Dashed curves use the deterministic softmax (dropout off): they show what the plain softmax gives without MC dropout.';
  }
}

/** report.md: what was run, the metrics table, and each plot with what it shows. */
export function reportMarkdown(data: ReportData, plots: readonly string[] = Object.keys(reportSpecs(data))): string {
  const o = data.ood;
  const t = data.gate.threshold;
  const table = metricsTable(data);
  const digitRejected = data.digits.filter((r) => isRejected(r, t)).length;
  const advRejected = data.adversary.filter((r) => isRejected(r, t)).length;
  const medD = median(data.digits.map((r) => r.summary.meanStd));
  const medA = median(data.adversary.map((r) => r.summary.meanStd));
  const gateRow = table.find((r) => r.key === 'gate')!;
  const best = [...table].sort((a, b) => b.metrics.auroc - a.metrics.auroc)[0];
  const lines: string[] = [];
  const img = (name: string, alt: string) => (plots.includes(name) ? [`![${alt}](${name}.png)`, '', `([SVG](${name}.svg))`, ''] : [`(${alt}: not drawn)`, '']);

  lines.push(`# udq report: MNIST digits vs ${data.adversaryName}`, '');
  lines.push('Made with:', '', '```sh', data.command, '```', '');
  lines.push(
    mdTable(
      ['', ''],
      [
        data.sampling?.kind === 'ensemble'
          ? ['model', `\`${relativePath(data.modelDir)}\`: an ensemble of ${data.sampling.members} ${data.arch} members, sampled in \`${data.sampling.ensembleMode ?? 'disagreement'}\` mode`]
          : ['model', `\`${relativePath(data.modelDir)}\` (${data.arch})`],
        ['gate', `${data.gate.features} features, fitted on ${data.gate.fittedOn} with --samples ${data.gate.samples}; threshold ${f4(t)} (chosen to accept ${pct(data.gate.acceptRate)} of held-out digits)`],
        ['digits', `${data.digits.length} MNIST test images (the first ${data.limit})`],
        ['adversary', `${data.adversary.length} images of ${data.adversaryName} (test split where it has one)`],
        ['sampling', samplingSentence(data)],
        ['backend', data.backend ?? 'n/a'],
        ['udq', `${data.udqVersion}, ${data.date}`],
      ],
    ),
    '',
  );
  if (data.pngText === false) {
    lines.push('> **Note:** no system font was found when this report was made, so the text in the PNG plots is drawn with a built-in single-stroke (Hershey) font and may sit slightly off its intended box. The SVG files have the real text.', '');
  }

  lines.push('## Metrics', '');
  lines.push(
    `Rejecting ${data.adversaryName} (positive class) against MNIST digits. The gate uses its stored threshold; every other score is thresholded to accept the same ${pct(data.gate.acceptRate)} of these digits. Images failing the input sanity check (${o.ood.invalidDigits} digits, ${o.ood.invalidAdversary} adversary images) count as rejected for every score.`,
    '',
  );
  lines.push(
    mdTable(
      ['score', 'sampling', 'AUROC', 'AUPR', 'FPR@95%TPR', 'balanced acc/rej accuracy', 'digits accepted', 'adversary rejected'],
      table.map((r) => [r.label, r.mode, f4(r.metrics.auroc), f4(r.metrics.aupr), f4(r.metrics.fpr95), f4(r.metrics.acceptRejectAccuracy), pct(r.metrics.digitAcceptRate), pct(r.metrics.adversaryRejectRate)]),
    ),
    '',
  );
  lines.push(
    `Digits: accuracy ${f4(o.digitAccuracy)} on all ${o.digits}, ${f4(o.acceptedDigitAccuracy)} on the ${o.digits - digitRejected} the gate accepts; ECE ${f4(o.digitEce)}. The gate rejects ${digitRejected} of ${o.digits} digits and ${advRejected} of ${o.adversary} ${data.adversaryName} images. ` +
      (best.key === 'gate' ? `The gate has the best AUROC here (${f4(gateRow.metrics.auroc)}).` : `Best AUROC here: ${best.label} (${f4(best.metrics.auroc)}); the gate: ${f4(gateRow.metrics.auroc)}.`),
    '',
  );
  lines.push('AUROC: probability that a random adversary image scores higher than a random digit. FPR@95%TPR: fraction of adversary images still accepted when 95% of digits are. Balanced accuracy: mean of digits accepted and adversary rejected.', '');

  lines.push('## Plots', '');
  lines.push('### 1. Uncertainty histograms', '');
  lines.push(...img('uncertainty-histograms', 'histograms of the mean std for digits and adversary, with and without dropout'));
  lines.push(histogramText(data, medD, medA), '');
  lines.push('### 2. ROC curves', '');
  lines.push(...img('roc', 'ROC curves of the gate and the simple scores'));
  lines.push(
    `For each score, the fraction of ${data.adversaryName} images rejected (y) against the fraction of digits rejected (x) as its threshold moves; the legend gives each AUROC. The diamond is the gate at its stored threshold. ${dashedText(data)}`,
    '',
  );
  const advClasses = perClassRows(data).filter((r) => r.set === data.adversaryName);
  const leastRejected =
    advClasses.length > 1
      ? ` The ${data.adversaryName} classes the gate lets through most: ${[...advClasses]
          .sort((a, b) => a.rejected - b.rejected || a.order - b.order)
          .slice(0, 5)
          .map((r) => `${r.className} (${pct(r.rejected)} rejected)`)
          .join(', ')}.`
      : '';
  lines.push('### 3. Per-class breakdown', '');
  lines.push(...img('per-class', 'uncertainty and rejection rate per digit and per adversary class'));
  lines.push(
    `Top two panels: mean std per class (box: quartiles, white tick: median, line: 10th to 90th percentile), digits by their true label, ${data.adversaryName} by ${data.adversaryClassNames ? 'its class' : 'one group (the set has no labels)'}. Bottom two panels: the fraction of each class that is rejected (gate or sanity check).` + leastRejected,
    '',
  );
  lines.push(mdTable(['set', 'class', 'images', 'median mean std', 'rejected'], perClassRows(data).map((r) => [r.set, r.className, r.n, f4(r.median), pct(r.rejected)])), '');
  lines.push('### 4. Accuracy vs rejection', '');
  lines.push(...img('accuracy-rejection', 'accuracy of accepted digits as more digits are rejected'));
  lines.push(
    'MNIST digits only: each score rejects its least confident digits first; the y axis is the classification accuracy of the digits still accepted. A curve that rises fast means the score rejects the digits the model gets wrong. The diamond is the gate at its stored threshold.',
    '',
  );
  lines.push('### 5. Figures', '');
  if (data.figures.length) {
    lines.push(...img('figures', 'the figures as 28x28 images with their verdicts'));
    const same = data.sampling?.kind === 'ensemble' ? `same ensemble in \`${data.sampling.ensembleMode ?? 'disagreement'}\` mode, ${samplesPerImage(data)} samples per image` : `same model, ${data.samples} passes`;
    lines.push(`The pictures in \`${data.figuresDir ? relativePath(data.figuresDir) : 'figures/'}\` after MNIST preprocessing (what the model sees), with the verdict of \`udq predict\` (${same}, gate, seed ${data.seed}).`, '');
    lines.push(
      mdTable(
        ['file', 'verdict', 'reason', 'model says', 'p(that digit)', 'p(reject)', 'mean std'],
        data.figures.map((f) => [f.name, f.verdict, f.reason ?? f.error ?? '', f.digit ?? '', f.probability === undefined ? '' : f4(f.probability), f.gateProbability === undefined ? '' : f4(f.gateProbability), f.meanStd === undefined ? '' : f4(f.meanStd)]),
      ),
      '',
    );
  } else {
    lines.push('No figures were found, so this panel was not drawn.', '');
  }
  lines.push('## features.csv', '');
  lines.push(
    `One row per image (${data.digits.length} digits, then ${data.adversary.length} ${data.adversaryName} images): set, index in the set, true label, predicted digit, maxMean (largest mean softmax), meanStd, predictiveEntropy, expectedEntropy, mutualInformation (natural log), variationRatio, std_0..std_9 (the gate's features), gateProbability (P(not a digit)), verdict (digit / rejected), reason (invalid-input:... or uncertain), maxMeanNoDropout (max softmax of the baseline without dropout: ${baselineSentence(data)}; empty when not computed). The uncertainty columns are over ${samplesPerImage(data)} samples per image (${samplingLabel(data)}).`,
    '',
  );
  return lines.join('\n');
}
