/**
 * ONNX export and the ort sampling engine (issue #10): TF padding, the SIMD mask kernel
 * against the reference masks, exported graphs against tfjs on real MNIST test digits (both
 * shipped architectures and a model built to hit every fold case), the ort sampler's
 * features against the tfjs sampler's, engine selection, and `udq export` end to end.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { initBackend } from '../src/engine/backend';
import { pickEngine } from '../src/engine/engine';
import { loadModel } from '../src/models/store';
import { buildModel } from '../src/models/architectures';
import { loadMnist } from '../src/data/mnist';
import { tfPads, tfjsToOnnx } from '../src/onnx/from-tfjs';
import { decodeModel } from '../src/onnx/graph';
import { compareWithTfjs } from '../src/onnx/export';
import { fillDropoutMask } from '../src/uq/masks';
import { MaskKernel } from '../src/uq/kernels/mask-kernel';
import { OrtSampler } from '../src/uq/ort-sampler';
import { sampleMcDropout, McResult } from '../src/uq/mc-dropout';
import { loadPredictor } from '../src/uq/predictor';
import { mulberry32 } from '../src/random';
import { BackendError, ExitCode } from '../src/errors';
import { runCli } from './helpers/cli';

const ROOT = mkdtempSync(join(tmpdir(), 'udq-onnx-'));
const MODELS = join(__dirname, '..', 'models');

before(async () => {
  await initBackend('wasm');
});

after(() => rmSync(ROOT, { recursive: true, force: true }));

test('tfPads reproduces TensorFlow SAME padding (extra pixel at the end) and VALID', () => {
  const cases: [string, number, number, [number, number], [number, number], number[]][] = [
    ['valid', 28, 28, [3, 3], [1, 1], [0, 0, 0, 0]],
    ['same', 28, 28, [3, 3], [1, 1], [1, 1, 1, 1]],
    ['same', 24, 24, [5, 5], [2, 2], [1, 1, 2, 2]], // deep's first strided conv: 24 -> 12
    ['same', 8, 8, [5, 5], [2, 2], [1, 1, 2, 2]], // deep's second: 8 -> 4
    ['same', 27, 28, [2, 2], [2, 2], [0, 0, 1, 0]], // odd height: one pixel at the bottom only
    ['same', 5, 5, [1, 1], [1, 1], [0, 0, 0, 0]],
  ];
  for (const [padding, h, w, k, s, want] of cases) assert.deepEqual(tfPads(padding, h, w, k, s), want, `${padding} ${h}x${w} k${k} s${s}`);
});

test('the SIMD mask kernel draws exactly the reference masks (units not a multiple of 4, every rate)', () => {
  const kernel = new MaskKernel();
  const unitsList = [1, 3, 4, 5, 100, 128, 1023, 4608];
  kernel.reserve(7, unitsList);
  const random = mulberry32(11);
  for (const [k, units] of unitsList.entries()) {
    for (const rate of [0, 0.1, 0.25, 0.4, 0.5, 0.9]) {
      const seed = Math.floor(random() * 1e6);
      const rows = Array.from({ length: 7 }, (_, r) => ({ image: Math.floor(random() * 70000), sample: r * 13 }));
      const got = kernel.fill(k, rows, rate, seed, k);
      const want = new Float32Array(rows.length * units);
      rows.forEach((row, r) => fillDropoutMask(want, r * units, units, rate, seed, k, row.image, row.sample));
      assert.deepEqual(Array.from(got), Array.from(want), `units ${units}, rate ${rate}`);
      if (units >= 100 && rate > 0) {
        const dropped = got.filter((v) => v === 0).length / got.length;
        assert.ok(Math.abs(dropped - rate) < 0.08, `units ${units} rate ${rate}: dropped ${dropped}`);
      }
    }
  }
  assert.throws(() => kernel.fill(0, [{ image: 0, sample: 0 }], 1, 0, 0), /rate/);
});

/**
 * The shipped single model of each architecture: models/deep is an ensemble of deep models
 * (ensemble.json) since session 19, and ONNX export and the ort sampler take one model, so the
 * deep architecture is checked on its first member.
 */
const SHIPPED_SINGLE: Record<string, string> = { basic: join(MODELS, 'basic'), deep: join(MODELS, 'deep', 'members', 'm0') };

