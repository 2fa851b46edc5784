import { test } from 'node:test';
import assert from 'node:assert/strict';
import { close } from './helpers/close';
import { mulberry32 } from '../src/random';
import {
  acceptRejectRates,
  acceptedAccuracy,
  accuracy,
  accuracyRejectionCurve,
  coverageAtAccuracy,
  countsMostFirst,
  aupr,
  auroc,
  balancedAcceptRejectAccuracy,
  ece,
  fpr95,
  fprAtTpr,
  rocCurve,
} from '../src/gate/metrics';
import { UsageError } from '../src/errors';


/** Random scores on a coarse grid (many ties) with labels of both classes. */
function randomTiedData(n: number, seed: number): { scores: number[]; labels: (0 | 1)[] } {
  const random = mulberry32(seed);
  const labels = Array.from({ length: n }, (_, i): 0 | 1 => (i < 2 ? (i as 0 | 1) : random() < 0.4 ? 1 : 0));
  const scores = labels.map((l) => Math.floor((random() + 0.3 * l) * 8) / 8);
  return { scores, labels };
}

// ---- independent brute-force references --------------------------------------------------

/** AUROC by counting every (adversary, digit) pair. */
function pairwiseAuroc(scores: number[], labels: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      if (scores[i] > scores[j]) wins += 1;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  return wins / pairs;
}

/** Average precision by re-counting precision and recall at every distinct threshold. */
function bruteForceAveragePrecision(scores: number[], labels: number[]): number {
  const thresholds = [...new Set(scores)].sort((a, b) => b - a);
  const positives = labels.filter((l) => l === 1).length;
  let previousRecall = 0;
  let ap = 0;
  for (const t of thresholds) {
    const flagged = scores.map((s, i) => ({ s, l: labels[i] })).filter((e) => e.s >= t);
    const tp = flagged.filter((e) => e.l === 1).length;
    const recall = tp / positives;
    ap += (recall - previousRecall) * (tp / flagged.length);
    previousRecall = recall;
  }
  return ap;
}

/** Trapezoidal area under a list of (fpr, tpr) points. */
function trapezoidArea(points: { fpr: number; tpr: number }[]): number {
  let area = 0;
  for (let i = 1; i < points.length; i++) {
    area += ((points[i].fpr - points[i - 1].fpr) * (points[i].tpr + points[i - 1].tpr)) / 2;
  }
  return area;
}

// ---- AUROC and AUPR ------------------------------------------------------------------------

// Hand-worked: adversaries {0.9, 0.7, 0.5} vs digits {0.8, 0.6}; wins 0.9>0.8, 0.9>0.6, 0.7>0.6
// -> AUROC 3/6. AP: flag 0.9 (P 1, R 1/3), 0.8 (no recall step), 0.7 (P 2/3, R 2/3),
// 0.6, 0.5 (P 3/5, R 1) -> (1 + 2/3 + 3/5) / 3 = 34/45.
// Tied: adversaries {0.9, 0.8, 0.3} vs digits {0.8, 0.3}: 0.9 wins 2, 0.8 wins 1 + tie 1/2,
// 0.3 tie 1/2 -> 4/6. AP with tied groups: {0.9} P 1 R 1/3; {0.8, 0.8} P 2/3 R 2/3;
// {0.3, 0.3} P 3/5 R 1 -> 34/45.
const RANKING_CASES: { name: string; scores: number[]; labels: (0 | 1)[]; auroc: number; aupr: number }[] = [
  { name: 'perfect separation', scores: [0.1, 0.2, 0.8, 0.9], labels: [0, 0, 1, 1], auroc: 1, aupr: 1 },
  // inverted: adversaries flagged last; AP = (1/2)(1/3) + (1/2)(2/4) = 5/12
  { name: 'inverted', scores: [0.9, 0.8, 0.2, 0.1], labels: [0, 0, 1, 1], auroc: 0, aupr: 5 / 12 },
  // all tied: one threshold flags everything, P = 2/5
  { name: 'all scores equal', scores: [0.3, 0.3, 0.3, 0.3, 0.3], labels: [0, 1, 0, 1, 0], auroc: 0.5, aupr: 2 / 5 },
  { name: 'five points', scores: [0.9, 0.8, 0.7, 0.6, 0.5], labels: [1, 0, 1, 0, 1], auroc: 0.5, aupr: 34 / 45 },
  { name: 'five points with ties', scores: [0.9, 0.8, 0.8, 0.3, 0.3], labels: [1, 1, 0, 0, 1], auroc: 4 / 6, aupr: 34 / 45 },
  // one adversary ranked between two digits: wins 1 of 2; AP: flags 0.7 (digit) then 0.5: P 1/2
  { name: 'single adversary in the middle', scores: [0.7, 0.5, 0.2], labels: [0, 1, 0], auroc: 0.5, aupr: 0.5 },
];

