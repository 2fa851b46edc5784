/**
 * `udq ensemble`: separately trained models joined into one ensemble directory (the shipped
 * basic models as members), loaded and sampled like one `udq train --ensemble` wrote; and
 * what it refuses.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli';
import { initBackend } from '../src/engine/backend';
import { loadEnsemble, readEnsembleManifest } from '../src/models/ensemble';
import { ExitCode } from '../src/errors';

const MEMBERS = ['models/basic', 'models/basic-study'];
let dir = '';

before(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'udq-assemble-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('udq ensemble joins two trained models: members copied with their manifests, the averaged softmax scored on MNIST test, sampled as an ensemble', async () => {
  const out = join(dir, 'ens');
  const r = await runCli(['ensemble', '--members', MEMBERS.join(','), '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { K: number; memberTestAccuracy: number[]; testAccuracy: number };
  assert.equal(summary.K, 2);
  const m = readEnsembleManifest(out);
  assert.equal(m.arch, 'basic');
  assert.equal(m.sampling, 'mc', 'the default sampling of an assembled ensemble: MC dropout inside each member');
  MEMBERS.forEach((src, i) => {
    const own = JSON.parse(readFileSync(join(src, 'udq.json'), 'utf8')) as { testAccuracy: number; seed: number };
    const copied = JSON.parse(readFileSync(join(out, 'members', `m${i}`, 'udq.json'), 'utf8')) as { testAccuracy: number; ensembleMember: { index: number; of: number } };
    assert.equal(m.memberTestAccuracy[i], own.testAccuracy);
    assert.equal(m.members[i].seed, own.seed);
    assert.deepEqual(copied.ensembleMember, { index: i, of: 2, heldOutFold: null });
    assert.deepEqual(readFileSync(join(out, 'members', `m${i}`, 'weights.bin')), readFileSync(join(src, 'weights.bin')));
  });
  // two good models averaged: about as accurate as the better one, never worse than both by much
  assert.ok(m.testAccuracy >= Math.min(...m.memberTestAccuracy) - 0.002, `ensemble ${m.testAccuracy} vs members ${m.memberTestAccuracy}`);
  assert.ok(m.testAccuracy > 0.98);
  assert.ok(!existsSync(join(out, 'gate.json')), 'the members\' gates are not the ensemble\'s');
  const loaded = await loadEnsemble(out);
  assert.equal(loaded.members.length, 2);
  loaded.members.forEach((mm) => mm.dispose());
  const p = await runCli(['predict', 'figures/3.png', '--model', out, '--samples', '4', '--format', 'json']);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /"digit":\s*3/);
});

test('udq ensemble refuses: one member, a member twice, mixed architectures, an ensemble as a member, an --out over a member, an existing directory without --force; a bad member leaves the old ensemble as it was', async () => {
  const out = join(dir, 'ens2');
  const cases: [string[], number, RegExp][] = [
    [['--members', 'models/basic'], ExitCode.usage, /at least 2/],
    [['--members', 'models/basic,models/basic'], ExitCode.usage, /twice/],
    [['--members', 'models/basic,models/deep-study'], ExitCode.usage, /one architecture/],
    [['--members', 'models/basic,models/nope'], ExitCode.model, /does not exist/],
  ];
  for (const [args, code, message] of cases) {
    const r = await runCli(['ensemble', ...args, '--out', out]);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.ok(!existsSync(join(out, 'ensemble.json')), 'nothing written');
  }
  assert.equal((await runCli(['ensemble', '--members', MEMBERS.join(','), '--out', out])).code, 0);
  const again = await runCli(['ensemble', '--members', MEMBERS.join(','), '--out', out]);
  assert.equal(again.code, ExitCode.exists);
  assert.match(again.stderr, /--force/);
  const nested = await runCli(['ensemble', '--members', `${out},models/basic`, '--out', join(dir, 'ens3')]);
  assert.equal(nested.code, ExitCode.usage);
  assert.match(nested.stderr, /is an ensemble/);
  assert.equal((await runCli(['ensemble', '--members', MEMBERS.join(','), '--out', out, '--force'])).code, 0);
  // --out over a member, directly or through a link: refused before anything is removed
  const link = join(dir, 'link-to-basic');
  symlinkSync(join(process.cwd(), 'models/basic'), link);
  for (const target of ['models/basic', link]) {
    const over = await runCli(['ensemble', '--members', MEMBERS.join(','), '--out', target, '--force']);
    assert.equal(over.code, ExitCode.usage, over.stderr);
    assert.match(over.stderr, /overlap/);
  }
  assert.ok(existsSync('models/basic/weights.bin'));
  // a member without its weights: refused, and the ensemble already in --out is untouched
  const bad = join(dir, 'no-weights');
  mkdirSync(bad);
  copyFileSync('models/basic/udq.json', join(bad, 'udq.json'));
  copyFileSync('models/basic/model.json', join(bad, 'model.json'));
  const before = readFileSync(join(out, 'ensemble.json'), 'utf8');
  const r = await runCli(['ensemble', '--members', `models/basic,${bad}`, '--out', out, '--force']);
  assert.equal(r.code, ExitCode.model, r.stderr);
  assert.match(r.stderr, /no weights\.bin/);
  assert.equal(readFileSync(join(out, 'ensemble.json'), 'utf8'), before);
  assert.ok(existsSync(join(out, 'members', 'm1', 'weights.bin')));
});
