/** Font digits as extra training digits (`udq train --extra-digits synth-digits`): src/data/synth/digits.ts and run.ts' joining. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertMnistFramed } from './helpers/mnist-frame';
import { loadMnist } from '../src/data/mnist';
import { DIGIT_CLASSES, GLYPH_FONTS, loadDigitGlyph, loadGlyph } from '../src/data/synth/glyphs';
import { drawSynthDigit, generateSynthDigits } from '../src/data/synth/digits';
import { loadExtraDigits, withExtraDigits } from '../src/train/run';
import { splitValidation } from '../src/train/batches';
import { initBackend } from '../src/engine/backend';
import { loadPredictor } from '../src/uq/predictor';
import { DataError, UsageError } from '../src/errors';

test('loadDigitGlyph: the digits of every font family, nothing else; loadGlyph still refuses digits', () => {
  for (const fam of ['hershey', 'ems', 'woff']) {
    const f = GLYPH_FONTS.find((x) => x.id.startsWith(fam))!;
    for (const d of DIGIT_CLASSES) assert.ok(loadDigitGlyph(f, d)?.lines.length, `${f.id} ${d}`);
    assert.notDeepEqual(loadDigitGlyph(f, '1')!.lines, loadDigitGlyph(f, '7')!.lines, fam);
  }
  assert.throws(() => loadDigitGlyph(GLYPH_FONTS[0], 'a'), DataError);
  assert.throws(() => loadGlyph(GLYPH_FONTS[0], '1'), DataError);
});

test('generateSynthDigits: deterministic, labels cycle 0-9, never blank, MNIST-shaped, and read as their labels by the shipped basic model', async () => {
  const n = 200;
  const a = await generateSynthDigits({ count: n, seed: 5 });
  const b = await generateSynthDigits({ count: n, seed: 5 });
  assert.deepEqual(a.images.pixels, b.images.pixels);
  assert.notDeepEqual(a.images.pixels, (await generateSynthDigits({ count: n, seed: 6 })).images.pixels);
  assert.deepEqual(a.classNames, DIGIT_CLASSES);
  for (let i = 0; i < n; i++) assert.equal(a.labels![i], i % 10);
  assert.deepEqual(drawSynthDigit(5, 37).pixels, a.images.pixels.subarray(37 * 784, 38 * 784));
  assertMnistFramed(a.images.pixels, n);
  // the glyphs are the digits they are labelled as: a model that never saw them reads most right
  await initBackend('wasm');
  const model = await loadPredictor('models/basic');
  const pixels = Float32Array.from(a.images.pixels, (v) => v / 255);
  const { summaries } = await model.sample({ count: n, pixels, keys: new Uint32Array(n) }, { samples: 10, seed: 0 });
  const right = summaries.filter((s, i) => s.predicted === a.labels![i]).length / n;
  model.dispose();
  assert.ok(right >= 0.8, `basic model reads ${right} of the font digits as labelled`);
});

test('withExtraDigits: extra digits first, the same MNIST images held out for validation, labels kept', async () => {
  const mnist = loadMnist('train', 500);
  const extra = await generateSynthDigits({ count: 70, seed: 1 });
  const { set, valSplit } = withExtraDigits(mnist, extra, 0.1);
  assert.equal(set.images.count, 570);
  assert.deepEqual(set.images.pixels.subarray(0, 70 * 784), extra.images.pixels);
  assert.deepEqual(set.images.pixels.subarray(70 * 784), mnist.images.pixels.subarray(0, 500 * 784));
  assert.deepEqual(Array.from(set.labels!), [...Array.from(extra.labels!), ...Array.from(mnist.labels!)]);
  // validation: the last 50 images, MNIST's last 50, as without the extra digits
  assert.equal(splitValidation(set.images.count, valSplit).val, splitValidation(500, 0.1).val);
  assert.equal(splitValidation(set.images.count, withExtraDigits(mnist, extra, 0).valSplit).val, 0);
});

test('loadExtraDigits: synth-digits[:N][:CLASSES], anything else refused', async () => {
  const lines: string[] = [];
  const r = await loadExtraDigits('synth-digits:20', (l) => lines.push(l));
  assert.equal(r.set.images.count, 20);
  assert.equal(r.source, 'synth-digits');
  assert.match(lines[0], /20 images of synth-digits/);
  // a class selection keeps the same images of the unselected set, nothing else
  const cases: Array<[string, number[]]> = [['synth-digits:30:-6', [0, 1, 2, 3, 4, 5, 7, 8, 9]], ['synth-digits:30:1+4', [1, 4]], ['synth-digits:30:-0+6+9', [1, 2, 3, 4, 5, 7, 8]]];
  const all = await generateSynthDigits({ count: 30, seed: 7001 });
  for (const [spec, kept] of cases) {
    const s = await loadExtraDigits(spec, () => {});
    const idx = Array.from(all.labels!.keys()).filter((i) => kept.includes(all.labels![i]));
    assert.equal(s.set.images.count, idx.length, spec);
    assert.deepEqual(Array.from(s.set.labels!), idx.map((i) => all.labels![i]), spec);
    for (let k = 0; k < idx.length; k++) assert.deepEqual(s.set.images.pixels.subarray(k * 784, (k + 1) * 784), all.images.pixels.subarray(idx[k] * 784, (idx[k] + 1) * 784), `${spec} image ${k}`);
    assert.equal(s.source, `synth-digits:${spec.split(':')[2]}`);
  }
  for (const bad of ['synth-letters', 'synth-digits:5', 'synth-digits:x', 'mnist', 'synth-digits:30:a', 'synth-digits:30:12', 'synth-digits:-']) await assert.rejects(loadExtraDigits(bad, () => {}), UsageError, bad);
});