for (const c of RANKING_CASES) {
  test(`auroc and aupr: ${c.name}`, () => {
    close(auroc(c.scores, c.labels), c.auroc, 1e-12, 'auroc');
    close(aupr(c.scores, c.labels), c.aupr, 1e-12, 'aupr');
    // the input order must not matter
    const reversedScores = [...c.scores].reverse();
    const reversedLabels = [...c.labels].reverse();
    close(auroc(reversedScores, reversedLabels), c.auroc, 1e-12, 'auroc reversed');
    close(aupr(reversedScores, reversedLabels), c.aupr, 1e-12, 'aupr reversed');
  });
}

test('auroc and aupr equal brute-force references on random tied data', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const { scores, labels } = randomTiedData(40, seed);
    close(auroc(scores, labels), pairwiseAuroc(scores, labels), 1e-12, `auroc seed ${seed}`);
    close(aupr(scores, labels), bruteForceAveragePrecision(scores, labels), 1e-12, `aupr seed ${seed}`);
  }
});

test('typed arrays are accepted', () => {
  const scores = Float32Array.from([0.1, 0.2, 0.8, 0.9]);
  const labels = Uint8Array.from([0, 1, 0, 1]);
  close(auroc(scores, labels), 0.75, 1e-12, 'auroc'); // wins: 0.2>0.1, 0.9>0.1, 0.9>0.8
});

// ---- ROC curve -----------------------------------------------------------------------------

test('rocCurve: hand-worked points', () => {
  // flag iff score >= threshold; adversaries {0.9, 0.7}, digit {0.8}
  assert.deepEqual(rocCurve([0.9, 0.8, 0.7], [1, 0, 1]), [
    { fpr: 0, tpr: 0, threshold: Infinity },
    { fpr: 0, tpr: 0.5, threshold: 0.9 },
    { fpr: 1, tpr: 0.5, threshold: 0.8 },
    { fpr: 1, tpr: 1, threshold: 0.7 },
  ]);
  // a tie moves diagonally in one step
  assert.deepEqual(rocCurve([0.5, 0.5], [0, 1]), [
    { fpr: 0, tpr: 0, threshold: Infinity },
    { fpr: 1, tpr: 1, threshold: 0.5 },
  ]);
});

test('rocCurve: monotone, ends at (1, 1), and its trapezoid area is the AUROC', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const { scores, labels } = randomTiedData(50, seed);
    const points = rocCurve(scores, labels);
    assert.deepEqual(points[points.length - 1].fpr, 1);
    assert.deepEqual(points[points.length - 1].tpr, 1);
    for (let i = 1; i < points.length; i++) {
      assert.ok(points[i].threshold < points[i - 1].threshold);
      assert.ok(points[i].fpr >= points[i - 1].fpr && points[i].tpr >= points[i - 1].tpr);
    }
    close(trapezoidArea(points), pairwiseAuroc(scores, labels), 1e-12, `area seed ${seed}`);
  }
});

