/**
 * Scoring digits against an adversary set: the gate's metrics next to those of simple
 * uncertainty scores, so users see what the gate adds. Pure: works on summaries.
 * Convention: every score is "higher = more likely not a digit".
 */
import type { SampleSummary, FeatureSetName } from '../uq/features';
import { featureVector } from '../uq/features';
import { LogisticModel, predictProba, chooseThreshold } from './logistic';
import { acceptRejectRates, aupr, auroc, ece, fpr95 } from './metrics';

export const SIMPLE_SCORES = {
  maxSoftmax: (s: SampleSummary) => 1 - s.maxMean,
  entropy: (s: SampleSummary) => s.predictiveEntropy,
  mutualInformation: (s: SampleSummary) => s.mutualInformation,
  meanStd: (s: SampleSummary) => s.meanStd,
  /** energy -logsumexp(logits), averaged over samples (NaN when the sampler saw no logits) */
  energy: (s: SampleSummary) => s.energy ?? NaN,
} as const;
export type SimpleScoreName = keyof typeof SIMPLE_SCORES;

export interface ScoreMetrics {
  auroc: number;
  aupr: number;
  fpr95: number;
  /** balanced accept/reject accuracy at the threshold accepting `acceptRate` of digits */
  acceptRejectAccuracy: number;
  digitAcceptRate: number;
  adversaryRejectRate: number;
  threshold: number;
}

export interface OodReport {
  digits: number;
  adversary: number;
  digitAccuracy: number;
  acceptedDigitAccuracy: number;
  digitEce: number;
  /** the gate (after the input sanity check) */
  ood: ScoreMetrics & { invalidDigits: number; invalidAdversary: number };
  /** the energy score is absent when the sampler saw no logits */
  scores: Partial<Record<SimpleScoreName, ScoreMetrics>> & Record<Exclude<SimpleScoreName, 'energy'>, ScoreMetrics>;
}

export interface ScoredSet {
  summaries: SampleSummary[];
  /** false where the input sanity check rejected the image */
  valid: boolean[];
  labels?: ArrayLike<number>;
}

/** Metrics of one score: threshold chosen (on these digits) to accept `acceptRate`, unless given. */
export function scoreMetrics(digitScores: number[], advScores: number[], acceptRate: number, threshold?: number, forcedReject?: { digits: boolean[]; adversary: boolean[] }): ScoreMetrics {
  const scores = [...digitScores, ...advScores];
  const labels = [...digitScores.map(() => 0), ...advScores.map(() => 1)];
  const t = threshold ?? chooseThreshold(digitScores, acceptRate);
  // forced rejections (sanity check) count as rejected whatever the score: they get the
  // largest finite score (the metrics reject non-finite scores; any threshold chosen from
  // finite digit scores is below it)
  const decisionScores = forcedReject
    ? scores.map((s, i) => ((i < digitScores.length ? forcedReject.digits[i] : forcedReject.adversary[i - digitScores.length]) ? Number.MAX_VALUE : s))
    : scores;
  const rates = acceptRejectRates(decisionScores, labels, t);
  return {
    auroc: auroc(decisionScores, labels),
    aupr: aupr(decisionScores, labels),
    fpr95: fpr95(decisionScores, labels),
    acceptRejectAccuracy: rates.balancedAccuracy,
    digitAcceptRate: rates.digitAcceptRate,
    adversaryRejectRate: rates.adversaryRejectRate,
    threshold: t,
  };
}

export function gateScores(summaries: SampleSummary[], gate: LogisticModel, features: FeatureSetName): number[] {
  return summaries.map((s) => predictProba(gate, featureVector(s, features)));
}

/** The full report for digits (with labels) vs an adversary set. */
export function oodReport(
  digits: ScoredSet,
  adversary: ScoredSet,
  gate: { logistic: LogisticModel; features: FeatureSetName; threshold: number },
  acceptRate: number,
): OodReport {
  const dScores = gateScores(digits.summaries, gate.logistic, gate.features);
  const aScores = gateScores(adversary.summaries, gate.logistic, gate.features);
  const invalid = { digits: digits.valid.map((v) => !v), adversary: adversary.valid.map((v) => !v) };
  const ood = scoreMetrics(dScores, aScores, acceptRate, gate.threshold, invalid);
  const scores = {} as OodReport['scores'];
  for (const [name, f] of Object.entries(SIMPLE_SCORES) as [SimpleScoreName, (s: SampleSummary) => number][]) {
    if ([...digits.summaries, ...adversary.summaries].some((s) => !Number.isFinite(f(s)))) continue;
    scores[name] = scoreMetrics(digits.summaries.map(f), adversary.summaries.map(f), acceptRate, undefined, invalid);
  }
  const labels = digits.labels ?? [];
  let correct = 0;
  let acceptedCorrect = 0;
  let accepted = 0;
  const conf: number[] = [];
  const hit: boolean[] = [];
  digits.summaries.forEach((s, i) => {
    const ok = s.predicted === labels[i];
    if (ok) correct++;
    conf.push(s.maxMean);
    hit.push(ok);
    if (digits.valid[i] && dScores[i] < gate.threshold) {
      accepted++;
      if (ok) acceptedCorrect++;
    }
  });
  return {
    digits: digits.summaries.length,
    adversary: adversary.summaries.length,
    digitAccuracy: labels.length ? correct / digits.summaries.length : NaN,
    acceptedDigitAccuracy: accepted ? acceptedCorrect / accepted : NaN,
    digitEce: labels.length ? ece(conf, hit) : NaN,
    ood: { ...ood, invalidDigits: invalid.digits.filter(Boolean).length, invalidAdversary: invalid.adversary.filter(Boolean).length },
    scores,
  };
}
