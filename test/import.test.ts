/**
 * Bring your own model (issue #12): models built, trained (a few quick epochs on an MNIST
 * slice) and saved with the plain tfjs API, in the files the TensorFlow.js converter writes,
 * then taken in by `udq import` or `--model DIR`: a functional [784]-input model with logits,
 * one with GaussianNoise, AlphaDropout and GaussianDropout, one with SpatialDropout1D, one
 * without any stochastic layer (refused; accepted with --add-dropout), one with two outputs
 * and one with a branch (refused), and corrupt or mismatched weight files (exit code 4).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/engine/backend';
import { loadMnist } from '../src/data/mnist';
import { loadPredictor } from '../src/uq/predictor';
import { fillNormal } from '../src/uq/masks';
import { ExitCode } from '../src/errors';
import { runCli } from './helpers/cli';

const ROOT = mkdtempSync(join(tmpdir(), 'udq-import-'));
const SRC = (name: string) => join(ROOT, 'src', name);
const OUT = (name: string) => join(ROOT, 'models', name);
const FIG = (name: string) => join(__dirname, '..', 'figures', name);

/** Save as the converter does: model.json + one weight shard, written by a plain save handler. */
async function saveLikeTfjs(model: tf.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', generatedBy: 'test', convertedBy: null, modelTopology: a.modelTopology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: a.weightSpecs }] }));
      const data = a.weightData as ArrayBuffer;
      writeFileSync(join(dir, 'group1-shard1of1.bin'), Buffer.from(data));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/** A few quick epochs on the first 3000 MNIST training digits, in the input shape the model wants. */
async function quickTrain(model: tf.LayersModel, inputShape: number[], logits: boolean): Promise<void> {
  const train = loadMnist('train', 3000);
  const x = tf.tensor(Float32Array.from(train.images.pixels, (v) => v / 255), [3000, ...inputShape]);
  const y = tf.oneHot(tf.tensor1d(Array.from(train.labels!), 'int32'), 10);
  model.compile({ optimizer: tf.train.adam(0.003), loss: logits ? (yt: tf.Tensor, yp: tf.Tensor) => tf.losses.softmaxCrossEntropy(yt, yp) : 'categoricalCrossentropy' });
  await model.fit(x, y, { epochs: 3, batchSize: 64, verbose: 0 });
  tf.dispose([x, y]);
}

before(async () => {
  await initBackend('wasm');
  // A: functional, flattened input, logits out
  {
    const input = tf.input({ shape: [784] });
    const h = tf.layers.dense({ units: 96, activation: 'relu' }).apply(input) as tf.SymbolicTensor;
    const d = tf.layers.dropout({ rate: 0.3 }).apply(h) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 10 }).apply(d) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: out });
    await quickTrain(m, [784], true);
    await saveLikeTfjs(m, SRC('flat-logits'));
  }
  // B: a conv net with the noise layers
  {
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.gaussianNoise({ stddev: 0.1 }),
        tf.layers.dense({ units: 48, activation: 'selu' }),
        tf.layers.alphaDropout({ rate: 0.1 }),
        tf.layers.gaussianDropout({ rate: 0.3 }),
        tf.layers.dense({ units: 10, activation: 'softmax' }),
      ],
    });
    await quickTrain(m, [28, 28, 1], false);
    await saveLikeTfjs(m, SRC('noisy-conv'));
  }
  // C: [28,28] input with SpatialDropout1D (one mask value per pixel column)
  {
    const m = tf.sequential({
      layers: [tf.layers.spatialDropout1d({ inputShape: [28, 28], rate: 0.2 }), tf.layers.flatten(), tf.layers.dense({ units: 64, activation: 'relu' }), tf.layers.dense({ units: 10, activation: 'softmax' })],
    });
    await quickTrain(m, [28, 28], false);
    await saveLikeTfjs(m, SRC('spatial'));
  }
  // D: no stochastic layer
  {
    const m = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28] }), tf.layers.dense({ units: 64, activation: 'relu' }), tf.layers.dense({ units: 10, activation: 'softmax' })] });
    await quickTrain(m, [28, 28], false);
    await saveLikeTfjs(m, SRC('plain'));
  }
  // an untrained model: about one digit in ten right
  {
    const m = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dropout({ rate: 0.2 }), tf.layers.dense({ units: 10, activation: 'softmax' })] });
    await saveLikeTfjs(m, SRC('untrained'));
  }
  // E: two outputs; F: a branch (not trained: refused before any use)
  {
    const input = tf.input({ shape: [784] });
    const h = tf.layers.dense({ units: 16, activation: 'relu' }).apply(input) as tf.SymbolicTensor;
    const a = tf.layers.dense({ units: 10, activation: 'softmax' }).apply(h) as tf.SymbolicTensor;
    const b = tf.layers.dense({ units: 1 }).apply(h) as tf.SymbolicTensor;
    await saveLikeTfjs(tf.model({ inputs: input, outputs: [a, b] }), SRC('two-outputs'));
    const c = tf.layers.dense({ units: 16 }).apply(input) as tf.SymbolicTensor;
    const sum = tf.layers.add().apply([h, c]) as tf.SymbolicTensor;
    const drop = tf.layers.dropout({ rate: 0.2 }).apply(sum) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 10, activation: 'softmax' }).apply(drop) as tf.SymbolicTensor;
    await saveLikeTfjs(tf.model({ inputs: input, outputs: out }), SRC('branch'));
  }
});

