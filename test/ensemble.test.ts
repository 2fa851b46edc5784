/**
 * Ensembles: the k-fold plan (pure, table-style), `udq train --ensemble 3 --kfold` on 600
 * images, ensemble sampling (disagreement and MC dropout inside members), and the ensemble
 * directory going through evaluate / calibrate / evaluate --adversary / predict.
 * About 30 s on 2 cores, most of it the members' evaluation on the 10,000 MNIST test images.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from './helpers/cli';
import { ExitCode, UsageError } from '../src/errors';
import { initBackend } from '../src/engine/backend';
import { kfoldRanges, loadEnsemble, memberSeed, memberTrainingSet } from '../src/models/ensemble';
import { splitValidation } from '../src/train/batches';
import { loadPredictor } from '../src/uq/predictor';
import { averageProbabilities, deterministicProbabilities, memberMaskSeed, sampleEnsemble } from '../src/uq/ensemble';
import { sampleMcDropout } from '../src/uq/mc-dropout';
import { loadMnist } from '../src/data/mnist';
import { writeIdx } from '../src/data/idx';
import type { LabelledImages } from '../src/data/types';

const ROOT = mkdtempSync(join(tmpdir(), 'udq-ensemble-'));
const ENS = join(ROOT, 'ens');
const FIG = (name: string) => join(__dirname, '..', 'figures', name);
const TRAIN_ARGS = ['train', '--arch', 'basic', '--ensemble', '3', '--kfold', '--limit', '600', '--epochs', '1', '--batch-size', '32', '--seed', '5', '--out', ENS, '--backend', 'wasm'];
const savedMode = process.env.UDQ_ENSEMBLE_MODE;

let trainRun: { code: number; stdout: string; stderr: string };

before(async () => {
  delete process.env.UDQ_ENSEMBLE_MODE;
  await initBackend('wasm');
  trainRun = await runCli([...TRAIN_ARGS, '--json']);
});

after(() => {
  if (savedMode === undefined) delete process.env.UDQ_ENSEMBLE_MODE;
  else process.env.UDQ_ENSEMBLE_MODE = savedMode;
  rmSync(ROOT, { recursive: true, force: true });
});

function digits(count: number, from = 0) {
  const set = loadMnist('test', from + count);
  return { count, pixels: set.images.pixels.subarray(from * 784, (from + count) * 784) };
}

test('kfoldRanges: K contiguous disjoint folds covering 0..count-1, sizes within one', () => {
  const table: { count: number; k: number; expected: [number, number][] }[] = [
    { count: 10, k: 2, expected: [[0, 5], [5, 10]] },
    { count: 10, k: 3, expected: [[0, 3], [3, 6], [6, 10]] },
    { count: 7, k: 7, expected: [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 6], [6, 7]] },
    { count: 540, k: 3, expected: [[0, 180], [180, 360], [360, 540]] },
    { count: 11, k: 4, expected: [[0, 2], [2, 5], [5, 8], [8, 11]] },
  ];
  for (const { count, k, expected } of table) {
    assert.deepEqual(kfoldRanges(count, k).map((r) => [r.start, r.end]), expected, `count ${count}, k ${k}`);
  }
  for (const [count, k] of [[60000, 7], [1001, 10], [5, 2]]) {
    const folds = kfoldRanges(count, k);
    assert.equal(folds[0].start, 0);
    assert.equal(folds[k - 1].end, count);
    for (let i = 1; i < k; i++) assert.equal(folds[i].start, folds[i - 1].end);
    const sizes = folds.map((f) => f.end - f.start);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `sizes ${sizes}`);
  }
  for (const [count, k] of [[10, 1], [10, 0], [2, 3], [10, 2.5]]) assert.throws(() => kfoldRanges(count, k), UsageError, `count ${count}, k ${k}`);
});

/** A set whose image i carries its index in pixels 0-1 and label i % 10. */
function indexedSet(count: number): LabelledImages {
  const pixels = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    pixels[i * 784] = i & 255;
    pixels[i * 784 + 1] = i >> 8;
    labels[i] = i % 10;
  }
  return { name: 'indexed', images: { count, rows: 28, cols: 28, pixels }, labels, classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] };
}