for (const arch of ['basic', 'deep']) {
  test(`the exported ${arch} model gives tfjs's probabilities within 1e-5 on 300 MNIST test digits`, async () => {
    const { model } = await loadModel(SHIPPED_SINGLE[arch]);
    const graph = tfjsToOnnx(model, 'full');
    const decoded = decodeModel(graph.bytes);
    assert.equal(Number(decoded.opsetImport[0].version), 13);
    const ops = new Set(decoded.graph!.node!.map((n) => n.opType));
    assert.ok(ops.has('Conv') && ops.has('Gemm') && ops.has('Softmax'), [...ops].join(','));
    assert.ok(!ops.has('BatchNormalization') && !ops.has('Dropout'), `BatchNorm folded and Dropout gone: ${[...ops]}`);
    const check = await compareWithTfjs(model, graph, 300);
    assert.ok(check, 'onnxruntime-node is installed');
    assert.ok(check.maxAbsDiff < 1e-5, `max abs diff ${check.maxAbsDiff}`);
    assert.equal(check.sameArgmax, 300);
    model.dispose();
  });
}

test('every fold case (linear and ReLU convs, negative BatchNorm scales, Dense + BN, SAME pooling) matches tfjs', async () => {
  const random = mulberry32(5);
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.batchNormalization({}),
      tf.layers.conv2d({ filters: 5, kernelSize: 4, strides: 3, padding: 'same', activation: 'linear' }),
      tf.layers.batchNormalization({}),
      tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
      tf.layers.batchNormalization({ center: false }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 12, activation: 'relu' }),
      tf.layers.batchNormalization({}),
      tf.layers.dropout({ rate: 0.3 }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  // random BatchNorm statistics, half of the scales negative
  for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    layer.setWeights(layer.getWeights().map((w, i, all) => {
      const values = Float32Array.from({ length: w.size }, () => random());
      const isVariance = i === all.length - 1;
      return tf.tensor(values.map((v) => (isVariance ? 0.2 + v : i === 0 ? (v - 0.5) * 3 : v - 0.5)), w.shape);
    }));
  }
  const graph = tfjsToOnnx(model, 'full');
  const check = await compareWithTfjs(model, graph, 100);
  assert.ok(check && check.maxAbsDiff < 1e-5, `max abs diff ${check?.maxAbsDiff}`);
  // and the sampler on it: the first Dropout comes after a flat Dense here
  const sampler = await OrtSampler.create(ort, model);
  const input = mnistInput(40);
  assertSameFeatures(await sampler.sample(input, { samples: 16, seed: 2, keepSamples: true }), await sampleMcDropout(model, input, { samples: 16, seed: 2, keepSamples: true }), 'built model');
  await sampler.dispose();
  model.dispose();
});

test('a layer ONNX export does not know is named in the error', () => {
  const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 2, kernelSize: 3 }), tf.layers.globalMaxPooling2d({}), tf.layers.dense({ units: 10 })] });
  assert.throws(() => tfjsToOnnx(model, 'full'), /GlobalMaxPooling2D/);
  assert.throws(() => tfjsToOnnx(model, 'suffix'), /no Dropout/);
  model.dispose();
});

function mnistInput(count: number) {
  const test = loadMnist('test', count);
  return { count, pixels: test.images.pixels.subarray(0, count * 784) };
}

function assertSameFeatures(a: McResult, b: McResult, what: string): void {
  let maxSample = 0;
  for (let i = 0; i < a.samples!.length; i++) maxSample = Math.max(maxSample, Math.abs(a.samples![i] - b.samples![i]));
  assert.ok(maxSample < 1e-5, `${what}: max sample diff ${maxSample}`);
  assert.equal(a.summaries.length, b.summaries.length);
  let maxFeature = 0;
  let compared = 0;
  a.summaries.forEach((s, i) => {
    const t = b.summaries[i] as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(s)) {
      const w = t[k];
      if (typeof v === 'number') {
        maxFeature = Math.max(maxFeature, Math.abs(v - (w as number)));
        compared++;
      } else if (v instanceof Float32Array || v instanceof Float64Array || Array.isArray(v)) {
        for (let j = 0; j < v.length; j++) maxFeature = Math.max(maxFeature, Math.abs((v[j] as number) - (w as number[])[j]));
        compared++;
      }
    }
  });
  assert.ok(compared > a.summaries.length * 5, `${what}: features compared`);
  assert.ok(maxFeature < 1e-4, `${what}: max feature diff ${maxFeature}`);
}

