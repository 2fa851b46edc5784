import { test } from 'node:test';
import assert from 'node:assert/strict';
import { close } from './helpers/close';
import { mulberry32 } from '../src/random';
import {
  DEFAULT_L2,
  adversaryCap,
  chooseThreshold,
  fitLogistic,
  nextUp,
  parseLogisticModel,
  predictProba,
  type LogisticModel,
} from '../src/gate/logistic';
import { ModelError, UsageError } from '../src/errors';


/** Standard normal by Box-Muller. */
function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Two Gaussian blobs in d dimensions, class 1 shifted by `shift` along every axis. */
function blobs(nPerClass: number, d: number, shift: number, seed: number): { X: number[][]; y: (0 | 1)[] } {
  const random = mulberry32(seed);
  const X: number[][] = [];
  const y: (0 | 1)[] = [];
  for (const label of [0, 1] as const) {
    for (let i = 0; i < nPerClass; i++) {
      X.push(Array.from({ length: d }, () => gaussian(random) + label * shift));
      y.push(label);
    }
  }
  return { X, y };
}

/**
 * Independent reference: plain gradient descent on the same documented objective
 * (1/n) sum logloss + (l2/2)||w||^2 over standardised features (population std), written
 * without the Newton/Cholesky machinery. Returns [weights..., bias].
 */
function referenceFit(X: number[][], y: number[], l2: number): { weights: number[]; bias: number } {
  const n = X.length;
  const d = X[0].length;
  const mean = Array.from({ length: d }, (_, j) => X.reduce((s, r) => s + r[j], 0) / n);
  const std = Array.from({ length: d }, (_, j) => Math.sqrt(X.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / n));
  const Z = X.map((r) => r.map((v, j) => (v - mean[j]) / std[j]));
  const w = new Array<number>(d).fill(0);
  let b = 0;
  // standardised features: the objective's curvature is at most (d+1)/4 + l2, so this step is safe
  const step = 1 / ((d + 1) / 4 + l2);
  for (let iter = 0; iter < 200000; iter++) {
    const gw = w.map((wj) => l2 * wj);
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const margin = b + Z[i].reduce((s, z, j) => s + z * w[j], 0);
      const r = 1 / (1 + Math.exp(-margin)) - y[i];
      for (let j = 0; j < d; j++) gw[j] += (r * Z[i][j]) / n;
      gb += r / n;
    }
    for (let j = 0; j < d; j++) w[j] -= step * gw[j];
    b -= step * gb;
    if (Math.max(Math.abs(gb), ...gw.map(Math.abs)) < 1e-11) return { weights: w, bias: b };
  }
  throw new Error('reference gradient descent did not converge');
}

test('separable-ish blobs: converges and classifies', () => {
  const { X, y } = blobs(100, 2, 4, 1);
  const model = fitLogistic(X, y);
  assert.equal(model.converged, true);
  assert.ok(model.iterations > 0 && model.iterations < 30, `iterations ${model.iterations}`);
  assert.equal(model.l2, DEFAULT_L2);
  assert.ok(model.weights.every((w) => w > 0), 'class 1 lies along +x, +y');
  const correct = X.filter((x, i) => (predictProba(model, x) >= 0.5 ? 1 : 0) === y[i]).length;
  assert.ok(correct / X.length > 0.97, `training accuracy ${correct / X.length}`);
  // unseen points deep inside each blob
  assert.ok(predictProba(model, [-1, -1]) < 0.01);
  assert.ok(predictProba(model, [5, 5]) > 0.99);
});

test('perfectly separable data still gives finite weights (the L2 term bounds them)', () => {
  const X = [[-2], [-1], [1], [2]];
  const y: (0 | 1)[] = [0, 0, 1, 1];
  const model = fitLogistic(X, y);
  assert.equal(model.converged, true);
  assert.ok(Number.isFinite(model.weights[0]) && model.weights[0] > 0);
  assert.ok(predictProba(model, [-1]) < 0.05 && predictProba(model, [1]) > 0.95);
});

test('a constant feature gets std 1, weight 0, and the bias is logit of the positive rate', () => {
  // with no usable feature the optimum is the intercept-only model: sigmoid(b) = mean(y)
  const X = Array.from({ length: 10 }, () => [3.5, 0]);
  const y: (0 | 1)[] = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
  const model = fitLogistic(X, y);
  assert.deepEqual(model.std, [1, 1]);
  assert.deepEqual(model.mean, [3.5, 0]);
  assert.equal(model.converged, true);
  close(model.weights[0], 0, 1e-12, 'weight 0');
  close(model.weights[1], 0, 1e-12, 'weight 1');
  close(model.bias, Math.log(3 / 7), 1e-10, 'bias');
  close(predictProba(model, [100, -100]), 0.3, 1e-10, 'prediction ignores the constant features');
});

