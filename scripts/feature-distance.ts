/**
 * A feature-space distance as the non-digit score, against the gate (docs/RESULTS.md, "A
 * feature-space distance as the score"): the model's Flatten features (128 for deep) of one
 * pass without dropout; class means and one shared covariance from the first 20,000 MNIST
 * training images; the score is the least Mahalanobis distance to a class mean (Lee et al. 2018).
 * AUROC / FPR95 of each set against the odd-indexed MNIST test digits, and the share of each set
 * closer than the 95th and 99th percentile of those digits. Dev sets only; nothing is saved.
 *
 *   node --import tsx scripts/feature-distance.ts [MODEL_DIR]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { initBackend } from '../src/engine/backend';
import { loadModelFiles } from '../src/models/store';
import { loadMnist } from '../src/data/mnist';
import { testDigitsHalf } from '../src/gate/calibrate';
import { readIdxImages, readIdxLabels } from '../src/data/idx';
import { loadAdversary } from '../src/data/sources';
import { auroc, fpr95 } from '../src/gate/metrics';
import type { ImageSet } from '../src/data/types';
import { loadImageAsMnist } from '../src/image/load';
import { readSemeion, renderSemeion } from './semeion-render';
import { flattenFeatures, type FlattenFeatures } from './flatten-features';
import { toFloatImages } from '../src/uq/mc-dropout';

// one model (the shipped models/deep is an ensemble since round 8: its first member by default)
const dir = process.argv[2] ?? 'models/deep/members/m0';
const f3 = (x: number) => x.toFixed(3);

function invert(a: Float64Array, n: number): Float64Array {
  const m = new Float64Array(n * 2 * n);
  for (let i = 0; i < n; i++) { for (let j = 0; j < n; j++) m[i * 2 * n + j] = a[i * n + j]; m[i * 2 * n + n + i] = 1; }
  for (let c = 0; c < n; c++) {
    let p = c; for (let r = c + 1; r < n; r++) if (Math.abs(m[r * 2 * n + c]) > Math.abs(m[p * 2 * n + c])) p = r;
    if (p !== c) for (let j = 0; j < 2 * n; j++) { const t = m[c * 2 * n + j]; m[c * 2 * n + j] = m[p * 2 * n + j]; m[p * 2 * n + j] = t; }
    const d = m[c * 2 * n + c]; for (let j = 0; j < 2 * n; j++) m[c * 2 * n + j] /= d;
    for (let r = 0; r < n; r++) if (r !== c) { const f = m[r * 2 * n + c]; if (f) for (let j = 0; j < 2 * n; j++) m[r * 2 * n + j] -= f * m[c * 2 * n + j]; }
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = m[i * 2 * n + n + j];
  return out;
}

(async () => {
  await initBackend();
  const model = await loadModelFiles(dir);
  // Flatten features and softmax of n images (floats), or of an image set
  const run = (pix: Float32Array, n: number) => flattenFeatures(model, pix, n);
  const runSet = (set: ImageSet) => run(toFloatImages(set, 0, set.count), set.count);
  const train = loadMnist('train');
  const NT = 20000;
  const tr = run(toFloatImages(train.images, 0, NT), NT);
  // the Flatten width: 128 for deep
  const D = tr.dim;
  const mean = new Float64Array(10 * D); const cnt = new Float64Array(10);
  for (let i = 0; i < NT; i++) { const c = train.labels![i]; cnt[c]++; for (let j = 0; j < D; j++) mean[c * D + j] += tr.features[i * D + j]; }
  for (let c = 0; c < 10; c++) for (let j = 0; j < D; j++) mean[c * D + j] /= cnt[c];
  const cov = new Float64Array(D * D);
  for (let i = 0; i < NT; i++) { const c = train.labels![i]; const v = new Float64Array(D); for (let j = 0; j < D; j++) v[j] = tr.features[i * D + j] - mean[c * D + j]; for (let a = 0; a < D; a++) { const va = v[a]; if (!va) continue; for (let b = 0; b < D; b++) cov[a * D + b] += va * v[b]; } }
  for (let k = 0; k < D * D; k++) cov[k] /= NT;
  for (let a = 0; a < D; a++) cov[a * D + a] += 1e-3;
  const P = invert(cov, D);
  const score = (r: FlattenFeatures, n: number) => {
    const out: number[] = []; const pred: number[] = [];
    const v = new Float64Array(D);
    for (let i = 0; i < n; i++) {
      let best = Infinity;
      for (let c = 0; c < 10; c++) {
        for (let j = 0; j < D; j++) v[j] = r.features[i * D + j] - mean[c * D + j];
        let s = 0; for (let a = 0; a < D; a++) { let t = 0; for (let b = 0; b < D; b++) t += P[a * D + b] * v[b]; s += v[a] * t; }
        if (s < best) best = s;
      }
      out.push(best); let am = 0; for (let c = 1; c < 10; c++) if (r.probs[i * 10 + c] > r.probs[i * 10 + am]) am = c; pred.push(am);
    }
    return { s: out, pred };
  };
  const odd = testDigitsHalf('report').images;
  const dm = score(runSet(odd), odd.count);
  const sorted = [...dm.s].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.floor(p * (sorted.length - 1))];
  console.log(`MNIST odd: median ${f3(q(0.5))}, q95 ${f3(q(0.95))}, q99 ${f3(q(0.99))}`);
  const sep = (name: string, s: number[]) => {
    const sc = [...dm.s, ...s]; const lab = [...dm.s.map(() => 0), ...s.map(() => 1)];
    console.log(`${name}\tn ${s.length}\tAUROC ${f3(auroc(sc, lab))}\tFPR95 ${f3(fpr95(sc, lab))}\tbelow MNIST q95 ${f3(s.filter((v) => v <= q(0.95)).length / s.length)}\tbelow q99 ${f3(s.filter((v) => v <= q(0.99)).length / s.length)}`);
  };
  const li = readIdxImages('../shared/data/emnist-letters-dev-af-images-idx3-ubyte.gz');
  const ll = readIdxLabels('../shared/data/emnist-letters-dev-af-labels-idx1-ubyte.gz');
  const lr = score(runSet(li), li.count);
  for (let L = 1; L <= 6; L++) sep(`letter ${'abcdef'[L - 1]}`, lr.s.filter((_, i) => ll[i] === L));
  sep('letters a,c-f', lr.s.filter((_, i) => ll[i] !== 2));
  const omni = await loadAdversary('omniglot-dev', { split: 'test' });
  const om = score(runSet(omni.images), omni.images.count);
  sep('omniglot all', om.s);
  // Semeion through the picture pipeline (scans)
  const rows = readSemeion('../shared/data/semeion-digits.data.gz');
  const sp = new Float32Array(rows.length * 784);
  for (const [i, r] of rows.entries()) sp.set((await loadImageAsMnist(await renderSemeion(r.bits, 'scan'))).pixels, i * 784);
  const sm = score(run(sp, rows.length), rows.length);
  sep('semeion scans', sm.s);
  for (let d = 0; d < 10; d++) sep(`  semeion ${d}`, sm.s.filter((_, i) => rows[i].label === d));
  const right = sm.pred.map((p, i) => p === rows[i].label);
  sep('  semeion read right', sm.s.filter((_, i) => right[i]));
  sep('  semeion read wrong', sm.s.filter((_, i) => !right[i]));
  const ud = '../shared/data/user-digits-dev';
  const files = readdirSync(ud).filter((f) => !f.endsWith('.csv'));
  const up = new Float32Array(files.length * 784);
  for (const [i, f] of files.entries()) { try { up.set((await loadImageAsMnist(readFileSync(`${ud}/${f}`))).pixels, i * 784); } catch { /* */ } }
  sep('user pictures', score(run(up, files.length), files.length).s);
})();
