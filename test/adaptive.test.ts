/** Adaptive sampling (issue #20): the leave-one-out maths, the stopping rule, and rounds that continue one sequence of passes. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../src/engine/backend';
import { loadPredictor, Predictor } from '../src/uq/predictor';
import { summariseSamples, logitScores, SampleSummary } from '../src/uq/features';
import { adaptiveRounds, canSampleAdaptive, isSettled, jackknifeSe, leaveOneOutSummaries, sampleAdaptive, VerdictGate } from '../src/uq/adaptive';
import { readGate } from '../src/gate/gate-file';
import { loadMnist } from '../src/data/mnist';
import { loadAdversary } from '../src/data/sources';
import { mulberry32 } from '../src/random';
import { predictFiles } from '../src/predict/predict';
import { mnistSanityThresholds } from '../src/gate/sanity';

/** The shipped basic model (ort when it loads, else tfjs) and the same on tfjs. */
let basic: Predictor;
let basicTfjs: Predictor;
before(async () => {
  await initBackend('wasm');
  basic = await loadPredictor('models/basic');
  basicTfjs = await loadPredictor('models/basic', { engine: 'tfjs' });
});

/** n random softmax vectors over k classes, leaning towards class `lean` by `strength`. */
function randomPasses(n: number, k: number, seed: number, lean = 0, strength = 0): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n * k);
  for (let s = 0; s < n; s++) {
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const v = Math.exp(3 * rand() + (c === lean ? strength : 0));
      out[s * k + c] = v;
      sum += v;
    }
    for (let c = 0; c < k; c++) out[s * k + c] /= sum;
  }
  return out;
}

function close(a: number, b: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);
}

for (const [n, k, seed] of [
  [2, 3, 1],
  [3, 10, 2],
  [10, 10, 3],
  [40, 10, 4],
] as const) {
  test(`leaving pass i out of ${n} passes over ${k} classes equals summarising the other ${n - 1}`, () => {
    const samples = randomPasses(n, k, seed);
    const rand = mulberry32(seed + 100);
    const energies = Float32Array.from({ length: n }, () => -3 - rand());
    const maxLogits = Float32Array.from({ length: n }, () => 2 + rand());
    const loo = leaveOneOutSummaries(samples, n, k, energies, maxLogits);
    assert.equal(loo.length, n);
    for (let i = 0; i < n; i++) {
      const keep = [...Array(n).keys()].filter((s) => s !== i);
      const rest = new Float32Array((n - 1) * k);
      keep.forEach((s, j) => rest.set(samples.subarray(s * k, (s + 1) * k), j * k));
      const want: SampleSummary = { ...summariseSamples(rest, n - 1, k), ...logitScores(keep.map((s) => energies[s]), keep.map((s) => maxLogits[s])) };
      const got = loo[i];
      assert.equal(got.numSamples, n - 1);
      assert.equal(got.predicted, want.predicted);
      for (let c = 0; c < k; c++) {
        close(got.meanProbs[c], want.meanProbs[c], 1e-6, `mean ${c}`);
        close(got.stdProbs[c], want.stdProbs[c], 1e-5, `std ${c}`);
      }
      for (const f of ['maxMean', 'predictiveEntropy', 'expectedEntropy', 'mutualInformation', 'variationRatio', 'meanStd', 'energy', 'maxLogit'] as const) {
        close(got[f]!, want[f]!, 1e-5, f);
      }
    }
  });
}

for (const values of [
  [1, 2, 3, 4, 5],
  [0.1, 0.1, 0.1],
  [3, -1, 7, 2, 2, 9, 0],
]) {
  test(`the jackknife of a mean is the sample standard deviation over sqrt(n): ${values.join(', ')}`, () => {
    const n = values.length;
    const sum = values.reduce((a, b) => a + b, 0);
    const loo = values.map((v) => (sum - v) / (n - 1));
    const mean = sum / n;
    const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
    close(jackknifeSe(loo), sd / Math.sqrt(n), 1e-12, 'se');
  });
}

for (const [max, members, rounds] of [
  [100, 1, [10, 20, 40, 100]],
  [50, 1, [10, 20, 40, 50]],
  [30, 1, [10, 20, 30]],
  [10, 1, [10]],
  [4, 1, [4]],
  // ensembles: 20, 40, 80 pooled passes, rounded up in each member, below the member's N
  [50, 2, [10, 20, 40, 50]],
  [25, 4, [5, 10, 20, 25]],
  [33, 3, [7, 14, 27, 33]],
  [20, 4, [5, 10, 20]],
  [6, 4, [5, 6]],
  [1, 5, [1]],
  [3, 40, [1, 2, 3]],
] as const) {
  test(`adaptive rounds up to ${max} in each of ${members} member(s): ${rounds.join(', ')}`, () => {
    assert.deepEqual(adaptiveRounds(max, members), rounds);
  });
}

