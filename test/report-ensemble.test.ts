/**
 * `udq report --model ENSEMBLE`: a 2-member ensemble trained here on 300 images (1 epoch),
 * calibrated, then reported in `disagreement` mode (baseline: member m0 alone, dropout off)
 * and in `mc` mode (baseline: the members with dropout off). About 25 s on 2 cores, most of it
 * the members' evaluation on the MNIST test images during training.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli } from './helpers/cli';
import { initBackend } from '../src/engine/backend';
import { loadMnist } from '../src/data/mnist';
import { memberDir } from '../src/models/ensemble';
import { loadModel } from '../src/models/store';
import { deterministicProbabilities } from '../src/uq/ensemble';
import { csvColumns, PLOTS } from '../src/report/build';

const ROOT = mkdtempSync(join(tmpdir(), 'udq-report-ensemble-'));
const ENS = join(ROOT, 'ens');
const savedDataDir = process.env.UDQ_DATA_DIR;
const savedMode = process.env.UDQ_ENSEMBLE_MODE;

before(async () => {
  process.env.UDQ_DATA_DIR = join(ROOT, 'data');
  delete process.env.UDQ_ENSEMBLE_MODE;
  await initBackend('wasm');
  const t = await runCli(['train', '--arch', 'basic', '--ensemble', '2', '--limit', '300', '--epochs', '1', '--batch-size', '32', '--seed', '5', '--out', ENS, '--backend', 'wasm']);
  assert.equal(t.code, 0, t.stderr);
  assert.ok(existsSync(join(ENS, 'ensemble.json')) && existsSync(join(ENS, 'members', 'm1', 'model.json')));
  const c = await runCli(['calibrate', '--model', ENS, '--adversary', 'synth-letters', '--features', 'std', '--samples', '3', '--limit', '100', '--backend', 'wasm']);
  assert.equal(c.code, 0, c.stderr);
});

after(() => {
  if (savedDataDir === undefined) delete process.env.UDQ_DATA_DIR;
  else process.env.UDQ_DATA_DIR = savedDataDir;
  if (savedMode === undefined) delete process.env.UDQ_ENSEMBLE_MODE;
  else process.env.UDQ_ENSEMBLE_MODE = savedMode;
  rmSync(ROOT, { recursive: true, force: true });
});

/** features.csv as rows of column -> value. */
function readCsv(file: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
  assert.deepEqual(header.split(','), csvColumns());
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [csvColumns()[i], v])));
}

const expectedFiles = [...PLOTS.flatMap((p) => [`${p}.svg`, `${p}.png`]), 'features.csv', 'report.md'].sort();
const DISAGREEMENT_OUT = join(ROOT, 'reports', 'disagreement');
const LIMIT = 60;