// ---- FPR at 95% digit acceptance ------------------------------------------------------------

test('fpr95: hand-worked cases', () => {
  const twentyDigits = Array.from({ length: 20 }, (_, i) => (i + 1) / 100); // 0.01 .. 0.20
  const cases: { name: string; digits: number[]; adversaries: number[]; tpr?: number; fpr: number }[] = [
    // 95% of 20 = 19 digits: accepted iff score <= 0.19. Adversaries 0.05 and 0.19 (tied) accepted
    { name: 'tie with the cut is accepted', digits: twentyDigits, adversaries: [0.05, 0.19, 0.195, 0.5], fpr: 0.5 },
    { name: 'all adversaries above', digits: twentyDigits, adversaries: [0.3, 0.4], fpr: 0 },
    { name: 'all adversaries below', digits: twentyDigits, adversaries: [0, 0.001], fpr: 1 },
    // 95% of 10 digits rounds up to all 10: everything <= the top digit score is accepted
    { name: 'ten digits: all must be accepted', digits: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1], adversaries: [0.95, 1, 1.01], fpr: 2 / 3 },
    // 50% of 4 digits {0.1, 0.2, 0.2, 0.9}: m = 2, cut at 0.2 (the tied pair accepted together)
    { name: 'tpr 0.5 with tied digits', digits: [0.9, 0.2, 0.1, 0.2], adversaries: [0.15, 0.2, 0.25, 0.95], tpr: 0.5, fpr: 0.5 },
    { name: 'all scores equal', digits: [0.4, 0.4, 0.4], adversaries: [0.4, 0.4], fpr: 1 },
  ];
  for (const c of cases) {
    const scores = [...c.digits, ...c.adversaries];
    const labels = [...c.digits.map((): 0 => 0), ...c.adversaries.map((): 1 => 1)];
    const got = c.tpr === undefined ? fpr95(scores, labels) : fprAtTpr(scores, labels, c.tpr);
    close(got, c.fpr, 1e-12, c.name);
  }
});

test('fprAtTpr matches a brute-force search over cut points', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const { scores, labels } = randomTiedData(40, seed);
    for (const tpr of [0.5, 0.8, 0.95, 1]) {
      // smallest cut value v (a digit score) with #digits <= v >= tpr * #digits
      const digits = scores.filter((_, i) => labels[i] === 0);
      const adversaries = scores.filter((_, i) => labels[i] === 1);
      const candidates = [...new Set(digits)].sort((a, b) => a - b);
      const cut = candidates.find((v) => digits.filter((d) => d <= v).length >= tpr * digits.length - 1e-9);
      assert.ok(cut !== undefined);
      const expected = adversaries.filter((a) => a <= cut).length / adversaries.length;
      close(fprAtTpr(scores, labels, tpr), expected, 1e-12, `seed ${seed} tpr ${tpr}`);
    }
  }
});

// ---- accept / reject ------------------------------------------------------------------------

test('acceptRejectRates and balanced accuracy: hand-worked', () => {
  // digits 0.1 0.4 0.6, adversaries 0.3 0.7 0.9, threshold 0.5:
  // digits accepted 2/3, adversaries rejected 2/3, correct 4 of 6
  const scores = [0.1, 0.4, 0.6, 0.3, 0.7, 0.9];
  const labels = [0, 0, 0, 1, 1, 1];
  assert.deepEqual(acceptRejectRates(scores, labels, 0.5), {
    digitAcceptRate: 2 / 3,
    adversaryRejectRate: 2 / 3,
    accuracy: 4 / 6,
    balancedAccuracy: 2 / 3,
  });
  // accept iff score < threshold: a digit exactly at the threshold is rejected
  const atThreshold = acceptRejectRates(scores, labels, 0.6);
  assert.equal(atThreshold.digitAcceptRate, 2 / 3);
  // unbalanced: digits 0.1 0.2 0.3 0.9, adversary 0.8, threshold 0.5
  const unbalancedScores = [0.1, 0.2, 0.3, 0.9, 0.8];
  const unbalancedLabels = [0, 0, 0, 0, 1];
  close(balancedAcceptRejectAccuracy(unbalancedScores, unbalancedLabels, 0.5), (0.75 + 1) / 2, 1e-12, 'balanced');
  close(acceptRejectRates(unbalancedScores, unbalancedLabels, 0.5).accuracy, 4 / 5, 1e-12, 'plain accuracy');
  // extreme thresholds
  assert.equal(balancedAcceptRejectAccuracy(scores, labels, Infinity), 0.5);
  assert.equal(balancedAcceptRejectAccuracy(scores, labels, -Infinity), 0.5);
});