for (const arch of ['basic', 'deep']) {
  test(`the ort sampler reproduces the tfjs sampler's features on the shipped ${arch} model (same seed, keys, offsets)`, async () => {
    const { model } = await loadModel(SHIPPED_SINGLE[arch]);
    const sampler = await OrtSampler.create(ort, model);
    const input = mnistInput(70);
    const opts = { samples: 24, seed: 9, keepSamples: true, indexOffset: 1000 };
    const a = await sampler.sample(input, opts);
    assertSameFeatures(a, await sampleMcDropout(model, input, opts), arch);
    // energy and max logit come from the logits, as in tfjs
    assert.equal(typeof a.summaries[0].energy, 'number');
    // an image's samples depend on its key and the seed, not on its batch neighbours
    const px = (from: number, to: number) => input.pixels.subarray(from * 784, to * 784);
    const single = await sampler.sample({ count: 1, pixels: px(3, 4), keys: [5] }, { samples: 8, seed: 9, keepSamples: true });
    const inBatch = await sampler.sample({ count: 4, pixels: px(0, 4), keys: [1, 2, 3, 5] }, { samples: 8, seed: 9, keepSamples: true });
    assert.deepEqual(Array.from(single.samples!), Array.from(inBatch.samples!.subarray(3 * 80, 4 * 80)));
    const reseeded = await sampler.sample({ count: 1, pixels: px(3, 4), keys: [5] }, { samples: 8, seed: 10, keepSamples: true });
    assert.notDeepEqual(Array.from(single.samples!), Array.from(reseeded.samples!));
    // the naive sampler (whole network per pass) draws the same samples
    const few = { count: 6, pixels: input.pixels.subarray(0, 6 * 784) };
    assertSameFeatures(await sampler.sample(few, { samples: 5, seed: 3, method: 'naive', keepSamples: true }), await sampler.sample(few, { samples: 5, seed: 3, keepSamples: true }), `${arch} naive vs cached`);
    await assert.rejects(sampler.sample(input, { samples: 4, seed: 1, bnMode: 'batch' }), /inference/);
    await sampler.dispose();
    model.dispose();
  });
}

test('the ort sampler reproduces the tfjs sampler on deep-wide (twice the filters; a freshly built model, same seed, keys, offsets)', async () => {
  const model = buildModel('deep-wide', 31);
  const sampler = await OrtSampler.create(ort, model);
  const input = mnistInput(20);
  const opts = { samples: 12, seed: 4, keepSamples: true, indexOffset: 500 };
  const a = await sampler.sample(input, opts);
  assertSameFeatures(a, await sampleMcDropout(model, input, opts), 'deep-wide');
  await sampler.dispose();
  model.dispose();
});

test('the shipped deep ensemble samples the same on ort as on tfjs (every member, same seed, keys, offsets)', async () => {
  const onOrt = await loadPredictor(join(MODELS, 'deep'), { engine: 'ort' });
  const onTfjs = await loadPredictor(join(MODELS, 'deep'), { engine: 'tfjs' });
  assert.equal(onOrt.kind, 'ensemble');
  const k = onOrt.members!;
  const manifest = JSON.parse(readFileSync(join(MODELS, 'deep', 'ensemble.json'), 'utf8')) as { K: number };
  assert.ok(k >= 2 && k === manifest.K && onTfjs.members === k, `members: ${k} on ort, ${onTfjs.members} on tfjs, ${manifest.K} in ensemble.json`);
  const input = mnistInput(30);
  const opts = { samples: 8, seed: 5, keepSamples: true, indexOffset: 2000 };
  const a = await onOrt.sample(input, opts);
  const b = await onTfjs.sample(input, opts);
  assert.equal(a.samples!.length, 30 * 8 * k * 10, `8 passes in each of the ${k} members`);
  let maxSample = 0;
  for (let i = 0; i < a.samples!.length; i++) maxSample = Math.max(maxSample, Math.abs(a.samples![i] - b.samples![i]));
  assert.ok(maxSample < 1e-5, `max sample difference ${maxSample}`);
  assert.equal(onOrt.engine, 'ort');
  assert.equal(a.energies!.length, 30 * 8 * k);
  for (let i = 0; i < a.energies!.length; i++) assert.ok(Math.abs(a.energies![i] - b.energies![i]) < 1e-4, `energy of pass ${i}`);
  for (let i = 0; i < 30; i++) {
    for (const key of ['predictiveEntropy', 'mutualInformation', 'meanStd', 'energy', 'maxLogit'] as const) {
      assert.ok(Math.abs((a.summaries[i][key] as number) - (b.summaries[i][key] as number)) < 1e-4, `image ${i} ${key}`);
    }
  }
  onOrt.dispose();
  onTfjs.dispose();
});

