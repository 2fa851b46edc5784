/**
 * The wasm gradient kernels we register must match the cpu backend's gradients
 * (tfjs's reference implementation) within 1e-4 relative, on random inputs.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../src/engine/wasm-kernels';
import { relError } from './helpers/compare';

before(async () => {
  registerWasmKernels();
  assert.ok(await tf.setBackend('wasm'));
  assert.ok(await tf.setBackend('cpu'));
});


/** Run `fn` on a backend with the same input values, returning plain arrays. */
async function onBackend<T extends tf.Tensor[]>(name: string, fn: () => T): Promise<Float32Array[]> {
  await tf.setBackend(name);
  const outs = tf.tidy(fn);
  const values = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(outs);
  return values;
}

function seededValues(shape: number[], seed: number): Float32Array {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

const CONV_CASES: { name: string; x: [number, number, number, number]; k: number; cout: number; stride: number; pad: 'valid' | 'same' }[] = [
  { name: '3x3 stride 1 valid', x: [3, 10, 10, 2], k: 3, cout: 4, stride: 1, pad: 'valid' },
  { name: '3x3 stride 1 same', x: [2, 9, 9, 3], k: 3, cout: 5, stride: 1, pad: 'same' },
  { name: '5x5 stride 2 same (deep model block end)', x: [2, 12, 12, 4], k: 5, cout: 3, stride: 2, pad: 'same' },
  { name: '5x5 stride 2 same, odd input', x: [2, 11, 11, 2], k: 5, cout: 3, stride: 2, pad: 'same' },
  { name: '3x3 stride 2 valid, odd input', x: [2, 11, 11, 2], k: 3, cout: 3, stride: 2, pad: 'valid' },
  { name: '4x4 stride 2 valid, even input (unused tail row)', x: [1, 10, 10, 2], k: 4, cout: 2, stride: 2, pad: 'valid' },
  { name: '1x1 stride 2 valid (phases without filter taps)', x: [2, 7, 7, 3], k: 1, cout: 2, stride: 2, pad: 'valid' },
  { name: '3x3 stride 3 same', x: [2, 10, 10, 2], k: 3, cout: 3, stride: 3, pad: 'same' },
  { name: '2x2 stride 2 valid, odd input', x: [2, 9, 9, 2], k: 2, cout: 4, stride: 2, pad: 'valid' },
  { name: '4x4 stride 1 valid to 1x1 (deep model last conv)', x: [3, 4, 4, 6], k: 4, cout: 7, stride: 1, pad: 'valid' },
];

for (const c of CONV_CASES) {
  test(`Conv2D gradient on wasm matches cpu: ${c.name}`, async () => {
    const fShape = [c.k, c.k, c.x[3], c.cout];
    const xv = seededValues(c.x, 1);
    const fv = seededValues(fShape, 2);
    const grads = () => {
      const x = tf.tensor4d(xv, c.x);
      const f = tf.tensor4d(fv, fShape as [number, number, number, number]);
      const y = tf.conv2d(x, f, c.stride, c.pad);
      const w = tf.tensor(seededValues(y.shape, 3), y.shape);
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), w)));
      return g([x, f]);
    };
    const [cpuDx, cpuDf] = await onBackend('cpu', grads);
    const [wasmDx, wasmDf] = await onBackend('wasm', grads);
    assert.ok(relError(wasmDx, cpuDx) < 1e-4, `dx rel error ${relError(wasmDx, cpuDx)}`);
    assert.ok(relError(wasmDf, cpuDf) < 1e-4, `dfilter rel error ${relError(wasmDf, cpuDf)}`);
  });

  test(`Conv2DBackpropFilter kernel on wasm matches cpu: ${c.name}`, async () => {
    const fShape = [c.k, c.k, c.x[3], c.cout] as [number, number, number, number];
    const xv = seededValues(c.x, 4);
    const run = () => {
      const x = tf.tensor4d(xv, c.x);
      const yShape = tf.conv2d(x, tf.zeros(fShape) as tf.Tensor4D, c.stride, c.pad).shape;
      const dy = tf.tensor(seededValues(yShape, 5), yShape);
      const out = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
        strides: [c.stride, c.stride],
        pad: c.pad,
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
        filterShape: fShape,
      } as never) as tf.Tensor;
      return [out];
    };
    const [cpu] = await onBackend('cpu', run);
    const [wasm] = await onBackend('wasm', run);
    assert.ok(relError(wasm, cpu) < 1e-4, `rel error ${relError(wasm, cpu)}`);
  });
}

