/**
 * Real-world inputs with the shipped deep model (issues #9, #21): MNIST-format PNG exports, scans,
 * phone-style photos (grey and coloured paper, uneven light, noise, blur, JPEG, rotation,
 * ruled lines, table edges, dust) made from MNIST *training* digits by test/helpers/photo.ts,
 * and pictures with no digit (blank paper, noise, textures). Also numbers of 2-6 digits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/engine/backend';
import { loadPredictor, Predictor } from '../src/uq/predictor';
import { readGate, GateFile } from '../src/gate/gate-file';
import { loadMnist } from '../src/data/mnist';
import { predictFiles } from '../src/predict/predict';
import { predictNumbers } from '../src/predict/number';
import { drawSynthLetter } from '../src/data/synth/letters';
import { LETTER_CLASSES } from '../src/data/synth/glyphs';
import { makeRand, PhotoGroup, renderPhoto } from './helpers/photo';
import { PACKAGE_ROOT } from '../src/paths';

const PER_GROUP = 100;
const SAMPLES = 30;

let model: Predictor;
let gate: GateFile;
let dir: string;
const train = loadMnist('train');

test.before(async () => {
  await initBackend();
  model = await loadPredictor(join(PACKAGE_ROOT, 'models', 'deep'));
  gate = readGate(model.dir)!;
  assert.ok(gate, 'models/deep has a gate');
  dir = mkdtempSync(join(tmpdir(), 'udq-real-world-'));
});

test.after(() => {
  model?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function digitAt(i: number): { pixels: Uint8Array; label: number } {
  return { pixels: train.images.pixels.slice(i * 784, (i + 1) * 784), label: train.labels![i] };
}

async function writeGroup(group: PhotoGroup, seed: number, withDigit: boolean, count = PER_GROUP): Promise<{ files: string[]; labels: number[] }> {
  const r = makeRand(seed);
  const files: string[] = [];
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    const d = digitAt(r.int(54000));
    const pic = await renderPhoto({ group, seed: seed * 1009 + i, digits: withDigit ? [d.pixels] : [] });
    const f = join(dir, `${group}-${i}.${pic.format === 'jpeg' ? 'jpg' : 'png'}`);
    writeFileSync(f, pic.data);
    files.push(f);
    labels.push(pic.label ?? d.label);
  }
  return { files, labels };
}

const opts = () => ({ samples: SAMPLES, seed: 0, gate, sanity: gate.sanity });

for (const [group, minRate] of [['mnist-png', 0.85], ['scan', 0.85], ['photo', 0.8], ['colour', 0.8]] as [PhotoGroup, number][]) {
  test(`${group}: at least ${minRate} of ${PER_GROUP} digits accepted and correct`, async () => {
    const { files, labels } = await writeGroup(group, 101 + group.length, true);
    const preds = await predictFiles(model, files, opts());
    const ok = preds.filter((p, i) => p.verdict === 'digit' && p.digit === labels[i]).length / PER_GROUP;
    const reasons = preds.filter((p) => p.verdict !== 'digit').map((p) => p.reason);
    assert.ok(ok >= minRate, `${group}: ${ok} accepted and correct (rejected: ${reasons.join(', ')})`);
  });
}

/**
 * The kinds of pictures real users bring (issue #21), by test/helpers/user-pictures.ts: the
 * thresholds sit a little under what the shipped model measured on these seeds; round zeros and
 * outlines are the model's share (styles MNIST lacks), so theirs are lower.
 */
const USER_PER_GROUP = 60;
const userGroups: [PhotoGroup, number][] = [
  ['tight-crop', 0.85],
  ['colour-paper', 0.85],
  ['thin-drawing', 0.85],
  ['outline', 0.6],
  ['corner', 0.9],
  ['dark-canvas', 0.85],
  ['round-zero', 0.5],
];
for (const [group, minRate] of userGroups) {
  test(`${group}: at least ${minRate} of ${USER_PER_GROUP} digits accepted and correct, none refused by the input check`, async (t) => {
    const { files, labels } = await writeGroup(group, 505 + group.length, true, USER_PER_GROUP);
    const preds = await predictFiles(model, files, opts());
    const ok = preds.filter((p, i) => p.verdict === 'digit' && p.digit === labels[i]).length / files.length;
    const refused = preds.filter((p) => p.reason?.startsWith('invalid-input')).map((p) => `${p.reason} (${p.reasonDetail?.short})`);
    t.diagnostic(`${group}: accepted and correct ${ok.toFixed(3)}, refused by the input check ${refused.length}`);
    assert.ok(ok >= minRate, `${group}: ${ok} accepted and correct`);
    assert.ok(refused.length <= 0.02 * files.length, `${group}: refused by the input check: ${refused.join(', ')}`);
  });
}

