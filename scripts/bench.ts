/**
 * MC-dropout sampling speed: naive (whole network N times) vs cached (deterministic prefix
 * once, stochastic suffix N times batched), for both architectures, on the same MNIST test
 * images, plus a plain deterministic forward pass (model.predict) for context.
 *
 *   npm run bench [-- --backend wasm|cpu|tensorflow] [--json] [--samples 100]
 *
 * Weights are random (seeded): speed does not depend on them. The targets printed next to
 * the measured cached/naive ratios are information only; nothing here fails on timings.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/engine/backend';
import { Arch, buildModel } from '../src/models/architectures';
import { SamplerMethod, chunking, sampleMcDropout } from '../src/uq/mc-dropout';
import { loadMnist } from '../src/data/mnist';

/** Images timed per (arch, method): sized so the whole bench stays well under 3 minutes on 2 busy cores. */
const IMAGES: Record<Arch, Record<SamplerMethod, number>> = {
  basic: { naive: 200, cached: 200 },
  deep: { naive: 20, cached: 100 },
};
/** cached/naive speed-up asked for in the issue (information only). */
const TARGET_RATIO: Record<Arch, number> = { basic: 20, deep: 2 };
const WARMUP_IMAGES = 2;
const SEED = 1;

interface SamplerRow {
  arch: Arch;
  method: SamplerMethod;
  images: number;
  samples: number;
  /** images per chunk and passes per block the sampler chose */
  chunk: number;
  passBlock: number;
  seconds: number;
  passesPerSecond: number;
}

interface PredictRow {
  arch: Arch;
  images: number;
  seconds: number;
  msPerImage: number;
  imagesPerSecond: number;
}

interface RatioRow {
  arch: Arch;
  ratio: number;
  target: number;
  meetsTarget: boolean;
}

function parseArgs(argv: string[]): { backend?: string; json: boolean; samples: number } {
  const out: { backend?: string; json: boolean; samples: number } = { json: false, samples: 100 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') out.json = true;
    else if (a === '--backend') out.backend = argv[++i];
    else if (a.startsWith('--backend=')) out.backend = a.slice('--backend='.length);
    else if (a === '--samples') out.samples = Number(argv[++i]);
    else if (a.startsWith('--samples=')) out.samples = Number(a.slice('--samples='.length));
    else throw new Error(`unknown argument ${a} (expected --backend NAME, --samples N, --json)`);
  }
  if (!Number.isInteger(out.samples) || out.samples < 1) throw new Error('--samples must be a positive integer');
  return out;
}

async function timeSampler(model: tf.LayersModel, pixels: Uint8Array, images: number, samples: number, method: SamplerMethod): Promise<number> {
  const input = (count: number) => ({ count, pixels: pixels.subarray(0, count * 784) });
  await sampleMcDropout(model, input(WARMUP_IMAGES), { samples, seed: SEED, method });
  const t0 = performance.now();
  await sampleMcDropout(model, input(images), { samples, seed: SEED, method });
  return (performance.now() - t0) / 1000;
}

async function timePredict(model: tf.LayersModel, pixels: Uint8Array, images: number): Promise<number> {
  const run = async (count: number) => {
    const y = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(pixels.subarray(0, count * 784), (v) => v / 255), [count, 28, 28, 1]);
      return model.predict(x, { batchSize: 64 }) as tf.Tensor;
    });
    await y.data();
    y.dispose();
  };
  await run(WARMUP_IMAGES);
  const t0 = performance.now();
  await run(images);
  return (performance.now() - t0) / 1000;
}

function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  return cells.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const info = await initBackend(args.backend);
  const n = args.samples;
  const maxImages = Math.max(...Object.values(IMAGES).flatMap((m) => Object.values(m)));
  const pixels = loadMnist('test', maxImages).images.pixels as Uint8Array;

  const sampler: SamplerRow[] = [];
  const predict: PredictRow[] = [];
  const ratios: RatioRow[] = [];
  for (const arch of ['basic', 'deep'] as const) {
    const model = buildModel(arch, SEED);
    const { chunk, passBlock } = chunking(model, n);
    const perSecond: Partial<Record<SamplerMethod, number>> = {};
    for (const method of ['naive', 'cached'] as const) {
      const images = IMAGES[arch][method];
      if (!args.json) process.stderr.write(`timing ${arch} ${method}: ${images} images x ${n} samples...\n`);
      const seconds = await timeSampler(model, pixels, images, n, method);
      perSecond[method] = (images * n) / seconds;
      sampler.push({ arch, method, images, samples: n, chunk, passBlock, seconds, passesPerSecond: perSecond[method]! });
    }
    const images = IMAGES[arch].cached;
    const seconds = await timePredict(model, pixels, images);
    predict.push({ arch, images, seconds, msPerImage: (seconds * 1000) / images, imagesPerSecond: images / seconds });
    const ratio = perSecond.cached! / perSecond.naive!;
    ratios.push({ arch, ratio, target: TARGET_RATIO[arch], meetsTarget: ratio >= TARGET_RATIO[arch] });
    model.dispose();
  }

  if (args.json) {
    console.log(JSON.stringify({ backend: info.backend, tfjsVersion: info.tfjsVersion, samples: n, sampler, ratios, predict }, null, 2));
    return;
  }
  console.log(`backend: ${info.backend} (tfjs ${info.tfjsVersion}), N = ${n} samples, seed ${SEED}, random weights\n`);
  console.log('MC-dropout sampling (passes/s = images x samples / seconds; chunk/passBlock: as chosen by the sampler)');
  console.log(
    table(
      ['arch', 'method', 'images', 'samples', 'chunk', 'passBlock', 'seconds', 'passes/s'],
      sampler.map((r) => [r.arch, r.method, r.images, r.samples, r.chunk, r.passBlock, r.seconds.toFixed(2), r.passesPerSecond.toFixed(0)]),
    ),
  );
  console.log('\ncached / naive speed-up (target from the issue, information only)');
  console.log(
    table(
      ['arch', 'measured', 'target', 'meets'],
      ratios.map((r) => [r.arch, `${r.ratio.toFixed(1)}x`, `>= ${r.target}x`, r.meetsTarget ? 'yes' : 'no']),
    ),
  );
  console.log('\ndeterministic forward pass (model.predict, batch 64)');
  console.log(
    table(
      ['arch', 'images', 'seconds', 'ms/image', 'images/s'],
      predict.map((r) => [r.arch, r.images, r.seconds.toFixed(3), r.msPerImage.toFixed(2), r.imagesPerSecond.toFixed(0)]),
    ),
  );
}

main().catch((e: unknown) => {
  console.error(`bench: ${(e as Error).message ?? String(e)}`);
  process.exit(1);
});