after(() => rmSync(ROOT, { recursive: true, force: true }));

async function importOk(name: string, extra: string[] = []): Promise<Record<string, unknown>> {
  const r = await runCli(['import', SRC(name), '--out', OUT(name), '--check', '500', '--json', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('hashed normal noise has mean 0 and variance 1, and depends only on its keys', () => {
  const a = new Float32Array(20000);
  fillNormal(a, 0, 20000, 0, 1, 3, 0, 7, 1);
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05, `mean ${mean}, variance ${variance}`);
  const b = new Float32Array(20000);
  fillNormal(b, 0, 20000, 0, 1, 3, 0, 7, 1);
  assert.deepEqual(a, b);
  fillNormal(b, 0, 20000, 0, 1, 3, 0, 7, 2);
  assert.notDeepEqual(a, b);
});

test('import: a functional [784]-input model with logits gets a reshape and a softmax, and stays right on MNIST', async () => {
  const j = await importOk('flat-logits');
  const rec = j.imported as Record<string, unknown>;
  assert.deepEqual(rec.input, { shape: [784], handling: 'reshaped' });
  assert.equal(rec.output, 'logits');
  assert.deepEqual((rec.stochasticLayers as { className: string }[]).map((l) => l.className), ['Dropout']);
  assert.ok((j.testAccuracy as number) > 0.8, `accuracy ${j.testAccuracy}`);
  assert.equal(j.warning === null, (j.testAccuracy as number) >= 0.9, `warning ${j.warning} at accuracy ${j.testAccuracy}`);
  const manifest = JSON.parse(readFileSync(join(OUT('flat-logits'), 'udq.json'), 'utf8'));
  assert.equal(manifest.arch, 'imported');
  assert.ok(!manifest.imported.source.startsWith('/'), 'relative source path');
});

async function samplesOf(dir: string, method: 'cached' | 'naive', engine: 'ort' | 'tfjs') {
  const p = await loadPredictor(dir, { engine });
  const test = loadMnist('test', 24);
  const r = await p.sample({ count: 24, pixels: test.images.pixels }, { samples: 12, seed: 4, method, keepSamples: true });
  const info = { engine: p.engine, notes: p.notes };
  p.dispose();
  return { ...r, ...info };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('a model that is not an MNIST digit classifier is imported with a warning', async () => {
  const j = await importOk('untrained');
  assert.ok((j.testAccuracy as number) < 0.5, `accuracy ${j.testAccuracy}`);
  assert.match(String(j.warning), /below 0\.9.*may not be an MNIST digit classifier/);
});

test('every stochastic layer kind: cached and naive samplers give the same samples with the same seed, and they spread', async () => {
  await importOk('noisy-conv');
  await importOk('spatial');
  for (const name of ['flat-logits', 'noisy-conv', 'spatial']) {
    const cached = await samplesOf(OUT(name), 'cached', 'tfjs');
    const naive = await samplesOf(OUT(name), 'naive', 'tfjs');
    assert.ok(maxDiff(cached.samples!, naive.samples!) < 1e-5, `${name}: cached vs naive ${maxDiff(cached.samples!, naive.samples!)}`);
    const spread = cached.summaries.reduce((s, x) => s + x.meanStd, 0) / cached.summaries.length;
    assert.ok(spread > 1e-4, `${name}: the passes differ (mean std ${spread})`);
  }
  // the ort engine runs the Dropout-only model (reshape and all) and matches tfjs; the noisy one falls back to tfjs and says why
  const ortFlat = await samplesOf(OUT('flat-logits'), 'cached', 'ort');
  assert.equal(ortFlat.engine, 'ort');
  assert.ok(maxDiff(ortFlat.samples!, (await samplesOf(OUT('flat-logits'), 'cached', 'tfjs')).samples!) < 1e-5);
  const saved = process.env.UDQ_ENGINE;
  delete process.env.UDQ_ENGINE;
  try {
    const p = await loadPredictor(OUT('noisy-conv'));
    assert.equal(p.engine, 'tfjs');
    assert.match(p.notes.join(' '), /GaussianNoise/);
    p.dispose();
  } finally {
    if (saved !== undefined) process.env.UDQ_ENGINE = saved;
  }
});

test('a model with no stochastic layer is refused, and sampled with --add-dropout (saying it was not trained so)', async () => {
  const refused = await runCli(['import', SRC('plain'), '--out', OUT('plain')]);
  assert.equal(refused.code, ExitCode.model);
  assert.match(refused.stderr, /no stochastic layer/);
  assert.match(refused.stderr, /--add-dropout/);
  const r = await runCli(['import', SRC('plain'), '--out', OUT('plain'), '--add-dropout', '0.25', '--check', '300']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /NOT trained with/);
  const manifest = JSON.parse(readFileSync(join(OUT('plain'), 'udq.json'), 'utf8'));
  assert.equal(manifest.imported.addedDropout, 0.25);
  const s = await samplesOf(OUT('plain'), 'cached', 'tfjs');
  assert.ok(s.summaries[0].meanStd > 0);
});

test('two outputs and branches are refused with a message that says what is not supported', async () => {
  const two = await runCli(['import', SRC('two-outputs'), '--out', OUT('two')]);
  assert.equal(two.code, ExitCode.model);
  assert.match(two.stderr, /2 outputs/);
  const branch = await runCli(['import', SRC('branch'), '--out', OUT('branch')]);
  assert.equal(branch.code, ExitCode.model);
  assert.match(branch.stderr, /chain|branch/);
});

test('calibrate, evaluate, predict and report run unchanged on an imported model; --model takes a plain tfjs directory with a note', async () => {
  const dir = OUT('flat-logits');
  const cal = await runCli(['calibrate', '--model', dir, '--adversary', 'omniglot-dev', '--limit', '200', '--samples', '10', '--json']);
  assert.equal(cal.code, 0, cal.stderr);
  const gate = JSON.parse(cal.stdout);
  assert.ok(gate.heldOut.ood.auroc > 0.5, `AUROC ${gate.heldOut.ood.auroc}`);
  const ev = await runCli(['evaluate', '--model', dir, '--adversary', 'omniglot-dev', '--limit', '100', '--json']);
  assert.equal(ev.code, 0, ev.stderr);
  const pred = await runCli(['predict', '--model', dir, '--format', 'json', FIG('3.png'), FIG('zhong.png')]);
  assert.equal(pred.code, 0, pred.stderr);
  const preds = JSON.parse(pred.stdout).predictions;
  assert.equal(preds.length, 2);
  assert.ok(preds.every((p: { verdict: string }) => p.verdict === 'digit' || p.verdict === 'rejected'));
  const report = await runCli(['report', '--model', dir, '--adversary', 'omniglot-dev', '--limit', '100', '--samples', '10', '--out', join(ROOT, 'report'), '--json']);
  assert.equal(report.code, 0, report.stderr);
  assert.ok(JSON.parse(report.stdout).files.includes('report.md'));
  // the other imports too: calibrate and predict end to end
  for (const other of ['noisy-conv', 'spatial', 'plain']) {
    const c = await runCli(['calibrate', '--model', OUT(other), '--adversary', 'omniglot-dev', '--limit', '100', '--samples', '8', '--threshold-digits', '200', '--json']);
    assert.equal(c.code, 0, `${other}: ${c.stderr}`);
    const p = await runCli(['predict', '--model', OUT(other), '--format', 'json', FIG('3.png')]);
    assert.equal(p.code, 0, `${other}: ${p.stderr}`);
    assert.equal(JSON.parse(p.stdout).predictions[0].file, FIG('3.png'));
  }
  // the source directory itself, no udq.json
  const plain = await runCli(['predict', '--model', SRC('flat-logits'), '--samples', '10', '--format', 'json', FIG('8.png')]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stderr, /plain tfjs model.*nothing about its training is known/);
});

test('corrupt or mismatched weight files: exit code 4 and one line', async () => {
  const bad = join(ROOT, 'src', 'truncated');
  mkdirSync(bad, { recursive: true });
  copyFileSync(join(SRC('flat-logits'), 'model.json'), join(bad, 'model.json'));
  writeFileSync(join(bad, 'group1-shard1of1.bin'), readFileSync(join(SRC('flat-logits'), 'group1-shard1of1.bin')).subarray(0, 1000));
  const mismatched = join(ROOT, 'src', 'mismatched');
  mkdirSync(mismatched, { recursive: true });
  copyFileSync(join(SRC('flat-logits'), 'model.json'), join(mismatched, 'model.json'));
  copyFileSync(join(SRC('noisy-conv'), 'group1-shard1of1.bin'), join(mismatched, 'group1-shard1of1.bin'));
  const garbled = join(ROOT, 'src', 'garbled');
  mkdirSync(garbled, { recursive: true });
  writeFileSync(join(garbled, 'model.json'), '{"modelTopology": ');
  // a Keras layer class tfjs has no counterpart for
  const keras = join(ROOT, 'src', 'keras-spatial2d');
  mkdirSync(keras, { recursive: true });
  writeFileSync(join(keras, 'model.json'), readFileSync(join(SRC('spatial'), 'model.json'), 'utf8').replace(/SpatialDropout1D/g, 'SpatialDropout2D'));
  copyFileSync(join(SRC('spatial'), 'group1-shard1of1.bin'), join(keras, 'group1-shard1of1.bin'));
  for (const dir of [bad, mismatched, garbled, keras]) {
    const r = await runCli(['import', dir, '--out', join(ROOT, 'models', 'x')]);
    assert.equal(r.code, ExitCode.model, `${dir}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    if (dir === keras) assert.match(r.stderr, /SpatialDropout2D/);
  }
});