for (const group of ['blank', 'noise', 'texture', 'paper-texture'] as PhotoGroup[]) {
  test(`${group}: every one of ${PER_GROUP} pictures without a digit is rejected`, async () => {
    const { files } = await writeGroup(group, 202 + group.length, false);
    const preds = await predictFiles(model, files, opts());
    const accepted = preds.filter((p) => p.verdict === 'digit').map((p) => p.file);
    assert.deepEqual(accepted, [], `${group}: accepted ${accepted.length}`);
    assert.ok(preds.every((p) => p.verdict === 'rejected'));
    // every refusal says which check refused it, with its value and threshold
    assert.ok(preds.every((p) => p.reasonDetail && Number.isFinite(p.reasonDetail.value) && Number.isFinite(p.reasonDetail.threshold)));
  });
}

test('numbers of 2-6 MNIST training digits (varied spacing, some touching) are read left to right', async () => {
  const r = makeRand(303);
  const files: string[] = [];
  const truth: string[] = [];
  for (let i = 0; i < 40; i++) {
    const n = 2 + r.int(5);
    const ds = Array.from({ length: n }, () => digitAt(r.int(54000)));
    const pic = await renderPhoto({ group: i % 2 ? 'scan' : 'photo', seed: 4000 + i, digits: ds.map((d) => d.pixels), gap: r.uniform(-0.08, 0.5) });
    const f = join(dir, `number-${i}.${pic.format === 'jpeg' ? 'jpg' : 'png'}`);
    writeFileSync(f, pic.data);
    files.push(f);
    truth.push(ds.map((d) => d.label).join(''));
  }
  const res = await predictNumbers(model, files, opts());
  const read = res.filter((p, i) => p.number === truth[i]).length / files.length;
  const wrong = res.map((p, i) => (p.number === truth[i] ? '' : `${truth[i]}->${p.number ?? p.reason}`)).filter(Boolean);
  assert.ok(read >= 0.9, `read correctly: ${read} (${wrong.join(', ')})`);
});

test('the digits of a number are judged with the gate\'s number threshold (gate.number), the gate\'s own without one', async () => {
  const r = makeRand(505);
  const files: string[] = [];
  for (let i = 0; i < 4; i++) {
    const pic = await renderPhoto({ group: 'scan', seed: 6000 + i, digits: [0, 1, 2].map(() => digitAt(r.int(54000)).pixels), gap: r.uniform(0.15, 0.5) });
    files.push(join(dir, `gate-number-${i}.png`));
    writeFileSync(files[i], pic.data);
  }
  const judged = async (g: GateFile) => (await predictNumbers(model, files, { ...opts(), gate: g })).flatMap((p) => p.digits ?? []);
  const base = { ...gate, number: undefined };
  const none = await judged({ ...base, threshold: 0 });
  assert.ok(none.length >= 8 && none.every((d) => d.verdict === 'rejected'), 'threshold 0 without a number threshold: every digit refused');
  const open = await judged({ ...base, threshold: 0, number: { acceptRate: 1, threshold: 1, accepted: 1 } });
  assert.ok(open.every((d) => d.reason !== 'uncertain'), 'number threshold 1: no digit refused by the gate');
  assert.deepEqual(open.map((d) => d.gateProbability), none.map((d) => d.gateProbability), 'the same digits, the same gate probabilities');
});

test('a number with a letter in it is rejected as a whole, and says where', async () => {
  const r = makeRand(404);
  const files: string[] = [];
  const letterAt: number[] = [];
  // letters no one writes like a digit
  const letters = 'kmwxAHKMRWX'.split('').map((c) => LETTER_CLASSES.indexOf(c));
  for (let i = 0; i < 10; i++) {
    const n = 3 + r.int(3);
    const pos = r.int(n);
    const ds: Uint8Array[] = [];
    for (let k = 0; k < n; k++) {
      if (k === pos) {
        const label = letters[r.int(letters.length)];
        // drawSynthLetter cycles labels: image index label + 52 j draws that letter
        ds.push(drawSynthLetter(77, label + 52 * r.int(100)).pixels);
      } else ds.push(digitAt(r.int(54000)).pixels);
    }
    const pic = await renderPhoto({ group: 'scan', seed: 5000 + i, digits: ds, gap: r.uniform(0.15, 0.5) });
    const f = join(dir, `letter-number-${i}.png`);
    writeFileSync(f, pic.data);
    files.push(f);
    letterAt.push(pos + 1);
  }
  const res = await predictNumbers(model, files, opts());
  const accepted = res.filter((p) => p.verdict === 'number');
  assert.ok(accepted.length <= 1, `accepted ${accepted.length} of 10 numbers with a letter: ${accepted.map((p) => p.number).join(', ')}`);
  // a rejected number says why: the first refused digit's check, value and threshold
  assert.ok(res.filter((p) => p.verdict === 'rejected').every((p) => p.reasonDetail && Number.isFinite(p.reasonDetail.value)));
  const located = res.filter((p, i) => p.verdict === 'rejected' && (p.uncertainPositions ?? []).includes(letterAt[i])).length;
  assert.ok(located >= 8, `the letter's position is reported in ${located} of 10`);
});