test('acceptRejectRates with one class only reports NaN for the missing one', () => {
  const digitsOnly = acceptRejectRates([0.1, 0.9], [0, 0], 0.5);
  assert.equal(digitsOnly.digitAcceptRate, 0.5);
  assert.ok(Number.isNaN(digitsOnly.adversaryRejectRate));
  assert.ok(Number.isNaN(digitsOnly.balancedAccuracy));
  assert.equal(digitsOnly.accuracy, 0.5);
  assert.throws(() => balancedAcceptRejectAccuracy([0.1, 0.9], [0, 0], 0.5), UsageError);
});

// ---- classification accuracy -----------------------------------------------------------------

test('accuracy and acceptedAccuracy', () => {
  assert.equal(accuracy([1, 2, 3, 4], [1, 2, 0, 0]), 0.5);
  assert.equal(accuracy(Uint8Array.from([7]), [7]), 1);
  // accepted positions 0, 2, 3: right at 0 and 3, wrong at 2
  assert.equal(acceptedAccuracy([1, 2, 3, 4], [1, 2, 0, 4], [true, false, true, true]), 2 / 3);
  assert.ok(Number.isNaN(acceptedAccuracy([1, 2], [1, 2], [false, false])));
});

// ---- ECE -----------------------------------------------------------------------------------

test('ece: hand-worked cases', () => {
  const cases: { name: string; confidences: number[]; correct: boolean[]; bins: number; ece: number }[] = [
    // 5 bins. (0.8,1]: 0.95 T, 0.85 F -> |0.5 - 0.9| = 0.4, weight 2/5;
    // (0.6,0.8]: 0.65 T, 0.62 F -> |0.5 - 0.635| = 0.135, weight 2/5; (0.2,0.4]: 0.3 F -> 0.3, 1/5
    {
      name: 'five points',
      confidences: [0.95, 0.85, 0.65, 0.62, 0.3],
      correct: [true, false, true, false, false],
      bins: 5,
      ece: 0.4 * 0.4 + 0.4 * 0.135 + 0.2 * 0.3,
    },
    { name: 'calibrated bin', confidences: [0.75, 0.75, 0.75, 0.75], correct: [true, true, true, false], bins: 15, ece: 0 },
    { name: 'confident and right', confidences: [1, 1], correct: [true, true], bins: 15, ece: 0 },
    { name: 'confident and wrong', confidences: [1, 1], correct: [false, false], bins: 15, ece: 1 },
    { name: 'zero confidence goes in the first bin', confidences: [0, 0.1], correct: [true, false], bins: 5, ece: Math.abs(0.5 - 0.05) },
    // upper edges inclusive: 0.6 is in (0.4, 0.6], 0.61 in (0.6, 0.8] -> separate bins:
    // (1/2)|1 - 0.6| + (1/2)|0 - 0.61| = 0.505
    { name: 'edge 0.6 belongs to the lower bin', confidences: [0.6, 0.61], correct: [true, false], bins: 5, ece: 0.505 },
    // 0.6 and 0.59 share (0.4, 0.6]: |0.5 - 0.595| = 0.095
    { name: 'values just below an edge share its bin', confidences: [0.6, 0.59], correct: [true, false], bins: 5, ece: 0.095 },
    // 100 bins: in doubles 0.55 * 100 = 55.00000000000001, yet 0.55 belongs to (0.54, 0.55],
    // apart from 0.555 in (0.55, 0.56]: (1/2)|1 - 0.55| + (1/2)|0 - 0.555| = 0.5025
    { name: 'edge after a product rounded up', confidences: [0.55, 0.555], correct: [true, false], bins: 100, ece: 0.5025 },
    // 3 bins: the double just above 1/3 times 3 rounds to exactly 1, yet it belongs to (1/3, 2/3]:
    // (1/2)|1 - 1/3| + (1/2)|0 - 1/3| = 1/2
    { name: 'just above an edge after a product rounded down', confidences: [1 / 3, 0.33333333333333337], correct: [true, false], bins: 3, ece: 0.5 },
    // one bin: |accuracy - mean confidence| over everything = |2/3 - 0.5|
    { name: 'one bin', confidences: [0.2, 0.5, 0.8], correct: [true, true, false], bins: 1, ece: 2 / 3 - 0.5 },
  ];
  for (const c of cases) close(ece(c.confidences, c.correct, c.bins), c.ece, 1e-12, c.name);
  // default bins = 15: 0.5 and 0.52 share (7/15, 8/15]
  close(ece([0.5, 0.52], [true, false]), Math.abs(0.5 - 0.51), 1e-12, 'default 15 bins');
});

