/** Score a saved gate on MNIST test digits (the odd-indexed half) vs an adversary set (no refitting). */
import type { Predictor } from '../uq/predictor';
import { testDigitsHalf } from './calibrate';
import { loadAdversary } from '../data/sources';
import { oodReport, OodReport } from './ood-report';
import { scoreImageSet } from '../uq/score-set';
import type { GateFile } from './gate-file';
import type { BnMode } from '../uq/mc-dropout';

export interface EvaluateGateOptions {
  adversary: string;
  samples: number;
  seed: number;
  limit: number;
  bnMode: BnMode;
  onProgress?: (what: string, done: number, total: number) => void;
}

export async function evaluateGate(model: Predictor, gate: GateFile, opts: EvaluateGateOptions): Promise<OodReport & { adversaryName: string }> {
  // the odd-indexed test digits: the even ones chose the threshold (testDigitsHalf)
  const digits = testDigitsHalf('report', opts.limit);
  const adversary = await loadAdversary(opts.adversary, { split: 'test', limit: opts.limit, seed: opts.seed });
  const common = { samples: opts.samples, seed: opts.seed, bnMode: opts.bnMode };
  const d = await scoreImageSet(model, digits.images, digits.labels, gate.sanity, { ...common, onProgress: (a, b) => opts.onProgress?.('digits', a, b) });
  const a = await scoreImageSet(model, adversary.images, undefined, gate.sanity, { ...common, onProgress: (x, y) => opts.onProgress?.(adversary.name, x, y) });
  return { ...oodReport(d, a, gate, gate.acceptRate), adversaryName: adversary.name };
}
