/**
 * How a model reads a series of the hand-drawn training digits (src/data/synth/hand-digits.ts)
 * drawn with another seed than the training one: per digit, what it is read as and the share
 * accepted by the model's own gate and read right (50 passes). Used in docs/RESULTS.md, "The
 * curled 9".
 *
 *   node --import tsx scripts/hand-style-eval.ts MODEL_DIR [SERIES (hand-digits, hand-digits-b, hand-digits-c, hand-digits-d; default hand-digits-c)] [SEED (1)] [COUNT (200)]
 */
import { initBackend } from '../src/engine/backend';
import { loadPredictor } from '../src/uq/predictor';
import { readGate } from '../src/gate/gate-file';
import { gateScores } from '../src/gate/ood-report';
import { scoreImageSet } from '../src/uq/score-set';
import { countsMostFirst } from '../src/gate/metrics';
import { generateHandDigits, HAND_SERIES } from '../src/data/synth/hand-digits';

(async () => {
  const [dir, seriesName = 'hand-digits-c', seedArg = '1', countArg = '200'] = process.argv.slice(2);
  const series = HAND_SERIES.find((s) => s.name === seriesName);
  if (!dir || !series) throw new Error(`usage: hand-style-eval.ts MODEL_DIR [${HAND_SERIES.map((s) => s.name).join('|')}] [SEED] [COUNT]`);
  const seed = Number(seedArg);
  if (seed === series.seed) throw new Error(`seed ${seed} is the training seed of ${series.name}: pick another`);
  await initBackend();
  const model = await loadPredictor(dir);
  const gate = readGate(model.dir);
  if (!gate) throw new Error(`${dir} has no gate.json: run udq calibrate first`);
  const set = await generateHandDigits({ count: Number(countArg), seed }, series);
  const scored = await scoreImageSet(model, set.images, undefined, gate.sanity, { samples: 50, seed: 0 });
  const pReject = gateScores(scored.summaries, gate.logistic, gate.features);
  const labels = set.labels!;
  for (const digit of [...new Set(labels)].sort()) {
    const idx = [...labels.keys()].filter((i) => labels[i] === digit);
    const right = idx.filter((i) => scored.valid[i] && pReject[i] < gate.threshold && scored.summaries[i].predicted === digit);
    const reads = countsMostFirst(idx.map((i) => scored.summaries[i].predicted)).map(([d, c]) => `${d}:${c}`).join(' ');
    console.log(`${dir} ${series.name} seed ${seed}, digit ${digit}: read as ${reads}; accepted and read right ${(right.length / idx.length).toFixed(3)} of ${idx.length}`);
  }
  model.dispose();
})();
