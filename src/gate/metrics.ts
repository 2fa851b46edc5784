/**
 * Evaluation metrics for the reject gate and for simple uncertainty scores (DESIGN.md section 5).
 *
 * Conventions used throughout:
 * - label 1 = adversary / not a digit (the positive class), label 0 = in-distribution digit;
 * - a score is "higher = more likely an adversary" (gate probability, entropy, mutual
 *   information, mean std; pass 1 - max softmax or -max softmax for confidence-like scores);
 * - an image is accepted as a digit iff score < threshold, rejected iff score >= threshold.
 *
 * Label arrays may be any array-like of numbers (number[], Uint8Array); every entry must be 0
 * or 1. Bad input (empty arrays, length mismatches, NaN, other labels, or a missing class
 * where a metric needs both) throws UsageError.
 */
import { UsageError } from '../errors';
import { chooseThreshold } from './logistic';

/**
 * Area under the ROC curve for detecting adversaries: the probability that a random adversary
 * scores higher than a random digit, ties counting 1/2 (the Mann-Whitney U statistic divided by
 * n1 * n0). All scores equal gives 0.5, perfect separation 1, inverted separation 0.
 */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { positives, negatives } = checkScoresAndLabels(scores, labels, true);
  const order = sortedIndices(scores);
  // Sum of the (tie-averaged, 1-based) ranks of the positives.
  let positiveRankSum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && scores[order[end]] === scores[order[start]]) end++;
    const averageRank = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) if (labels[order[i]] === 1) positiveRankSum += averageRank;
    start = end;
  }
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Area under the precision-recall curve for adversaries (label 1), as average precision:
 * AP = sum over thresholds of (R_t - R_{t-1}) * P_t, with thresholds at the distinct scores in
 * decreasing order. Tied scores form a single threshold (the whole tied group is flagged
 * together), as in scikit-learn's `average_precision_score`; no interpolation. With all scores
 * equal the result is the fraction of adversaries; with perfect separation it is 1.
 */
export function aupr(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { positives } = checkScoresAndLabels(scores, labels, true);
  const order = sortedIndices(scores).reverse();
  let truePositives = 0;
  let flagged = 0;
  let averagePrecision = 0;
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && scores[order[end]] === scores[order[start]]) end++;
    let groupPositives = 0;
    for (let i = start; i < end; i++) groupPositives += labels[order[i]];
    truePositives += groupPositives;
    flagged += end - start;
    averagePrecision += (groupPositives / positives) * (truePositives / flagged);
    start = end;
  }
  return averagePrecision;
}

/**
 * False-positive rate at a given true-positive rate, in the OOD-detection sense where the
 * in-distribution digits are the positives of the TPR: the fraction of adversaries (label 1)
 * *accepted* when the threshold accepts `tpr` of the digits (label 0).
 *
 * The threshold is `chooseThreshold(digitScores, tpr)` (gate/logistic.ts): with the digit scores
 * sorted ascending and m = ceil(tpr * nDigits), exactly the images with score <= the m-th
 * smallest digit score are accepted, so ties at that score are accepted together, digits and
 * adversaries alike, and at least `tpr` of the digits are accepted.
 */
export function fprAtTpr(scores: ArrayLike<number>, labels: ArrayLike<number>, tpr: number = 0.95): number {
  const { positives: adversaryCount } = checkScoresAndLabels(scores, labels, true);
  if (!(tpr >= 0 && tpr <= 1)) throw new UsageError(`TPR must be in [0, 1], got ${tpr}`);
  const digitScores: number[] = [];
  for (let i = 0; i < scores.length; i++) if (labels[i] === 0) digitScores.push(scores[i]);
  const threshold = chooseThreshold(digitScores, tpr);
  let adversariesAccepted = 0;
  for (let i = 0; i < scores.length; i++) if (labels[i] === 1 && scores[i] < threshold) adversariesAccepted++;
  return adversariesAccepted / adversaryCount;
}

/** FPR95: the fraction of adversaries accepted when 95% of the digits are (see `fprAtTpr`). */
export function fpr95(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  return fprAtTpr(scores, labels, 0.95);
}

/** Accept/reject outcome at a fixed threshold (accept iff score < threshold). */
export interface AcceptRejectRates {
  /** accepted digits / digits; NaN when there are no digits */
  digitAcceptRate: number;
  /** rejected adversaries / adversaries; NaN when there are no adversaries */
  adversaryRejectRate: number;
  /** (accepted digits + rejected adversaries) / all images */
  accuracy: number;
  /** mean of digitAcceptRate and adversaryRejectRate; NaN when a class is missing */
  balancedAccuracy: number;
}

/**
 * Accept/reject rates at `threshold`, accepting iff score < threshold. Works with one class
 * missing (its rate is NaN), e.g. to measure the digit acceptance rate alone.
 */
