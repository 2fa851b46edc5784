/** Accept/reject + digit + uncertainty for image files (library side of `udq predict`). */
import type { Predictor } from '../uq/predictor';
import { loadImageAsMnist } from '../data/image';
import { featureVector } from '../uq/features';
import { predictProba } from '../gate/logistic';
import { checkInput, SanityThresholds } from '../gate/sanity';
import type { GateFile } from '../gate/gate-file';

export type Verdict = 'digit' | 'rejected' | 'error';

export interface Prediction {
  file: string;
  verdict: Verdict;
  /** why it was rejected: invalid-input:<reason> or uncertain (gate) */
  reason?: string;
  digit?: number;
  /** mean softmax probability of the predicted digit */
  probability?: number;
  meanStd?: number;
  mutualInformation?: number;
  predictiveEntropy?: number;
  /** P(not a digit) from the gate; undefined without a gate */
  gateProbability?: number;
  error?: string;
  /** the 28x28 image the model saw (values 0..1) */
  pixels?: Float32Array;
}

export interface PredictOptions {
  samples: number;
  seed: number;
  gate: GateFile | null;
  sanity: SanityThresholds;
}

export async function predictFiles(model: Predictor, files: string[], opts: PredictOptions): Promise<Prediction[]> {
  const results: Prediction[] = [];
  const toSample: { index: number; pixels: Float32Array }[] = [];
  for (const file of files) {
    try {
      const img = await loadImageAsMnist(file);
      const sanity = checkInput(img.pixels, opts.sanity);
      const p: Prediction = { file, verdict: 'digit', pixels: img.pixels };
      if (!sanity.valid) {
        p.verdict = 'rejected';
        p.reason = `invalid-input:${sanity.reason}`;
      }
      results.push(p);
      toSample.push({ index: results.length - 1, pixels: img.pixels });
    } catch (e) {
      results.push({ file, verdict: 'error', error: (e as Error).message });
    }
  }
  if (toSample.length) {
    const pixels = new Float32Array(toSample.length * 784);
    toSample.forEach((t, i) => pixels.set(t.pixels, i * 784));
    const { summaries } = await model.sample({ count: toSample.length, pixels, keys: new Uint32Array(toSample.length) }, { samples: opts.samples, seed: opts.seed });
    toSample.forEach((t, i) => {
      const s = summaries[i];
      const p = results[t.index];
      p.digit = s.predicted;
      p.probability = s.maxMean;
      p.meanStd = s.meanStd;
      p.mutualInformation = s.mutualInformation;
      p.predictiveEntropy = s.predictiveEntropy;
      if (opts.gate) {
        p.gateProbability = predictProba(opts.gate.logistic, featureVector(s, opts.gate.features));
        if (p.verdict === 'digit' && p.gateProbability >= opts.gate.threshold) {
          p.verdict = 'rejected';
          p.reason = 'uncertain';
        }
      }
    });
  }
  return results;
}