test('FusedBatchNorm gradient on wasm matches cpu (training-mode batch statistics)', async () => {
  const shape = [4, 5, 5, 3];
  const xv = seededValues(shape, 7);
  const grads = () => {
    const x = tf.tensor4d(xv, shape as [number, number, number, number]);
    const gamma = tf.tensor1d([0.5, 1.5, -1]);
    const beta = tf.tensor1d([0.1, 0, -0.2]);
    const w = tf.tensor(seededValues(shape, 8), shape);
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.sum(tf.mul(tf.batchNorm(a, mean, variance, b, g, 1e-3), w));
    };
    return tf.grads(f)([x, gamma, beta]);
  };
  const cpu = await onBackend('cpu', grads);
  const wasm = await onBackend('wasm', grads);
  for (let i = 0; i < 3; i++) assert.ok(relError(wasm[i], cpu[i]) < 1e-4, `input ${i}: rel error ${relError(wasm[i], cpu[i])}`);
});

for (const [ta, tb] of [[true, false], [false, true], [true, true]] as const) {
  test(`BatchMatMul transposeA=${ta} transposeB=${tb} on wasm matches cpu`, async () => {
    const aShape = ta ? [2, 7, 5] : [2, 5, 7];
    const bShape = tb ? [2, 3, 7] : [2, 7, 3];
    const av = seededValues(aShape, 9);
    const bv = seededValues(bShape, 10);
    const run = () => [tf.matMul(tf.tensor3d(av, aShape as [number, number, number]), tf.tensor3d(bv, bShape as [number, number, number]), ta, tb)];
    const [cpu] = await onBackend('cpu', run);
    const [wasm] = await onBackend('wasm', run);
    assert.ok(relError(wasm, cpu) < 1e-5, `rel error ${relError(wasm, cpu)}`);
  });
}

const REDUCTIONS: { op: 'sum' | 'mean'; shape: number[]; axis: number[] | number; keepDims: boolean }[] = [
  { op: 'sum', shape: [4, 5, 5, 3], axis: [0, 1, 2], keepDims: false },
  { op: 'sum', shape: [4, 5, 5, 3], axis: [2, 0, 1], keepDims: true },
  { op: 'mean', shape: [4, 5, 5, 3], axis: [0, 1, 2], keepDims: true },
  { op: 'sum', shape: [7, 6], axis: 0, keepDims: false },
  { op: 'mean', shape: [7, 6], axis: [-2], keepDims: false },
  { op: 'sum', shape: [4, 5, 3], axis: [1, 2], keepDims: false }, // not leading: the original kernel
  { op: 'mean', shape: [4, 5, 3], axis: [0], keepDims: false }, // not all leading axes: the original kernel
];

for (const r of REDUCTIONS) {
  test(`${r.op} over axes ${JSON.stringify(r.axis)} of [${r.shape}] keepDims=${r.keepDims} on wasm matches cpu`, async () => {
    const v = seededValues(r.shape, 13);
    const run = () => {
      const t = tf.tensor(v, r.shape);
      const out = r.op === 'sum' ? tf.sum(t, r.axis, r.keepDims) : tf.mean(t, r.axis, r.keepDims);
      return [out, tf.tensor1d(out.shape.length ? out.shape : [0])];
    };
    const [cpu, cpuShape] = await onBackend('cpu', run);
    const [wasm, wasmShape] = await onBackend('wasm', run);
    assert.deepEqual(Array.from(wasmShape), Array.from(cpuShape));
    assert.ok(relError(wasm, cpu) < 1e-5, `rel error ${relError(wasm, cpu)}`);
  });
}

test('wasm kernels do not leak tensors during a training step', async () => {
  await tf.setBackend('wasm');
  const x = tf.tensor4d(seededValues([2, 12, 12, 2], 11), [2, 12, 12, 2]);
  const f = tf.variable(tf.tensor4d(seededValues([5, 5, 2, 3], 12), [5, 5, 2, 3]));
  const opt = tf.train.sgd(0.01);
  const step = () => opt.minimize((): tf.Scalar => {
    const y = tf.conv2d(x, f as unknown as tf.Tensor4D, 2, 'same');
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    return tf.sum(tf.square(tf.batchNorm(y, mean, variance, tf.zeros([3]), tf.ones([3]), 1e-3)));
  });
  step();
  const before = tf.memory().numTensors;
  const bytesBefore = tf.memory().numBytes;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(tf.memory().numBytes, bytesBefore);
  tf.dispose([x, f]);
});