test('balanced mirror-symmetric 1-D data: bias 0 and the weight matches a gradient-descent reference', () => {
  // mirrored under (x, y) -> (-x, 1 - y), so the optimum has bias exactly 0
  const X = [[-3], [-2], [-1], [-1], [-0.5], [0.5], [1], [1], [2], [3]];
  const y: (0 | 1)[] = [0, 0, 0, 1, 1, 0, 0, 1, 1, 1];
  for (const l2 of [1e-6, 1e-2, 1]) {
    const model = fitLogistic(X, y, { l2 });
    const reference = referenceFit(X, y, l2);
    close(model.bias, 0, 1e-9, `l2=${l2} bias`);
    close(model.weights[0], reference.weights[0], 1e-7, `l2=${l2} weight`);
    close(predictProba(model, [0]), 0.5, 1e-9, `l2=${l2} p(0)`);
    close(predictProba(model, [1.7]) + predictProba(model, [-1.7]), 1, 1e-9, `l2=${l2} symmetry`);
  }
});

test('overlapping 3-D blobs: Newton fit equals the gradient-descent reference', () => {
  const { X, y } = blobs(40, 3, 0.8, 7);
  // make the classes unbalanced and the features differently scaled
  const Xs = X.slice(0, 70).map((r) => [r[0] * 10, r[1] - 5, r[2] * 0.1]);
  const ys = y.slice(0, 70);
  for (const l2 of [1e-3, 0.1]) {
    const model = fitLogistic(Xs, ys, { l2 });
    assert.equal(model.converged, true);
    const reference = referenceFit(Xs, ys, l2);
    model.weights.forEach((w, j) => close(w, reference.weights[j], 1e-7, `l2=${l2} weight ${j}`));
    close(model.bias, reference.bias, 1e-7, `l2=${l2} bias`);
  }
});

test('stronger L2 shrinks the weights; a huge L2 leaves the intercept-only model', () => {
  const { X, y } = blobs(30, 2, 1.5, 3);
  // 30 digits and 20 adversaries
  const X2 = X.slice(0, 50);
  const y2 = y.slice(0, 50);
  const norm = (m: LogisticModel) => Math.hypot(...m.weights);
  const weak = fitLogistic(X2, y2, { l2: 1e-4 });
  const medium = fitLogistic(X2, y2, { l2: 0.1 });
  const strong = fitLogistic(X2, y2, { l2: 1e6 });
  assert.ok(norm(weak) > norm(medium) && norm(medium) > norm(strong));
  const positiveRate = y2.filter((v) => v === 1).length / y2.length;
  close(norm(strong), 0, 1e-5, 'huge l2 weights');
  close(strong.bias, Math.log(positiveRate / (1 - positiveRate)), 1e-4, 'huge l2 bias');
});

test('standardisation makes the fit invariant to feature scale and offset', () => {
  const { X, y } = blobs(50, 3, 1.2, 11);
  const model = fitLogistic(X, y);
  const transform = (r: number[]) => [r[0] * 1000, r[1] + 50, r[2] * -0.001];
  const scaled = fitLogistic(X.map(transform), y);
  // weights on standardised features: the same, except the sign of the negated feature
  close(scaled.weights[0], model.weights[0], 1e-8, 'weight 0');
  close(scaled.weights[1], model.weights[1], 1e-8, 'weight 1');
  close(scaled.weights[2], -model.weights[2], 1e-8, 'weight 2');
  const probes = [...X.slice(0, 10), [0, 0, 0], [3, -2, 1]];
  for (const x of probes) {
    close(predictProba(scaled, transform(x)), predictProba(model, x), 1e-9, `probability at ${x.join(',')}`);
  }
});

test('maxIter caps the iterations and reports non-convergence', () => {
  const { X, y } = blobs(30, 2, 1, 5);
  const capped = fitLogistic(X, y, { maxIter: 1 });
  assert.equal(capped.iterations, 1);
  assert.equal(capped.converged, false);
  const none = fitLogistic(X, y, { maxIter: 0 });
  assert.equal(none.iterations, 0);
  assert.deepEqual(none.weights, [0, 0]);
});

test('the model survives a JSON round trip, feature names included', () => {
  const { X, y } = blobs(20, 2, 2, 9);
  const model = fitLogistic(X, y, { featureNames: ['std_0', 'std_1'] });
  assert.deepEqual(model.featureNames, ['std_0', 'std_1']);
  const loaded = parseLogisticModel(JSON.parse(JSON.stringify(model)));
  assert.deepEqual(loaded, model);
  assert.equal(predictProba(loaded, [0.3, 1.1]), predictProba(model, [0.3, 1.1]));
  assert.equal('featureNames' in fitLogistic(X, y), false);
});