test('engine choice: ort when it loads, UDQ_ENGINE and the option force one, unknown names are refused', async () => {
  const saved = process.env.UDQ_ENGINE;
  try {
    delete process.env.UDQ_ENGINE;
    assert.equal(pickEngine().engine, 'ort');
    assert.equal(pickEngine('tfjs').engine, 'tfjs');
    process.env.UDQ_ENGINE = 'tfjs';
    assert.equal(pickEngine().engine, 'tfjs');
    assert.equal(pickEngine('ort').engine, 'ort');
    assert.throws(() => pickEngine('onnx'), BackendError);
    const p = await loadPredictor(join(MODELS, 'basic'), { engine: 'ort' });
    assert.equal(p.engine, 'ort');
    p.dispose();
    const q = await loadPredictor(join(MODELS, 'basic'));
    assert.equal(q.engine, 'tfjs');
    q.dispose();
  } finally {
    if (saved === undefined) delete process.env.UDQ_ENGINE;
    else process.env.UDQ_ENGINE = saved;
  }
  const info = await runCli(['info', '--json']);
  assert.equal(JSON.parse(info.stdout).engine.engine, process.env.UDQ_ENGINE ?? 'ort');
});

test('udq export writes a checked ONNX file, refuses to overwrite it, and names a missing model', async () => {
  const out = join(ROOT, 'deep.onnx');
  const r = await runCli(['export', '--model', SHIPPED_SINGLE.deep, '--out', out, '--check', '50', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.ok(j.check.maxAbsDiff < 1e-5 && j.check.sameArgmax === 50, JSON.stringify(j.check));
  assert.deepEqual(j.input, { name: 'image', shape: ['N', 1, 28, 28] });
  assert.ok(!j.out.startsWith('/'), `relative path in the output: ${j.out}`);
  // the file is a model onnxruntime runs on its own
  const session = await ort.InferenceSession.create(readFileSync(out));
  const input = mnistInput(5);
  const probs = (await session.run({ image: new ort.Tensor('float32', Float32Array.from(input.pixels, (v) => v / 255), [5, 1, 28, 28]) })).probabilities.data as Float32Array;
  const labels = loadMnist('test', 5).labels!;
  for (let i = 0; i < 5; i++) {
    const row = Array.from(probs.subarray(i * 10, i * 10 + 10));
    assert.equal(row.indexOf(Math.max(...row)), labels[i], `digit ${i}`);
  }
  await session.release();
  const again = await runCli(['export', '--model', SHIPPED_SINGLE.deep, '--out', out]);
  assert.equal(again.code, ExitCode.exists);
  assert.match(again.stderr, /--force/);
  const missing = await runCli(['export', '--model', join(ROOT, 'nope'), '--out', join(ROOT, 'x.onnx')]);
  assert.equal(missing.code, ExitCode.model);
  assert.ok(!existsSync(join(ROOT, 'x.onnx')));
  // without --model: the default models/deep is an ensemble, so its first member is exported, and said
  const defaultOut = join(ROOT, 'default.onnx');
  const byDefault = await runCli(['export', '--out', defaultOut, '--check', '0']);
  assert.equal(byDefault.code, 0, byDefault.stderr);
  assert.match(byDefault.stderr, /models\/deep is an ensemble: exporting its first member, models\/deep\/members\/m0/);
  assert.deepEqual(readFileSync(defaultOut), readFileSync(out));
  // an ensemble is K models: export names a member to pass instead of a missing udq.json
  const ensemble = await runCli(['export', '--model', join(MODELS, 'deep'), '--out', join(ROOT, 'x.onnx')]);
  assert.equal(ensemble.code, ExitCode.model);
  assert.match(ensemble.stderr, /^udq: models\/deep is an ensemble \(ensemble\.json\), and this command takes one model: pass one of its members instead, e\.g\. models\/deep\/members\/m0$/m);
  assert.ok(!existsSync(join(ROOT, 'x.onnx')));
});

test('evaluate gives the same gate numbers with --engine ort and --engine tfjs', async () => {
  const run = async (engine: string) => {
    const r = await runCli(['evaluate', '--model', join(MODELS, 'basic'), '--adversary', 'omniglot-dev', '--limit', '150', '--samples', '20', '--engine', engine, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const a = await run('ort');
  const b = await run('tfjs');
  assert.equal(a.engine, 'ort');
  assert.equal(b.engine, 'tfjs');
  for (const k of ['auroc', 'fpr95', 'acceptRejectAccuracy', 'digitAcceptRate', 'adversaryRejectRate']) {
    assert.ok(Math.abs(a.ood[k] - b.ood[k]) < 1e-3, `${k}: ort ${a.ood[k]}, tfjs ${b.ood[k]}`);
  }
});
