/**
 * Transfer evaluation of the reject gate (issue #13): how a model + gate does on kinds of
 * non-digits never used for training or fitting.
 *
 *   node --import tsx scripts/transfer.ts --model models/deep [--samples 50] [--seed 0]
 *        [--fit synth-strokes,synth-letters] [--emnist PATH] [--json FILE] [--digits 2000]
 *
 * One MC-dropout pass over every set, then, for each feature set (std, full, full-logit,
 * scores), a gate fitted on held-out MNIST digits (train tail, first half) vs the `--fit`
 * sources (the fresh-clone ones: generated, seed --seed, a different seed from outlier
 * exposure's), threshold at 95% of the even-indexed MNIST test digits (as `udq calibrate`
 * does; --plain-threshold: of the other half of the tail digits, as before), scored on:
 * - the odd-indexed MNIST test digits (accept rate, accuracy),
 * - EMNIST letters a-f (`--emnist`, default ../shared/data/emnist-letters-dev-af-*: a
 *   development measure, never fitted on), all six and d-f / a-c separately,
 * - omniglot-dev, each alphabet separately and their mean (never fitted on unless --fit says so),
 * - fashion-mnist test (if installed), noise.
 * Simple scores (entropy, max softmax, energy, ...) are shown beside, at the same 95%.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/engine/backend';
import { loadPredictor } from '../src/uq/predictor';
import { loadAdversary } from '../src/data/sources';
import { loadMnist } from '../src/data/mnist';
import { heldOutDigits, testDigitsHalf } from '../src/gate/calibrate';
import { mnistSanityThresholds } from '../src/gate/sanity';
import { scoreImageSet } from '../src/uq/score-set';
import { FEATURE_SET_NAMES, featureNames, featureVector, FeatureSetName } from '../src/uq/features';
import { chooseThreshold, fitLogistic, predictProba } from '../src/gate/logistic';
import { SIMPLE_SCORES, scoreMetrics, ScoredSet } from '../src/gate/ood-report';
import { selectClasses, LabelledImages, takeFirst } from '../src/data/types';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/deep' },
    samples: { type: 'string', default: '50' },
    seed: { type: 'string', default: '0' },
    fit: { type: 'string', default: 'synth-strokes,synth-letters' },
    emnist: { type: 'string', default: '../shared/data/emnist-letters-dev-af-images-idx3-ubyte.gz' },
    digits: { type: 'string', default: '2000' },
    'test-digits': { type: 'string', default: '2000' },
    'fit-limit': { type: 'string', default: '2000' },
    'plain-threshold': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

type Scored = ScoredSet & { name: string };

async function main(): Promise<void> {
  await initBackend();
  const samples = Number(args.samples);
  const seed = Number(args.seed);
  const model = await loadPredictor(args.model!);
  const sanity = mnistSanityThresholds();
  const t0 = Date.now();
  const score = async (set: LabelledImages, labels?: ArrayLike<number>): Promise<Scored> => {
    const r = await scoreImageSet(model, set.images, labels, sanity, { samples, seed });
    process.stderr.write(`  scored ${set.name}: ${set.images.count} images (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
    return { ...r, name: set.name };
  };
  const tail = heldOutDigits(Number(args.digits));
  const tailScored = await score(tail, tail.labels);
  const half = Math.floor(tail.images.count / 2);
  const dFit = pick(tailScored, 0, half);
  const dThr = pick(tailScored, half, tail.images.count);
  // the threshold is chosen on the even-indexed MNIST test digits, reported on the odd ones
  const thrSet = testDigitsHalf('threshold', Number(args['test-digits']));
  const dThrT = await score(thrSet, thrSet.labels);
  const test = testDigitsHalf('report', Number(args['test-digits']));
  const testScored = await score(test, test.labels);
  const fitSet = await loadAdversary(args.fit!, { split: 'train', seed, limit: Number(args['fit-limit']) });
  const fitScored = await score(fitSet);

  const targets: Scored[] = [];
  if (existsSync(args.emnist!)) {
    const em = await loadAdversary(args.emnist!);
    em.classNames = ['?', 'a', 'b', 'c', 'd', 'e', 'f'];
    em.name = 'emnist a-f';
    targets.push(await score(em));
    const all = targets[targets.length - 1];
    const lab = em.labels!;
    targets.push(subsetBy(all, lab, [4, 5, 6], 'emnist d-f'));
    targets.push(subsetBy(all, lab, [1, 2, 3], 'emnist a-c'));
  }
  const omni = await loadAdversary('omniglot-dev');
  for (const a of omni.classNames!) targets.push(await score(selectClasses(omni, a)));
  try {
    targets.push(await score(await loadAdversary('fashion-mnist', { limit: 1000 })));
  } catch (e) {
    process.stderr.write(`  fashion-mnist skipped: ${(e as Error).message}\n`);
  }
  targets.push(await score(await loadAdversary('noise', { limit: 500 })));
  targets.push(await score(await loadAdversary('synth-strokes', { split: 'test', limit: 1000 })));
  targets.push(await score(await loadAdversary('synth-letters', { split: 'test', limit: 1000 })));

  const results: Record<string, unknown> = { model: args.model, samples, seed, fit: args.fit, seconds: 0 };
  const rows: string[][] = [];
  const valid = (s: Scored) => s.summaries.filter((_, i) => s.valid[i]);
  const hasLogits = tailScored.summaries.every((s) => s.energy !== undefined);
  const gates: { name: string; score: (s: Scored) => number[] }[] = [];
  for (const f of FEATURE_SET_NAMES) {
    if (!hasLogits && (f === 'full-logit' || f === 'scores')) continue;
    const X = [...valid(dFit), ...valid(fitScored)].map((s) => featureVector(s, f as FeatureSetName));
    const y = [...valid(dFit).map(() => 0 as const), ...valid(fitScored).map(() => 1 as const)];
    const lg = fitLogistic(X, y, { featureNames: featureNames(f as FeatureSetName) });
    gates.push({ name: `gate:${f}`, score: (s) => s.summaries.map((x) => predictProba(lg, featureVector(x, f as FeatureSetName))) });
  }
  for (const [name, fn] of Object.entries(SIMPLE_SCORES)) {
    if (!tailScored.summaries.every((s) => Number.isFinite(fn(s)))) continue;
    gates.push({ name, score: (s) => s.summaries.map(fn) });
  }
  const acc = (s: Scored, accept: boolean[]) => {
    let ok = 0;
    let okAcc = 0;
    let n = 0;
    s.summaries.forEach((x, i) => {
      const hit = x.predicted === (s.labels as ArrayLike<number>)[i];
      if (hit) ok++;
      if (accept[i]) {
        n++;
        if (hit) okAcc++;
      }
    });
    return { accuracy: ok / s.summaries.length, acceptedAccuracy: okAcc / Math.max(1, n) };
  };
  for (const g of gates) {
    const plainThreshold = chooseThreshold(g.score(dThr).filter((_, i) => dThr.valid[i]), 0.95);
    const threshold = args['plain-threshold'] ? plainThreshold : chooseThreshold(g.score(dThrT).filter((_, i) => dThrT.valid[i]), 0.95);
    const testS = g.score(testScored);
    const plainAccept = testS.filter((v, i) => testScored.valid[i] && v < plainThreshold).length / testS.length;
    const testAccept = testS.map((v, i) => testScored.valid[i] && v < threshold);
    const row: Record<string, unknown> = {
      threshold,
      testAcceptRate: testAccept.filter(Boolean).length / testAccept.length,
      ...acc(testScored, testAccept),
    };
    row.testAcceptRatePlainThreshold = plainAccept;
    const line = [g.name, `${(row.testAcceptRate as number).toFixed(3)} (${plainAccept.toFixed(3)})`];
    const omniAurocs: number[] = [];
    const omniFpr: number[] = [];
    for (const t of targets) {
      const m = scoreMetrics(testS, g.score(t), 0.95, threshold, { digits: testScored.valid.map((v) => !v), adversary: t.valid.map((v) => !v) });
      row[t.name] = m;
      line.push(`${m.auroc.toFixed(3)}/${m.fpr95.toFixed(2)}/${m.acceptRejectAccuracy.toFixed(3)}`);
      if (t.name.startsWith('omniglot-dev:')) {
        omniAurocs.push(m.auroc);
        omniFpr.push(m.fpr95);
      }
    }
    row.omniglotMeanAuroc = omniAurocs.reduce((a, b) => a + b, 0) / omniAurocs.length;
    row.omniglotMeanFpr95 = omniFpr.reduce((a, b) => a + b, 0) / omniFpr.length;
    line.push(`${(row.omniglotMeanAuroc as number).toFixed(3)}/${(row.omniglotMeanFpr95 as number).toFixed(2)}`);
    results[g.name] = row;
    rows.push(line);
  }
  // gates that also fit on Omniglot: three folds, each holding one alphabet out and scored on it
  const omniTargets = targets.filter((t) => t.name.startsWith('omniglot-dev:'));
  const foldRows: string[][] = [];
  for (const f of FEATURE_SET_NAMES) {
    if (!hasLogits && (f === 'full-logit' || f === 'scores')) continue;
    const held: number[] = [];
    const heldFpr: number[] = [];
    const em: number[][] = [];
    for (const out of omniTargets) {
      const adv = [...valid(fitScored), ...omniTargets.filter((t) => t !== out).flatMap(valid)];
      const X = [...valid(dFit), ...adv].map((x) => featureVector(x, f as FeatureSetName));
      const y = [...valid(dFit).map(() => 0 as const), ...adv.map(() => 1 as const)];
      const lg = fitLogistic(X, y, { featureNames: featureNames(f as FeatureSetName) });
      const sc = (t: Scored) => t.summaries.map((x) => predictProba(lg, featureVector(x, f as FeatureSetName)));
      const threshold = chooseThreshold(sc(dThrT).filter((_, i) => dThrT.valid[i]), 0.95);
      const testS = sc(testScored);
      const forced = (t: Scored) => ({ digits: testScored.valid.map((v) => !v), adversary: t.valid.map((v) => !v) });
      const mo = scoreMetrics(testS, sc(out), 0.95, threshold, forced(out));
      held.push(mo.auroc);
      heldFpr.push(mo.fpr95);
      const e = targets.find((t) => t.name === 'emnist a-f');
      if (e) {
        const me = scoreMetrics(testS, sc(e), 0.95, threshold, forced(e));
        em.push([me.auroc, me.fpr95, me.acceptRejectAccuracy]);
      }
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
    results[`gate:${f}+omniglot-folds`] = { heldOutAuroc: held, heldOutFpr95: heldFpr, emnist: em };
    foldRows.push([
      `gate:${f} + omniglot (2 alphabets)`,
      held.map((a) => a.toFixed(3)).join(' '),
      `${mean(held).toFixed(3)}/${mean(heldFpr).toFixed(2)}`,
      em.length ? `${mean(em.map((r) => r[0])).toFixed(3)}/${mean(em.map((r) => r[1])).toFixed(2)}/${mean(em.map((r) => r[2])).toFixed(3)}` : '-',
    ]);
  }
  results.seconds = (Date.now() - t0) / 1000;
  const header = ['score', 'testAccept (unperturbed thr)', ...targets.map((t) => t.name), 'omni mean'];
  console.log(`${args.model}: AUROC/FPR95/balanced acc at the threshold accepting 95% of the even test digits (odd MNIST test digits vs each set), ${samples} passes`);
  console.log([header, ...rows].map((r) => r.join('\t')).join('\n'));
  console.log(`MNIST test accuracy (${test.images.count} odd-indexed): ${acc(testScored, testScored.valid).accuracy.toFixed(4)}`);
  console.log(`\ngates fitted with two Omniglot alphabets as well, scored on the third (${omniTargets.map((t) => t.name.split(':')[1]).join(', ')}); EMNIST a-f as the mean of the three folds`);
  console.log([['gate', 'held-out AUROC per alphabet', 'mean AUROC/FPR95', 'emnist a-f AUROC/FPR95/bal acc'], ...foldRows].map((r) => r.join('\t')).join('\n'));
  if (args.json) writeFileSync(args.json, JSON.stringify(results, null, 1));
  model.dispose();
}

function pick(s: Scored, a: number, b: number): Scored {
  return { name: s.name, summaries: s.summaries.slice(a, b), valid: s.valid.slice(a, b), labels: s.labels ? Array.from(s.labels).slice(a, b) : undefined };
}

function subsetBy(s: Scored, labels: ArrayLike<number>, keep: number[], name: string): Scored {
  const idx = Array.from({ length: s.summaries.length }, (_, i) => i).filter((i) => keep.includes(labels[i]));
  return { name, summaries: idx.map((i) => s.summaries[i]), valid: idx.map((i) => s.valid[i]) };
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