test('adaptive rounds refuse a non-positive maximum or member count', () => {
  assert.throws(() => adaptiveRounds(0), /positive integer/);
  assert.throws(() => adaptiveRounds(10, 0), /members must be a positive integer/);
});

function settledAfter(samples: Float32Array, n: number, k: number, gate: VerdictGate | null, total = 100): boolean {
  const own = samples.subarray(0, n * k);
  return isSettled(summariseSamples(own, n, k), leaveOneOutSummaries(own, n, k), total, gate, 3);
}

test('identical passes are settled at once; a clear digit with noise is settled; a near tie is not', () => {
  const k = 10;
  const same = new Float32Array(10 * k);
  for (let s = 0; s < 10; s++) same.set([0.05, 0.55, 0.4, 0, 0, 0, 0, 0, 0, 0], s * k);
  assert.equal(settledAfter(same, 10, k, null), true);
  assert.equal(settledAfter(randomPasses(10, k, 5, 3, 6), 10, k, null), true, 'class 3 leads by far');
  // two classes that swap the lead from pass to pass
  const tie = new Float32Array(10 * k);
  for (let s = 0; s < 10; s++) tie.set(s % 2 ? [0.48, 0.52] : [0.53, 0.47], s * k);
  assert.equal(settledAfter(tie, 10, k, null), false);
  // the last round is always settled
  assert.equal(settledAfter(tie, 10, k, null, 10), true);
});

test("the gate's margin must clear its threshold by z standard errors", () => {
  const k = 10;
  const samples = randomPasses(10, k, 7, 2, 8);
  const summary = summariseSamples(samples, 10, k);
  // a gate on the `std` set reading only std_2: margin = 50 (std_2 - c), threshold 0.5 (margin 0)
  const std = (c: number): VerdictGate => ({ logistic: { weights: [0, 0, 50, 0, 0, 0, 0, 0, 0, 0], bias: -50 * c, mean: Array(k).fill(0), std: Array(k).fill(1) } as never, features: 'std', threshold: 0.5 });
  const loo = leaveOneOutSummaries(samples, 10, k);
  const s2 = summary.stdProbs[2];
  assert.equal(isSettled(summary, loo, 100, std(s2 - 0.5), 3), true, 'far above the threshold');
  assert.equal(isSettled(summary, loo, 100, std(s2), 3), false, 'on the threshold');
  assert.equal(isSettled(summary, loo, 100, null, 3), true, 'the digit alone is settled');
});


for (const which of ['default engine', 'tfjs'] as const) {
  test(`rounds continue one sequence of passes (${which}): passes 0-9 then 10-29 are passes 0-29 of one call`, async () => {
    const p = which === 'tfjs' ? basicTfjs : basic;
    const set = loadMnist('test', 5).images;
    const input = { count: 5, pixels: set.pixels, keys: new Uint32Array(5) };
    const whole = await p.sample(input, { samples: 30, seed: 4, keepSamples: true });
    const first = await p.sample(input, { samples: 10, seed: 4, keepSamples: true });
    const rest = await p.sample(input, { samples: 20, seed: 4, keepSamples: true, firstSample: 10 });
    const k = whole.classes;
    for (let i = 0; i < 5; i++) {
      for (let s = 0; s < 30; s++) {
        const got = s < 10 ? first.samples!.subarray((i * 10 + s) * k, (i * 10 + s + 1) * k) : rest.samples!.subarray((i * 20 + s - 10) * k, (i * 20 + s - 9) * k);
        const want = whole.samples!.subarray((i * 30 + s) * k, (i * 30 + s + 1) * k);
        for (let c = 0; c < k; c++) close(got[c], want[c], 1e-6, `image ${i} pass ${s} class ${c}`);
      }
      for (let s = 0; s < 30; s++) {
        const e = s < 10 ? first.energies![i * 10 + s] : rest.energies![i * 20 + s - 10];
        close(e, whole.energies![i * 30 + s], 1e-5, `energy ${i} ${s}`);
      }
    }
  });
}

