import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli';
import { ExitCode } from '../src/errors';
import { displayPath } from '../src/paths';

const USAGE_ERRORS: { args: string[]; message: RegExp }[] = [
  { args: ['train'], message: /required option '--arch/ },
  { args: ['train', '--arch', 'resnet'], message: /expected one of basic, deep/ },
  { args: ['train', '--arch', 'basic', '--epochs', '0'], message: /positive integer/ },
  { args: ['train', '--arch', 'basic', '--epochs', '1.5'], message: /positive integer/ },
  { args: ['train', '--arch', 'basic', '--val-split', '1'], message: /\[0, 1\)/ },
  { args: ['train', '--arch', 'basic', '--lr', '-1'], message: /--lr must be a positive number/ },
  { args: ['train', '--arch', 'basic', '--lr-schedule', 'linear'], message: /expected one of decay, cosine/ },
  { args: ['frobnicate'], message: /unknown command/ },
  { args: ['train', '--arch', 'basic', '--no-such-flag'], message: /unknown option/ },
];

for (const c of USAGE_ERRORS) {
  test(`usage error exits ${ExitCode.usage}: udq ${c.args.join(' ')}`, async () => {
    const r = await runCli(c.args);
    assert.equal(r.code, ExitCode.usage);
    assert.match(r.stderr, c.message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('--help works on every command', async () => {
  const top = await runCli(['--help']);
  assert.equal(top.code, 0);
  const commands = [...top.stdout.matchAll(/^\s{2}(\w[\w-]*)/gm)].map((m) => m[1]).filter((c) => c !== 'help');
  assert.ok(commands.includes('train') && commands.includes('info') && commands.includes('evaluate'), top.stdout);
  for (const c of commands) {
    const r = await runCli([c, '--help']);
    assert.equal(r.code, 0, `${c} --help`);
    assert.match(r.stdout, new RegExp(`Usage: udq ${c}`));
  }
});

test('info --json reports the backend actually in use; an unavailable backend is an error, not a fallback', async () => {
  const r = await runCli(['info', '--json', '--backend', 'cpu']);
  assert.equal(r.code, 0);
  const info = JSON.parse(r.stdout);
  assert.equal(info.backend, 'cpu');
  assert.match(info.tfjsVersion, /^\d+\.\d+\.\d+$/);
  assert.ok(info.dataDir && info.modelsDir);
  const bad = await runCli(['info', '--backend', 'gpu-please']);
  assert.equal(bad.code, ExitCode.backend);
  assert.match(bad.stderr, /unknown backend "gpu-please"/);
  let tfjsNodeInstalled = true;
  try {
    require.resolve('@tensorflow/tfjs-node');
  } catch {
    tfjsNodeInstalled = false;
  }
  if (!tfjsNodeInstalled) {
    const missing = await runCli(['info', '--backend', 'tensorflow']);
    assert.equal(missing.code, ExitCode.backend);
    assert.match(missing.stderr, /backend tensorflow unavailable/);
  }
});

test('train on a few hundred images, refuse to overwrite without --force, evaluate reads the model', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'udq-cli-'));
  const out = join(dir, 'tiny');
  const args = ['train', '--arch', 'basic', '--limit', '600', '--epochs', '1', '--batch-size', '32', '--seed', '2', '--out', out, '--json', '--backend', 'wasm'];
  const r = await runCli(args);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.arch, 'basic');
  assert.equal(summary.epochs, 1);
  assert.equal(summary.backend, 'wasm');
  assert.equal(summary.modelDir, out);
  assert.ok(summary.testAccuracy > 0.3 && summary.testAccuracy <= 1, `testAccuracy ${summary.testAccuracy}`);
  assert.ok(summary.imagesPerSecond > 0);
  assert.match(r.stderr, /epoch 1\/1 \[#+\] 17\/17 loss/); // plain progress lines when not a TTY
  const manifest = JSON.parse(readFileSync(join(out, 'udq.json'), 'utf8'));
  assert.equal(manifest.testAccuracy, summary.testAccuracy);
  assert.match(manifest.dataset.trainSha256, /^[0-9a-f]{64}$/);
  assert.equal(existsSync(join(out, 'checkpoint')), false);

  const again = await runCli(args);
  assert.equal(again.code, ExitCode.exists);
  assert.match(again.stderr, /already holds a model; use --force/);

  // over an ensemble (as the shipped models/deep is): refused, and with --force the ensemble's files go
  const ens = join(dir, 'ens');
  mkdirSync(join(ens, 'members', 'm0'), { recursive: true });
  writeFileSync(join(ens, 'ensemble.json'), '{"format":"udq-ensemble"}');
  const overEnsemble = args.map((a) => (a === out ? ens : a));
  const refused = await runCli(overEnsemble);
  assert.equal(refused.code, ExitCode.exists);
  assert.match(refused.stderr, /already holds an ensemble; use --force/);
  assert.ok(existsSync(join(ens, 'ensemble.json')), 'nothing removed without --force');
  const forced = await runCli([...overEnsemble, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.ok(!existsSync(join(ens, 'ensemble.json')) && !existsSync(join(ens, 'members')), 'the ensemble it replaced is gone');
  assert.equal(JSON.parse(readFileSync(join(ens, 'udq.json'), 'utf8')).arch, 'basic');

  const ev = await runCli(['evaluate', '--model', out, '--json', '--limit', '300']);
  assert.equal(ev.code, 0, ev.stderr);
  const evaluation = JSON.parse(ev.stdout);
  assert.equal(evaluation.count, 300);
  assert.equal(evaluation.perClass.length, 10);
  assert.ok(evaluation.testAccuracy > 0.3);
  rmSync(dir, { recursive: true });
});

test('evaluate with a missing or broken model directory is a one-line model error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'udq-cli-'));
  const missing = await runCli(['evaluate', '--model', join(dir, 'nope')]);
  assert.equal(missing.code, ExitCode.model);
  assert.match(missing.stderr, /does not exist/);
  mkdirSync(join(dir, 'broken'));
  writeFileSync(join(dir, 'broken', 'udq.json'), '{"format":"udq-model"}');
  writeFileSync(join(dir, 'broken', 'model.json'), '{not json');
  const broken = await runCli(['evaluate', '--model', join(dir, 'broken')]);
  assert.equal(broken.code, ExitCode.model);
  assert.match(broken.stderr, /not valid JSON/);
  rmSync(dir, { recursive: true });
});

test('displayPath: inside the working directory relative, outside it as given; the default model is named that way', async () => {
  const cases: [string, string, string][] = [
    ['/work/udq/models/deep', '/work/udq', 'models/deep'],
    ['/work/udq', '/work/udq', '.'],
    ['/opt/models/deep', '/work/udq', '/opt/models/deep'],
    ['/work/udq-other/m', '/work/udq', '/work/udq-other/m'],
  ];
  for (const [path, cwd, want] of cases) assert.equal(displayPath(path, cwd), want, `${path} from ${cwd}`);
  // the tests run from the repository root: predict without --model names models/deep relatively
  const r = await runCli(['predict', join(__dirname, '..', 'figures', '3.png'), '--samples', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^using model models\/deep$/m);
});
