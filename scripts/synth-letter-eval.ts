/**
 * Which font letters a model's gate accepts: the held-out test images of `synth-letters` (the
 * same fonts as its training images, so in-set numbers; 38-39 images a letter), 50 passes, the
 * model's own gate. Prints per letter the share accepted and the digits the accepted ones were
 * read as (docs/RESULTS.md, "The lowercase g back in outlier exposure").
 *
 *   node --import tsx scripts/synth-letter-eval.ts MODEL_DIR [g+h+j+k+m+q+y+a+b+d]
 */
import { initBackend } from '../src/engine/backend';
import { loadPredictor } from '../src/uq/predictor';
import { readGate } from '../src/gate/gate-file';
import { gateScores } from '../src/gate/ood-report';
import { countsMostFirst } from '../src/gate/metrics';
import { scoreImageSet } from '../src/uq/score-set';
import { loadAdversary } from '../src/data/sources';
const letters = (process.argv[3] ?? 'g+h+j+k+m+q+y+a+b+d').split('+');
(async () => {
  await initBackend();
  const p = await loadPredictor(process.argv[2]);
  const gate = readGate(p.dir)!;
  const set = await loadAdversary(`synth-letters:${letters.join('+')}`, { split: 'test' });
  const s = await scoreImageSet(p, set.images, undefined, gate.sanity, { samples: 50, seed: 0 });
  const g = gateScores(s.summaries, gate.logistic, gate.features);
  const out: string[] = [];
  for (const L of letters) {
    const k = set.classNames!.indexOf(L);
    const idx = Array.from(set.labels!.keys()).filter((i) => set.labels![i] === k);
    const acc = idx.filter((i) => s.valid[i] && g[i] < gate.threshold);
    const reads = countsMostFirst(acc.map((i) => s.summaries[i].predicted)).slice(0, 2);
    out.push(`${L} ${(acc.length / idx.length).toFixed(2)} (n ${idx.length}; ${reads.map(([d, c]) => `${d}:${c}`).join(' ')})`);
  }
  console.log(process.argv[2], out.join(', '));
})();