test('adaptive sampling on digits and noise: summaries equal the fixed call at the passes each got, answers equal fixed 100', async () => {
  const gateFile = readGate(basic.dir)!;
  const digits = loadMnist('test', 40).images;
  const noise = (await loadAdversary('noise', { split: 'test', limit: 20, seed: 3 })).images;
  const pixels = new Float32Array(60 * 784);
  for (let i = 0; i < 40 * 784; i++) pixels[i] = digits.pixels[i] / 255;
  for (let i = 0; i < 20 * 784; i++) pixels[40 * 784 + i] = noise.pixels[i] / (noise.pixels instanceof Float32Array ? 1 : 255);
  const input = { count: 60, pixels, keys: new Uint32Array(60) };
  const gate = { logistic: gateFile.logistic, features: gateFile.features, threshold: gateFile.threshold };
  const adaptive = await sampleAdaptive(basic, input, { seed: 0, gate });
  const fixed = await basic.sample(input, { samples: 100, seed: 0 });
  assert.ok(adaptive.passes.every((n) => [10, 20, 40, 100].includes(n)));
  const digitsPasses = adaptive.passes.slice(0, 40).reduce((a, b) => a + b, 0) / 40;
  assert.ok(digitsPasses < 40, `MNIST digits stop early: mean ${digitsPasses} passes`);
  for (const n of new Set(adaptive.passes)) {
    const idx = adaptive.passes.flatMap((m, i) => (m === n ? [i] : []));
    const sub = new Float32Array(idx.length * 784);
    idx.forEach((i, j) => sub.set(pixels.subarray(i * 784, (i + 1) * 784), j * 784));
    const atN = await basic.sample({ count: idx.length, pixels: sub, keys: new Uint32Array(idx.length) }, { samples: n, seed: 0 });
    idx.forEach((i, j) => {
      close(adaptive.summaries[i].meanProbs[0], atN.summaries[j].meanProbs[0], 1e-5, `image ${i} at ${n} passes`);
      close(adaptive.summaries[i].energy!, atN.summaries[j].energy!, 1e-4, `energy of image ${i}`);
    });
  }
  const files = Array.from({ length: 60 }, (_, i) => ({ pixels: pixels.subarray(i * 784, (i + 1) * 784), name: `${i}` }));
  const opts = { samples: 100, seed: 0, gate: gateFile, sanity: gateFile.sanity ?? mnistSanityThresholds() };
  const a = await predictFiles(basic, files, { ...opts, adaptive: true });
  const f = await predictFiles(basic, files, opts);
  assert.ok(f.every((p) => p.passes === 100));
  const same = a.filter((p, i) => p.verdict === f[i].verdict && p.digit === f[i].digit).length;
  assert.ok(same >= 59, `${same} of 60 answers equal fixed 100`);
  assert.ok(a.slice(40).every((p) => p.verdict === 'rejected'), 'noise is rejected');
});

