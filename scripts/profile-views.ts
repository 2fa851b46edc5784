/**
 * Where sampling through test-time views spends its time (src/uq/views.ts): a model loaded as
 * its gate says (with the gate's views) and without views, each sampled fixed (the gate's N in
 * each member) and adaptively (its rounds) on the first COUNT MNIST test digits, REPS times
 * alternating. Prints the wall time and, summed over every call of the ort sampler, its own
 * profile (prefix: the layers before the first Dropout; masks; suffix: the passes; summarise),
 * and the time outside the sampler (warping the views, pooling their samples, adaptive rounds).
 *
 *   node --import tsx scripts/profile-views.ts [--model models/deep] [--count 500] [--reps 2]
 */
import { parseArgs } from 'node:util';
import { initBackend } from '../src/engine/backend';
import { loadPredictor } from '../src/uq/predictor';
import { adaptiveRounds, sampleAdaptive } from '../src/uq/adaptive';
import { readGate } from '../src/gate/gate-file';
import { loadMnist } from '../src/data/mnist';
import { OrtSampler } from '../src/uq/ort-sampler';
import type { McInput, McOptions } from '../src/uq/mc-dropout';

const total = { calls: 0, wall: 0, prefix: 0, masks: 0, suffix: 0, summarise: 0 };
// the sampler's profile covers its last call only: sum it over calls
const sampleOnce = OrtSampler.prototype.sample;
OrtSampler.prototype.sample = async function (this: OrtSampler, input: McInput, opts: McOptions) {
  const t = performance.now();
  const result = await sampleOnce.call(this, input, opts);
  total.wall += performance.now() - t;
  total.calls++;
  for (const k of ['prefix', 'masks', 'suffix', 'summarise'] as const) total[k] += this.profile[k];
  return result;
};

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/deep' },
    count: { type: 'string', default: '500' },
    reps: { type: 'string', default: '2' },
  },
});

async function main() {
  const dir = args.model!;
  const count = Number(args.count);
  const reps = Number(args.reps);
  await initBackend();
  const gateFile = readGate(dir);
  if (!gateFile) throw new Error(`${dir} has no gate.json`);
  if (!gateFile.views) console.log(`note: ${dir}'s gate has no views; both rows sample without them`);
  const digits = loadMnist('test', count).images;
  const pixels = new Float32Array(count * 784);
  for (let i = 0; i < count * 784; i++) pixels[i] = digits.pixels[i] / 255;
  const input = { count, pixels, keys: new Uint32Array(count) };
  const ms = (x: number) => x.toFixed(0).padStart(6);
  console.log(`${dir}, ${count} MNIST test digits, ms (sampler columns summed over its calls)`);
  console.log('rep\tviews\tmode\twall\tsampler calls\tsampler\tprefix\tmasks\tsuffix\tsummarise\toutside the sampler');
  for (let rep = 0; rep < reps; rep++) {
    for (const views of ['none', undefined]) {
      const p = await loadPredictor(dir, views ? { views } : {});
      const n = gateFile.samples;
      const run = (mode: 'fixed' | 'adaptive') =>
        mode === 'fixed' ? p.sample(input, { samples: n, seed: 0 }) : sampleAdaptive(p, input, { seed: 0, gate: gateFile, rounds: adaptiveRounds(n, p.members ?? 1) });
      for (const mode of ['fixed', 'adaptive'] as const) {
        // timed on the second call: onnxruntime's first run at a batch shape costs more
        await run(mode);
        Object.assign(total, { calls: 0, wall: 0, prefix: 0, masks: 0, suffix: 0, summarise: 0 });
        const t = performance.now();
        await run(mode);
        const wall = performance.now() - t;
        console.log([rep, p.views ?? 'none', mode, ms(wall), total.calls, ms(total.wall), ms(total.prefix), ms(total.masks), ms(total.suffix), ms(total.summarise), ms(wall - total.wall)].join('\t'));
      }
      p.dispose();
    }
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
