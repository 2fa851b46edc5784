/**
 * A model and its saved gate on the team's arrays of digits and non-digits (issue #19's measure;
 * nothing here fits anything):
 * - MNIST test digits, the odd-indexed half (the even half chose the threshold): accuracy,
 *   accepted, accuracy on the accepted;
 * - EMNIST letters a-f (`../shared/data`, development only): per letter the share accepted and
 *   which digits the accepted ones were read as; AUROC / FPR95 / accepted against the odd test
 *   digits for all six letters and for the unambiguous ones (a, c, d, e, f: a lowercase b is a 6
 *   whose stem rises straight, and many writers' b and 6 have the same shape, as i and l are
 *   written as a 1; no other letter here has a digit's shape);
 * - Omniglot dev (all three alphabets held out): per alphabet and mean;
 * - noise: the share rejected.
 * Semeion and the real pictures go through the picture path: scripts/semeion-eval.ts and
 * scripts/labelled-eval.ts.
 *
 *   node --import tsx scripts/dev-eval.ts [--model models/deep] [--samples N (default: the gate's)] [--seed 0] [--json OUT]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/engine/backend';
import { loadPredictor } from '../src/uq/predictor';
import { readGate, GateFile } from '../src/gate/gate-file';
import { testDigitsHalf } from '../src/gate/calibrate';
import { gateScores } from '../src/gate/ood-report';
import { scoreImageSet } from '../src/uq/score-set';
import { auroc, countsMostFirst, fpr95 } from '../src/gate/metrics';
import { readIdxImages, readIdxLabels } from '../src/data/idx';
import { loadAdversary } from '../src/data/sources';
import type { ImageSet } from '../src/data/idx';
import type { Predictor } from '../src/uq/predictor';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/deep' },
    samples: { type: 'string' },
    seed: { type: 'string', default: '0' },
    letters: { type: 'string', default: '../shared/data/emnist-letters-dev-af' },
    json: { type: 'string' },
  },
});

const LETTERS = ['a', 'b', 'c', 'd', 'e', 'f'];
const UNAMBIGUOUS = ['a', 'c', 'd', 'e', 'f'];
const f3 = (x: number) => x.toFixed(3);

interface Scored {
  scores: number[];
  predicted: number[];
}

async function score(p: Predictor, gate: GateFile, images: ImageSet, samples: number, seed: number): Promise<Scored> {
  const s = await scoreImageSet(p, images, undefined, gate.sanity, { samples, seed });
  const g = gateScores(s.summaries, gate.logistic, gate.features);
  // pictures the input check refuses never reach the gate: rejected, ranked last
  return { scores: g.map((v, i) => (s.valid[i] ? v : Number.POSITIVE_INFINITY)), predicted: s.summaries.map((x) => x.predicted) };
}

function separation(digits: number[], other: number[]): { auroc: number; fpr95: number } {
  const scores = [...digits, ...other].map((v) => (Number.isFinite(v) ? v : 2));
  const labels = [...digits.map(() => 0), ...other.map(() => 1)];
  return { auroc: auroc(scores, labels), fpr95: fpr95(scores, labels) };
}

(async () => {
  await initBackend();
  const seed = Number(args.seed);
  const p = await loadPredictor(args.model!);
  const gate = readGate(p.dir);
  if (!gate) throw new Error(`${args.model} has no gate.json (run udq calibrate)`);
  // as the gate was fitted (an ensemble: passes in each member)
  const samples = Number(args.samples ?? gate.samples);
  const accepted = (s: number) => s < gate.threshold;
  const out: Record<string, unknown> = { model: args.model, samples, gate: { features: gate.features, threshold: gate.threshold, shiftedDigits: gate.shiftedDigits ?? null } };

  const mnist = testDigitsHalf('report');
  const d = await score(p, gate, mnist.images, samples, seed);
  const right = d.predicted.map((k, i) => k === mnist.labels![i]);
  const acc = d.scores.map(accepted);
  const nAcc = acc.filter(Boolean).length;
  out.mnist = { images: d.scores.length, accuracy: right.filter(Boolean).length / right.length, accepted: nAcc / acc.length, accuracyOnAccepted: right.filter((r, i) => r && acc[i]).length / Math.max(1, nAcc) };
  const m = out.mnist as Record<string, number>;
  console.log(`${args.model} (${samples} passes, gate ${gate.features}, threshold ${gate.threshold.toFixed(4)})`);
  console.log(`MNIST odd test digits: accuracy ${f3(m.accuracy)}, accepted ${f3(m.accepted)}, accuracy on accepted ${f3(m.accuracyOnAccepted)}`);

  const letters = readIdxImages(`${args.letters}-images-idx3-ubyte.gz`);
  const letterLabels = readIdxLabels(`${args.letters}-labels-idx1-ubyte.gz`);
  const l = await score(p, gate, letters, samples, seed);
  const perLetter: Record<string, unknown> = {};
  console.log('EMNIST letter\taccepted\tread as (accepted ones)');
  LETTERS.forEach((name, k) => {
    const idx = [...letterLabels.keys()].filter((i) => letterLabels[i] === k + 1);
    const acceptedIdx = idx.filter((i) => accepted(l.scores[i]));
    const top = countsMostFirst(acceptedIdx.map((i) => l.predicted[i])).slice(0, 3);
    perLetter[name] = { images: idx.length, accepted: acceptedIdx.length / idx.length, readAs: Object.fromEntries(top) };
    console.log(`${name}\t${f3(acceptedIdx.length / idx.length)}\t${top.map(([digit, c]) => `${digit}: ${c}`).join(', ')}`);
  });
  const lettersOf = (names: string[]) => l.scores.filter((_, i) => names.includes(LETTERS[letterLabels[i] - 1]));
  const groups: Record<string, unknown> = {};
  for (const [label, names] of [['a-f', LETTERS], ['unambiguous (a, c-f)', UNAMBIGUOUS], ['a-c', ['a', 'b', 'c']], ['d-f', ['d', 'e', 'f']]] as [string, string[]][]) {
    const s = lettersOf(names);
    const sep = separation(d.scores, s);
    groups[label] = { ...sep, rejected: s.filter((v) => !accepted(v)).length / s.length };
    console.log(`EMNIST ${label}: AUROC ${f3(sep.auroc)}, FPR95 ${f3(sep.fpr95)}, rejected ${f3((groups[label] as { rejected: number }).rejected)}`);
  }
  out.emnist = { perLetter, groups };

  const omni = await loadAdversary('omniglot-dev', { split: 'test' });
  const o = await score(p, gate, omni.images, samples, seed);
  const perAlphabet: Record<string, unknown> = {};
  let meanAuroc = 0;
  const names = omni.classNames ?? [];
  names.forEach((name, k) => {
    const s = o.scores.filter((_, i) => omni.labels![i] === k);
    const sep = separation(d.scores, s);
    meanAuroc += sep.auroc / names.length;
    perAlphabet[name] = { ...sep, rejected: s.filter((v) => !accepted(v)).length / s.length };
    console.log(`Omniglot ${name}: AUROC ${f3(sep.auroc)}, FPR95 ${f3(sep.fpr95)}, rejected ${f3((perAlphabet[name] as { rejected: number }).rejected)}`);
  });
  const all = separation(d.scores, o.scores);
  console.log(`Omniglot all: AUROC ${f3(all.auroc)}, FPR95 ${f3(all.fpr95)}; mean of alphabets ${f3(meanAuroc)}`);
  out.omniglot = { perAlphabet, all, meanAuroc };

  const noise = await loadAdversary('noise', { split: 'test', limit: 1000, seed });
  const n = await score(p, gate, noise.images, samples, seed);
  out.noise = { rejected: n.scores.filter((v) => !accepted(v)).length / n.scores.length };
  console.log(`noise: rejected ${f3((out.noise as { rejected: number }).rejected)}`);
  if (args.json) writeFileSync(args.json, JSON.stringify(out, null, 1));
  p.dispose();
})();
