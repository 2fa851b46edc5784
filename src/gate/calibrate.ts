/**
 * Fit the reject gate: MC-dropout features of held-out MNIST digits (label 0) vs adversary
 * images (label 1), a seeded 50/50 fit/held-out split of each, logistic regression on the
 * fit half, threshold for the target digit acceptance rate, metrics on the held-out half.
 */
import type { Predictor } from '../uq/predictor';
import { loadMnist } from '../data/mnist';
import { concatSets, loadAdversary } from '../data/sources';
import { shiftedDigits } from '../data/shifted';
import { AugmentRecipe, augmentSpec } from '../train/augment';
import { LabelledImages, pickImages } from '../data/types';
import { FEATURE_SET_NAMES, featureNames, featureVector, FeatureSetName } from '../uq/features';
import { adversaryCap, fitLogistic, chooseThreshold, LogisticModel } from './logistic';
import { gateScores, oodReport, OodReport, ScoredSet } from './ood-report';
import { mnistSanityThresholds } from './sanity';
import { scoreImageSet } from '../uq/score-set';
import { deriveSeed, mulberry32, shuffledIndices } from '../random';
import type { BnMode } from '../uq/mc-dropout';
import { GateFile, samplingOf } from './gate-file';
import { VERSION } from '../version';
import { UsageError } from '../errors';

export interface CalibrateOptions {
  adversary: string;
  samples: number;
  /** the saved gate's feature set; default `scores`, or `full` when the sampler gives no logits */
  features?: FeatureSetName;
  /** images of each kind (digits, adversary) */
  limit: number;
  /** even-indexed MNIST test digits the threshold is chosen on (default: `limit`) */
  thresholdDigits?: number;
  seed: number;
  acceptRate: number;
  bnMode: BnMode;
  /**
   * Digits rendered the ways users bring them (an augmentation recipe: `users`, a list of parts):
   * the gate is fitted on MNIST digits and as many of them augmented, and its threshold must
   * also accept `shiftedAcceptRate` of the threshold digits augmented. Absent: MNIST only.
   */
  shifted?: AugmentRecipe | null;
  /** share of the augmented threshold digits the gate must accept (default 0.93) */
  shiftedAcceptRate?: number;
  /**
   * share of the plain threshold digits the gate must accept inside a written number (`udq
   * predict --number`), where the user has said the picture holds digits (default
   * {@link NUMBER_ACCEPT_RATE}); never below the gate's own threshold
   */
  numberAcceptRate?: number;
  onProgress?: (what: string, done: number, total: number) => void;
}

/**
 * The default feature set of a gate: `scores` (max probability, entropies, MI, mean std, energy,
 * max logit). Chosen by transfer (docs/RESULTS.md): on the outlier-exposed deep model it has the
 * best AUROC on real EMNIST letters never used for fitting (0.966, std: 0.955), and after
 * outlier exposure the study's std-only gate can collapse (basic: 0.71).
 */
export const DEFAULT_FEATURES: FeatureSetName = 'scores';

/**
 * Default share of the plain threshold digits a gate accepts inside a written number. A number
 * is accepted only when every one of its 2-6 digits is, so a digit's 98.5% becomes 91-97% for a
 * number; 99% keeps a 5-digit number at about 95% (docs/RESULTS.md, "Numbers written with
 * several digits").
 */
export const NUMBER_ACCEPT_RATE = 0.99;

/**
 * The number threshold lets through at most this share more of the held-out adversary images
 * (generated strokes and letters) than the gate's own threshold: a model that separates digits
 * from them less well gets a number threshold nearer its own.
 */
export const NUMBER_EXTRA_ADVERSARY = 0.02;

export interface CalibrationResult {
  gate: GateFile;
  /** held-out metrics of a gate on each feature set (the saved one included) */
  byFeatureSet: Partial<Record<FeatureSetName, OodReport>>;
}

function splitHalf<T>(items: T[], seed: number, label: string): { fit: T[]; held: T[] } {
  const order = shuffledIndices(items.length, mulberry32(deriveSeed(seed, label)));
  const half = Math.floor(items.length / 2);
  return { fit: Array.from(order.subarray(0, half), (i) => items[i]), held: Array.from(order.subarray(half), (i) => items[i]) };
}

/** Share of a scored set that passes the sanity check and scores under `threshold`. */
function acceptedShare(set: ScoredSet, logistic: LogisticModel, features: FeatureSetName, threshold: number): number {
  const scores = gateScores(set.summaries, logistic, features);
  return scores.filter((s, i) => set.valid[i] && s < threshold).length / Math.max(1, scores.length);
}

