/** `udq predict` on folders, with --ink, --number and --save-preprocessed (issue #9). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli } from './helpers/cli';
import { loadMnist } from '../src/data/mnist';
import { renderPhoto } from './helpers/photo';
import { formatCountProgress } from '../src/cli/count-progress';
import { collectPictureFiles } from '../src/predict/predict';
import { PACKAGE_ROOT } from '../src/paths';
import { ExitCode } from '../src/errors';
import { readGate } from '../src/gate/gate-file';

let tmp: string;
const MODEL = join(PACKAGE_ROOT, 'models', 'basic');
const train = loadMnist('train', 200);

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'udq-predict-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('collectPictureFiles walks folders (sorted, recursive, pictures only, hidden skipped) and keeps plain files', () => {
  const d = join(tmp, 'walk');
  mkdirSync(join(d, 'sub'), { recursive: true });
  mkdirSync(join(d, '.hidden'));
  for (const f of ['b.png', 'a.JPG', 'notes.txt', 'sub/c.webp', '.hidden/x.png']) writeFileSync(join(d, f), '');
  assert.deepEqual(collectPictureFiles([d, 'missing.png']), [join(d, 'a.JPG'), join(d, 'b.png'), join(d, 'sub', 'c.webp'), 'missing.png']);
});

test('formatCountProgress: bar, counts, rate and ETA', () => {
  assert.equal(formatCountProgress('predict', 50, 200, 10, 8), 'predict [##------] 50/200 5.0/s ETA 30s');
  assert.equal(formatCountProgress('predict', 200, 200, 10, 8), 'predict [########] 200/200 20.0/s ETA 0s');
});

test('predict DIR: every picture in it, MNIST exports and black-on-white scans alike; --save-preprocessed', async () => {
  const d = join(tmp, 'mixed');
  mkdirSync(d);
  const labels: Record<string, number> = {};
  for (let i = 0; i < 6; i++) {
    const digit = train.images.pixels.slice(i * 784, (i + 1) * 784);
    const group = i % 2 ? 'mnist-png' : 'scan';
    const pic = await renderPhoto({ group, seed: i, digits: [digit] });
    const name = `${group}-${i}.png`;
    writeFileSync(join(d, name), pic.data);
    labels[name] = train.labels![i];
  }
  const pre = join(tmp, 'seen');
  const r = await runCli(['predict', '--model', MODEL, '--samples', '20', '--format', 'json', '--save-preprocessed', pre, d]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.predictions.length, 6);
  const right = out.predictions.filter((p: { file: string; digit: number }) => p.digit === labels[p.file.split('/').pop()!]).length;
  assert.ok(right >= 5, `${right} of 6 read right`);
  assert.equal(readdirSync(pre).filter((f) => f.endsWith('.28x28.png')).length, 6);
});

test('--ink forces the polarity: a white-on-black export read as dark ink is mostly ink', async () => {
  const f = join(tmp, 'export.png');
  await sharp(Buffer.from(train.images.pixels.slice(0, 784)), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(f);
  const auto = JSON.parse((await runCli(['predict', '--model', MODEL, '--samples', '10', '--format', 'json', f])).stdout);
  assert.equal(auto.predictions[0].digit, train.labels![0]);
  const forced = JSON.parse((await runCli(['predict', '--model', MODEL, '--samples', '10', '--format', 'json', '--ink', 'dark', f])).stdout);
  assert.equal(forced.predictions[0].verdict, 'rejected');
  assert.match(forced.predictions[0].reason, /invalid-input/);
  const bad = await runCli(['predict', '--model', MODEL, '--ink', 'purple', f]);
  assert.equal(bad.code, ExitCode.usage);
});

test('--number: digits left to right with a verdict each (table and json); an empty folder is a usage error', async () => {
  const digits = [3, 4, 5].map((i) => train.images.pixels.slice(i * 784, (i + 1) * 784));
  const truth = [3, 4, 5].map((i) => train.labels![i]).join('');
  const f = join(tmp, 'number.png');
  writeFileSync(f, (await renderPhoto({ group: 'scan', seed: 8, digits, gap: 0.3 })).data);
  const j = await runCli(['predict', '--model', MODEL, '--samples', '20', '--number', '--format', 'json', f]);
  assert.equal(j.code, 0, j.stderr);
  const p = JSON.parse(j.stdout).predictions[0];
  assert.equal(p.number, truth);
  assert.equal(p.digits.length, 3);
  assert.ok(p.digits.every((d: { pixels?: unknown }) => d.pixels === undefined), 'no pixel arrays in JSON');
  // the gate the digits were judged with: its number threshold when it has one
  const gate = readGate(MODEL)!;
  assert.equal(JSON.parse(j.stdout).gate.threshold, gate.number?.threshold ?? gate.threshold);
  const t = await runCli(['predict', '--model', MODEL, '--samples', '20', '--number', f]);
  assert.match(t.stdout, new RegExp(`\\b${truth}\\b`));
  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  assert.equal((await runCli(['predict', '--model', MODEL, empty])).code, ExitCode.usage);
});

test('every refusal explains itself: reasonDetail (check, value, threshold) in JSON and CSV, its short form in the table; refused pictures are saved too', async () => {
  const d = join(tmp, 'refused');
  mkdirSync(d);
  // blank grey paper (the input check) and a drawn digit (taken)
  await sharp({ create: { width: 240, height: 200, channels: 3, background: { r: 200, g: 198, b: 190 } } }).png().toFile(join(d, 'blank.png'));
  writeFileSync(join(d, 'digit.png'), (await renderPhoto({ group: 'thin-drawing', seed: 3, digits: [train.images.pixels.slice(0, 784)] })).data);
  const pre = join(tmp, 'refused-seen');
  const j = await runCli(['predict', '--model', MODEL, '--samples', '10', '--format', 'json', '--save-preprocessed', pre, d]);
  assert.equal(j.code, 0, j.stderr);
  const preds = JSON.parse(j.stdout).predictions as { file: string; verdict: string; reason?: string; reasonDetail?: { check: string; value: number; threshold: number; message: string } }[];
  const blank = preds.find((p) => p.file.endsWith('blank.png'))!;
  assert.equal(blank.verdict, 'rejected');
  assert.equal(blank.reason, 'invalid-input:blank');
  assert.equal(blank.reasonDetail?.check, 'stroke-found');
  assert.equal(typeof blank.reasonDetail?.value, 'number');
  assert.equal(typeof blank.reasonDetail?.threshold, 'number');
  assert.match(blank.reasonDetail!.message, /no stroke found/);
  for (const p of preds) assert.equal(p.verdict !== 'digit', p.reasonDetail !== undefined, `${p.file}: a reasonDetail exactly when rejected`);
  assert.deepEqual(readdirSync(pre).sort(), ['blank.28x28.png', 'digit.28x28.png']);
  const table = await runCli(['predict', '--model', MODEL, '--samples', '10', join(d, 'blank.png')]);
  assert.match(table.stdout, /why \(measured\)/);
  assert.match(table.stdout, /no stroke found/);
  const csv = await runCli(['predict', '--model', MODEL, '--samples', '10', '--format', 'csv', join(d, 'blank.png')]);
  assert.match(csv.stdout.split('\n')[0], /reason,reasonDetail,digit/);
  assert.match(csv.stdout, /no stroke found/);
});