export function acceptRejectRates(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number,
): AcceptRejectRates {
  const { positives: adversaries, negatives: digits } = checkScoresAndLabels(scores, labels, false);
  if (Number.isNaN(threshold)) throw new UsageError('threshold is NaN');
  let digitsAccepted = 0;
  let adversariesRejected = 0;
  for (let i = 0; i < scores.length; i++) {
    const accepted = scores[i] < threshold;
    if (labels[i] === 0 && accepted) digitsAccepted++;
    if (labels[i] === 1 && !accepted) adversariesRejected++;
  }
  const digitAcceptRate = digits > 0 ? digitsAccepted / digits : NaN;
  const adversaryRejectRate = adversaries > 0 ? adversariesRejected / adversaries : NaN;
  return {
    digitAcceptRate,
    adversaryRejectRate,
    accuracy: (digitsAccepted + adversariesRejected) / scores.length,
    balancedAccuracy: (digitAcceptRate + adversaryRejectRate) / 2,
  };
}

/**
 * Balanced accept/reject accuracy: the mean of the digit acceptance rate and the adversary
 * rejection rate, accepting iff score < threshold. Needs both classes.
 */
export function balancedAcceptRejectAccuracy(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number,
): number {
  checkScoresAndLabels(scores, labels, true);
  return acceptRejectRates(scores, labels, threshold).balancedAccuracy;
}

/** Fraction of positions where `predicted` equals `truth` (class indices). */
export function accuracy(predicted: ArrayLike<number>, truth: ArrayLike<number>): number {
  checkSameLength(predicted.length, truth.length, 'predictions', 'true labels');
  checkFinite(predicted, 'prediction');
  checkFinite(truth, 'true label');
  let correct = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === truth[i]) correct++;
  return correct / predicted.length;
}

/**
 * Classification accuracy over the accepted images only (`accepted[i]` true). NaN when no image
 * is accepted, since the accuracy of nothing is undefined.
 */
export function acceptedAccuracy(
  predicted: ArrayLike<number>,
  truth: ArrayLike<number>,
  accepted: ArrayLike<boolean>,
): number {
  checkSameLength(predicted.length, truth.length, 'predictions', 'true labels');
  checkSameLength(predicted.length, accepted.length, 'predictions', 'accept flags');
  checkFinite(predicted, 'prediction');
  checkFinite(truth, 'true label');
  let count = 0;
  let correct = 0;
  for (let i = 0; i < predicted.length; i++) {
    if (!accepted[i]) continue;
    count++;
    if (predicted[i] === truth[i]) correct++;
  }
  return count > 0 ? correct / count : NaN;
}

/**
 * Expected calibration error with `bins` equal-width bins on [0, 1]:
 * ECE = sum_b (|b| / n) * |accuracy(b) - mean confidence(b)|.
 * Bin b covers (b/bins, (b+1)/bins], upper edge inclusive (Guo et al. 2017), with confidence 0
 * in the first bin; edges are the doubles b/bins, so 0.6 with 5 bins falls in (0.4, 0.6].
 * @param confidences the predicted class's probability, each in [0, 1]
 * @param correct whether each prediction was right
 */
export function ece(confidences: ArrayLike<number>, correct: ArrayLike<boolean>, bins: number = 15): number {
  checkSameLength(confidences.length, correct.length, 'confidences', 'correct flags');
  if (!Number.isInteger(bins) || bins < 1) throw new UsageError(`number of bins must be a positive integer, got ${bins}`);
  const binCount = new Float64Array(bins);
  const binConfidence = new Float64Array(bins);
  const binCorrect = new Float64Array(bins);
  for (let i = 0; i < confidences.length; i++) {
    const c = confidences[i];
    if (!(c >= 0 && c <= 1)) throw new UsageError(`confidence ${i} is ${c}; expected a value in [0, 1]`);
    let b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    // correct rounding of c * bins against the edges b / bins
    while (b > 0 && c <= b / bins) b--;
    while (b < bins - 1 && c > (b + 1) / bins) b++;
    binCount[b]++;
    binConfidence[b] += c;
    if (correct[i]) binCorrect[b]++;
  }
  let total = 0;
  for (let b = 0; b < bins; b++) {
    if (binCount[b] === 0) continue;
    total += Math.abs(binCorrect[b] - binConfidence[b]); // = |b| * |acc - conf|
  }
  return total / confidences.length;
}

/** One point of a ROC curve: flag as adversary iff score >= threshold. */
export interface RocPoint {
  /** fraction of digits flagged (score >= threshold) */
  fpr: number;
  /** fraction of adversaries flagged (score >= threshold) */
  tpr: number;
  /** the score threshold; +Infinity for the first point (nothing flagged) */
  threshold: number;
}

/**
 * ROC curve for detecting adversaries (label 1): one point per distinct score, in decreasing
 * threshold order, starting at (0, 0) with threshold +Infinity and ending at (1, 1). Tied
 * scores move the curve diagonally, so the trapezoidal area under it equals `auroc`.
 * Note: JSON writes the first threshold (Infinity) as null.
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocPoint[] {
  const { positives, negatives } = checkScoresAndLabels(scores, labels, true);
  const order = sortedIndices(scores).reverse();
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let truePositives = 0;
  let falsePositives = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    const threshold = scores[order[start]];
    while (end < order.length && scores[order[end]] === threshold) {
      if (labels[order[end]] === 1) truePositives++;
      else falsePositives++;
      end++;
    }
    points.push({ fpr: falsePositives / negatives, tpr: truePositives / positives, threshold });
    start = end;
  }
  return points;
}

/** One point of an accuracy-rejection curve. */
export interface AccuracyRejectionPoint {
  /** fraction of images rejected (the least confident ones) */
  rejectedFraction: number;
  /** accuracy over the images kept */
  accuracy: number;
}