function subset(set: ScoredSet, idx: number[]): ScoredSet {
  return { summaries: idx.map((i) => set.summaries[i]), valid: idx.map((i) => set.valid[i]), labels: set.labels ? idx.map((i) => set.labels![i]) : undefined };
}

/** Digits the model was not trained on: the validation tail of MNIST train (the last 10%). */
export function heldOutDigits(limit: number): LabelledImages {
  const train = loadMnist('train');
  const start = Math.floor(train.images.count * 0.9);
  const count = Math.min(limit, train.images.count - start);
  const idx = Array.from({ length: count }, (_, i) => start + i);
  return { name: 'mnist (train, held-out tail)', images: pickImages(train.images, idx), labels: Uint8Array.from(idx, (i) => train.labels![i]), classNames: train.classNames };
}

/**
 * Half of the MNIST test digits: `threshold` = the even-indexed ones, on which the gate's
 * threshold is chosen; `report` = the odd-indexed ones, on which `udq evaluate` reports.
 * Why test digits: the training tail is written by the same people as the training set and
 * is easier for the model; a threshold accepting 95% of it accepts only 91-92% of digits by
 * new writers. Interleaving keeps both halves the same mix of MNIST's two writer groups.
 */
export function testDigitsHalf(which: 'threshold' | 'report', limit?: number): LabelledImages {
  const test = loadMnist('test');
  const idx: number[] = [];
  for (let i = which === 'threshold' ? 0 : 1; i < test.images.count && (limit === undefined || idx.length < limit); i += 2) idx.push(i);
  return {
    name: `mnist (test, ${which === 'threshold' ? 'even' : 'odd'} indices)`,
    images: pickImages(test.images, idx),
    labels: Uint8Array.from(idx, (i) => test.labels![i]),
    classNames: test.classNames,
  };
}

