/**
 * Issue #13: outlier-exposure training and fine-tuning, its outlier sources (synth-strokes,
 * omniglot-dev, class hold-out), and the gate's threshold digits.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { runCli } from './helpers/cli';
import { initBackend } from '../src/engine/backend';
import { loadModelFiles } from '../src/models/store';
import { loadMnist } from '../src/data/mnist';
import { loadAdversary } from '../src/data/sources';
import { selectClasses, LabelledImages } from '../src/data/types';
import { digitPool, drawSynthStroke, STROKE_KINDS } from '../src/data/synth/strokes';
import { OMNIGLOT_ALPHABETS, readOmniglotZip, omniglotZipPath } from '../src/data/omniglot';
import { PACKAGE_ROOT } from '../src/paths';
import { testDigitsHalf } from '../src/gate/calibrate';
import { ExitCode } from '../src/errors';

let tmp: string;
const saved = { data: process.env.UDQ_DATA_DIR };

before(async () => {
  await initBackend('wasm');
  tmp = mkdtempSync(join(tmpdir(), 'udq-oe-'));
  process.env.UDQ_DATA_DIR = join(tmp, 'data');
});

after(() => {
  if (saved.data === undefined) delete process.env.UDQ_DATA_DIR;
  else process.env.UDQ_DATA_DIR = saved.data;
  rmSync(tmp, { recursive: true, force: true });
});

test('selectClasses keeps or drops classes by name; unknown names are usage errors', () => {
  const set: LabelledImages = {
    name: 'toy',
    images: { count: 5, rows: 28, cols: 28, pixels: Uint8Array.from({ length: 5 * 784 }, (_, i) => Math.floor(i / 784)) },
    labels: Uint8Array.from([0, 1, 2, 1, 0]),
    classNames: ['a', 'b', 'c'],
  };
  const cases: { spec: string; labels: number[]; first: number[] }[] = [
    { spec: 'b', labels: [1, 1], first: [1, 3] },
    { spec: 'a+c', labels: [0, 2, 0], first: [0, 2, 4] },
    { spec: '-a', labels: [1, 2, 1], first: [1, 2, 3] },
    { spec: '-a+b', labels: [2], first: [2] },
  ];
  for (const c of cases) {
    const r = selectClasses(set, c.spec);
    assert.deepEqual(Array.from(r.labels!), c.labels, c.spec);
    assert.deepEqual(Array.from({ length: r.images.count }, (_, i) => r.images.pixels[i * 784]), c.first, c.spec);
    assert.equal(r.name, `toy:${c.spec}`);
  }
  assert.throws(() => selectClasses(set, 'z'), /no class "z"/);
});

test('synth-strokes: deterministic, every kind in turn, MNIST-style pixels, digits only from the training part', () => {
  const train = loadMnist('train');
  const pool = digitPool(train);
  assert.ok(pool.byClass.every((ix) => ix.length > 0 && ix.every((i) => i < 54000)), 'no digit from the validation tail');
  for (let i = 0; i < STROKE_KINDS.length * 2; i++) {
    const a = drawSynthStroke(pool, 9, i);
    const b = drawSynthStroke(pool, 9, i);
    assert.equal(a.kind, STROKE_KINDS[i % STROKE_KINDS.length]);
    assert.deepEqual(a.pixels, b.pixels, 'same seed and index, same image');
    let ink = 0;
    for (const v of a.pixels) ink += v / 255;
    assert.ok(ink > 20 && ink < 400, `${a.kind}: ink ${ink}`);
  }
  assert.notDeepEqual(drawSynthStroke(pool, 9, 0).pixels, drawSynthStroke(pool, 10, 0).pixels);
});

test('omniglot-dev: the vendored zip holds 2,120 characters of three alphabets; NAME:-alphabet holds one out', async () => {
  const zip = omniglotZipPath(join(tmp, 'nowhere'));
  assert.equal(zip, join(PACKAGE_ROOT, 'data', 'omniglot-dev.zip'));
  const members = await readOmniglotZip(zip!);
  assert.equal(members.length, 2120);
  assert.deepEqual(OMNIGLOT_ALPHABETS.map((_, a) => members.filter((m) => m.alphabet === a).length), [940, 840, 340]);
  const all = await loadAdversary('omniglot-dev');
  assert.equal(all.images.count, 2120);
  const held = await loadAdversary('omniglot-dev:-tagalog');
  assert.equal(held.images.count, 1780);
  assert.ok(Array.from(held.labels!).every((l) => l !== 2));
  // converted MNIST-style: centred ink, black background
  let border = 0;
  for (let i = 0; i < 100; i++) for (let x = 0; x < 28; x++) border += all.images.pixels[i * 784 + x];
  assert.equal(border, 0, 'top rows are background');
  const verify = await runCli(['data', 'verify', 'omniglot-dev']);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});

test('outlier exposure sources: a comma list where one source leaves classes out (as the shipped deep model was trained)', async () => {
  const { loadOutlierSources } = await import('../src/train/run');
  const log: string[] = [];
  const oe = await loadOutlierSources('omniglot-dev:-tagalog,omniglot-dev:tagalog', (l) => log.push(l));
  assert.equal(oe.images.count, 1780 + 340);
  assert.deepEqual(oe.sources, ['omniglot-dev:-tagalog', 'omniglot-dev:tagalog']);
  assert.match(log[0], /1780 images of omniglot-dev:-tagalog/);
  await assert.rejects(loadOutlierSources('omniglot-dev:-klingon', () => {}), /no class "klingon"/);
});

test('a corrupt omniglot zip is a data error', async () => {
  const bad = join(tmp, 'bad.zip');
  writeFileSync(bad, 'not a zip');
  await assert.rejects(readOmniglotZip(bad), /not a readable zip/);
});

test('loadAdversary: a comma list concatenates sources', async () => {
  const a = await loadAdversary('noise', { limit: 30 });
  const both = await loadAdversary('noise,omniglot-dev:tagalog', { split: 'test' });
  assert.equal(both.images.count, (await loadAdversary('noise')).images.count + 340);
  assert.equal(both.labels, undefined);
  assert.ok(a.images.count === 30);
});

test('loadAdversary: a limit on a comma list is shared out, so every source is in it', async () => {
  const noise = await loadAdversary('noise', { split: 'test' });
  const tagalog = await loadAdversary('omniglot-dev:tagalog', { split: 'test' });
  const px = (s: LabelledImages, from: number, n: number) => s.images.pixels.subarray(from * 784, (from + n) * 784);
  const cases: { list: string; limit: number; first: [LabelledImages, number]; second: [LabelledImages, number] }[] = [
    { list: 'noise,omniglot-dev:tagalog', limit: 100, first: [noise, 50], second: [tagalog, 50] },
    { list: 'noise,omniglot-dev:tagalog', limit: 7, first: [noise, 4], second: [tagalog, 3] },
    // tagalog has 340: its share of 800 is 400, so noise gives the other 460
    { list: 'omniglot-dev:tagalog,noise', limit: 800, first: [tagalog, 340], second: [noise, 460] },
  ];
  for (const c of cases) {
    const both = await loadAdversary(c.list, { split: 'test', limit: c.limit });
    const [a, na] = c.first;
    const [b, nb] = c.second;
    assert.equal(both.images.count, c.limit, c.list);
    assert.deepEqual(px(both, 0, na), px(a, 0, na), `${c.list} ${c.limit}: the first part's first images`);
    assert.deepEqual(px(both, na, nb), px(b, 0, nb), `${c.list} ${c.limit}: then the second part's first images`);
  }
});

test('testDigitsHalf: even and odd MNIST test digits, disjoint, same labels as the test set', () => {
  const test = loadMnist('test');
  const even = testDigitsHalf('threshold', 50);
  const odd = testDigitsHalf('report', 50);
  assert.equal(even.images.count, 50);
  for (let i = 0; i < 50; i++) {
    assert.equal(even.labels![i], test.labels![2 * i]);
    assert.equal(odd.labels![i], test.labels![2 * i + 1]);
    assert.deepEqual(odd.images.pixels.subarray(i * 784, (i + 1) * 784), test.images.pixels.subarray((2 * i + 1) * 784, (2 * i + 2) * 784));
  }
});

async function maxSoftmaxOn(dir: string, set: LabelledImages): Promise<number> {
  const m = await loadModelFiles(dir);
  const x = tf.tidy(() => tf.div(tf.tensor4d(set.images.pixels, [set.images.count, 28, 28, 1], 'float32'), 255));
  const p = m.predict(x) as tf.Tensor;
  const mean = (await tf.mean(tf.max(p, 1)).data())[0];
  tf.dispose([x, p]);
  m.dispose();
  return mean;
}

test('udq train --init-from --outlier-exposure: fine-tunes, flattens the softmax on unseen outliers, records its sources', async () => {
  const base = join(tmp, 'base');
  const plain = join(tmp, 'plain');
  const oe = join(tmp, 'oe');
  const common = ['--arch', 'basic', '--limit', '3000', '--val-split', '0', '--seed', '3', '--json'];
  let r = await runCli(['train', ...common, '--epochs', '2', '--out', base]);
  assert.equal(r.code, 0, r.stderr);
  // a gate file beside the base model must not survive a retrain of that directory
  r = await runCli(['train', ...common, '--epochs', '1', '--lr', '0.001', '--init-from', base, '--out', plain]);
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(['train', ...common, '--epochs', '1', '--lr', '0.001', '--init-from', base, '--outlier-exposure', 'synth-strokes', '--out', oe]);
  assert.equal(r.code, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(join(oe, 'udq.json'), 'utf8'));
  assert.deepEqual(manifest.outlierExposure.sources, ['synth-strokes']);
  assert.equal(manifest.outlierExposure.weight, 0.5);
  assert.ok(manifest.outlierExposure.images > 1000);
  assert.match(manifest.initFrom.dir, /base$/);
  assert.ok(!manifest.initFrom.dir.startsWith('/'), 'a relative path in the manifest');
  // outliers it never saw: the test split of synth-strokes and omniglot
  const unseen = await loadAdversary('synth-strokes', { split: 'test', limit: 300 });
  const omni = await loadAdversary('omniglot-dev', { limit: 300 });
  const [pPlain, pOe] = [await maxSoftmaxOn(plain, unseen), await maxSoftmaxOn(oe, unseen)];
  assert.ok(pOe < pPlain - 0.1, `max softmax on unseen synth-strokes: OE ${pOe} vs plain ${pPlain}`);
  assert.ok((await maxSoftmaxOn(oe, omni)) < (await maxSoftmaxOn(plain, omni)), 'and on Omniglot, a source it never saw');
  // still a digit classifier
  assert.ok(manifest.testAccuracy > 0.9, `test accuracy ${manifest.testAccuracy}`);
  // the default gate reads the logit scores (energy, max logit) with the others
  const cal = await runCli(['calibrate', '--model', oe, '--samples', '10', '--limit', '200', '--json']);
  assert.equal(cal.code, 0, cal.stderr);
  const g = JSON.parse(readFileSync(join(oe, 'gate.json'), 'utf8'));
  assert.equal(g.features, 'scores');
  assert.deepEqual(g.featureNames, ['max_mean', 'predictive_entropy', 'expected_entropy', 'mutual_information', 'mean_std', 'energy', 'max_logit']);
  assert.equal(g.adversary.name, 'synth-strokes,synth-letters');
  assert.equal(g.thresholdDigits.source, 'mnist (test, even indices)');
  const arch = await runCli(['train', '--arch', 'deep', '--epochs', '1', '--init-from', base, '--out', join(tmp, 'x')]);
  assert.equal(arch.code, ExitCode.usage);
  assert.match(arch.stderr, /is a basic model, not deep/);
  assert.ok(!existsSync(join(tmp, 'x', 'model.json')));
});