test('parseLogisticModel rejects broken models', () => {
  const good = { mean: [0], std: [1], weights: [2], bias: 0.5, l2: 0.001, iterations: 3, converged: true };
  assert.deepEqual(parseLogisticModel(good), good);
  const broken: [string, unknown][] = [
    ['not an object', 'model'],
    ['null', null],
    ['missing weights', { ...good, weights: undefined }],
    ['length mismatch', { ...good, mean: [0, 1] }],
    ['zero std', { ...good, std: [0] }],
    ['string weight', { ...good, weights: ['2'] }],
    ['null bias (NaN after JSON)', { ...good, bias: null }],
    ['bad converged', { ...good, converged: 'yes' }],
    ['fractional iterations', { ...good, iterations: 1.5 }],
    ['feature name count', { ...good, featureNames: ['a', 'b'] }],
    ['empty model', { ...good, mean: [], std: [], weights: [] }],
  ];
  for (const [name, value] of broken) assert.throws(() => parseLogisticModel(value), ModelError, name);
});

test('bad fitting input throws UsageError', () => {
  const X = [[0], [1]];
  const y: (0 | 1)[] = [0, 1];
  const bad: [string, () => unknown][] = [
    ['no samples', () => fitLogistic([], [])],
    ['label count', () => fitLogistic(X, [0])],
    ['empty rows', () => fitLogistic([[], []], y)],
    ['ragged rows', () => fitLogistic([[0], [1, 2]], y)],
    ['NaN feature', () => fitLogistic([[0], [NaN]], y)],
    ['infinite feature', () => fitLogistic([[0], [Infinity]], y)],
    ['label 2', () => fitLogistic(X, [0, 2 as 1])],
    ['only digits', () => fitLogistic(X, [0, 0])],
    ['only adversaries', () => fitLogistic(X, [1, 1])],
    ['negative l2', () => fitLogistic(X, y, { l2: -1 })],
    ['NaN l2', () => fitLogistic(X, y, { l2: NaN })],
    ['bad maxIter', () => fitLogistic(X, y, { maxIter: 1.5 })],
    ['zero tol', () => fitLogistic(X, y, { tol: 0 })],
    ['feature name count', () => fitLogistic(X, y, { featureNames: ['a', 'b'] })],
    ['predict length', () => predictProba(fitLogistic(X, y), [1, 2])],
    ['predict NaN', () => predictProba(fitLogistic(X, y), [NaN])],
  ];
  for (const [name, run] of bad) assert.throws(run, UsageError, name);
});

test('nextUp steps one unit in the last place', () => {
  assert.equal(nextUp(1), 1 + Number.EPSILON);
  assert.equal(nextUp(0.5), 0.5 + Number.EPSILON / 2);
  assert.equal(nextUp(-1), -1 + Number.EPSILON / 2);
  assert.equal(nextUp(0), Number.MIN_VALUE);
  assert.equal(nextUp(-Number.MIN_VALUE), -0);
  assert.throws(() => nextUp(Infinity), UsageError);
});

/** How many scores a threshold accepts (accept iff score < threshold). */
function acceptedCount(scores: number[], threshold: number): number {
  return scores.filter((s) => s < threshold).length;
}

