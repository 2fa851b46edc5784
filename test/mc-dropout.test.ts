/** DESIGN.md section 4, rules 1-3: the sampler never touches the model, is batch-independent, cached == naive. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/engine/backend';
import { buildModel } from '../src/models/architectures';
import { ChunkSamples, sampleMcDropout, splitPoint } from '../src/uq/mc-dropout';
import type { SampleSummary } from '../src/uq/features';
import { loadMnist } from '../src/data/mnist';
import { mulberry32 } from '../src/random';

before(async () => {
  await initBackend('wasm');
});

/** A deep model with non-trivial BatchNorm moving statistics (as after training). */
function deepWithBnStats(): tf.LayersModel {
  const model = buildModel('deep', 3);
  const rand = mulberry32(99);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const c = layer.getWeights()[0].shape[0]; // getWeights returns the live values: do not dispose
    const v = (f: (i: number) => number) => tf.tensor1d(Array.from({ length: c }, (_, i) => f(i)));
    layer.setWeights([v(() => 0.5 + rand()), v(() => rand() - 0.5), v(() => rand() * 0.3), v(() => 0.5 + rand())]);
  }
  return model;
}

function digits(count: number, from = 0) {
  const set = loadMnist('test', from + count);
  return { count, pixels: set.images.pixels.subarray(from * 784, (from + count) * 784) };
}

async function weightBytes(model: tf.LayersModel): Promise<Buffer[]> {
  return Promise.all(model.getWeights().map(async (w) => Buffer.from(((await w.data()) as Float32Array).buffer)));
}

test('the stochastic suffix starts at the first Dropout layer', () => {
  const basic = buildModel('basic', 1);
  const deep = buildModel('deep', 1);
  assert.equal(basic.layers[splitPoint(basic)].getClassName(), 'Dropout');
  assert.equal(splitPoint(basic), 4); // conv, pool, flatten, dense100 are deterministic
  assert.equal(splitPoint(deep), 6); // three conv + BN pairs
  basic.dispose();
  deep.dispose();
});

for (const bnMode of ['inference', 'batch'] as const) {
  test(`sampling (bnMode ${bnMode}) leaves every weight bit-identical, BatchNorm moving statistics included`, async () => {
    const model = deepWithBnStats();
    const before = await weightBytes(model);
    await sampleMcDropout(model, digits(6), { samples: 4, seed: 1, bnMode });
    await sampleMcDropout(model, digits(6), { samples: 2, seed: 1, bnMode, method: 'naive' });
    const after = await weightBytes(model);
    assert.equal(after.length, before.length);
    for (let i = 0; i < before.length; i++) assert.ok(before[i].equals(after[i]), `weight ${i} changed`);
    model.dispose();
  });
}

test('cached and naive samplers give identical samples for the same seed (deep and basic)', async () => {
  for (const model of [deepWithBnStats(), buildModel('basic', 5)]) {
    const input = digits(5);
    const cached = await sampleMcDropout(model, input, { samples: 6, seed: 42, keepSamples: true });
    const naive = await sampleMcDropout(model, input, { samples: 6, seed: 42, keepSamples: true, method: 'naive' });
    const a = cached.samples!;
    const b = naive.samples!;
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    assert.ok(maxDiff <= 1e-6, `${model.name}: max difference ${maxDiff}`);
    // and the passes really differ from each other (dropout is on)
    const k = cached.classes;
    let spread = 0;
    for (let c = 0; c < k; c++) spread += Math.abs(a[c] - a[k + c]);
    assert.ok(spread > 1e-4, `${model.name}: two passes were identical`);
    model.dispose();
  }
});

test("an image's samples do not depend on its batch neighbours or the chunk size", async () => {
  const model = deepWithBnStats();
  const set = digits(8);
  // image 0 with neighbours 1..3, versus image 0 with neighbours 4..7 (same position, same seed)
  const withA = { count: 4, pixels: set.pixels.slice(0, 4 * 784) };
  const withB = { count: 4, pixels: new Uint8Array(4 * 784) };
  withB.pixels.set(set.pixels.subarray(0, 784), 0);
  withB.pixels.set(set.pixels.subarray(5 * 784, 8 * 784), 784);
  const r1 = await sampleMcDropout(model, withA, { samples: 5, seed: 7, keepSamples: true });
  const r2 = await sampleMcDropout(model, withB, { samples: 5, seed: 7, keepSamples: true, batchSize: 1 });
  const per = 5 * r1.classes;
  assert.deepEqual(Array.from(r1.samples!.subarray(0, per)), Array.from(r2.samples!.subarray(0, per)));
  // a different seed gives different samples
  const r3 = await sampleMcDropout(model, withA, { samples: 5, seed: 8, keepSamples: true });
  assert.notDeepEqual(Array.from(r1.samples!.subarray(0, per)), Array.from(r3.samples!.subarray(0, per)));
  model.dispose();
});

