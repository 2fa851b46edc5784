/**
 * The models committed under models/ (what `npx udq predict` uses right after install): the
 * issue's figure verdicts (3 and 8 accepted as 3 and 8, the doodle and 中 rejected) with each
 * model's own gate, and the basic model's accuracy on real MNIST test digits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli';
import { adaptiveRounds } from '../src/uq/adaptive';

const ROOT = join(__dirname, '..');
const FIG = (name: string) => join(ROOT, 'figures', name);
const EXPECTED: Record<string, { verdict: string; digit?: number }> = {
  '3.png': { verdict: 'digit', digit: 3 },
  '8.png': { verdict: 'digit', digit: 8 },
  'yoda.png': { verdict: 'rejected' },
  'zhong.png': { verdict: 'rejected' },
};

for (const name of ['basic', 'deep', 'basic-study', 'deep-study'] as const) {
  test(`shipped models/${name}: figures 3 and 8 accepted as 3 and 8, the doodle and 中 rejected`, async () => {
    const dir = join(ROOT, 'models', name);
    const gate = JSON.parse(readFileSync(join(dir, 'gate.json'), 'utf8'));
    // gates are fitted on sources a fresh clone has (generated), never on the figures
    assert.ok(gate.adversary.name.split(',').every((s: string) => ['synth-letters', 'synth-strokes'].includes(s)), gate.adversary.name);
    if (!name.endsWith('-study')) {
      // a model's udq.json, or each member's of an ensemble (ensemble.json: models/deep since session 19)
      const ensemble = existsSync(join(dir, 'ensemble.json')) ? JSON.parse(readFileSync(join(dir, 'ensemble.json'), 'utf8')) : null;
      const manifestDirs: string[] = ensemble ? ensemble.members.map((m: { dir: string }) => join(dir, m.dir)) : [dir];
      if (ensemble) assert.equal(manifestDirs.length, ensemble.K);
      for (const d of manifestDirs) {
        const manifest = JSON.parse(readFileSync(join(d, 'udq.json'), 'utf8'));
        // generated sources, whole or with classes left out (NAME:-a+b)
        const oe: string[] = manifest.outlierExposure.sources;
        assert.ok(oe.length > 0 && oe.every((s) => ['synth-strokes', 'synth-letters'].includes(s.split(':')[0])), `${d} trained with outlier exposure on generated sources: ${oe.join(',')}`);
        // committed manifests hold no machine's absolute paths
        assert.doesNotMatch(manifest.command, / \/\S/, `${d}: a relative --out in the recorded command`);
      }
    }
    const r = await runCli(['predict', '--model', dir, ...Object.keys(EXPECTED).map(FIG), '--format', 'json', '--backend', 'wasm']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    // adaptive by default, the ensemble too: its rounds run in each member
    assert.equal(out.sampling, 'adaptive');
    const members = out.samplesPerImage / out.samples;
    const rounds = adaptiveRounds(out.samples, members).map((n) => n * members);
    for (const p of out.predictions) assert.ok(rounds.includes(p.passes), `${p.file}: ${p.passes} passes, not one of ${rounds}`);
    if (name === 'deep') assert.deepEqual(rounds, [21, 42, 81, 99], 'models/deep: three members, 7, 14, 27 and 33 passes in each');
    for (const p of out.predictions) {
      const want = EXPECTED[p.file.split('/').pop()];
      assert.equal(p.verdict, want.verdict, `${p.file}: ${JSON.stringify(p)}`);
      if (want.digit !== undefined) assert.equal(p.digit, want.digit, p.file);
    }
  });
}

test('shipped models/basic: at least 0.98 accuracy on the first 2000 MNIST test digits', async () => {
  const r = await runCli(['evaluate', '--model', join(ROOT, 'models', 'basic'), '--limit', '2000', '--json', '--backend', 'wasm']);
  assert.equal(r.code, 0, r.stderr);
  const e = JSON.parse(r.stdout);
  assert.equal(e.count, 2000);
  assert.ok(e.testAccuracy >= 0.98, `accuracy ${e.testAccuracy}`);
});