test('the shipped deep ensemble (mc) in rounds: passes continue in every member, summaries equal the fixed call at the passes each got, answers equal the fixed passes of the gate', async () => {
  // as predict loads it: through its gate's test-time views (if any); the members' own sampler
  // (image, member, pass layout) is checked without them
  const ensemble = await loadPredictor('models/deep');
  const members = await loadPredictor('models/deep', { views: 'none' });
  assert.equal(ensemble.kind, 'ensemble');
  assert.equal(ensemble.ensembleMode, 'mc');
  const k = ensemble.members!;
  const gateFile = readGate(ensemble.dir)!;
  assert.equal(ensemble.views, gateFile.views, 'sampled through the views the gate was fitted on');
  assert.equal(members.views, undefined);
  const digits = loadMnist('test', 30).images;
  const noise = (await loadAdversary('noise', { split: 'test', limit: 10, seed: 3 })).images;
  const count = 40;
  const pixels = new Float32Array(count * 784);
  for (let i = 0; i < 30 * 784; i++) pixels[i] = digits.pixels[i] / 255;
  for (let i = 0; i < 10 * 784; i++) pixels[30 * 784 + i] = noise.pixels[i] / (noise.pixels instanceof Float32Array ? 1 : 255);
  const input = { count, pixels, keys: new Uint32Array(count) };

  // passes 0-4 then 5-11 of every member are passes 0-11 of one call (samples: image, member, pass)
  const few = { count: 3, pixels: pixels.subarray(0, 3 * 784), keys: new Uint32Array(3) };
  const first = await members.sample(few, { samples: 5, seed: 0, keepSamples: true });
  const rest = await members.sample(few, { samples: 7, seed: 0, firstSample: 5, keepSamples: true });
  const whole = await members.sample(few, { samples: 12, seed: 0, keepSamples: true });
  for (let i = 0; i < 3; i++) {
    for (let m = 0; m < k; m++) {
      // per pass: its 10 probabilities, or its energy / max logit (width 1), at [from, to) of member m's passes
      const of = (a: Float32Array, width: number, n: number, from: number, to: number) => Array.from(a.subarray(((i * k + m) * n + from) * width, ((i * k + m) * n + to) * width));
      const same = (a: number[], b: number[], what: string) => {
        assert.equal(a.length, b.length, what);
        close(Math.max(...a.map((v, j) => Math.abs(v - b[j]))), 0, 1e-5, what);
      };
      for (const [key, width] of [['samples', 10], ['energies', 1], ['maxLogits', 1]] as const) {
        same(of(first[key]!, width, 5, 0, 5), of(whole[key]!, width, 12, 0, 5), `image ${i} member ${m} ${key} of passes 0-4`);
        same(of(rest[key]!, width, 7, 0, 7), of(whole[key]!, width, 12, 5, 12), `image ${i} member ${m} ${key} of passes 5-11`);
      }
    }
  }
  // in chunks (7 images a chunk over 40): the same samples and per-pass logit scores as in one
  const chunked = await ensemble.sample(input, { samples: 3, seed: 0, keepSamples: true, batchSize: 7 });
  const oneGo = await ensemble.sample(input, { samples: 3, seed: 0, keepSamples: true });
  members.dispose();
  for (const key of ['samples', 'energies', 'maxLogits'] as const) {
    assert.equal(chunked[key]!.length, oneGo[key]!.length, key);
    close(Math.max(...Array.from(chunked[key]!, (v, j) => Math.abs(v - oneGo[key]![j]))), 0, 1e-5, `${key} in chunks`);
  }

  const gate = { logistic: gateFile.logistic, features: gateFile.features, threshold: gateFile.threshold };
  const rounds = adaptiveRounds(gateFile.samples, k);
  const adaptive = await sampleAdaptive(ensemble, input, { seed: 0, gate, rounds });
  // without rounds the library default is 100 passes in each member, in the ensemble's rounds
  const digitAndNoise = { count: 2, pixels: pixels.slice(29 * 784, 31 * 784), keys: new Uint32Array(2) };
  const byDefault = await sampleAdaptive(ensemble, digitAndNoise, { seed: 0, gate });
  assert.ok(byDefault.passes.every((n) => adaptiveRounds(100, k).map((r) => k * r).includes(n)), `default rounds: ${byDefault.passes}`);
  // the last round is 100 in each member: the noise image with nothing settled (z = 1e9) runs to it
  const noiseOnly = { count: 1, pixels: pixels.slice(30 * 784, 31 * 784), keys: new Uint32Array(1) };
  assert.deepEqual((await sampleAdaptive(ensemble, noiseOnly, { seed: 0, gate, z: 1e9 })).passes, [100 * k], 'the noise image runs to 100 in each member');
  assert.ok(adaptive.passes.every((n) => rounds.map((r) => k * r).includes(n)), `passes are K x a round: ${[...new Set(adaptive.passes)]}`);
  const digitsPasses = adaptive.passes.slice(0, 30).reduce((a, b) => a + b, 0) / 30;
  assert.ok(digitsPasses < (k * gateFile.samples) / 2, `MNIST digits stop early: mean ${digitsPasses} passes`);
  for (const n of new Set(adaptive.passes)) {
    const idx = adaptive.passes.flatMap((m, i) => (m === n ? [i] : []));
    const sub = new Float32Array(idx.length * 784);
    idx.forEach((i, j) => sub.set(pixels.subarray(i * 784, (i + 1) * 784), j * 784));
    const atN = await ensemble.sample({ count: idx.length, pixels: sub, keys: new Uint32Array(idx.length) }, { samples: n / k, seed: 0 });
    idx.forEach((i, j) => {
      assert.equal(adaptive.summaries[i].numSamples, n);
      for (let c = 0; c < 10; c++) close(adaptive.summaries[i].meanProbs[c], atN.summaries[j].meanProbs[c], 1e-5, `image ${i} class ${c} at ${n} passes`);
      close(adaptive.summaries[i].meanStd, atN.summaries[j].meanStd, 1e-5, `spread of image ${i}`);
      close(adaptive.summaries[i].energy!, atN.summaries[j].energy!, 1e-4, `energy of image ${i}`);
    });
  }
  const files = Array.from({ length: count }, (_, i) => ({ pixels: pixels.subarray(i * 784, (i + 1) * 784), name: `${i}` }));
  const opts = { samples: gateFile.samples, seed: 0, gate: gateFile, sanity: gateFile.sanity ?? mnistSanityThresholds() };
  const a = await predictFiles(ensemble, files, { ...opts, adaptive: true });
  const f = await predictFiles(ensemble, files, opts);
  assert.ok(f.every((p) => p.passes === k * gateFile.samples));
  const same = a.filter((p, i) => p.verdict === f[i].verdict && p.digit === f[i].digit).length;
  assert.ok(same >= 39, `${same} of 40 answers equal fixed ${k} x ${gateFile.samples}`);
  assert.ok(a.slice(30).every((p) => p.verdict === 'rejected'), 'noise is rejected');
  ensemble.dispose();

  // disagreement mode has no passes to continue (one deterministic pass a member): refused
  const disagreement = await loadPredictor('models/deep', { ensembleMode: 'disagreement' });
  assert.equal(canSampleAdaptive(disagreement), false);
  await assert.rejects(sampleAdaptive(disagreement, input, { seed: 0, gate }), /disagreement/);
  disagreement.dispose();
});
