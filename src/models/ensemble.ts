/**
 * Ensemble directories: `ensemble.json` (the manifest) and `members/m0 .. m{K-1}/`, each a
 * normal model directory (model.json, weights.bin, udq.json). `gate.json` sits at the root, as
 * for a model. A directory is an ensemble iff it holds `ensemble.json`.
 *
 * Also the pure training plan: member seeds and k-fold subsets.
 */
import type * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Arch } from './architectures';
import { loadModel, MANIFEST_FILE, ModelManifest, removeFromDir, writeJsonAtomic } from './store';
import type { LabelledImages } from '../data/types';
import { splitValidation } from '../train/batches';
import { deriveSeed } from '../random';
import { mnistSha256 } from '../data/mnist';
import { VERSION } from '../version';
import { ModelError, UsageError } from '../errors';

import { ENSEMBLE_FILE, MEMBERS_DIR, memberDirName } from './ensemble-files';
export { ENSEMBLE_FILE, MEMBERS_DIR, isEnsembleDir, memberDir, memberDirName } from './ensemble-files';

/**
 * How an ensemble is sampled: `disagreement` = one deterministic (dropout off) softmax per
 * member, K samples per image; `mc` = N MC-dropout passes inside each member, K x N samples.
 */
export type EnsembleMode = 'disagreement' | 'mc';
export const ENSEMBLE_MODES: readonly EnsembleMode[] = ['disagreement', 'mc'];

/** A half-open range [start, end) of training-image indices. */
export interface FoldRange {
  start: number;
  end: number;
}

export interface EnsembleMemberRecord {
  /** relative to the ensemble directory, e.g. `members/m0` */
  dir: string;
  seed: number;
  /** with --kfold: the training images this member did not see (indices into the training set) */
  heldOutFold: FoldRange | null;
  trainImages: number;
  valImages: number;
  bestEpoch?: number;
  testAccuracy: number;
  trainingSeconds: number;
}

export interface EnsembleManifest {
  format: 'udq-ensemble';
  formatVersion: 1;
  arch: Arch;
  /** number of members */
  K: number;
  kfold: boolean;
  /** default sampling mode of this ensemble (UDQ_ENSEMBLE_MODE or a library option overrides it) */
  sampling: EnsembleMode;
  /** the --seed the member seeds were derived from (deriveSeed(seed, 'member', i)) */
  seed: number;
  seeds: number[];
  epochs: number;
  batchSize: number;
  backend: string;
  /** images loaded for training (before the validation split and the folds) */
  trainImages: number;
  /** validation images (the tail of the training set), shared by every member */
  valImages: number;
  memberTestAccuracy: number[];
  /** MNIST test accuracy of the members' averaged softmax */
  testAccuracy: number;
  /** sum over members (they train one after another) */
  trainingSeconds: number;
  members: EnsembleMemberRecord[];
  dataset: { name: string; trainSha256: string; testSha256: string };
  udqVersion: string;
  date: string;
  command?: string;
}

/** What a member's udq.json carries besides the model manifest. */
export interface EnsembleMemberManifest extends ModelManifest {
  ensembleMember: { index: number; of: number; heldOutFold: FoldRange | null };
}

/** Member `index`'s record in ensemble.json, from what its training reported (a summary or its manifest). */
export function memberRecord(
  index: number,
  seed: number,
  heldOutFold: FoldRange | null,
  trained: Pick<EnsembleMemberRecord, 'trainImages' | 'valImages' | 'bestEpoch' | 'testAccuracy' | 'trainingSeconds'>,
): EnsembleMemberRecord {
  return {
    dir: memberDirName(index),
    seed,
    heldOutFold,
    trainImages: trained.trainImages,
    valImages: trained.valImages,
    bestEpoch: trained.bestEpoch,
    testAccuracy: trained.testAccuracy,
    trainingSeconds: trained.trainingSeconds,
  };
}

/**
 * The fields of ensemble.json that follow from its members however they were made (trained
 * together, or joined by `udq ensemble`): their records and test accuracies, the averaged
 * softmax's `testAccuracy`, the training time in all, the data, the version, date and command.
 */
export function membersManifestFields(
  records: EnsembleMemberRecord[],
  testAccuracy: number,
  argv: string[] = [],
): Pick<EnsembleManifest, 'memberTestAccuracy' | 'testAccuracy' | 'trainingSeconds' | 'members' | 'dataset' | 'udqVersion' | 'date' | 'command'> {
  return {
    memberTestAccuracy: records.map((r) => r.testAccuracy),
    testAccuracy,
    trainingSeconds: records.reduce((a, r) => a + r.trainingSeconds, 0),
    members: records,
    dataset: { name: 'mnist', trainSha256: mnistSha256('train'), testSha256: mnistSha256('test') },
    udqVersion: VERSION,
    date: new Date().toISOString(),
    command: argv.length ? `udq ${argv.join(' ')}` : undefined,
  };
}

export function writeEnsembleManifest(dir: string, manifest: EnsembleManifest): void {
  writeJsonAtomic(join(dir, ENSEMBLE_FILE), manifest);
}