/**
 * Accuracy-rejection curve: for i = 0 .. steps-1, reject the floor(i * n / steps) least
 * confident images and report the accuracy of the rest (a fraction of 1 is left out: nothing
 * would remain). When the cut falls inside a group of tied confidences, the kept part of the
 * group counts with the group's mean correctness, i.e. the expected accuracy over random
 * tie-breaking, so the result does not depend on input order.
 * @param confidence higher = more confident (any finite scale)
 */
export function accuracyRejectionCurve(
  confidence: ArrayLike<number>,
  correct: ArrayLike<boolean>,
  steps: number = 20,
): AccuracyRejectionPoint[] {
  checkSameLength(confidence.length, correct.length, 'confidences', 'correct flags');
  checkFinite(confidence, 'confidence');
  if (!Number.isInteger(steps) || steps < 1) throw new UsageError(`steps must be a positive integer, got ${steps}`);
  const n = confidence.length;
  const order = sortedIndices(confidence);
  // Tie groups in ascending confidence: [start, end) and their number correct.
  const groups: { start: number; end: number; correct: number }[] = [];
  for (let start = 0; start < n; ) {
    let end = start;
    let groupCorrect = 0;
    while (end < n && confidence[order[end]] === confidence[order[start]]) {
      if (correct[order[end]]) groupCorrect++;
      end++;
    }
    groups.push({ start, end, correct: groupCorrect });
    start = end;
  }
  const points: AccuracyRejectionPoint[] = [];
  for (let i = 0; i < steps; i++) {
    const rejected = Math.floor((i * n) / steps + 1e-9);
    let keptCorrect = 0;
    for (const g of groups) {
      if (g.end <= rejected) continue;
      const keptInGroup = g.end - Math.max(g.start, rejected);
      keptCorrect += (g.correct * keptInGroup) / (g.end - g.start);
    }
    points.push({ rejectedFraction: rejected / n, accuracy: keptCorrect / (n - rejected) });
  }
  return points;
}

/** Indices 0..n-1 sorted by ascending value (stable). */
function sortedIndices(values: ArrayLike<number>): number[] {
  return Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a] - values[b] || a - b);
}

function checkSameLength(a: number, b: number, nameA: string, nameB: string): void {
  if (a === 0) throw new UsageError(`no ${nameA}`);
  if (a !== b) throw new UsageError(`${a} ${nameA} but ${b} ${nameB}`);
}

function checkFinite(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new UsageError(`${what} ${i} is ${values[i]}`);
  }
}

/**
 * Validate scores (finite) and labels (0/1) of equal, non-zero length; count each class.
 * With `needBoth`, both classes must be present.
 */
function checkScoresAndLabels(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  needBoth: boolean,
): { positives: number; negatives: number } {
  checkSameLength(scores.length, labels.length, 'scores', 'labels');
  checkFinite(scores, 'score');
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label !== 0 && label !== 1) throw new UsageError(`label ${i} is ${label}; expected 0 (digit) or 1 (adversary)`);
    positives += label;
  }
  const negatives = labels.length - positives;
  if (needBoth && (negatives === 0 || positives === 0)) {
    throw new UsageError('this metric needs both digits (label 0) and adversaries (label 1)');
  }
  return { positives, negatives };
}

/**
 * Coverage at a target accuracy: the largest share of the pictures, taken from the most confident
 * down (`confidence` higher = more confident), whose accuracy is at least `target`; 0 when even
 * the single most confident one is wrong. Ties are taken in input order. Pure. This is the
 * acceptance a gate ranking by `confidence` could reach at that accuracy with its threshold
 * placed best, so it measures the ranking apart from where the threshold sits.
 */
export function coverageAtAccuracy(confidence: ArrayLike<number>, correct: ArrayLike<boolean>, target: number): number {
  checkSameLength(confidence.length, correct.length, 'confidences', 'correct flags');
  checkFinite(confidence, 'confidence');
  if (!(target > 0 && target <= 1)) throw new UsageError(`target accuracy must be in (0, 1], got ${target}`);
  const n = confidence.length;
  // most confident first; ties in input order
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => confidence[b] - confidence[a] || a - b);
  let good = 0;
  let cover = 0;
  order.forEach((i, k) => {
    if (correct[i]) good++;
    if (good >= target * (k + 1) - 1e-12) cover = (k + 1) / n;
  });
  return cover;
}

/**
 * How often each value occurs, most frequent first (ties in the order first seen): what a set of
 * pictures was read as, e.g. `[[6, 103], [8, 13], [5, 3]]` for EMNIST b's. Pure.
 */
export function countsMostFirst<T>(values: Iterable<T>): Array<[T, number]> {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}
