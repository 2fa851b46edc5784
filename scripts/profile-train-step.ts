/**
 * Where a training step's time goes on onnxruntime: the step graph of ARCH (deep or basic) at
 * batch 128 on random data, 8 profiled runs after 2 warm-up runs, then the milliseconds per
 * step by op type and the slowest nodes (onnxruntime's own profiler; its kernel times).
 *
 *   node --import tsx scripts/profile-train-step.ts [deep|basic] [--plain]
 *
 * --plain: the plain ONNX convolutions instead of the NCHWc ones.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/engine/backend';
import { tryLoadOrt } from '../src/engine/engine';
import { buildModel } from '../src/models/architectures';
import { buildTrainingGraph, describeForTraining, nchwcBlockSize } from '../src/onnx/train-graph';

const RUNS = 8;
const BATCH = 128;

async function main(): Promise<void> {
  await initBackend();
  const ort = tryLoadOrt();
  if (!ort) throw new Error('onnxruntime-node is not installed');
  const arch = (process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'deep') as 'deep' | 'basic';
  const block = process.argv.includes('--plain') ? 0 : await nchwcBlockSize(ort);
  const graph = buildTrainingGraph(describeForTraining(buildModel(arch, 1)), 'batch', { nchwcBlock: block });
  const dir = mkdtempSync(join(tmpdir(), 'udq-prof-'));
  const session = await ort.InferenceSession.create(graph.bytes, { intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: join(dir, 'step') });
  const T = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
    x: T(new Float32Array(BATCH * 784).map(() => Math.random()), [BATCH, 1, 28, 28]),
    target: T(new Float32Array(BATCH * 10).fill(0.1), [BATCH, 10]),
    rowWeight: T(new Float32Array(BATCH).fill(1 / BATCH), [BATCH, 1]),
  };
  for (const p of graph.params) feeds[p.name] = T(new Float32Array(p.shape.reduce((a, b) => a * b, 1)).map(() => Math.random() * 0.1 - 0.05), p.shape);
  for (const m of graph.masks) feeds[m.name] = T(new Float32Array(BATCH * m.shape.reduce((a, b) => a * b, 1)).fill(1), [BATCH, ...m.shape]);
  for (let i = 0; i < 2 + RUNS; i++) await session.run(feeds);
  session.endProfiling();
  const events = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), 'utf8')) as { cat: string; name: string; dur: number; args: { op_name?: string; output_type_shape?: unknown } }[];
  rmSync(dir, { recursive: true, force: true });
  const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
  // the profile holds every run; the first two were warm-up
  const perRun = kernels.length / (2 + RUNS);
  const timed = kernels.slice(2 * perRun);
  const byOp = new Map<string, number>();
  const byNode = new Map<string, { ms: number; op: string; shape: string }>();
  for (const e of timed) {
    byOp.set(e.args.op_name!, (byOp.get(e.args.op_name!) ?? 0) + e.dur / 1000 / RUNS);
    const n = byNode.get(e.name) ?? { ms: 0, op: e.args.op_name!, shape: JSON.stringify(e.args.output_type_shape ?? '') };
    n.ms += e.dur / 1000 / RUNS;
    byNode.set(e.name, n);
  }
  const total = [...byOp.values()].reduce((a, b) => a + b, 0);
  console.log(`${arch}, batch ${BATCH}, ${block ? `NCHWc convolutions (block ${block})` : 'plain ONNX convolutions'}: ${total.toFixed(1)} ms of kernels per step`);
  for (const [op, ms] of [...byOp.entries()].sort((a, b) => b[1] - a[1])) if (ms >= 0.1) console.log(`  ${op.padEnd(20)} ${ms.toFixed(1).padStart(6)} ms`);
  console.log('slowest nodes:');
  for (const [name, n] of [...byNode.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) console.log(`  ${n.ms.toFixed(2).padStart(6)} ms  ${n.op.padEnd(16)} ${name.replace('_kernel_time', '')} ${n.shape}`);
}

main().catch((e: unknown) => {
  console.error(`profile-train-step: ${(e as Error).message ?? String(e)}`);
  process.exit(1);
});
