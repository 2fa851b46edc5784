/**
 * Training speed (images/second) per tensor backend, for both architectures: a few
 * trainOnBatch steps of batch 128 on MNIST train images, after one warm-up step.
 *
 *   npm run bench:train [-- --all] [--json] [--backend wasm,cpu]
 *
 * A backend that fails to initialise is listed as unavailable with the reason. The pure-JS
 * cpu backend is slow: it runs fewer steps, and deep on cpu is skipped unless --all.
 * Nothing here fails on timings.
 */
import * as tf from '@tensorflow/tfjs';
import { BACKENDS, BackendName, initBackend, parseBackendName } from '../src/engine/backend';
import { ARCHS, Arch, buildModel } from '../src/models/architectures';
import { compileForTraining } from '../src/train/train';
import { fillBatch, fillOneHot } from '../src/train/batches';
import { loadMnist } from '../src/data/mnist';

const BATCH = 128;
const CLASSES = 10;
const SEED = 1;
/** timed steps (after one warm-up step) per backend and arch */
const STEPS: Record<BackendName, Record<Arch, number>> = {
  tensorflow: { basic: 10, deep: 5 },
  wasm: { basic: 10, deep: 4 },
  cpu: { basic: 2, deep: 1 },
};

interface Row {
  backend: BackendName;
  arch: Arch;
  status: 'ok' | 'unavailable' | 'skipped';
  steps?: number;
  batch?: number;
  seconds?: number;
  imagesPerSecond?: number;
  note?: string;
}

function parseArgs(argv: string[]): { all: boolean; json: boolean; backends: BackendName[] } {
  const out = { all: false, json: false, backends: [...BACKENDS] as BackendName[] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--all') out.all = true;
    else if (a === '--json') out.json = true;
    else if (a === '--backend' || a.startsWith('--backend=')) {
      const list = a === '--backend' ? argv[++i] : a.slice('--backend='.length);
      out.backends = (list ?? '').split(',').map((b) => parseBackendName(b.trim())).filter((b): b is BackendName => b !== undefined);
    } else throw new Error(`unknown argument ${a} (expected --all, --json, --backend LIST)`);
  }
  return out;
}

/** Time `steps` trainOnBatch steps (after one warm-up step) on consecutive batches of `train`. */
async function timeTraining(arch: Arch, steps: number, train: ReturnType<typeof loadMnist>): Promise<number> {
  const model = buildModel(arch, SEED);
  const optimizer = compileForTraining(model, 1e-3);
  const order = Array.from({ length: train.images.count }, (_, i) => i);
  const xBuf = new Float32Array(BATCH * 784);
  const yBuf = new Float32Array(BATCH * CLASSES);
  const step = async (b: number) => {
    fillBatch(train.images, order, b * BATCH, (b + 1) * BATCH, xBuf);
    fillOneHot(train.labels!, order, b * BATCH, (b + 1) * BATCH, CLASSES, yBuf);
    const x = tf.tensor4d(xBuf, [BATCH, 28, 28, 1]);
    const y = tf.tensor2d(yBuf, [BATCH, CLASSES]);
    await model.trainOnBatch(x, y); // resolves with the loss, i.e. after the step has run
    tf.dispose([x, y]);
  };
  await step(0);
  const t0 = performance.now();
  for (let b = 1; b <= steps; b++) await step(b);
  const seconds = (performance.now() - t0) / 1000;
  optimizer.dispose();
  model.dispose();
  return seconds;
}

function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  return cells.map((r) => r.map((v, c) => (c < 3 || c === r.length - 1 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ').trimEnd()).join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const maxSteps = Math.max(...Object.values(STEPS).flatMap((s) => Object.values(s)));
  const train = loadMnist('train', (maxSteps + 1) * BATCH);
  const rows: Row[] = [];
  for (const backend of args.backends) {
    try {
      await initBackend(backend);
    } catch (e) {
      for (const arch of ARCHS) rows.push({ backend, arch, status: 'unavailable', note: (e as Error).message });
      continue;
    }
    for (const arch of ARCHS) {
      if (backend === 'cpu' && arch === 'deep' && !args.all) {
        rows.push({ backend, arch, status: 'skipped', note: 'pure-JS cpu is very slow for deep; run with --all to include it' });
        continue;
      }
      const steps = STEPS[backend][arch];
      if (!args.json) process.stderr.write(`timing ${backend} ${arch}: ${steps} steps of ${BATCH}...\n`);
      const seconds = await timeTraining(arch, steps, train);
      rows.push({ backend, arch, status: 'ok', steps, batch: BATCH, seconds, imagesPerSecond: (steps * BATCH) / seconds });
    }
  }

  if (args.json) {
    console.log(JSON.stringify({ tfjsVersion: tf.version.tfjs, batch: BATCH, rows }, null, 2));
    return;
  }
  console.log(`training speed, batch ${BATCH}, one warm-up step before timing (tfjs ${tf.version.tfjs})`);
  console.log(
    table(
      ['backend', 'arch', 'status', 'steps', 'seconds', 'images/s', 'note'],
      rows.map((r) => [
        r.backend,
        r.arch,
        r.status,
        r.steps ?? '-',
        r.seconds?.toFixed(2) ?? '-',
        r.imagesPerSecond?.toFixed(0) ?? '-',
        r.note ?? '',
      ]),
    ),
  );
}

main().catch((e: unknown) => {
  console.error(`bench-train: ${(e as Error).message ?? String(e)}`);
  process.exit(1);
});
