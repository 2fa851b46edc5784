/**
 * Which of Semeion's shifts makes a model unsure: its 16x16 1-bit bitmaps, or the stretch of
 * every digit to fill that box? MNIST odd-indexed test digits (never trained on) made
 * Semeion-like three ways and rendered as Semeion's scans (`semeion-render.ts`), then through
 * `udq predict`'s whole path with the model's gate:
 * - plain: the 28x28 frame area-averaged to 16x16, thresholded at 0.35;
 * - fit: the digit's ink box fitted into 16x16 keeping its aspect, thresholded;
 * - stretch: the ink box stretched to fill 16x16 (Semeion's procedure), thresholded.
 * Prints argmax accuracy, accepted, and accepted per digit.
 *
 *   node --import tsx scripts/semeion-shift.ts [--model models/deep] [--count 600]
 */
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/engine/backend';
import { loadPredictor } from '../src/uq/predictor';
import { readGate } from '../src/gate/gate-file';
import { mnistSanityThresholds } from '../src/gate/sanity';
import { predictFiles } from '../src/predict/predict';
import { loadMnist } from '../src/data/mnist';
import { resize } from '../src/image/resample';
import { inkBBox } from '../src/image/load';
import { renderSemeion } from './semeion-render';
(async () => {
  await initBackend();
  const { values: args } = parseArgs({ options: { model: { type: 'string', default: 'models/deep' }, count: { type: 'string', default: '600' } } });
  const model = await loadPredictor(args.model!);
  const gate = readGate(model.dir);
  const N = Number(args.count);
  const set = loadMnist('test');
  const dir = mkdtempSync(join(tmpdir(), 'udq-semdiag-'));
  const idx = Array.from({ length: N }, (_, k) => 2 * k + 1);
  for (const how of ['plain', 'fit', 'stretch']) {
    const files: string[] = [];
    for (const i of idx) {
      const img = Float32Array.from(set.images.pixels.subarray(i * 784, (i + 1) * 784), (v) => v / 255);
      const { x0, y0, x1, y1 } = inkBBox(img, 28, 28, 0.1) ?? { x0: 0, y0: 0, x1: 27, y1: 27 };
      const cw = x1 - x0 + 1, ch = y1 - y0 + 1;
      const crop = new Float32Array(cw * ch);
      for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) crop[y * cw + x] = img[(y0 + y) * 28 + x0 + x];
      let bits: Uint8Array;
      if (how === 'plain') {
        // the MNIST digit itself at 16x16 (its 28x28 frame), 1 bit
        const r = resize(img, 28, 28, 16, 16);
        bits = Uint8Array.from(r, (v) => (v > 0.35 ? 1 : 0));
      } else {
        const s = Math.max(cw, ch);
        const w = how === 'stretch' ? 16 : Math.max(1, Math.round((16 * cw) / s));
        const h = how === 'stretch' ? 16 : Math.max(1, Math.round((16 * ch) / s));
        const r = resize(crop, cw, ch, w, h);
        bits = new Uint8Array(256);
        const ox = Math.floor((16 - w) / 2), oy = Math.floor((16 - h) / 2);
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) bits[(oy + y) * 16 + ox + x] = r[y * w + x] > 0.35 ? 1 : 0;
      }
      const f = join(dir, `${how}-${i}.png`);
      writeFileSync(f, await renderSemeion(bits, 'scan'));
      files.push(f);
    }
    const preds = await predictFiles(model, files, { samples: gate?.samples ?? 100, seed: 0, gate, sanity: gate?.sanity ?? mnistSanityThresholds() });
    const lab = idx.map((i) => set.labels![i]);
    const right = preds.filter((p, k) => p.digit === lab[k]).length / N;
    const acc = preds.filter((p) => p.verdict === 'digit').length / N;
    const per = Array.from({ length: 10 }, (_, d) => {
      const ks = lab.flatMap((l, k) => (l === d ? [k] : []));
      return `${d}:${(ks.filter((k) => preds[k].verdict === 'digit').length / ks.length).toFixed(2)}`;
    }).join(' ');
    if (how === 'plain') console.log(`${args.model}, ${N} MNIST odd test digits made Semeion-like, as scans`);
    console.log(`${how}\targmax ${right.toFixed(3)}\taccepted ${acc.toFixed(3)}\t${per}`);
  }
  rmSync(dir, { recursive: true, force: true });
  model.dispose();
})();
