import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gateScores, oodReport, ScoredSet, scoreMetrics, SIMPLE_SCORES } from '../src/gate/ood-report';
import { summariseSamples, SampleSummary } from '../src/uq/features';
import type { LogisticModel } from '../src/gate/logistic';

const K = 10;

function close(actual: number, expected: number, what: string, tolerance = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: got ${actual}, expected ${expected}`);
}

function oneHot(c: number): number[] {
  return Array.from({ length: K }, (_, k) => (k === c ? 1 : 0));
}

function summary(samples: number[][]): SampleSummary {
  return summariseSamples(Float32Array.from(samples.flat()), samples.length, K);
}

/** Two identical one-hot samples: mean one-hot, all stds 0, entropies 0. */
const confident = (c: number): SampleSummary => summary([oneHot(c), oneHot(c)]);
/**
 * Samples one-hot(a) and one-hot(b): mean 0.5 on a and b, std 0.5 on a and b (0 elsewhere),
 * predictive entropy ln 2, expected entropy 0, MI ln 2, mean std 1/10, predicted min(a, b).
 */
const torn = (a: number, b: number): SampleSummary => summary([oneHot(a), oneHot(b)]);

test('hand-made summaries have the hand-computed features', () => {
  const t = torn(0, 1);
  close(t.maxMean, 0.5, 'maxMean');
  assert.equal(t.predicted, 0);
  close(t.predictiveEntropy, Math.log(2), 'entropy');
  close(t.mutualInformation, Math.log(2), 'MI');
  close(t.meanStd, 0.1, 'meanStd', 1e-8);
  const c = confident(3);
  assert.equal(c.predicted, 3);
  assert.equal(c.maxMean, 1);
  assert.equal(c.meanStd, 0);
});

test('simple scores are "higher = more OOD": confident digit 0, torn summary higher, hand values', () => {
  const c = confident(3);
  const t = torn(0, 1);
  const expectedTorn = { maxSoftmax: 0.5, entropy: Math.log(2), mutualInformation: Math.log(2), meanStd: 0.1 };
  for (const [name, f] of Object.entries(SIMPLE_SCORES) as [keyof typeof SIMPLE_SCORES, (s: SampleSummary) => number][]) {
    if (name === 'energy') {
      // needs logits: NaN without them, the mean energy with them
      assert.ok(Number.isNaN(f(c)));
      assert.equal(f({ ...c, energy: -7.5 }), -7.5);
      continue;
    }
    close(f(c), 0, `${name}(confident)`);
    close(f(t), expectedTorn[name], `${name}(torn)`, 1e-8);
    assert.ok(f(t) > f(c), name);
  }
  // maxSoftmax is 1 - max mean probability
  const soft = summary([[0.7, 0.2, 0.1, 0, 0, 0, 0, 0, 0, 0]]);
  close(SIMPLE_SCORES.maxSoftmax(soft), 0.3, 'maxSoftmax', 1e-7);
  assert.deepEqual(Object.keys(SIMPLE_SCORES).sort(), ['energy', 'entropy', 'maxSoftmax', 'meanStd', 'mutualInformation']);
});

test('scoreMetrics: perfect separation gives AUROC 1, AUPR 1, FPR95 0 and balanced accuracy 1', () => {
  const m = scoreMetrics([0.1, 0.2, 0.3], [0.7, 0.8, 0.9], 1);
  assert.equal(m.auroc, 1);
  assert.equal(m.aupr, 1);
  assert.equal(m.fpr95, 0);
  assert.equal(m.digitAcceptRate, 1);
  assert.equal(m.adversaryRejectRate, 1);
  assert.equal(m.acceptRejectAccuracy, 1);
  // accept rate 1: the threshold lies just above the largest digit score
  assert.ok(m.threshold > 0.3 && m.threshold < 0.7, `threshold ${m.threshold}`);
  // inverted orientation: AUROC 0
  const inv = scoreMetrics([0.7, 0.8, 0.9], [0.1, 0.2, 0.3], 1);
  assert.equal(inv.auroc, 0);
  assert.equal(inv.adversaryRejectRate, 0);
});

test('scoreMetrics: accept iff score < threshold (a score equal to the threshold is rejected)', () => {
  const m = scoreMetrics([0.2, 0.5], [0.5, 0.9], 0.95, 0.5);
  assert.equal(m.threshold, 0.5, 'the given threshold is used, not one chosen from the digits');
  assert.equal(m.digitAcceptRate, 0.5); // 0.2 accepted, 0.5 rejected
  assert.equal(m.adversaryRejectRate, 1); // 0.5 and 0.9 rejected
  assert.equal(m.acceptRejectAccuracy, 0.75);
  // just above 0.5 the tied digit and adversary are both accepted
  const up = scoreMetrics([0.2, 0.5], [0.5, 0.9], 0.95, 0.5000001);
  assert.equal(up.digitAcceptRate, 1);
  assert.equal(up.adversaryRejectRate, 0.5);
});

test('scoreMetrics: without a threshold, it is chosen to accept acceptRate of the digits', () => {
  const digits = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
  const m = scoreMetrics(digits, [0.85, 2], 0.8);
  // 8 of 10 digits accepted: the threshold is above 0.8 and at most 0.9's rank
  assert.ok(m.threshold > 0.8 && m.threshold < 0.85, `threshold ${m.threshold}`);
  assert.equal(m.digitAcceptRate, 0.8);
  assert.equal(m.adversaryRejectRate, 1);
  close(m.acceptRejectAccuracy, 0.9, 'balanced');
});

test('scoreMetrics: sanity-rejected images count as rejected whatever their score', () => {
  const digits = [0.1, 0.2, 0.3, 0.4];
  const adversary = [0.05, 0.9];
  const plain = scoreMetrics(digits, adversary, 1, 0.5);
  assert.equal(plain.digitAcceptRate, 1);
  assert.equal(plain.adversaryRejectRate, 0.5); // 0.05 slips through
  // adversary pairs above digits: 0.05 beats none, 0.9 beats all 4 -> 4/8
  assert.equal(plain.auroc, 0.5);

  const forced = scoreMetrics(digits, adversary, 1, 0.5, { digits: [false, false, false, true], adversary: [true, false] });
  assert.equal(forced.digitAcceptRate, 0.75, 'the forced digit is rejected');
  assert.equal(forced.adversaryRejectRate, 1, 'the forced low-scoring adversary is rejected');
  assert.equal(forced.acceptRejectAccuracy, 0.875);
  // forced images rank as the most OOD: digits [.1 .2 .3 F], adversary [F .9].
  // F beats .1 .2 .3 and ties F (3.5); .9 beats .1 .2 .3 (3) -> 6.5 / 8
  close(forced.auroc, 6.5 / 8, 'auroc');
  for (const k of ['auroc', 'aupr', 'fpr95', 'acceptRejectAccuracy'] as const) assert.ok(Number.isFinite(forced[k]), k);
});

/**
 * A hand-made gate on the `std` features: P(not a digit) = sigmoid(-1 + 10 * sum of stds).
 * Confident summaries score sigmoid(-1) ~ 0.27, torn ones sigmoid(9) ~ 0.9999; threshold 0.5.
 */
const GATE: { logistic: LogisticModel; features: 'std'; threshold: number } = {
  logistic: { mean: Array(K).fill(0), std: Array(K).fill(1), weights: Array(K).fill(10), bias: -1, l2: 0, iterations: 0, converged: true },
  features: 'std',
  threshold: 0.5,
};
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

test('gateScores applies the logistic model to the chosen feature vector', () => {
  const s = gateScores([confident(2), torn(4, 5)], GATE.logistic, 'std');
  close(s[0], sigmoid(-1), 'confident');
  close(s[1], sigmoid(9), 'torn', 1e-7);
});

test('oodReport: forced rejections, gate threshold and accepted-digit accuracy, by hand', () => {
  // digits: d0 confident 3 (label 3, valid)  -> accepted, correct
  //         d1 confident 3 (label 5, valid)  -> accepted, wrong
  //         d2 confident 7 (label 7, INVALID) -> rejected by the sanity check, correct
  //         d3 torn 0/1 -> predicted 0 (label 0, valid) -> rejected by the gate, correct
  const digits: ScoredSet = {
    summaries: [confident(3), confident(3), confident(7), torn(0, 1)],
    valid: [true, true, false, true],
    labels: [3, 5, 7, 0],
  };
  // adversary: a0 torn (valid) -> gate rejects; a1 confident (valid) -> accepted; a2 confident (INVALID) -> rejected
  const adversary: ScoredSet = { summaries: [torn(2, 8), confident(1), confident(6)], valid: [true, true, false] };
  const r = oodReport(digits, adversary, GATE, 0.75);
  assert.equal(r.digits, 4);
  assert.equal(r.adversary, 3);
  assert.equal(r.digitAccuracy, 3 / 4, 'all digits count for plain accuracy');
  assert.equal(r.acceptedDigitAccuracy, 1 / 2, 'only d0 and d1 are accepted');
  assert.equal(r.ood.invalidDigits, 1);
  assert.equal(r.ood.invalidAdversary, 1);
  assert.equal(r.ood.threshold, 0.5, "the gate's own threshold");
  assert.equal(r.ood.digitAcceptRate, 2 / 4);
  close(r.ood.adversaryRejectRate, 2 / 3, 'adversaryRejectRate');
  close(r.ood.acceptRejectAccuracy, (1 / 2 + 2 / 3) / 2, 'balanced');
  // gate scores c = sigmoid(-1), u = sigmoid(9), F = forced. digits [c c F u], adversary [u c F]:
  // u: 1 + 1 + 0 + .5 = 2.5; c: .5 + .5 + 0 + 0 = 1; F: 1 + 1 + .5 + 1 = 3.5 -> 7 / 12
  close(r.ood.auroc, 7 / 12, 'gate auroc');
  // ECE (15 bins): confidences [1 1 1 .5], hits [T F T T] -> (|2 - 3| + |1 - .5|) / 4
  close(r.digitEce, 0.375, 'digitEce');

  // simple scores rank the summaries like the gate does (confident < torn), so the same AUROC;
  // their threshold is chosen on the digits: raw maxSoftmax scores [0 0 0 .5], accept 75% -> just above 0
  assert.equal(r.scores.energy, undefined, 'no logits, no energy score');
  for (const name of Object.keys(SIMPLE_SCORES).filter((n) => n !== 'energy') as (keyof typeof SIMPLE_SCORES)[]) {
    close(r.scores[name]!.auroc, 7 / 12, `${name} auroc`);
    assert.equal(r.scores[name]!.digitAcceptRate, 2 / 4, `${name}: d2 forced, d3 above threshold`);
    close(r.scores[name]!.adversaryRejectRate, 2 / 3, `${name} adversaryRejectRate`);
  }
  assert.ok(r.scores.maxSoftmax.threshold > 0 && r.scores.maxSoftmax.threshold < 1e-300, `${r.scores.maxSoftmax.threshold}`);
});

test('oodReport: perfect separation (all valid) -> AUROC 1 for the gate and every simple score', () => {
  const digits: ScoredSet = { summaries: [0, 1, 2, 3, 4].map(confident), valid: Array(5).fill(true), labels: [0, 1, 2, 3, 4] };
  const adversary: ScoredSet = { summaries: [torn(0, 1), torn(2, 3), torn(5, 9)], valid: Array(3).fill(true) };
  const r = oodReport(digits, adversary, GATE, 0.95);
  assert.equal(r.ood.auroc, 1);
  assert.equal(r.ood.aupr, 1);
  assert.equal(r.ood.fpr95, 0);
  assert.equal(r.ood.acceptRejectAccuracy, 1);
  assert.equal(r.digitAccuracy, 1);
  assert.equal(r.acceptedDigitAccuracy, 1);
  for (const name of Object.keys(SIMPLE_SCORES).filter((n) => n !== 'energy') as (keyof typeof SIMPLE_SCORES)[]) assert.equal(r.scores[name]!.auroc, 1, name);
});

test('oodReport: no accepted digit -> acceptedDigitAccuracy NaN; no labels -> digitAccuracy NaN', () => {
  const digits: ScoredSet = { summaries: [confident(1), confident(2)], valid: [false, false], labels: [1, 2] };
  const adversary: ScoredSet = { summaries: [torn(0, 1)], valid: [true] };
  const r = oodReport(digits, adversary, GATE, 0.95);
  assert.ok(Number.isNaN(r.acceptedDigitAccuracy));
  assert.equal(r.digitAccuracy, 1);
  assert.equal(r.ood.digitAcceptRate, 0);
  const unlabelled = oodReport({ ...digits, labels: undefined }, adversary, GATE, 0.95);
  assert.ok(Number.isNaN(unlabelled.digitAccuracy));
  assert.ok(Number.isNaN(unlabelled.digitEce));
});