// ---- accuracy-rejection curve ----------------------------------------------------------------

test('accuracyRejectionCurve: hand-worked, ties averaged', () => {
  // reject the least confident first: 0.6 (wrong), then 0.7 (right), then 0.8 (wrong)
  assert.deepEqual(accuracyRejectionCurve([0.9, 0.8, 0.7, 0.6], [true, false, true, false], 4), [
    { rejectedFraction: 0, accuracy: 0.5 },
    { rejectedFraction: 0.25, accuracy: 2 / 3 },
    { rejectedFraction: 0.5, accuracy: 0.5 },
    { rejectedFraction: 0.75, accuracy: 1 },
  ]);
  // rejecting one of two tied 0.5s (one right, one wrong) keeps half a right answer on average
  const tied = accuracyRejectionCurve([0.5, 0.9, 0.5], [true, true, false], 3);
  assert.deepEqual(tied, [
    { rejectedFraction: 0, accuracy: 2 / 3 },
    { rejectedFraction: 1 / 3, accuracy: 0.75 },
    { rejectedFraction: 2 / 3, accuracy: 1 },
  ]);
  // the same with the tied pair given in the other order
  assert.deepEqual(accuracyRejectionCurve([0.5, 0.9, 0.5], [false, true, true], 3), tied);
  // 10 images, 4 steps: rejects floor(0), floor(2.5), floor(5), floor(7.5)
  const ten = accuracyRejectionCurve(
    Array.from({ length: 10 }, (_, i) => i),
    Array.from({ length: 10 }, () => true),
    4,
  );
  assert.deepEqual(ten.map((p) => p.rejectedFraction), [0, 0.2, 0.5, 0.7]);
  assert.equal(accuracyRejectionCurve([1, 2], [true, false]).length, 20);
});

// ---- bad input -----------------------------------------------------------------------------