export async function calibrateGate(model: Predictor, opts: CalibrateOptions): Promise<CalibrationResult> {
  const plainDigits = heldOutDigits(opts.limit);
  const shifted = opts.shifted ?? null;
  const shiftedRate = opts.shiftedAcceptRate ?? 0.93;
  const digits = shifted ? concatSets([plainDigits, shiftedDigits(plainDigits, shifted, opts.seed)], `${plainDigits.name}, plain and augmented (${augmentSpec(shifted)})`) : plainDigits;
  const adversary = await loadAdversary(opts.adversary, { split: 'train', limit: opts.limit, seed: opts.seed });
  if (adversary.images.count < 4) throw new UsageError(`adversary ${opts.adversary} has only ${adversary.images.count} images; need at least 4`);
  const sanity = mnistSanityThresholds();
  const common = { samples: opts.samples, seed: opts.seed, bnMode: opts.bnMode };
  const d = await scoreImageSet(model, digits.images, digits.labels, sanity, { ...common, onProgress: (a, b) => opts.onProgress?.('digits', a, b) });
  const thresholdDigits = testDigitsHalf('threshold', opts.thresholdDigits ?? opts.limit);
  const t = await scoreImageSet(model, thresholdDigits.images, thresholdDigits.labels, sanity, { ...common, onProgress: (a, b) => opts.onProgress?.('threshold digits', a, b) });
  const a = await scoreImageSet(model, adversary.images, undefined, sanity, { ...common, onProgress: (x, y) => opts.onProgress?.(adversary.name, x, y) });
  const shiftedThreshold = shifted ? shiftedDigits(thresholdDigits, shifted, opts.seed + 1) : null;
  const ts = shiftedThreshold ? await scoreImageSet(model, shiftedThreshold.images, shiftedThreshold.labels, sanity, { ...common, onProgress: (x, y) => opts.onProgress?.('augmented threshold digits', x, y) }) : null;

  const dSplit = splitHalf([...Array(d.summaries.length).keys()], opts.seed, 'digits');
  const aSplit = splitHalf([...Array(a.summaries.length).keys()], opts.seed, 'adversary');
  const dFit = subset(d, dSplit.fit);
  const aFit = subset(a, aSplit.fit);
  const dHeld = subset(d, dSplit.held);
  const aHeld = subset(a, aSplit.held);

  const numberRate = opts.numberAcceptRate ?? NUMBER_ACCEPT_RATE;
  const fitOne = (features: FeatureSetName): { logistic: LogisticModel; threshold: number; numberThreshold: number; report: OodReport } => {
    // the gate is fitted on images that pass the sanity check (the others never reach it)
    const dx = dFit.summaries.filter((_, i) => dFit.valid[i]);
    const ax = aFit.summaries.filter((_, i) => aFit.valid[i]);
    if (dx.length < 2 || ax.length < 2) {
      throw new UsageError(`too few images pass the input sanity check to fit a gate: ${dx.length} digits, ${ax.length} adversary images (the sanity check alone rejects this adversary; raise --limit or pick another set)`);
    }
    const X = [...dx, ...ax].map((s) => featureVector(s, features));
    const y = [...dx.map(() => 0 as const), ...ax.map(() => 1 as const)];
    const logistic = fitLogistic(X, y, { featureNames: featureNames(features) });
    // the threshold: accept `acceptRate` of the sane test-half digits (sanity-rejected ones count as rejected)
    const thresholdFor = (set: ScoredSet, rate: number) => {
      const scores = gateScores(set.summaries, logistic, features).filter((_, i) => set.valid[i]);
      return chooseThreshold(scores, Math.min(1, (rate * set.summaries.length) / Math.max(1, scores.length)));
    };
    // accept acceptRate of the plain test digits and, with augmented ones, shiftedRate of those: the larger threshold does both
    const threshold = ts ? Math.max(thresholdFor(t, opts.acceptRate), thresholdFor(ts, shiftedRate)) : thresholdFor(t, opts.acceptRate);
    // inside a number: numberRate of the plain threshold digits (the augmented ones' last 1% are
    // harsher than a cut-out digit, and a threshold that accepts them accepts letters too), but
    // no more than NUMBER_EXTRA_ADVERSARY more of the held-out adversary images than the gate's own
    const aScores = gateScores(aHeld.summaries, logistic, features).filter((_, i) => aHeld.valid[i]);
    const cap = adversaryCap(aScores, aHeld.summaries.length, threshold, NUMBER_EXTRA_ADVERSARY);
    const numberThreshold = Math.max(threshold, Math.min(thresholdFor(t, numberRate), cap));
    return { logistic, threshold, numberThreshold, report: oodReport(dHeld, aHeld, { logistic, features, threshold }, opts.acceptRate) };
  };
  // the logit-based sets need a sampler that saw logits (not ensembles, not imported logit-less models)
  const hasLogits = d.summaries.every((x) => x.energy !== undefined);
  const available = FEATURE_SET_NAMES.filter((f) => hasLogits || (f !== 'full-logit' && f !== 'scores'));
  const features: FeatureSetName = opts.features ?? (hasLogits ? DEFAULT_FEATURES : 'full');
  if (!available.includes(features)) throw new UsageError(`--features ${features} needs logit scores, which this model's sampler does not give; use std or full`);
  const fits: Partial<Record<FeatureSetName, ReturnType<typeof fitOne>>> = {};
  for (const f of available) fits[f] = fitOne(f);
  const chosen = fits[features]!;
  const gate: GateFile = {
    format: 'udq-gate',
    formatVersion: 1,
    features,
    featureNames: featureNames(features),
    logistic: chosen.logistic,
    threshold: chosen.threshold,
    acceptRate: opts.acceptRate,
    samples: opts.samples,
    seed: opts.seed,
    bnMode: opts.bnMode,
    sampling: samplingOf(model),
    ...(model.views ? { views: model.views } : {}),
    adversary: { name: adversary.name, fitImages: aFit.summaries.length },
    digits: { source: digits.name, fitImages: dFit.summaries.length },
    thresholdDigits: { source: thresholdDigits.name, images: thresholdDigits.images.count },
    number: {
      acceptRate: numberRate,
      threshold: chosen.numberThreshold,
      accepted: acceptedShare(t, chosen.logistic, features, chosen.numberThreshold),
      adversaryAccepted: acceptedShare(aHeld, chosen.logistic, features, chosen.numberThreshold),
      ...(ts ? { acceptedAugmented: acceptedShare(ts, chosen.logistic, features, chosen.numberThreshold) } : {}),
    },
    ...(shifted && ts ? { shiftedDigits: { recipe: augmentSpec(shifted), acceptRate: shiftedRate, thresholdImages: ts.summaries.length, accepted: acceptedShare(ts, chosen.logistic, features, chosen.threshold) } } : {}),
    sanity,
    heldOut: chosen.report,
    udqVersion: VERSION,
    date: new Date().toISOString(),
  };
  const byFeatureSet: Partial<Record<FeatureSetName, OodReport>> = {};
  for (const f of available) byFeatureSet[f] = fits[f]!.report;
  return { gate, byFeatureSet };
}
