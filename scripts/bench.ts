/**
 * MC-dropout sampling speed, in one run: naive (whole network N times) vs cached
 * (deterministic prefix once, stochastic suffix N times batched), on the tfjs engine and on
 * the ort engine (onnxruntime-node) side by side, for both architectures, on the same MNIST
 * test images; where the ort cached sampler's time goes; a plain deterministic forward pass
 * for context; and, with --peer, any external command's passes/s figure beside ours.
 *
 *   npm run bench [-- --backend wasm|cpu|tensorflow] [--samples 100] [--json]
 *                 [--peer "python3 torch_mc.py"]...
 *
 * A peer command prints a line with "<number> passes/s" (or just a number: the last on its
 * output is taken). Weights are random (seeded): speed does not depend on them. Targets are
 * printed as information; nothing here fails on timings.
 */
import * as tf from '@tensorflow/tfjs';
import { execSync } from 'node:child_process';
import { initBackend } from '../src/engine/backend';
import { tryLoadOrt } from '../src/engine/engine';
import { StudyArch as Arch, buildModel } from '../src/models/architectures';
import { McInput, SamplerMethod, sampleMcDropout } from '../src/uq/mc-dropout';
import { OrtProfile, OrtSampler } from '../src/uq/ort-sampler';
import { loadMnist } from '../src/data/mnist';

type Engine = 'tfjs' | 'ort';

/** Images timed per (engine, arch, method): sized so the whole bench stays within a few minutes on 2 cores. */
const IMAGES: Record<Engine, Record<Arch, Record<SamplerMethod, number>>> = {
  tfjs: { basic: { naive: 200, cached: 300 }, deep: { naive: 20, cached: 100 } },
  ort: { basic: { naive: 200, cached: 1000 }, deep: { naive: 40, cached: 500 } },
};
/** Targets from the issues (information only): cached/naive on tfjs (#2), ort cached / tfjs cached (#10). */
const TARGET_CACHED_OVER_NAIVE: Record<Arch, number> = { basic: 20, deep: 2 };
const TARGET_ORT_OVER_TFJS: Record<Arch, number> = { basic: 1, deep: 5 };
const WARMUP_IMAGES = 4;
const SEED = 1;

interface SamplerRow {
  engine: Engine;
  arch: Arch;
  method: SamplerMethod;
  images: number;
  samples: number;
  seconds: number;
  passesPerSecond: number;
  /** ort: milliseconds per part of the timed run */
  profile?: OrtProfile;
}

interface PeerRow {
  command: string;
  passesPerSecond: number | null;
  output: string;
}

interface Args {
  backend?: string;
  json: boolean;
  samples: number;
  peers: string[];
}

function parseArgs(argv: string[]): Args {
  const out: Args = { json: false, samples: 100, peers: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') out.json = true;
    else if (a === '--backend') out.backend = argv[++i];
    else if (a.startsWith('--backend=')) out.backend = a.slice('--backend='.length);
    else if (a === '--samples' || a.startsWith('--samples=')) out.samples = Number(a === '--samples' ? argv[++i] : a.slice('--samples='.length));
    else if (a === '--peer' || a.startsWith('--peer=')) out.peers.push(a === '--peer' ? argv[++i] : a.slice('--peer='.length));
    else throw new Error(`unknown argument ${a} (expected --backend NAME, --samples N, --peer CMD, --json)`);
  }
  if (!Number.isInteger(out.samples) || out.samples < 1) throw new Error('--samples must be a positive integer');
  return out;
}

/** A peer command's passes/s: the number before "passes/s", else the last number it printed. */
export function parsePeerOutput(text: string): number | null {
  const tagged = [...text.matchAll(/([0-9][0-9,]*(?:\.[0-9]+)?)\s*passes\/s/gi)];
  const all = tagged.length ? tagged : [...text.matchAll(/([0-9][0-9,]*(?:\.[0-9]+)?)/g)];
  if (!all.length) return null;
  const v = Number(all[all.length - 1][1].replace(/,/g, ''));
  return Number.isFinite(v) ? v : null;
}

/** The arch a peer's output names ("arch": "basic" in the PyTorch peer's JSON line); deep when it names none. */
export function peerArch(output: string): Arch {
  return /"arch":\s*"basic"|\bbasic\b/.test(output) ? 'basic' : 'deep';
}

function runPeer(command: string): PeerRow {
  try {
    const output = execSync(command, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30 * 60 * 1000 });
    // the PyTorch peer's JSON line: its cached sampling loop
    const cached = /"cached":\s*([0-9.]+)/.exec(output);
    return { command, passesPerSecond: cached ? Number(cached[1]) : parsePeerOutput(output), output: output.trim().split('\n').slice(-3).join(' | ') };
  } catch (e) {
    return { command, passesPerSecond: null, output: `failed: ${String((e as Error).message).split('\n')[0]}` };
  }
}

type Sample = (input: McInput, method: SamplerMethod) => Promise<unknown>;