test('udq report --model ENSEMBLE (disagreement): every plot, one CSV row per image, report.md about the ensemble; baseline = member m0 alone', async () => {
  const r = await runCli(['report', '--model', ENS, '--adversary', 'synth-letters', '--out', DISAGREEMENT_OUT, '--limit', String(LIMIT), '--backend', 'wasm', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.deepEqual(summary.sampling, { kind: 'ensemble', members: 2, ensembleMode: 'disagreement' });
  assert.deepEqual(summary.noDropout, { source: 'member', member: 'members/m0', passes: 2, maxAbsDiff: 0 });
  assert.equal(summary.digits, LIMIT);
  assert.equal(summary.adversary, LIMIT);
  assert.deepEqual(readdirSync(DISAGREEMENT_OUT).sort(), expectedFiles);
  for (const p of PLOTS) {
    const meta = await sharp(join(DISAGREEMENT_OUT, `${p}.png`)).metadata();
    assert.equal(meta.format, 'png');
    const stats = await sharp(join(DISAGREEMENT_OUT, `${p}.png`)).stats();
    assert.ok(stats.channels.some((c) => c.stdev > 10), `${p}.png is not blank`);
  }

  const rows = readCsv(join(DISAGREEMENT_OUT, 'features.csv'));
  assert.equal(rows.length, 2 * LIMIT);
  assert.equal(rows.filter((row) => row.set === 'digits').length, LIMIT);
  assert.equal(rows.filter((row) => row.set === 'synth-letters').length, LIMIT);
  // two independently trained members disagree: a spread without any dropout
  assert.ok(rows.filter((row) => Number(row.meanStd) > 0).length > LIMIT, 'most images have a nonzero spread across members');
  // the baseline column is member m0's plain softmax
  const m0 = await loadModel(memberDir(ENS, 0));
  try {
    const digits = loadMnist('test', LIMIT);
    const probs = deterministicProbabilities(m0.model, digits.images);
    for (let i = 0; i < LIMIT; i++) {
      const max = Math.max(...probs.subarray(i * 10, (i + 1) * 10));
      assert.ok(Math.abs(Number(rows[i].maxMeanNoDropout) - max) < 1e-4, `digit ${i}: csv ${rows[i].maxMeanNoDropout}, member m0 ${max}`);
    }
  } finally {
    m0.model.dispose();
  }

  const md = readFileSync(join(DISAGREEMENT_OUT, 'report.md'), 'utf8');
  assert.match(md, /an ensemble of 2 basic members, sampled in `disagreement` mode/);
  assert.match(md, /\| sampling \| ensemble disagreement: one deterministic softmax .* per member, 2 samples per image/);
  assert.match(md, /This is an \*\*ensemble\*\* of 2 members sampled in `disagreement` mode/);
  assert.match(md, /Lower panel: a single network without dropout, for comparison: `members\/m0` alone runs 2 passes per image/);
  assert.match(md, /\| gate \(std features\) \| ensemble disagreement \| \d\.\d{4} \|/);
  assert.match(md, /\| max softmax, m0 alone, dropout off \| m0 alone, dropout off \| \d\.\d{4} \|/);
  for (const p of PLOTS) assert.ok(md.includes(`](${p}.png)`), `report.md links ${p}.png`);
  const svg = readFileSync(join(DISAGREEMENT_OUT, 'uncertainty-histograms.svg'), 'utf8');
  assert.match(svg, /ensemble disagreement: 2 members, one softmax each per image/);
  assert.match(svg, /members\/m0 alone, 2 passes per image with dropout off/);
});

test('udq report --model ENSEMBLE with UDQ_ENSEMBLE_MODE=mc: K x N samples; baseline = the members with dropout off (the disagreement samples)', async () => {
  const out = join(ROOT, 'reports', 'mc');
  const limit = 30;
  process.env.UDQ_ENSEMBLE_MODE = 'mc';
  let r;
  try {
    r = await runCli(['report', '--model', ENS, '--adversary', 'synth-letters', '--out', out, '--samples', '3', '--limit', String(limit), '--figures', join(ROOT, 'no-figures'), '--backend', 'wasm', '--json']);
  } finally {
    delete process.env.UDQ_ENSEMBLE_MODE;
  }
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.deepEqual(summary.sampling, { kind: 'ensemble', members: 2, ensembleMode: 'mc' });
  assert.deepEqual(summary.noDropout, { source: 'ensemble', passes: 2 });
  assert.deepEqual(readdirSync(out).sort(), expectedFiles.filter((f) => !f.startsWith('figures.')));

  const rows = readCsv(join(out, 'features.csv'));
  assert.equal(rows.length, 2 * limit);
  // the dropout-off baseline is the ensemble in disagreement mode: the same max softmax as the
  // disagreement report's samples for the same digits
  const disagreement = readCsv(join(DISAGREEMENT_OUT, 'features.csv'));
  for (let i = 0; i < limit; i++) assert.equal(rows[i].maxMeanNoDropout, disagreement[i].maxMean, `digit ${i}`);

  const md = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(md, /an ensemble of 2 basic members, sampled in `mc` mode/);
  assert.match(md, /ensemble \+ MC dropout: 3 MC-dropout passes inside each of the 2 members \(6 samples per image\)/);
  assert.match(md, /Lower panel: the same 2 members with dropout off/);
  assert.match(md, /\| max softmax, ensemble, dropout off \| ensemble, dropout off \| \d\.\d{4} \|/);
  assert.match(readFileSync(join(out, 'uncertainty-histograms.svg'), 'utf8'), /ensemble \+ MC dropout: 2 members x 3 stochastic passes per image/);
});
