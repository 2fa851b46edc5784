/**
 * Adaptive sampling against fixed N (issue #20): for each dev set, the share of pictures whose
 * verdict and digit equal the fixed-N answer, the passes pictures got, and pictures/s of the
 * scoring (sampling + summaries + gate; pictures are decoded once, before timing) both ways.
 * Sets: MNIST test digits, Semeion (as 28x28 MNIST-format images), EMNIST letters a-f, Omniglot
 * dev, the generated photo groups (test/helpers/photo.ts) and the real user pictures.
 *
 *   node --import tsx scripts/adaptive-eval.ts [--model models/deep] [--samples N (default: the gate's)] [--z 3]
 *        [--limit N per set] [--sets mnist,semeion,letters,omniglot,photos,users]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/engine/backend';
import { loadPredictor } from '../src/uq/predictor';
import { readGate } from '../src/gate/gate-file';
import { mnistSanityThresholds } from '../src/gate/sanity';
import { predictFiles, Prediction, PictureInput } from '../src/predict/predict';
import { loadImageAsMnist, preprocessToMnist } from '../src/image/load';
import { loadMnist } from '../src/data/mnist';
import { readIdxImages } from '../src/data/idx';
import { loadAdversary } from '../src/data/sources';
import { ADAPTIVE_Z, adaptiveRounds, canSampleAdaptive } from '../src/uq/adaptive';
import { describePasses, samplesPerImage } from '../src/uq/sample-count';
import { NO_DIGIT_GROUPS, PhotoGroup, renderPhoto } from '../test/helpers/photo';
import type { ImageSet } from '../src/data/idx';
import { readSemeion } from './semeion-render';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/deep' },
    samples: { type: 'string' },
    z: { type: 'string' },
    limit: { type: 'string', default: '100000' },
    sets: { type: 'string', default: 'mnist,semeion,letters,omniglot,photos,users' },
    photos: { type: 'string', default: '40' },
  },
});

const limit = Number(args.limit);

function fromSet(images: ImageSet, name: string): PictureInput[] {
  const n = Math.min(limit, images.count);
  const size = images.rows * images.cols;
  return Array.from({ length: n }, (_, i) => ({ pixels: images.pixels.subarray(i * size, (i + 1) * size), name: `${name} ${i}` }));
}

async function inputsOf(set: string): Promise<PictureInput[]> {
  switch (set) {
    case 'mnist':
      return fromSet(loadMnist('test').images, 'mnist');
    case 'semeion':
      return readSemeion('../shared/data/semeion-digits.data.gz')
        .slice(0, limit)
        .map((r, i) => ({ pixels: preprocessToMnist(Float32Array.from(r.bits), 16, 16, { threshold: 0 }).pixels, name: `semeion ${i}` }));
    case 'letters':
      return fromSet(readIdxImages('../shared/data/emnist-letters-dev-af-images-idx3-ubyte.gz'), 'letter');
    case 'omniglot':
      return fromSet((await loadAdversary('omniglot-dev', { split: 'test' })).images, 'omniglot');
    case 'photos': {
      const mnist = loadMnist('test');
      const out: PictureInput[] = [];
      const groups: PhotoGroup[] = ['mnist-png', 'scan', 'photo', 'colour', 'tight-crop', 'colour-paper', 'thin-drawing', 'outline', 'corner', 'dark-canvas', 'round-zero', 'blank', 'noise', 'texture', 'paper-texture'];
      for (const group of groups) {
        for (let i = 0; i < Number(args.photos); i++) {
          const idx = (i * 7919 + group.length * 131) % mnist.images.count;
          const digit = mnist.images.pixels.slice(idx * 784, (idx + 1) * 784);
          const pic = await renderPhoto({ group, seed: 7 * 100003 + i * 7 + group.length, digits: NO_DIGIT_GROUPS.includes(group) ? [] : [digit] });
          const img = await loadImageAsMnist(pic.data, { name: group });
          out.push({ pixels: img.pixels, name: `${group} ${i}` });
        }
      }
      return out;
    }
    case 'users': {
      const dir = '../shared/data/user-digits-dev';
      const files: string[] = [];
      const walk = (d: string) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          if (e.isDirectory()) walk(join(d, e.name));
          else if (/\.(png|jpe?g)$/i.test(e.name)) files.push(join(d, e.name));
        }
      };
      walk(dir);
      const out: PictureInput[] = [];
      for (const f of files.sort().slice(0, limit)) {
        try {
          out.push({ pixels: (await loadImageAsMnist(f)).pixels, name: f });
        } catch {
          // unreadable pictures are errors both ways: nothing to compare
        }
      }
      return out;
    }
    default:
      throw new Error(`unknown set ${set}`);
  }
}

(async () => {
  await initBackend();
  const model = await loadPredictor(args.model!);
  const gate = readGate(model.dir);
  // N as the gate was fitted (an ensemble: passes in each member), else 100
  const samples = Number(args.samples ?? gate?.samples ?? 100);
  // an ensemble's rounds run in every member: a picture's passes are members x the round
  const width = samplesPerImage(model, 1);
  const base = { samples, seed: 0, gate, sanity: gate?.sanity ?? mnistSanityThresholds() };
  const z = args.z ? Number(args.z) : ADAPTIVE_Z;
  if (!canSampleAdaptive(model)) throw new Error(`${args.model} is sampled by disagreement: nothing to sample adaptively`);
  const rounds = adaptiveRounds(samples, width);
  console.log(`${args.model} (engine ${model.engine}), fixed ${describePasses(model, samples)} against adaptive (rounds ${rounds.join(', ')}${width > 1 ? ' in each member' : ''}; z ${z}; passes below: all members together)`);
  console.log(`set\tpictures\tsame verdict+digit\tsame verdict\tsame digit\tmean passes\tstopped at ${rounds.map((r) => r * width).join('/')} passes\tfixed pictures/s\tadaptive pictures/s\tspeed-up`);
  let allSame = 0;
  let all = 0;
  for (const set of args.sets!.split(',')) {
    const inputs = await inputsOf(set);
    const t0 = performance.now();
    const fixed: Prediction[] = await predictFiles(model, inputs, base);
    const t1 = performance.now();
    const adaptive: Prediction[] = await predictFiles(model, inputs, { ...base, adaptive: true, adaptiveZ: z });
    const t2 = performance.now();
    let same = 0;
    let sameVerdict = 0;
    let sameDigit = 0;
    const stops = new Map<number, number>();
    let passes = 0;
    fixed.forEach((f, i) => {
      const a = adaptive[i];
      if (f.verdict === a.verdict) sameVerdict++;
      if (f.digit === a.digit) sameDigit++;
      if (f.verdict === a.verdict && f.digit === a.digit) same++;
      passes += a.passes ?? 0;
      stops.set(a.passes ?? 0, (stops.get(a.passes ?? 0) ?? 0) + 1);
    });
    const n = inputs.length;
    allSame += same;
    all += n;
    const f3 = (x: number) => x.toFixed(3);
    const stopText = rounds.map((r) => stops.get(width * r) ?? 0).join('/');
    const fps = n / ((t1 - t0) / 1000);
    const aps = n / ((t2 - t1) / 1000);
    console.log(`${set}\t${n}\t${f3(same / n)}\t${f3(sameVerdict / n)}\t${f3(sameDigit / n)}\t${(passes / n).toFixed(1)}\t${stopText}\t${fps.toFixed(0)}\t${aps.toFixed(0)}\t${(aps / fps).toFixed(2)}x`);
  }
  console.log(`all\t${all}\t${(allSame / all).toFixed(4)}`);
  model.dispose();
})();
