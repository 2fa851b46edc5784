/**
 * Real-world inputs (issue #9): accepted-and-correct rate per input group with a shipped
 * model, on pictures made from MNIST digits by the test-side generator (test/helpers/photo.ts),
 * and the rejection rate of pictures with no digit; the preprocessing time per picture.
 *
 *   node --import tsx scripts/photo-eval.ts [--model models/deep] [--count 100] [--seed 7]
 *        [--split test|train] [--groups LIST (default: all)] [--keep DIR]
 *
 * Digits come from the MNIST test split by default (the test suite draws training digits, so
 * this is a check on other digits and other settings than the tests').
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/engine/backend';
import { loadPredictor } from '../src/uq/predictor';
import { readGate } from '../src/gate/gate-file';
import { mnistSanityThresholds } from '../src/gate/sanity';
import { loadMnist } from '../src/data/mnist';
import { loadImageAsMnist } from '../src/image/load';
import { predictFiles } from '../src/predict/predict';
import { NO_DIGIT_GROUPS, PhotoGroup, renderPhoto } from '../test/helpers/photo';
import { mulberry32 } from '../src/random';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/deep' },
    count: { type: 'string', default: '100' },
    seed: { type: 'string', default: '7' },
    split: { type: 'string', default: 'test' },
    groups: { type: 'string', default: 'mnist-png,scan,photo,colour,tight-crop,colour-paper,thin-drawing,outline,corner,dark-canvas,round-zero,blank,noise,texture,paper-texture' },
    keep: { type: 'string' },
    samples: { type: 'string' },
  },
});

async function main(): Promise<void> {
  await initBackend();
  const count = Number(args.count);
  const seed = Number(args.seed);
  const mnist = loadMnist(args.split === 'train' ? 'train' : 'test');
  const dir = args.keep ?? mkdtempSync(join(tmpdir(), 'udq-photos-'));
  mkdirSync(dir, { recursive: true });
  const model = await loadPredictor(args.model!);
  const gate = readGate(model.dir);
  const rand = mulberry32(seed);
  console.log(`${args.model} (gate: ${gate ? `${gate.features}, fitted on ${gate.adversary.name}` : 'none'}), ${count} pictures per group, MNIST ${args.split} digits, seed ${seed}`);
  console.log('group\taccepted+correct\taccepted\trejected\treasons\tpreprocess ms/picture');
  for (const group of args.groups!.split(',') as PhotoGroup[]) {
    const files: string[] = [];
    const labels: number[] = [];
    for (let i = 0; i < count; i++) {
      const idx = Math.floor(rand() * mnist.images.count);
      const digit = mnist.images.pixels.slice(idx * 784, (idx + 1) * 784);
      const hasDigit = !NO_DIGIT_GROUPS.includes(group);
      const pic = await renderPhoto({ group, seed: seed * 100003 + i * 7 + group.length, digits: hasDigit ? [digit] : [] });
      const f = join(dir, `${group}-${String(i).padStart(4, '0')}.${pic.format === 'jpeg' ? 'jpg' : 'png'}`);
      writeFileSync(f, pic.data);
      files.push(f);
      labels.push(hasDigit ? (pic.label ?? mnist.labels![idx]) : -1);
    }
    const t0 = process.hrtime.bigint();
    for (const f of files) await loadImageAsMnist(f);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6 / files.length;
    const preds = await predictFiles(model, files, { samples: Number(args.samples ?? gate?.samples ?? 50), seed: 0, gate, sanity: gate?.sanity ?? mnistSanityThresholds() });
    let ok = 0;
    let acc = 0;
    const reasons = new Map<string, number>();
    preds.forEach((p, i) => {
      if (p.verdict === 'digit') {
        acc++;
        if (p.digit === labels[i]) ok++;
      } else reasons.set(p.reason ?? p.verdict, (reasons.get(p.reason ?? p.verdict) ?? 0) + 1);
    });
    const reasonText = [...reasons.entries()].map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(`${group}\t${(ok / count).toFixed(3)}\t${(acc / count).toFixed(3)}\t${((count - acc) / count).toFixed(3)}\t${reasonText}\t${ms.toFixed(1)}`);
  }
  model.dispose();
  if (!args.keep) rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
