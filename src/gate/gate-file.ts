/** `gate.json`: the fitted reject gate stored next to a model. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogisticModel, parseLogisticModel } from './logistic';
import type { FeatureSetName } from '../uq/features';
import type { SanityThresholds } from './sanity';
import { ModelError } from '../errors';
import { writeJsonAtomic } from '../models/store';
import type { OodReport } from './ood-report';
import { parseViews, viewsSpec } from '../uq/views';

export const GATE_FILE = 'gate.json';

export interface GateFile {
  format: 'udq-gate';
  formatVersion: 1;
  features: FeatureSetName;
  featureNames: string[];
  logistic: LogisticModel;
  /** accept as a digit iff P(not a digit) < threshold */
  threshold: number;
  acceptRate: number;
  samples: number;
  seed: number;
  bnMode: 'inference' | 'batch';
  /** what the features were sampled with: 'mc-dropout' (a model) or an ensemble mode; absent in older files */
  sampling?: string;
  /** the test-time views the features were sampled through (src/uq/views.ts; loadPredictor applies them); absent: none */
  views?: string;
  adversary: { name: string; fitImages: number };
  digits: { source: string; fitImages: number };
  /** the digits the threshold was chosen on (absent in older files: the fit digits) */
  thresholdDigits?: { source: string; images: number };
  /** the threshold digits augmented (calibrate --shifted-digits): recipe, the share the threshold had to accept, images, the share accepted */
  shiftedDigits?: { recipe: string; acceptRate: number; thresholdImages: number; accepted: number };
  /**
   * inside a written number (`udq predict --number`): the threshold that accepts `acceptRate` of
   * the plain threshold digits unless that lets more than 2% more of the held-out adversary
   * images through, never below `threshold`; the shares of the plain and the augmented
   * threshold digits and of the held-out adversary images it accepts; absent in older files (a
   * number then uses `threshold`)
   */
  number?: { acceptRate: number; threshold: number; accepted: number; acceptedAugmented?: number; adversaryAccepted?: number };
  sanity: SanityThresholds;
  /** held-out metrics measured by calibrate */
  heldOut: OodReport;
  udqVersion: string;
  date: string;
}

/** The gate as it judges the digits of a written number: its `number` threshold when it has one. */
export function gateForNumbers(gate: GateFile): GateFile {
  return gate.number ? { ...gate, threshold: gate.number.threshold } : gate;
}

/** What a predictor samples with, as recorded in gate.json. */
export function samplingOf(p: { kind: 'model' | 'ensemble'; ensembleMode?: string }): string {
  return p.kind === 'ensemble' ? `ensemble-${p.ensembleMode ?? 'disagreement'}` : 'mc-dropout';
}

/**
 * A warning when the gate was fitted on features sampled differently from how the predictor
 * samples now (e.g. an ensemble gate fitted in disagreement mode, used in mc mode): its
 * threshold then no longer accepts the digit share it was set for; the same for test-time views
 * (src/uq/views.ts). null when they agree.
 */
export function gateSamplingWarning(gate: GateFile, p: { kind: 'model' | 'ensemble'; ensembleMode?: string; views?: string }): string | null {
  const now = samplingOf(p);
  if (gate.sampling !== undefined && gate.sampling !== now) {
    return `warning: the gate was fitted on ${gate.sampling} samples but this run samples with ${now}; its threshold may not accept the share of digits it was set for (re-run udq calibrate)`;
  }
  const canonical = (spec?: string) => viewsSpec(parseViews(spec ?? 'none') ?? []) || 'none';
  if (canonical(gate.views) !== canonical(p.views)) {
    return `warning: the gate was fitted on samples through the test-time views ${gate.views ?? 'none'} but this run samples through ${p.views ?? 'none'}; its threshold may not accept the share of digits it was set for (re-run udq calibrate)`;
  }
  return null;
}

/** The gate as outputs name it (predict's JSON, the server's /api/info): features, threshold, adversary, test-time views if any. */
export function gateSummary(gate: GateFile | null): { features: string; threshold: number; adversary: string; views?: string } | null {
  return gate ? { features: gate.features, threshold: gate.threshold, adversary: gate.adversary.name, ...(gate.views ? { views: gate.views } : {}) } : null;
}

export function gatePath(modelDir: string): string {
  return join(modelDir, GATE_FILE);
}

export function writeGate(modelDir: string, gate: GateFile): void {
  writeJsonAtomic(gatePath(modelDir), gate);
}

export function readGate(modelDir: string): GateFile | null {
  const p = gatePath(modelDir);
  if (!existsSync(p)) return null;
  let g: GateFile;
  try {
    g = JSON.parse(readFileSync(p, 'utf8')) as GateFile;
  } catch (e) {
    throw new ModelError(`${p}: not valid JSON (${(e as Error).message})`);
  }
  if (g.format !== 'udq-gate' || typeof g.threshold !== 'number' || !g.sanity) throw new ModelError(`${p}: not a udq gate file`);
  g.logistic = parseLogisticModel(g.logistic);
  if (g.views !== undefined) {
    try {
      if (typeof g.views !== 'string') throw new Error('not a list of views');
      parseViews(g.views);
    } catch (e) {
      throw new ModelError(`${p}: views: ${(e as Error).message}`);
    }
  }
  return g;
}