const idsOf = (set: LabelledImages) => Array.from({ length: set.images.count }, (_, i) => set.images.pixels[i * 784] + 256 * set.images.pixels[i * 784 + 1]);

test('memberTrainingSet: fold i removed from the training part, the validation tail shared and held out exactly', () => {
  for (const [count, valSplit, k] of [[600, 0.1, 3], [1000, 0.1, 5], [997, 0.13, 4], [50, 0, 2], [60000, 0.1, 5]]) {
    const full = indexedSet(count);
    const split = splitValidation(count, valSplit);
    const heldOut: number[] = [];
    for (let fold = 0; fold < k; fold++) {
      const m = memberTrainingSet(full, valSplit, k, fold);
      const ids = idsOf(m.set);
      const { start, end } = m.heldOutFold;
      const what = `count ${count}, valSplit ${valSplit}, k ${k}, fold ${fold}`;
      // trainModel's own split of the member's set holds out exactly the shared validation tail
      assert.deepEqual(splitValidation(m.set.images.count, m.valSplit), { train: m.trainImages, val: split.val }, what);
      assert.equal(m.valImages, split.val);
      const expectedTrain = [...Array(split.train).keys()].filter((i) => i < start || i >= end);
      assert.deepEqual(ids.slice(0, m.trainImages), expectedTrain, what);
      assert.deepEqual(ids.slice(m.trainImages), [...Array(split.val).keys()].map((i) => split.train + i), what);
      assert.deepEqual(Array.from(m.set.labels!), ids.map((i) => i % 10), `${what}: labels follow their images`);
      for (let i = start; i < end; i++) heldOut.push(i);
    }
    assert.deepEqual(heldOut, [...Array(split.train).keys()], `count ${count}: the held-out folds partition the training part`);
    assert.notEqual(memberTrainingSet(full, valSplit, k, 0).set.images.pixels.buffer, full.images.pixels.buffer, 'pixels are copied');
  }
  assert.throws(() => memberTrainingSet(indexedSet(10), 0.1, 3, 3), UsageError);
});

test('udq train --ensemble 3 --kfold: ensemble.json, three member model directories, members differ', () => {
  assert.equal(trainRun.code, 0, trainRun.stderr);
  const summary = JSON.parse(trainRun.stdout);
  assert.equal(summary.kind, 'ensemble');
  assert.equal(summary.K, 3);
  assert.equal(summary.modelDir, ENS);
  for (let i = 1; i <= 3; i++) assert.match(trainRun.stderr, new RegExp(`\\[member ${i}/3\\] epoch 1: loss`), 'progress lines say which member');

  const m = JSON.parse(readFileSync(join(ENS, 'ensemble.json'), 'utf8'));
  assert.equal(m.format, 'udq-ensemble');
  assert.equal(m.arch, 'basic');
  assert.equal(m.K, 3);
  assert.equal(m.kfold, true);
  assert.equal(m.sampling, 'disagreement');
  assert.equal(m.seed, 5);
  assert.deepEqual(m.seeds, [0, 1, 2].map((i) => memberSeed(5, i)));
  assert.equal(new Set(m.seeds).size, 3);
  assert.equal(m.memberTestAccuracy.length, 3);
  for (const a of [...m.memberTestAccuracy, m.testAccuracy]) assert.ok(a > 0.3 && a <= 1, `accuracy ${a}`);
  assert.ok(m.trainingSeconds > 0);
  assert.equal(typeof m.udqVersion, 'string');
  assert.ok(!Number.isNaN(Date.parse(m.date)));
  assert.equal(m.trainImages, 600);
  assert.equal(m.valImages, 60);
  assert.deepEqual(m.members.map((r: { heldOutFold: unknown }) => r.heldOutFold), [{ start: 0, end: 180 }, { start: 180, end: 360 }, { start: 360, end: 540 }]);

  const weights: Buffer[] = [];
  for (let i = 0; i < 3; i++) {
    const dir = join(ENS, 'members', `m${i}`);
    assert.equal(m.members[i].dir, `members/m${i}`);
    for (const f of ['model.json', 'weights.bin', 'udq.json']) assert.ok(existsSync(join(dir, f)), `${dir}/${f}`);
    assert.equal(existsSync(join(dir, 'checkpoint')), false);
    const udq = JSON.parse(readFileSync(join(dir, 'udq.json'), 'utf8'));
    assert.equal(udq.format, 'udq-model');
    assert.equal(udq.seed, m.seeds[i]);
    assert.equal(udq.trainImages, 360, 'the 540 training images minus a fold of 180');
    assert.equal(udq.valImages, 60, 'the shared validation tail');
    assert.equal(udq.testAccuracy, m.memberTestAccuracy[i]);
    assert.deepEqual(udq.ensembleMember, { index: i, of: 3, heldOutFold: m.members[i].heldOutFold });
    weights.push(readFileSync(join(dir, 'weights.bin')));
  }
  assert.ok(!weights[0].equals(weights[1]) && !weights[1].equals(weights[2]) && !weights[0].equals(weights[2]), 'members have different weights');
});

