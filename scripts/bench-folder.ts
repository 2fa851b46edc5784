/**
 * `udq predict DIR` throughput (issue #20): a folder of Semeion digits rendered as 176 px scans
 * (as scripts/semeion-eval.ts renders them), predicted with the defaults (adaptive passes) and
 * with the gate's fixed N (100; an ensemble: N in each member), against the sampler's own bound
 * at those passes (its pictures/s on the same pictures' 28x28 images), all measured in this one run. Decoding alone
 * is timed too, and the defaults with 1 and 2 decode worker threads beside the sampler.
 *
 *   node --import tsx scripts/bench-folder.ts [--count 500] [--model models/deep]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readSemeion, renderSemeion } from './semeion-render';
import { initBackend } from '../src/engine/backend';
import { loadPredictor } from '../src/uq/predictor';
import { samplesPerImage } from '../src/uq/sample-count';
import { readGate } from '../src/gate/gate-file';
import { mnistSanityThresholds } from '../src/gate/sanity';
import { collectPictureFiles, predictFiles } from '../src/predict/predict';
import { loadImageAsMnist } from '../src/image/load';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '500' },
    model: { type: 'string', default: 'models/deep' },
    semeion: { type: 'string', default: '../shared/data/semeion-digits.data.gz' },
  },
});

(async () => {
  await initBackend();
  const count = Number(args.count);
  const rows = readSemeion(args.semeion!);
  const dir = mkdtempSync(join(tmpdir(), 'udq-folder-'));
  try {
    for (let i = 0; i < count; i++) writeFileSync(join(dir, `scan-${String(i).padStart(5, '0')}.png`), await renderSemeion(rows[i % rows.length].bits, 'scan'));
    const files = collectPictureFiles([dir]);
    const model = await loadPredictor(args.model!);
    const gate = readGate(model.dir);
    const base = { samples: gate?.samples ?? 100, seed: 0, gate, sanity: gate?.sanity ?? mnistSanityThresholds() };
    const time = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
      const t0 = performance.now();
      const r = await f();
      return [r, (performance.now() - t0) / 1000];
    };
    await predictFiles(model, files.slice(0, 20), base); // warm up
    const [images, decodeS] = await time(async () => {
      const out: Float32Array[] = [];
      for (const f of files) out.push((await loadImageAsMnist(f)).pixels);
      return out;
    });
    const pixels = new Float32Array(images.length * 784);
    images.forEach((p, i) => pixels.set(p, i * 784));
    // the fixed passes predict takes (an ensemble: the gate's N in each member, so 100 in all for 2 x 50);
    // timed on its second call: onnxruntime's first run at a batch shape costs more (up to 1.5 s for
    // an ensemble's 40-image groups, which the 20-picture warm-up above never reaches)
    const samplerInput = { count: images.length, pixels, keys: new Uint32Array(images.length) };
    await model.sample(samplerInput, { samples: base.samples, seed: 0 });
    const [, samplerS] = await time(() => model.sample(samplerInput, { samples: base.samples, seed: 0 }));
    const fixedPasses = samplesPerImage(model, base.samples);
    const [fixed, fixedS] = await time(() => predictFiles(model, files, base));
    const [adaptive, adaptiveS] = await time(() => predictFiles(model, files, { ...base, adaptive: true }));
    const pooled: [number, number][] = [];
    for (const threads of [1, 2]) {
      const [r, sec] = await time(() => predictFiles(model, files, { ...base, adaptive: true, decodeThreads: threads }));
      const same = r.every((p, i) => p.verdict === adaptive[i].verdict && p.digit === adaptive[i].digit && p.gateProbability === adaptive[i].gateProbability);
      if (!same) throw new Error(`decode threads ${threads}: answers differ from the in-process pipeline`);
      pooled.push([threads, sec]);
    }
    const bound = count / samplerS;
    const rate = (s: number) => count / s;
    const same = adaptive.filter((p, i) => p.verdict === fixed[i].verdict && p.digit === fixed[i].digit).length;
    const passes = adaptive.reduce((a, p) => a + (p.passes ?? 0), 0) / count;
    console.log(`${count} Semeion scans (176 px PNG), ${args.model} on ${model.engine}`);
    console.log(`decode + picture pipeline alone (one after another): ${(1000 * decodeS / count).toFixed(1)} ms/picture, ${rate(decodeS).toFixed(0)} pictures/s`);
    console.log(`sampler alone, fixed ${fixedPasses} passes on the 28x28 images: ${bound.toFixed(0)} pictures/s (the bound)`);
    console.log(`predict DIR --samples ${base.samples} (${fixedPasses} passes): ${rate(fixedS).toFixed(0)} pictures/s = ${(rate(fixedS) / bound).toFixed(2)}x the bound`);
    console.log(`predict DIR (adaptive, ${passes.toFixed(1)} passes a picture on average): ${rate(adaptiveS).toFixed(0)} pictures/s = ${(rate(adaptiveS) / bound).toFixed(2)}x the bound; verdict and digit equal to fixed ${fixedPasses} on ${same}/${count}`);
    for (const [threads, sec] of pooled) console.log(`predict DIR (adaptive, ${threads} decode worker${threads > 1 ? 's' : ''} beside the sampler): ${rate(sec).toFixed(0)} pictures/s = ${(rate(sec) / bound).toFixed(2)}x the bound (answers identical to in-process)`);
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();
