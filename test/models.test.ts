import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/engine/backend';
import { buildModel, DEEP_WIDE_FACTOR } from '../src/models/architectures';
import { loadModelFiles, saveModelFiles } from '../src/models/store';
import { trainModel } from '../src/train/train';
import { classificationReport, predictProbabilities } from '../src/train/evaluate';
import { loadMnist } from '../src/data/mnist';

before(async () => {
  await initBackend('wasm');
});

const conv = (k: number, cin: number, cout: number) => k * k * cin * cout + cout;
const dense = (i: number, o: number) => i * o + o;
const bn = (c: number) => 4 * c;
/** The deep layers' weights with a, b, c filters in its three blocks of convolutions (the study: 32, 64, 128). */
const deepParams = (a: number, b: number, c: number) =>
  conv(3, 1, a) + bn(a) + conv(3, a, a) + bn(a) + conv(5, a, a) + bn(a) +
  conv(3, a, b) + bn(b) + conv(3, b, b) + bn(b) + conv(5, b, b) + bn(b) +
  conv(4, b, c) + bn(c) + dense(c, 10);

test('basic architecture: layers, output shapes and parameter count of the study', () => {
  const m = buildModel('basic', 1);
  assert.deepEqual(
    m.layers.map((l) => l.getClassName()),
    ['Conv2D', 'MaxPooling2D', 'Flatten', 'Dense', 'Dropout', 'Dense'],
  );
  assert.deepEqual(m.layers.map((l) => (l.outputShape as number[]).slice(1)), [[26, 26, 32], [13, 13, 32], [5408], [100], [100], [10]]);
  assert.equal(m.countParams(), conv(3, 1, 32) + dense(13 * 13 * 32, 100) + dense(100, 10));
  assert.equal((m.layers[4].getConfig() as { rate: number }).rate, 0.25);
  // he_uniform = VarianceScaling(scale 2, fan_in, uniform)
  const init = (m.layers[3].getConfig() as { kernelInitializer: { config: Record<string, unknown> } }).kernelInitializer.config;
  assert.deepEqual([init.scale, init.mode, init.distribution], [2, 'fanIn', 'uniform']);
  m.dispose();
});

test('deep architecture: layers, output shapes and parameter count of the study', () => {
  const m = buildModel('deep', 1);
  const names = m.layers.map((l) => l.getClassName());
  assert.deepEqual(names, [
    'Conv2D', 'BatchNormalization', 'Conv2D', 'BatchNormalization', 'Conv2D', 'BatchNormalization', 'Dropout',
    'Conv2D', 'BatchNormalization', 'Conv2D', 'BatchNormalization', 'Conv2D', 'BatchNormalization', 'Dropout',
    'Conv2D', 'BatchNormalization', 'Flatten', 'Dropout', 'Dense',
  ]);
  const shapes = m.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => (l.outputShape as number[]).slice(1));
  assert.deepEqual(shapes, [[26, 26, 32], [24, 24, 32], [12, 12, 32], [10, 10, 64], [8, 8, 64], [4, 4, 64], [1, 1, 128]]);
  assert.equal(m.countParams(), deepParams(32, 64, 128));
  assert.deepEqual(m.layers.filter((l) => l.getClassName() === 'Dropout').map((l) => (l.getConfig() as { rate: number }).rate), [0.4, 0.4, 0.4]);
  m.dispose();
});

test('deep-wide: the study\'s deep layers, every convolution with DEEP_WIDE_FACTOR times the filters', () => {
  const deep = buildModel('deep', 1);
  const wide = buildModel('deep-wide', 1);
  const k = DEEP_WIDE_FACTOR;
  assert.equal(k, 2);
  // the same layers in the same order, with the same kernels, strides, padding and dropout rates
  const shape = (m: tf.Sequential) =>
    m.layers.map((l) => {
      const c = l.getConfig() as { kernelSize?: number[]; strides?: number[]; padding?: string; rate?: number };
      return [l.getClassName(), c.kernelSize, c.strides, c.padding, c.rate];
    });
  assert.deepEqual(shape(wide), shape(deep));
  const shapes = wide.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => (l.outputShape as number[]).slice(1));
  assert.deepEqual(shapes, [[26, 26, 64], [24, 24, 64], [12, 12, 64], [10, 10, 128], [8, 8, 128], [4, 4, 128], [1, 1, 256]]);
  assert.equal(wide.countParams(), deepParams(64, 128, 256));
  deep.dispose();
  wide.dispose();
});

test('the same seed gives the same initial weights', async () => {
  const a = buildModel('basic', 7);
  const b = buildModel('basic', 7);
  const c = buildModel('basic', 8);
  const wa = await a.getWeights()[0].data();
  assert.deepEqual(await b.getWeights()[0].data(), wa);
  assert.notDeepEqual(await c.getWeights()[0].data(), wa);
  [a, b, c].forEach((m) => m.dispose());
});

test('a tiny real training run (basic, 1000 MNIST images) beats chance clearly; save/load gives identical predictions', async () => {
  const train = loadMnist('train', 1000);
  const testSet = loadMnist('test', 500);
  const result = await trainModel(train, { arch: 'basic', epochs: 2, batchSize: 64, seed: 1, valSplit: 0.1, learningRate: 0.001, lrDecay: 1, augmentShift: 0 });
  assert.equal(result.history.length, 2);
  const probs = predictProbabilities(result.model, testSet.images);
  const report = classificationReport(probs, testSet.labels!, testSet.classNames!);
  assert.ok(report.accuracy > 0.6, `accuracy ${report.accuracy} on 500 test images (chance is 0.1)`);

  const dir = mkdtempSync(join(tmpdir(), 'udq-model-'));
  await saveModelFiles(result.model, dir);
  const loaded = await loadModelFiles(dir);
  const again = predictProbabilities(loaded, testSet.images);
  assert.deepEqual(Array.from(again), Array.from(probs));
  assert.ok(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).weightsManifest[0].paths[0] === 'weights.bin');
  loaded.dispose();
  result.model.dispose();
  rmSync(dir, { recursive: true });
});

test('training is reproducible with --seed (same backend): identical weights after one epoch', async () => {
  const train = loadMnist('train', 300);
  const run = async () => {
    const r = await trainModel(train, { arch: 'basic', epochs: 1, batchSize: 50, seed: 3, valSplit: 0, learningRate: 0.001, lrDecay: 1, augmentShift: 1 });
    const w = Array.from(await r.model.getWeights()[2].data());
    r.model.dispose();
    return w;
  };
  assert.deepEqual(await run(), await run());
});

test('a checkpointed run can be resumed and continues where it stopped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'udq-ckpt-'));
  const train = loadMnist('train', 400);
  const base = { arch: 'basic' as const, batchSize: 50, seed: 4, valSplit: 0.25, learningRate: 0.001, lrDecay: 0.5, augmentShift: 0, checkpointDir: dir };
  const first = await trainModel(train, { ...base, epochs: 1 });
  first.model.dispose();
  const resumed = await trainModel(train, { ...base, epochs: 3, resume: true });
  assert.deepEqual(resumed.history.map((h) => h.epoch), [1, 2, 3]);
  assert.deepEqual(resumed.history.map((h) => h.learningRate), [0.001, 0.0005, 0.00025]);
  assert.ok(resumed.history.every((h) => typeof h.valAccuracy === 'number'));
  resumed.model.dispose();
  rmSync(dir, { recursive: true });
  assert.equal(tf.memory().numTensors >= 0, true);
});