test('train --ensemble: refuses to overwrite without --force; bad option combinations are usage errors', async () => {
  const again = await runCli(TRAIN_ARGS);
  assert.equal(again.code, ExitCode.exists);
  assert.match(again.stderr, /already holds an ensemble; use --force/);
  const cases: { args: string[]; message: RegExp }[] = [
    { args: ['--kfold'], message: /--kfold needs --ensemble K/ },
    { args: ['--ensemble-mode', 'mc'], message: /--ensemble-mode needs --ensemble K/ },
    { args: ['--ensemble', '1'], message: /at least 2 members/ },
    { args: ['--ensemble', '0'], message: /positive integer/ },
    { args: ['--ensemble', '3', '--ensemble-mode', 'vote'], message: /expected one of disagreement, mc/ },
    { args: ['--ensemble', '3', '--resume', '--seed', '1', '--out', join(ROOT, 'nothing')], message: /--resume: no ensemble members/ },
  ];
  for (const c of cases) {
    const r = await runCli(['train', '--arch', 'basic', ...c.args]);
    assert.equal(r.code, ExitCode.usage, `${c.args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, c.message, c.args.join(' '));
  }
});

test('train --ensemble --force over a model directory replaces the model and its stale gate', async () => {
  const dir = join(ROOT, 'was-a-model');
  mkdirSync(dir);
  for (const f of ['model.json', 'weights.bin', 'udq.json', 'gate.json']) writeFileSync(join(dir, f), '{}');
  const args = ['train', '--arch', 'basic', '--ensemble', '2', '--limit', '120', '--epochs', '1', '--seed', '1', '--out', dir, '--backend', 'wasm'];
  const refused = await runCli(args);
  assert.equal(refused.code, ExitCode.exists);
  assert.match(refused.stderr, /already holds a model/);
  const forced = await runCli([...args, '--force', '--ensemble-mode', 'mc']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /basic ensemble of 2: test accuracy/);
  for (const f of ['model.json', 'weights.bin', 'udq.json', 'gate.json']) assert.equal(existsSync(join(dir, f)), false, f);
  const m = JSON.parse(readFileSync(join(dir, 'ensemble.json'), 'utf8'));
  assert.equal(m.kfold, false);
  assert.equal(m.sampling, 'mc');
  // without --kfold every member sees all data (minus the validation tail)
  for (let i = 0; i < 2; i++) assert.equal(JSON.parse(readFileSync(join(dir, 'members', `m${i}`, 'udq.json'), 'utf8')).trainImages, 108);
  const p = await loadPredictor(dir);
  assert.equal(p.ensembleMode, 'mc', 'the mode stored in ensemble.json');
  p.dispose();
});

test('disagreement sampling: one deterministic softmax per member, K samples per image, nonzero spread', async () => {
  const p = await loadPredictor(ENS);
  assert.equal(p.kind, 'ensemble');
  assert.equal(p.members, 3);
  assert.equal(p.ensembleMode, 'disagreement');
  assert.equal(p.dir, ENS);
  const input = digits(40);
  const r = await p.sample(input, { samples: 100, seed: 1, keepSamples: true });
  assert.equal(r.summaries.length, 40);
  assert.ok(r.summaries.every((s) => s.numSamples === 3), 'samples is ignored: one per member');
  assert.equal(r.samples!.length, 40 * 3 * 10);
  assert.ok(r.summaries.some((s) => s.meanStd > 1e-3), 'members disagree on some images');
  const { members } = await loadEnsemble(ENS);
  const perMember = members.map((m) => deterministicProbabilities(m, input));
  for (let i = 0; i < 40; i++) {
    for (let m = 0; m < 3; m++) {
      for (let c = 0; c < 10; c++) assert.ok(Math.abs(r.samples![(i * 3 + m) * 10 + c] - perMember[m][i * 10 + c]) < 1e-6);
    }
  }
  // the summary's mean is the averaged softmax, and a different seed changes nothing
  const avg = averageProbabilities(perMember);
  for (let i = 0; i < 40; i++) for (let c = 0; c < 10; c++) assert.ok(Math.abs(r.summaries[i].meanProbs[c] - avg[i * 10 + c]) < 1e-5);
  const other = await p.sample(input, { samples: 5, seed: 99 });
  assert.deepEqual(other.summaries.map((s) => s.predicted), r.summaries.map((s) => s.predicted));
  await assert.rejects(p.sample(input, { samples: 5, seed: 1, bnMode: 'batch' }), /bn-mode batch applies to MC dropout/);
  members.forEach((m) => m.dispose());
  p.dispose();
});

test('mc sampling: N MC-dropout passes inside each member (member-derived masks), K x N samples, batch-independent', async () => {
  const { members } = await loadEnsemble(ENS);
  const input = digits(12);
  const r = await sampleEnsemble(members, input, { mode: 'mc', samples: 4, seed: 7, keepSamples: true });
  assert.ok(r.summaries.every((s) => s.numSamples === 12));
  for (let m = 0; m < 3; m++) {
    const own = await sampleMcDropout(members[m], input, { samples: 4, seed: memberMaskSeed(7, m), keepSamples: true });
    for (let i = 0; i < 12; i++) {
      for (let j = 0; j < 4 * 10; j++) assert.equal(r.samples![(i * 12 + m * 4) * 10 + j], own.samples![i * 40 + j], `member ${m}, image ${i}`);
    }
  }
  // image 5 alone, with its mask key, and in small chunks: the same numbers
  const alone = await sampleEnsemble(members, { ...digits(1, 5), keys: [5] }, { mode: 'mc', samples: 4, seed: 7, keepSamples: true });
  assert.deepEqual(Array.from(alone.samples!), Array.from(r.samples!.subarray(5 * 120, 6 * 120)));
  const chunked = await sampleEnsemble(members, input, { mode: 'mc', samples: 4, seed: 7, keepSamples: true, batchSize: 5 });
  assert.deepEqual(Array.from(chunked.samples!), Array.from(r.samples!));
  const before = tf.memory().numTensors;
  await sampleEnsemble(members, input, { mode: 'disagreement', samples: 1, seed: 0 });
  assert.equal(tf.memory().numTensors, before, 'no tensors leak');

  process.env.UDQ_ENSEMBLE_MODE = 'mc';
  try {
    const p = await loadPredictor(ENS);
    assert.equal(p.ensembleMode, 'mc');
    assert.ok((await p.sample(input, { samples: 2, seed: 7 })).summaries.every((s) => s.numSamples === 6));
    assert.ok((await p.sample(input, { samples: 2, seed: 7, ensembleMode: 'disagreement' })).summaries.every((s) => s.numSamples === 3));
    p.dispose();
    const q = await loadPredictor(ENS, { ensembleMode: 'disagreement' });
    assert.equal(q.ensembleMode, 'disagreement', 'the library option beats the environment');
    q.dispose();
    process.env.UDQ_ENSEMBLE_MODE = 'vote';
    await assert.rejects(loadPredictor(ENS), /UDQ_ENSEMBLE_MODE must be disagreement or mc/);
  } finally {
    delete process.env.UDQ_ENSEMBLE_MODE;
  }
  members.forEach((m) => m.dispose());
});

test('udq evaluate --model ENSEMBLE --json: accuracy of the averaged softmax, and of each member', async () => {
  const r = await runCli(['evaluate', '--model', ENS, '--json', '--limit', '500', '--backend', 'wasm']);
  assert.equal(r.code, 0, r.stderr);
  const e = JSON.parse(r.stdout);
  assert.equal(e.kind, 'ensemble');
  assert.equal(e.modelDir, ENS);
  assert.equal(e.count, 500);
  assert.equal(e.perClass.length, 10);
  assert.equal(e.memberAccuracy.length, 3);
  assert.ok(e.testAccuracy > 0.3, `accuracy ${e.testAccuracy}`);
});

test('calibrate, evaluate --adversary and predict accept an ensemble directory', async () => {
  // adversary: MNIST test digits turned a quarter turn (pass the input sanity check, not upright digits)
  const src = loadMnist('test', 600).images.pixels.subarray(300 * 784);
  const turned = new Uint8Array(src.length);
  for (let n = 0; n < 300; n++) for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) turned[n * 784 + y * 28 + x] = src[n * 784 + (27 - x) * 28 + y];
  const adversary = join(ROOT, 'turned-images-idx3-ubyte');
  writeIdx(adversary, { dims: [300, 28, 28], data: turned });

  const cal = await runCli(['calibrate', '--model', ENS, '--adversary', adversary, '--limit', '300', '--samples', '3', '--json', '--backend', 'wasm']);
  assert.equal(cal.code, 0, cal.stderr);
  const c = JSON.parse(cal.stdout);
  assert.equal(c.gateFile, join(ENS, 'gate.json'));
  assert.ok(c.heldOut.ood.auroc >= 0 && c.heldOut.ood.auroc <= 1);
  assert.equal(c.features, 'full', 'an ensemble gives no logits: the default gate falls back from scores to full');

  const ev = await runCli(['evaluate', '--model', ENS, '--adversary', adversary, '--limit', '100', '--json', '--backend', 'wasm']);
  assert.equal(ev.code, 0, ev.stderr);
  assert.equal(JSON.parse(ev.stdout).modelDir, ENS);

  const pr = await runCli(['predict', '--model', ENS, FIG('3.png'), '--format', 'json', '--backend', 'wasm']);
  assert.equal(pr.code, 0, pr.stderr);
  const out = JSON.parse(pr.stdout);
  assert.equal(out.modelDir, ENS);
  assert.equal(out.samplesPerImage, 3, 'disagreement: one softmax per member, whatever --samples says');
  assert.equal(out.predictions.length, 1);
  const p = out.predictions[0];
  assert.ok(['digit', 'rejected'].includes(p.verdict), p.verdict);
  assert.ok(Number.isInteger(p.digit) && p.digit >= 0 && p.digit <= 9);
  assert.equal(typeof p.gateProbability, 'number');
  assert.doesNotMatch(pr.stderr, /gate was fitted on/);

  // the gate records how its features were sampled; using it with another mode warns
  assert.equal(JSON.parse(readFileSync(join(ENS, 'gate.json'), 'utf8')).sampling, 'ensemble-disagreement');
  process.env.UDQ_ENSEMBLE_MODE = 'mc';
  try {
    const mc = await runCli(['predict', '--model', ENS, FIG('3.png'), '--samples', '2', '--format', 'json', '--backend', 'wasm']);
    assert.equal(mc.code, 0, mc.stderr);
    assert.match(mc.stderr, /gate was fitted on ensemble-disagreement samples but this run samples with ensemble-mc/);
    assert.equal(JSON.parse(mc.stdout).samplesPerImage, 6, 'mc: --samples passes in each of the 3 members');
  } finally {
    delete process.env.UDQ_ENSEMBLE_MODE;
  }
});

test('an ensemble on the ort engine: the same samples and features as on tfjs for the same seed, logit scores pooled over members', async () => {
  const input = digits(40);
  const onOrt = await loadPredictor(ENS, { engine: 'ort', ensembleMode: 'mc' });
  const onTfjs = await loadPredictor(ENS, { engine: 'tfjs', ensembleMode: 'mc' });
  assert.equal(onOrt.engine, 'ort');
  assert.equal(onTfjs.engine, 'tfjs');
  const opts = { samples: 6, seed: 11, keepSamples: true, indexOffset: 300 };
  const a = await onOrt.sample(input, opts);
  const b = await onTfjs.sample(input, opts);
  assert.equal(a.samples!.length, 40 * 18 * 10);
  let maxSample = 0;
  for (let i = 0; i < a.samples!.length; i++) maxSample = Math.max(maxSample, Math.abs(a.samples![i] - b.samples![i]));
  assert.ok(maxSample < 1e-5, `max sample difference ${maxSample}`);
  for (let i = 0; i < 40; i++) {
    const x = a.summaries[i];
    const y = b.summaries[i];
    assert.equal(x.numSamples, 18);
    for (const key of ['predictiveEntropy', 'mutualInformation', 'meanStd', 'energy', 'maxLogit'] as const) {
      assert.equal(typeof x[key], 'number', `${key} present`);
      assert.ok(Math.abs((x[key] as number) - (y[key] as number)) < 1e-4, `image ${i} ${key}: ${x[key]} vs ${y[key]}`);
    }
  }
  // the pooled energy is the mean of the members' own (each over its 6 passes)
  const { members } = await loadEnsemble(ENS);
  const own = await Promise.all(members.map((m, k) => sampleMcDropout(m, input, { samples: 6, seed: memberMaskSeed(11, k), indexOffset: 300 })));
  const meanEnergy = (own[0].summaries[3].energy! + own[1].summaries[3].energy! + own[2].summaries[3].energy!) / 3;
  assert.ok(Math.abs(a.summaries[3].energy! - meanEnergy) < 1e-4);
  // disagreement: one deterministic pass per member on either engine
  const d1 = await onOrt.sample(input, { samples: 1, seed: 0, ensembleMode: 'disagreement' });
  const d2 = await onTfjs.sample(input, { samples: 1, seed: 0, ensembleMode: 'disagreement' });
  assert.ok(d1.summaries.every((s, i) => s.numSamples === 3 && Math.abs(s.meanStd - d2.summaries[i].meanStd) < 1e-6));
  members.forEach((m) => m.dispose());
  onOrt.dispose();
  onTfjs.dispose();
});

test('train --ensemble with --init-from and --outlier-exposure: every member fine-tunes from the model and sees outliers, seeds differ', async () => {
  const out = join(ROOT, 'ens-oe');
  const r = await runCli(['train', '--arch', 'basic', '--ensemble', '2', '--limit', '300', '--epochs', '1', '--batch-size', '32', '--seed', '3', '--init-from', join(ENS, 'members', 'm0'), '--outlier-exposure', 'synth-strokes', '--augment', 'users', '--out', out, '--backend', 'wasm', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const manifests = [0, 1].map((i) => JSON.parse(readFileSync(join(out, 'members', `m${i}`, 'udq.json'), 'utf8')));
  for (const m of manifests) {
    assert.equal(resolve(m.initFrom.dir), join(ENS, 'members', 'm0'), 'the model it started from (stored relative to the working directory)');
    assert.deepEqual(m.outlierExposure.sources, ['synth-strokes']);
    assert.equal(m.augmentRecipe, 'users');
  }
  assert.notEqual(manifests[0].seed, manifests[1].seed);
  const { members } = await loadEnsemble(out);
  const [w0, w1] = members.map((m) => m.getWeights()[0].dataSync());
  assert.ok(w0.some((v, i) => v !== w1[i]), 'members differ');
  members.forEach((m) => m.dispose());
});