async function timeSampler(sample: Sample, pixels: Uint8Array, images: number, method: SamplerMethod): Promise<number> {
  const input = (count: number) => ({ count, pixels: pixels.subarray(0, count * 784) });
  await sample(input(WARMUP_IMAGES), method);
  const t0 = performance.now();
  await sample(input(images), method);
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

const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(0)}%`;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const info = await initBackend(args.backend);
  const ort = tryLoadOrt();
  const engines: Engine[] = ort ? ['tfjs', 'ort'] : ['tfjs'];
  const n = args.samples;
  const log = (t: string) => (args.json ? undefined : process.stderr.write(t + '\n'));
  const maxImages = Math.max(...Object.values(IMAGES).flatMap((a) => Object.values(a).flatMap((m) => Object.values(m))));
  const pixels = loadMnist('test', maxImages).images.pixels as Uint8Array;

  const rows: SamplerRow[] = [];
  const predict: { arch: Arch; images: number; imagesPerSecond: number }[] = [];
  for (const arch of ['basic', 'deep'] as const) {
    const model = buildModel(arch, SEED);
    for (const engine of engines) {
      const ortSampler = engine === 'ort' ? await OrtSampler.create(ort!, model) : null;
      const sample: Sample = (input, method) => (ortSampler ? ortSampler.sample(input, { samples: n, seed: SEED, method }) : sampleMcDropout(model, input, { samples: n, seed: SEED, method }));
      for (const method of ['naive', 'cached'] as const) {
        const images = IMAGES[engine][arch][method];
        log(`timing ${engine} ${arch} ${method}: ${images} images x ${n} samples...`);
        const seconds = await timeSampler(sample, pixels, images, method);
        rows.push({ engine, arch, method, images, samples: n, seconds, passesPerSecond: (images * n) / seconds, profile: ortSampler ? { ...ortSampler.profile } : undefined });
      }
      await ortSampler?.dispose();
    }
    const images = IMAGES.tfjs[arch].cached;
    predict.push({ arch, images, imagesPerSecond: images / (await timePredict(model, pixels, images)) });
    model.dispose();
  }
  const peers = args.peers.map((cmd) => {
    log(`running peer: ${cmd}`);
    return runPeer(cmd);
  });

  const rate = (engine: Engine, arch: Arch, method: SamplerMethod) => rows.find((r) => r.engine === engine && r.arch === arch && r.method === method)?.passesPerSecond;
  const ratios = (['basic', 'deep'] as const).map((arch) => {
    const tc = rate('tfjs', arch, 'cached')!;
    const oc = rate('ort', arch, 'cached');
    return {
      arch,
      tfjsCachedOverNaive: tc / rate('tfjs', arch, 'naive')!,
      ortCachedOverNaive: oc ? oc / rate('ort', arch, 'naive')! : null,
      ortOverTfjsCached: oc ? oc / tc : null,
      targetOrtOverTfjs: TARGET_ORT_OVER_TFJS[arch],
      targetCachedOverNaive: TARGET_CACHED_OVER_NAIVE[arch],
    };
  });
  if (args.json) {
    console.log(JSON.stringify({ backend: info.backend, tfjsVersion: info.tfjsVersion, ortVersion: ort?.env.versions?.node ?? null, samples: n, sampler: rows, ratios, predict, peers }, null, 2));
    return;
  }
  console.log(`backend: ${info.backend} (tfjs ${info.tfjsVersion}); ort: ${ort ? `onnxruntime-node ${ort.env.versions?.node}` : 'not installed'}; N = ${n} samples, seed ${SEED}, random weights\n`);
  console.log('MC-dropout passes/s (images x samples / seconds), same run');
  console.log(
    table(
      ['arch', 'method', ...engines.map((e) => `${e} passes/s`), ...engines.map((e) => `${e} images`)],
      (['basic', 'deep'] as const).flatMap((arch) =>
        (['naive', 'cached'] as const).map((method) => [arch, method, ...engines.map((e) => rate(e, arch, method)!.toFixed(0)), ...engines.map((e) => IMAGES[e][arch][method])]),
      ),
    ),
  );
  console.log('\nspeed-ups (targets from the issues, information only)');
  console.log(
    table(
      ['arch', 'tfjs cached/naive', 'ort cached/naive', 'ort cached / tfjs cached', 'target'],
      ratios.map((r) => [
        r.arch,
        `${r.tfjsCachedOverNaive.toFixed(1)}x`,
        r.ortCachedOverNaive ? `${r.ortCachedOverNaive.toFixed(1)}x` : '-',
        r.ortOverTfjsCached ? `${r.ortOverTfjsCached.toFixed(1)}x` : '-',
        `>= ${r.targetOrtOverTfjs}x${r.ortOverTfjsCached ? (r.ortOverTfjsCached >= r.targetOrtOverTfjs ? ' (met)' : ' (not met)') : ''}`,
      ]),
    ),
  );
  const profiled = rows.filter((r) => r.engine === 'ort' && r.method === 'cached' && r.profile);
  if (profiled.length) {
    console.log('\nwhere the ort cached sampler spends its time (share of the timed run)');
    console.log(
      table(
        ['arch', 'prefix runs', 'mask generation', 'suffix runs', 'softmax, copies, summaries', 'other'],
        profiled.map((r) => {
          const p = r.profile!;
          const total = r.seconds * 1000;
          return [r.arch, pct(p.prefix, total), pct(p.masks, total), pct(p.suffix, total), pct(p.summarise, total), pct(total - p.prefix - p.masks - p.suffix - p.summarise, total)];
        }),
      ),
    );
  }
  console.log('\ndeterministic forward pass (tfjs model.predict, batch 64)');
  console.log(table(['arch', 'images', 'images/s'], predict.map((r) => [r.arch, r.images, r.imagesPerSecond.toFixed(0)])));
  if (peers.length) {
    console.log('\npeers (external commands, run after ours; compared with our ort cached sampler of the arch they name, else deep)');
    console.log(
      table(
        ['command', 'passes/s', 'ort cached / peer', 'output'],
        peers.map((p) => {
          const arch = peerArch(p.output);
          const ours = rate('ort', arch, 'cached');
          return [p.command, p.passesPerSecond?.toFixed(0) ?? '?', p.passesPerSecond && ours ? `${arch} ${(ours / p.passesPerSecond).toFixed(2)}x` : '-', p.output];
        }),
      ),
    );
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(`bench: ${(e as Error).message ?? String(e)}`);
    process.exit(1);
  });
}