test('chooseThreshold accepts the requested fraction, whole tied groups included', () => {
  const tenths = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
  const tied = [0.2, 0.5, 0.2, 0.1, 0.2];
  const hundredths = Array.from({ length: 100 }, (_, i) => i / 100);
  const cases: { name: string; scores: number[]; rate: number; accepted: number }[] = [
    { name: '70% of ten', scores: tenths, rate: 0.7, accepted: 7 },
    // in doubles 0.07 * 100 = 7.000000000000001 and 0.55 * 100 = 55.00000000000001
    { name: '7% of 100 (product rounds above 7)', scores: hundredths, rate: 0.07, accepted: 7 },
    { name: '55% of 100 (product rounds above 55)', scores: hundredths, rate: 0.55, accepted: 55 },
    { name: '95% of ten rounds up to all ten', scores: tenths, rate: 0.95, accepted: 10 },
    { name: '90% of ten', scores: tenths, rate: 0.9, accepted: 9 },
    { name: 'accept everything, the maximum 1 included', scores: tenths, rate: 1, accepted: 10 },
    { name: 'accept nothing', scores: tenths, rate: 0, accepted: 0 },
    { name: 'tiny rate accepts one', scores: tenths, rate: 0.01, accepted: 1 },
    { name: 'reversed order gives the same answer', scores: [...tenths].reverse(), rate: 0.7, accepted: 7 },
    // sorted: 0.1, 0.2, 0.2, 0.2, 0.5
    { name: 'cut below a tie', scores: tied, rate: 0.2, accepted: 1 },
    { name: 'cut inside a tie accepts the whole group', scores: tied, rate: 0.4, accepted: 4 },
    { name: 'cut at the end of a tie', scores: tied, rate: 0.8, accepted: 4 },
    { name: 'just past the tie', scores: tied, rate: 0.81, accepted: 5 },
    { name: 'all equal, half requested', scores: [0.3, 0.3, 0.3], rate: 0.5, accepted: 3 },
    { name: 'all equal, none requested', scores: [0.3, 0.3, 0.3], rate: 0, accepted: 0 },
    { name: 'single score', scores: [0.42], rate: 0.95, accepted: 1 },
  ];
  for (const c of cases) {
    const threshold = chooseThreshold(c.scores, c.rate);
    assert.equal(acceptedCount(c.scores, threshold), c.accepted, `${c.name}: threshold ${threshold}`);
  }
  // the threshold sits immediately above the last accepted score
  assert.equal(chooseThreshold(tenths, 0.7), nextUp(0.7));
  assert.equal(chooseThreshold(tenths, 1), nextUp(1));
  assert.equal(chooseThreshold(tenths, 0), 0.1);
  assert.equal(chooseThreshold(tied, 0.4), nextUp(0.2));
});

test('adversaryCap: the largest threshold that lets at most the given share more adversary images through', () => {
  const tenths = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
  const cases: { name: string; scores: number[]; total: number; own: number; extra: number; cap: number }[] = [
    { name: 'own accepts 2, one more allowed', scores: tenths, total: 10, own: 0.25, extra: 0.1, cap: 0.4 },
    { name: 'nothing more allowed: the next score', scores: tenths, total: 10, own: 0.25, extra: 0, cap: 0.3 },
    { name: 'a share of the total, refused images included', scores: tenths, total: 20, own: 0.25, extra: 0.1, cap: 0.5 },
    { name: 'everything may pass', scores: tenths, total: 10, own: 0.55, extra: 0.5, cap: Infinity },
    { name: 'order does not matter', scores: [...tenths].reverse(), total: 10, own: 0.05, extra: 0.3, cap: 0.4 },
    // 0.02 * 50 = 1 exactly in decimals, 1.0000000000000002 in doubles
    { name: 'rounding of extra * total', scores: tenths, total: 50, own: 0.05, extra: 0.02, cap: 0.2 },
  ];
  for (const c of cases) {
    const cap = adversaryCap(c.scores, c.total, c.own, c.extra);
    assert.equal(cap, c.cap, c.name);
    if (Number.isFinite(cap)) {
      // below the cap at most that many more pass; at the next score up, more would
      assert.ok(acceptedCount(c.scores, cap) - acceptedCount(c.scores, c.own) <= c.extra * c.total + 1e-9, c.name);
      assert.ok(acceptedCount(c.scores, nextUp(cap)) - acceptedCount(c.scores, c.own) > c.extra * c.total, c.name);
    }
  }
});

test('chooseThreshold never accepts fewer than asked, and no lower cut would do', () => {
  const random = mulberry32(21);
  for (let trial = 0; trial < 50; trial++) {
    const n = 1 + Math.floor(random() * 30);
    // few distinct values so ties are common
    const scores = Array.from({ length: n }, () => Math.floor(random() * 6) / 5);
    const rate = random();
    const threshold = chooseThreshold(scores, rate);
    const accepted = acceptedCount(scores, threshold);
    assert.ok(accepted / n >= rate - 1e-12, `accepted ${accepted}/${n} < ${rate}`);
    // every lower cut (accepting scores strictly below some score <= the largest accepted one)
    // accepts too few
    const lowerAccepted = scores.filter((s) => s < threshold).reduce((m, s) => Math.max(m, s), -Infinity);
    if (accepted > 0) assert.ok(acceptedCount(scores, lowerAccepted) / n < rate, 'a lower cut suffices');
  }
});

test('chooseThreshold rejects bad input', () => {
  assert.throws(() => chooseThreshold([], 0.95), UsageError);
  assert.throws(() => chooseThreshold([0.1, NaN], 0.95), UsageError);
  assert.throws(() => chooseThreshold([0.1], 1.5), UsageError);
  assert.throws(() => chooseThreshold([0.1], -0.1), UsageError);
  assert.throws(() => chooseThreshold([0.1], NaN), UsageError);
});