test('bad input throws UsageError', () => {
  const bad: [string, () => unknown][] = [
    ['auroc empty', () => auroc([], [])],
    ['auroc length mismatch', () => auroc([0.1, 0.2], [0, 1, 1])],
    ['auroc NaN score', () => auroc([0.1, NaN], [0, 1])],
    ['auroc label 2', () => auroc([0.1, 0.2], [0, 2])],
    ['auroc one class', () => auroc([0.1, 0.2], [1, 1])],
    ['aupr no adversaries', () => aupr([0.1, 0.2], [0, 0])],
    ['fpr95 no digits', () => fpr95([0.1, 0.2], [1, 1])],
    ['fpr95 no adversaries', () => fpr95([0.1, 0.2], [0, 0])],
    ['fprAtTpr above 1', () => fprAtTpr([0.1, 0.2], [0, 1], 1.5)],
    ['rocCurve one class', () => rocCurve([0.1], [0])],
    ['acceptRejectRates NaN threshold', () => acceptRejectRates([0.1], [0], NaN)],
    ['acceptRejectRates empty', () => acceptRejectRates([], [], 0.5)],
    ['accuracy empty', () => accuracy([], [])],
    ['accuracy mismatch', () => accuracy([1], [1, 2])],
    ['accuracy NaN', () => accuracy([NaN], [1])],
    ['acceptedAccuracy mismatch', () => acceptedAccuracy([1, 2], [1, 2], [true])],
    ['ece confidence above 1', () => ece([1.2], [true])],
    ['ece NaN confidence', () => ece([NaN], [true])],
    ['ece zero bins', () => ece([0.5], [true], 0)],
    ['ece empty', () => ece([], [])],
    ['curve zero steps', () => accuracyRejectionCurve([0.5], [true], 0)],
    ['curve mismatch', () => accuracyRejectionCurve([0.5, 0.6], [true], 5)],
    ['curve infinite confidence', () => accuracyRejectionCurve([Infinity], [true])],
  ];
  for (const [name, run] of bad) assert.throws(run, UsageError, name);
});

test('coverageAtAccuracy: the largest most-confident share read right at the target, table', () => {
  const cases: Array<[number[], boolean[], number, number]> = [
    // all right: everything
    [[0.9, 0.8, 0.7], [true, true, true], 0.99, 1],
    // the least confident is wrong: all but it at 99%, all of them at 2/3
    [[0.9, 0.8, 0.1], [true, true, false], 0.99, 2 / 3],
    [[0.9, 0.8, 0.1], [true, true, false], 2 / 3, 1],
    // the most confident is wrong: nothing at 99%
    [[0.9, 0.8, 0.7], [false, true, true], 0.99, 0],
    // order of the input does not matter, only the confidences: 9 right then one wrong then right
    [[0.5, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.4], [false, true, true, true, true, true, true, true, true, true, true], 0.9, 1],
    [[0.5, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.4], [false, true, true, true, true, true, true, true, true, true, true], 0.95, 9 / 11],
    // an error early is outweighed later: 1 wrong in the top 2, then 18 right -> 19/20 at 0.95
    [[1, 0.99, ...Array.from({ length: 18 }, (_, i) => 0.9 - i * 0.01)], [true, false, ...Array(18).fill(true)], 0.95, 1],
  ];
  for (const [conf, ok, target, want] of cases) close(coverageAtAccuracy(conf, ok, target), want, 1e-12, `${JSON.stringify(ok)} at ${target}`);
  assert.throws(() => coverageAtAccuracy([], [], 0.99), UsageError);
  assert.throws(() => coverageAtAccuracy([1], [true, false], 0.99), UsageError);
  assert.throws(() => coverageAtAccuracy([1], [true], 0), UsageError);
  assert.throws(() => coverageAtAccuracy([NaN], [true], 0.9), UsageError);
});

test('countsMostFirst: each value with its count, most frequent first, ties in the order first seen', () => {
  const cases: Array<[unknown[], Array<[unknown, number]>]> = [
    [[], []],
    [[7], [[7, 1]]],
    [[6, 8, 6, 5, 6, 8], [[6, 3], [8, 2], [5, 1]]],
    [[3, 9, 9, 3], [[3, 2], [9, 2]]],
    [['8', '3', '3'], [['3', 2], ['8', 1]]],
  ];
  for (const [values, expected] of cases) assert.deepEqual(countsMostFirst(values), expected, JSON.stringify(values));
});
