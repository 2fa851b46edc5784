/**
 * Which training images sit nearest to Semeion's digits of one class, in a member's own
 * features? For each Semeion digit of `--digit`, the `--k` nearest of a pool of training images
 * by cosine similarity of the member's Flatten output (for deep, its last layer before the dropout and the
 * softmax; dropout off); the share of each pool tag among the neighbours, printed separately for
 * the digits `--model` does not accept and read right (scan rendering, its gate, as
 * semeion-eval.ts) and for those it does. Pool: the first 20,000 MNIST training digits
 * (`mnist-D`), synth-strokes' train split by kind (`oe-KIND`; `oe-letter` is its own letter
 * kind), the outlier-exposure letters (`oe-letters-C`) and `--extra` training digits
 * (`SOURCE-D`). Semeion's digits enter the member as 28x28 MNIST-format images (the mnist-png
 * rendering). A diagnostic for development (docs/RESULTS.md, "Outlier exposure without the
 * kinds made of digits").
 *
 *   node --import tsx scripts/semeion-neighbours.ts --file ../shared/data/semeion-digits.data.gz
 *        [--model models/deep] [--member models/deep/members/m0] [--digit 9] [--k 20]
 *        [--letters synth-letters:-o+O+s+S+z+Z+g+q] [--extra hand-digits-b:2000,hand-digits-c:2000,synth-digits:-6]
 */
import { parseArgs } from 'node:util';
import { initBackend } from '../src/engine/backend';
import { loadPredictor } from '../src/uq/predictor';
import { loadModelFiles } from '../src/models/store';
import { loadAdversary } from '../src/data/sources';
import { loadMnist } from '../src/data/mnist';
import { STROKE_KINDS } from '../src/data/synth/strokes';
import { loadExtraDigits } from '../src/train/run';
import { toFloatImages } from '../src/uq/mc-dropout';
import { predictSemeion, readSemeion, semeionMnistPixels } from './semeion-render';
import { flattenFeatures } from './flatten-features';

const { values: args } = parseArgs({
  options: {
    file: { type: 'string', default: '../shared/data/semeion-digits.data.gz' },
    model: { type: 'string', default: 'models/deep' },
    member: { type: 'string', default: 'models/deep/members/m0' },
    digit: { type: 'string', default: '9' },
    k: { type: 'string', default: '20' },
    letters: { type: 'string', default: 'synth-letters:-o+O+s+S+z+Z+g+q' },
    extra: { type: 'string', default: 'hand-digits-b:2000,hand-digits-c:2000,synth-digits:-6' },
  },
});

/** Share of each tag among the k nearest pool images of every query, over the queries. */
function neighbourShares(queries: Float32Array, pool: Float32Array, dim: number, tags: string[], k: number): [string, number][] {
  const nq = queries.length / dim;
  const counts = new Map<string, number>();
  const sims = new Float32Array(tags.length);
  for (let q = 0; q < nq; q++) {
    for (let j = 0; j < tags.length; j++) {
      let s = 0;
      for (let t = 0; t < dim; t++) s += queries[q * dim + t] * pool[j * dim + t];
      sims[j] = s;
    }
    const order = Array.from(sims.keys()).sort((a, b) => sims[b] - sims[a]);
    for (const j of order.slice(0, k)) counts.set(tags[j], (counts.get(tags[j]) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([t, c]) => [t, c / (nq * k)]);
}

async function main(): Promise<void> {
  await initBackend();
  const digit = Number(args.digit);
  const k = Number(args.k);
  const parts: { pixels: Float32Array; tags: string[] }[] = [];
  const mnist = loadMnist('train', 20000);
  parts.push({ pixels: toFloatImages(mnist.images, 0, mnist.images.count), tags: Array.from(mnist.labels!, (l) => `mnist-${l}`) });
  const strokes = await loadAdversary('synth-strokes', { split: 'train' });
  parts.push({ pixels: toFloatImages(strokes.images, 0, strokes.images.count), tags: Array.from(strokes.labels!, (l) => `oe-${STROKE_KINDS[l]}`) });
  const letters = await loadAdversary(args.letters!, { split: 'train' });
  parts.push({ pixels: toFloatImages(letters.images, 0, letters.images.count), tags: Array.from(letters.labels!, (l) => `oe-letters-${letters.classNames![l]}`) });
  for (const spec of args.extra!.split(',').filter(Boolean)) {
    const set = (await loadExtraDigits(spec, () => {})).set;
    parts.push({ pixels: toFloatImages(set.images, 0, set.images.count), tags: Array.from(set.labels!, (l) => `${spec.split(':')[0]}-${l}`) });
  }
  const tags = parts.flatMap((p) => p.tags);
  const pixels = new Float32Array(tags.length * 784);
  let at = 0;
  for (const p of parts) {
    pixels.set(p.pixels, at);
    at += p.pixels.length;
  }

  const rows = readSemeion(args.file!).filter((r) => r.label === digit);
  const ensemble = await loadPredictor(args.model!);
  const preds = await predictSemeion(ensemble, rows, 'scan');
  ensemble.dispose();

  const member = await loadModelFiles(args.member!);
  const pool = flattenFeatures(member, pixels, tags.length, { unit: true });
  const query = new Float32Array(rows.length * 784);
  rows.forEach((r, i) => query.set(semeionMnistPixels(r.bits), i * 784));
  const q = flattenFeatures(member, query, rows.length, { unit: true });
  const right = rows.map((_, i) => preds[i].verdict === 'digit' && preds[i].digit === digit);
  const pick = (want: boolean) => {
    const idx = right.flatMap((r, i) => (r === want ? [i] : []));
    const out = new Float32Array(idx.length * q.dim);
    idx.forEach((i, n) => out.set(q.features.subarray(i * q.dim, (i + 1) * q.dim), n * q.dim));
    return { n: idx.length, feats: out };
  };
  const share = (t: string) => tags.filter((x) => x === t || (t === 'oe-letters-*' && x.startsWith('oe-letters-'))).length / tags.length;
  console.log(`${args.model} (verdicts), ${args.member} (features): Semeion ${digit}s, ${k} nearest of ${tags.length} training images`);
  for (const [label, want] of [['not accepted-right', false], ['accepted-right', true]] as const) {
    const g = pick(want);
    const shares = neighbourShares(g.feats, pool.features, pool.dim, tags, k);
    console.log(`${label} (${g.n}): ${shares.slice(0, 20).map(([t, s]) => `${t} ${s.toFixed(3)}`).join(', ')}`);
  }
  const kinds = [...new Set(tags.map((t) => (t.startsWith('oe-letters-') ? 'oe-letters-*' : t)))];
  console.log(`pool shares: ${kinds.map((t) => `${t} ${share(t).toFixed(3)}`).join(', ')}`);
  member.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
