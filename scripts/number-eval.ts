/**
 * Written numbers (`udq predict --number`): numbers of 2-6 MNIST *test* digits (writers the model
 * never trained on), drawn as scans and photos with gaps from -8% to 50% of the digit height
 * (some touching), as test/real-world.test.ts draws them from training digits. Prints the share
 * read right and accepted, the share rejected, and what rejected them.
 *
 *   node --import tsx scripts/number-eval.ts [--model models/deep] [--count 100] [--seed 11]
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

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/deep' },
    count: { type: 'string', default: '100' },
    seed: { type: 'string', default: '11' },
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
  for (let i = 0; i < count; i++) {
    const n = 2 + r.int(5);
    const idx = Array.from({ length: n }, () => r.int(test.images.count));
    const pic = await renderPhoto({ group: i % 2 ? 'scan' : 'photo', seed: 9000 + i, digits: idx.map((k) => test.images.pixels.slice(k * 784, (k + 1) * 784)), gap: r.uniform(-0.08, 0.5) });
    const f = join(dir, `number-${i}.${pic.format === 'jpeg' ? 'jpg' : 'png'}`);
    writeFileSync(f, pic.data);
    files.push(f);
    truth.push(idx.map((k) => test.labels![k]).join(''));
  }
  const res = await predictNumbers(model, files, { samples: gate?.samples ?? 50, seed: 0, gate, sanity: gate?.sanity ?? mnistSanityThresholds() });
  const right = res.filter((p, i) => p.verdict === 'number' && p.number === truth[i]).length;
  const wrong = res.filter((p, i) => p.verdict === 'number' && p.number !== truth[i]).length;
  const reasons = new Map<string, number>();
  for (const p of res) if (p.verdict !== 'number') reasons.set(p.reason ?? p.verdict, (reasons.get(p.reason ?? p.verdict) ?? 0) + 1);
  console.log(`${args.model}: ${count} numbers of MNIST test digits, seed ${args.seed}`);
  console.log(`read right and accepted ${(right / count).toFixed(3)}, accepted wrong ${(wrong / count).toFixed(3)}, rejected ${((count - right - wrong) / count).toFixed(3)} (${[...reasons.entries()].map(([k, v]) => `${k} ${v}`).join(', ')})`);
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
})();
