/**
 * The phases of a strided convolution's input gradient (src/onnx/train-graph.ts): along one
 * axis, dx computed phase by phase (a stride-1 correlation of the padded output gradient with
 * the kernel taps a Slice takes, flipped) equals dx computed straight from the definition.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inputGradientPhases, TrainLayer } from '../src/onnx/train-graph';
import { tfPads } from '../src/onnx/from-tfjs';
import { mulberry32 } from '../src/random';

type Conv = Extract<TrainLayer, { kind: 'conv' }>;

/** A square conv layer of `size` inputs, kernel k, stride s, tfjs padding. */
function convLayer(size: number, k: number, s: number, padding: 'same' | 'valid'): Conv {
  const pads = tfPads(padding, size, size, [k, k], [s, s]);
  const out = Math.floor((size + pads[0] + pads[2] - k) / s) + 1;
  return { kind: 'conv', index: 1, kernel: [k, k], strides: [s, s], pads, filters: 16, relu: true, inShape: [16, size, size], outShape: [16, out, out] };
}

/** dx[y] = sum over o, a with s o + a - p = y of dz[o] w[a] (one axis). */
function directInputGradient(dz: number[], w: number[], s: number, p: number, size: number): number[] {
  const dx = new Array<number>(size).fill(0);
  dz.forEach((d, o) => w.forEach((wa, a) => {
    const y = s * o + a - p;
    if (y >= 0 && y < size) dx[y] += d * wa;
  }));
  return dx;
}

/** The same by the phases: the Slice (start, end exclusive, step -s) and a padded correlation. */
function phasedInputGradient(dz: number[], w: number[], s: number, size: number, phases: NonNullable<ReturnType<typeof inputGradientPhases>>['rows']): number[] {
  const dx = new Array<number>(size).fill(NaN);
  phases.forEach((ph, r) => {
    const taps: number[] = [];
    const end = ph.end < 0 ? ph.end + w.length : ph.end; // ONNX: a negative end counts from the back; below 0 means "through index 0"
    for (let a = ph.start; a > end && a >= 0; a -= s) taps.push(w[a]);
    assert.equal(taps.length, ph.taps, `phase ${r}: the Slice takes ${taps.length} taps, ${ph.taps} expected`);
    const rows = dz.length + ph.padBefore + ph.padAfter - ph.taps + 1;
    assert.equal(rows, size / s, `phase ${r}: the correlation gives ${rows} rows`);
    for (let q = 0; q < rows; q++) {
      let acc = 0;
      for (let t = 0; t < ph.taps; t++) {
        const i = q + t - ph.padBefore;
        if (i >= 0 && i < dz.length) acc += dz[i] * taps[t];
      }
      dx[s * q + r] = acc;
    }
  });
  return dx;
}

const cases: [size: number, k: number, s: number, padding: 'same' | 'valid'][] = [
  [26, 3, 1, 'valid'], // deep layer 2
  [24, 5, 2, 'same'], // deep layer 3
  [8, 5, 2, 'same'], // deep layer 6
  [4, 4, 1, 'valid'], // deep layer 7
  [12, 3, 1, 'same'],
  [12, 3, 2, 'same'],
  [12, 4, 2, 'valid'],
  [12, 2, 2, 'valid'],
  [15, 3, 3, 'same'],
  [16, 5, 4, 'same'],
];

for (const [size, k, s, padding] of cases) {
  test(`input gradient by phases = the definition: ${size} inputs, kernel ${k}, stride ${s}, ${padding}`, () => {
    const L = convLayer(size, k, s, padding);
    const phases = inputGradientPhases(L);
    assert.ok(phases, 'the phases tile the input');
    assert.equal(phases.rows.length, s);
    assert.deepEqual(phases.rows, phases.cols, 'a square layer has the same phases on both axes');
    const rand = mulberry32(size * 100 + k * 10 + s);
    const dz = Array.from({ length: L.outShape[1] }, () => rand() - 0.5);
    const w = Array.from({ length: k }, () => rand() - 0.5);
    const want = directInputGradient(dz, w, s, L.pads[0], size);
    const got = phasedInputGradient(dz, w, s, size, phases.rows);
    got.forEach((v, y) => assert.ok(Math.abs(v - want[y]) < 1e-12, `dx[${y}] ${v} vs ${want[y]}`));
  });
}

test('input gradient phases: none where they do not tile the input (ConvTranspose is used)', () => {
  assert.equal(inputGradientPhases(convLayer(25, 3, 2, 'same')), undefined, 'an input that is not a multiple of the stride');
  assert.equal(inputGradientPhases(convLayer(12, 1, 2, 'valid')), undefined, 'a phase with no kernel taps');
});