export function readEnsembleManifest(dir: string): EnsembleManifest {
  const p = join(dir, ENSEMBLE_FILE);
  if (!existsSync(p)) throw new ModelError(`${dir}: no ${ENSEMBLE_FILE} (not a udq ensemble directory)`);
  let m: EnsembleManifest;
  try {
    m = JSON.parse(readFileSync(p, 'utf8')) as EnsembleManifest;
  } catch (e) {
    throw new ModelError(`${p}: not valid JSON (${(e as Error).message})`);
  }
  if (m.format !== 'udq-ensemble') throw new ModelError(`${p}: invalid manifest (format is not udq-ensemble)`);
  if (!Number.isInteger(m.K) || m.K < 1 || !Array.isArray(m.members) || m.members.length !== m.K) {
    throw new ModelError(`${p}: invalid manifest (K and members disagree)`);
  }
  if (m.sampling !== undefined && !ENSEMBLE_MODES.includes(m.sampling)) {
    throw new ModelError(`${p}: invalid sampling '${String(m.sampling)}' (expected ${ENSEMBLE_MODES.join(' or ')})`);
  }
  return m;
}

export interface LoadedEnsemble {
  dir: string;
  manifest: EnsembleManifest;
  /** member models in member order */
  members: tf.LayersModel[];
}

/** Load an ensemble directory and all of its members (each a checked model directory). */
export async function loadEnsemble(dir: string): Promise<LoadedEnsemble> {
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new ModelError(`ensemble directory ${dir} does not exist`);
  const manifest = readEnsembleManifest(abs);
  const members: tf.LayersModel[] = [];
  try {
    for (const rec of manifest.members) {
      const loaded = await loadModel(join(abs, rec.dir));
      members.push(loaded.model);
      if (loaded.manifest.arch !== manifest.arch) {
        throw new ModelError(`${loaded.dir}: member arch ${loaded.manifest.arch} differs from the ensemble's ${manifest.arch}`);
      }
    }
  } catch (e) {
    members.forEach((m) => m.dispose());
    throw e;
  }
  return { dir: abs, manifest, members };
}

/**
 * Before a forced re-train: remove what belonged to the previous model or ensemble in `dir`
 * (manifests, weights, members, checkpoint, and its gate.json, which no longer fits).
 * Returns the names removed.
 */
export function clearEnsembleDir(dir: string): string[] {
  return removeFromDir(dir, [ENSEMBLE_FILE, MEMBERS_DIR, 'model.json', 'weights.bin', MANIFEST_FILE, 'checkpoint', 'gate.json']);
}

/** Seed of member `index`: deriveSeed(seed, 'member', index). */
export function memberSeed(seed: number, index: number): number {
  return deriveSeed(seed, 'member', index);
}

/**
 * K contiguous folds over `count` items, fold i = [floor(i*count/K), floor((i+1)*count/K)):
 * disjoint, covering 0..count-1, sizes differing by at most one.
 */
export function kfoldRanges(count: number, k: number): FoldRange[] {
  if (!Number.isInteger(k) || k < 2) throw new UsageError(`k-fold needs at least 2 folds, got ${k}`);
  if (!Number.isInteger(count) || count < k) throw new UsageError(`cannot split ${count} images into ${k} folds`);
  return Array.from({ length: k }, (_, i) => ({ start: Math.floor((i * count) / k), end: Math.floor(((i + 1) * count) / k) }));
}

export interface MemberTrainingSet {
  /** the member's training set; its last `valImages` images are the shared validation split */
  set: LabelledImages;
  /** the validation fraction to pass to trainModel so that exactly the shared tail is held out */
  valSplit: number;
  trainImages: number;
  valImages: number;
  heldOutFold: FoldRange;
}

/**
 * The training set of k-fold member `fold` of `k`: the validation tail of `train` (the last
 * `valSplit` fraction, as trainModel takes it) is set aside and shared by all members; the
 * rest is cut into k folds and fold `fold` is removed (pixels and labels copied). The
 * returned `valSplit` makes trainModel hold out exactly that shared tail again.
 */
export function memberTrainingSet(train: LabelledImages, valSplit: number, k: number, fold: number): MemberTrainingSet {
  if (!Number.isInteger(fold) || fold < 0 || fold >= k) throw new UsageError(`fold ${fold} is not one of 0..${k - 1}`);
  const { rows, cols, count } = train.images;
  const size = rows * cols;
  const split = splitValidation(count, valSplit);
  const range = kfoldRanges(split.train, k)[fold];
  const removed = range.end - range.start;
  const n = count - removed;
  const pixels = new Uint8Array(n * size);
  pixels.set(train.images.pixels.subarray(0, range.start * size), 0);
  pixels.set(train.images.pixels.subarray(range.end * size, count * size), range.start * size);
  let labels: Uint8Array | undefined;
  if (train.labels) {
    labels = new Uint8Array(n);
    labels.set(train.labels.subarray(0, range.start), 0);
    labels.set(train.labels.subarray(range.end, count), range.start);
  }
  // floor(n * (v + 0.5) / n) = v exactly, where v / n could round down to v - 1
  const memberValSplit = split.val === 0 ? 0 : (split.val + 0.5) / n;
  const check = splitValidation(n, memberValSplit);
  if (check.val !== split.val || check.train < 1) {
    throw new UsageError(`fold ${fold} of ${k} leaves no training images (${count} images, validation ${split.val})`);
  }
  return {
    set: { ...train, images: { count: n, rows, cols, pixels }, labels },
    valSplit: memberValSplit,
    trainImages: check.train,
    valImages: check.val,
    heldOutFold: range,
  };
}
