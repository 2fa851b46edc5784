/**
 * Written numbers (`udq predict --number`): numbers of 2-6 MNIST *test* digits (writers the model
 * never trained on), drawn as scans and photos with gaps from -8% to 50% of the digit height
 * (some touching), as test/real-world.test.ts draws them from training digits. Prints the share
 * read right and accepted, the share rejected, and what rejected them.
 *
 * With `--with-letter PREFIX` (an EMNIST letters IDX pair, e.g. ../shared/data/emnist-letters-dev-af)
 * one digit of every number, at a random position, is a handwritten letter instead: a number that
 * is not a number, which should be rejected. Prints the share rejected, per letter.
 *
 * `--thresholds 0.6,0.8` prints the same at other gate thresholds too (the pieces and cuts stay
 * as the run chose them: the cut does not depend on the threshold).
 *
 * `--list` prints every number not read right and accepted: what it was, what was read, and each
 * piece's digit and p(reject) (the number threshold is in gate.json, `number.threshold`).
 *
 *   node --import tsx scripts/number-eval.ts [--model models/deep] [--count 100] [--seed 11] [--with-letter PREFIX] [--thresholds LIST] [--list]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/engine/backend';
import { loadPredictor } from '../src/uq/predictor';
import { readGate } from '../src/gate/gate-file';
import { mnistSanityThresholds } from '../src/gate/sanity';
import { loadMnist } from '../src/data/mnist';
import { predictNumbers } from '../src/predict/number';
import { makeRand, renderPhoto } from '../test/helpers/photo';
import { readIdxImages, readIdxLabels } from '../src/data/idx';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/deep' },
    count: { type: 'string', default: '100' },
    seed: { type: 'string', default: '11' },
    'with-letter': { type: 'string' },
    thresholds: { type: 'string' },
    list: { type: 'boolean', default: false },
  },
});

(async () => {
  await initBackend();
  const count = Number(args.count);
  const test = loadMnist('test');
  const model = await loadPredictor(args.model!);
  const gate = readGate(model.dir);
  const dir = mkdtempSync(join(tmpdir(), 'udq-numbers-'));
  const r = makeRand(Number(args.seed));
  const files: string[] = [];
  const truth: string[] = [];
  const prefix = args['with-letter'];
  const letters = prefix ? { images: readIdxImages(`${prefix}-images-idx3-ubyte.gz`), labels: readIdxLabels(`${prefix}-labels-idx1-ubyte.gz`) } : null;
  const letterOf: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 2 + r.int(5);
    const idx = Array.from({ length: n }, () => r.int(test.images.count));
    const images = idx.map((k) => test.images.pixels.slice(k * 784, (k + 1) * 784));
    if (letters) {
      // one position holds a letter (EMNIST label 1 = a)
      const pos = r.int(n);
      const k = r.int(letters.images.count);
      images[pos] = letters.images.pixels.slice(k * 784, (k + 1) * 784);
      letterOf.push(String.fromCharCode(96 + letters.labels[k]));
    }
    const pic = await renderPhoto({ group: i % 2 ? 'scan' : 'photo', seed: 9000 + i, digits: images, gap: r.uniform(-0.08, 0.5) });
    const f = join(dir, `number-${i}.${pic.format === 'jpeg' ? 'jpg' : 'png'}`);
    writeFileSync(f, pic.data);
    files.push(f);
    truth.push(idx.map((k) => test.labels![k]).join(''));
  }
  const res = await predictNumbers(model, files, { samples: gate?.samples ?? 50, seed: 0, gate, sanity: gate?.sanity ?? mnistSanityThresholds() });
  // a number is accepted at gate threshold t when every digit passed the input check and scores under t
  const acceptedAt = (p: (typeof res)[number], t: number | null) =>
    t === null ? p.verdict === 'number' : p.verdict !== 'error' && (p.digits ?? []).length > 0 && p.digits!.every((d) => (d.verdict === 'digit' || d.reason === 'uncertain') && (d.gateProbability ?? 1) < t);
  const thresholds: Array<number | null> = [null, ...(args.thresholds ? args.thresholds.split(',').map(Number) : [])];
  if (letters) {
    console.log(`${args.model}: ${count} numbers of MNIST test digits with one letter of ${prefix}, seed ${args.seed}`);
    for (const t of thresholds) {
      const rejected = res.map((p) => !acceptedAt(p, t));
      const per = [...new Set(letterOf)].sort().map((c) => {
        const idx = letterOf.map((x, i) => (x === c ? i : -1)).filter((i) => i >= 0);
        return `${c} ${idx.filter((i) => rejected[i]).length}/${idx.length}`;
      });
      console.log(`${t === null ? 'as predicted' : `threshold ${t}`}: rejected ${(rejected.filter(Boolean).length / count).toFixed(3)} (per letter: ${per.join(', ')})`);
    }
  } else {
    console.log(`${args.model}: ${count} numbers of MNIST test digits, seed ${args.seed}`);
    for (const t of thresholds) {
      const right = res.filter((p, i) => acceptedAt(p, t) && p.number === truth[i]).length;
      const wrong = res.filter((p, i) => acceptedAt(p, t) && p.number !== truth[i]).length;
      const reasons = new Map<string, number>();
      if (t === null) for (const p of res) if (p.verdict !== 'number') reasons.set(p.reason ?? p.verdict, (reasons.get(p.reason ?? p.verdict) ?? 0) + 1);
      const why = t === null ? ` (${[...reasons.entries()].map(([k, v]) => `${k} ${v}`).join(', ')})` : '';
      if (t === null && args.list) {
        res.forEach((p, i) => {
          if (acceptedAt(p, t) && p.number === truth[i]) return;
          const digits = (p.digits ?? []).map((d) => `${d.digit ?? '?'}:${d.gateProbability?.toFixed(3) ?? d.reason}`).join(' ');
          console.log(`  number-${i} truth ${truth[i]} read ${p.number ?? '-'} ${p.verdict}${p.reason ? ` (${p.reason})` : ''}  ${digits}`);
        });
      }
      console.log(`${t === null ? '' : `threshold ${t}: `}read right and accepted ${(right / count).toFixed(3)}, accepted wrong ${(wrong / count).toFixed(3)}, rejected ${((count - right - wrong) / count).toFixed(3)}${why}`);
    }
  }
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
})();