test('bnMode batch makes an image depend on its batch neighbours (the study semantics)', async () => {
  const model = deepWithBnStats();
  const set = digits(8);
  const a = { count: 4, pixels: set.pixels.slice(0, 4 * 784) };
  const b = { count: 4, pixels: set.pixels.slice(0, 4 * 784) };
  b.pixels.set(set.pixels.subarray(6 * 784, 7 * 784), 784 * 3); // change one neighbour
  const ra = await sampleMcDropout(model, a, { samples: 3, seed: 2, keepSamples: true, bnMode: 'batch' });
  const rb = await sampleMcDropout(model, b, { samples: 3, seed: 2, keepSamples: true, bnMode: 'batch' });
  const per = 3 * ra.classes;
  assert.notDeepEqual(Array.from(ra.samples!.subarray(0, per)), Array.from(rb.samples!.subarray(0, per)));
  model.dispose();
});

test("dropout masks drop the layer's rate of units and scale kept units by 1/(1-p)", async () => {
  const { fillDropoutMask } = await import('../src/uq/masks');
  const out = new Float32Array(100000);
  fillDropoutMask(out, 0, out.length, 0.25, 3, 0, 0, 0);
  const dropped = out.filter((v) => v === 0).length / out.length;
  assert.ok(Math.abs(dropped - 0.25) < 0.01, `dropped fraction ${dropped}`);
  assert.ok(out.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6));
});

test('the sampler reads logits: its softmax equals the model output (no dropout drawn) and energy = -logsumexp', async () => {
  // a basic model whose Dropout rate is tiny: every mask is all ones, so the MC softmax must be
  // the model's own output (a softmax applied twice would flatten it), and energy follows
  const model = buildModel('basic', 5);
  const dropout = model.layers.find((l) => l.getClassName() === 'Dropout')!;
  (dropout as unknown as { rate: number }).rate = 1e-9;
  const input = digits(4);
  const r = await sampleMcDropout(model, input, { samples: 3, seed: 1 });
  const x = tf.tensor4d(Float32Array.from(input.pixels, (v) => v / 255), [4, 28, 28, 1]);
  const probs = (await (model.predict(x) as tf.Tensor).data()) as Float32Array;
  const last = model.layers[model.layers.length - 1];
  const hidden = tf.model({ inputs: model.inputs, outputs: model.layers[model.layers.length - 3].output as tf.SymbolicTensor });
  const [kernel, bias] = last.getWeights();
  const logits = (await tf.add(tf.matMul(hidden.predict(x) as tf.Tensor, kernel), bias).data()) as Float32Array;
  for (let i = 0; i < 4; i++) {
    for (let k = 0; k < 10; k++) assert.ok(Math.abs(r.summaries[i].meanProbs[k] - probs[i * 10 + k]) < 1e-5, `image ${i} class ${k}`);
    const z = Array.from(logits.subarray(i * 10, i * 10 + 10));
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
    assert.ok(Math.abs(r.summaries[i].energy! + lse) < 1e-4, `energy ${r.summaries[i].energy} vs ${-lse}`);
    assert.ok(Math.abs(r.summaries[i].maxLogit! - m) < 1e-4);
  }
  tf.dispose(x);
  model.dispose();
});

test('a logit of -Infinity (a class with probability 0) gives finite entropy and features', () => {
  const acc = new ChunkSamples(1, 2, 3, true);
  acc.addBlock(new Float32Array([2, -Infinity, 0, 1, -Infinity, 1]), 0, 2);
  const out: SampleSummary[] = [];
  acc.summarise(out);
  const [s] = out;
  for (const v of [s.expectedEntropy, s.predictiveEntropy, s.mutualInformation, s.energy!, s.maxLogit!]) assert.ok(Number.isFinite(v), String(v));
  assert.equal(s.meanProbs[1], 0);
  // pass 2 is an even split of two classes: entropy ln 2
  const p0 = 1 / (1 + Math.exp(-2));
  const h0 = -(p0 * Math.log(p0) + (1 - p0) * Math.log(1 - p0));
  assert.ok(Math.abs(s.expectedEntropy - (h0 + Math.LN2) / 2) < 1e-6);
});
