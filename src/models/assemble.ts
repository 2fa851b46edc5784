/**
 * `udq ensemble`: join models udq trained separately (from scratch with different seeds, the
 * way a deep ensemble is made) into one ensemble directory, as `udq train --ensemble` writes
 * it: each model copied to members/m<i> with its manifest (plus its place in the ensemble),
 * ensemble.json with the members' records and the MNIST test accuracy of their averaged
 * softmax. The members' gates are not copied: an ensemble needs its own (`udq calibrate`).
 */
import { copyFileSync, existsSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import {
  clearEnsembleDir,
  EnsembleManifest,
  EnsembleMemberManifest,
  EnsembleMemberRecord,
  EnsembleMode,
  isEnsembleDir,
  MEMBERS_DIR,
  memberDir,
  memberRecord,
  membersManifestFields,
  writeEnsembleManifest,
} from './ensemble';
import { ensureWritableModelDir, loadModelFiles, MANIFEST_FILE, ModelManifest, readTrainedManifest, writeJsonAtomic } from './store';
import { loadMnist } from '../data/mnist';
import { classificationReport, predictProbabilities } from '../train/evaluate';
import { averageProbabilities } from '../uq/ensemble';
import { relativePath } from '../paths';
import { ModelError, UsageError } from '../errors';

export interface AssembleOptions {
  /** model directories, one per member, in member order */
  members: string[];
  out: string;
  sampling: EnsembleMode;
  force?: boolean;
  /** the command line, recorded in ensemble.json */
  argv?: string[];
  /** a line of progress for the user */
  log?: (line: string) => void;
}

export interface AssembleSummary {
  dir: string;
  K: number;
  memberTestAccuracy: number[];
  testAccuracy: number;
}

/** The path with its links resolved as far as it exists (an --out not made yet keeps its own name). */
function real(path: string): string {
  return existsSync(path) ? realpathSync(path) : path;
}

/** Where `dir` lies inside `parent` (or is it). */
function inside(dir: string, parent: string): boolean {
  const rel = relative(parent, dir);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
}

export async function assembleEnsemble(opts: AssembleOptions): Promise<AssembleSummary> {
  const log = opts.log ?? (() => {});
  if (opts.members.length < 2) throw new UsageError('an ensemble needs at least 2 member models (--members A,B)');
  const out = real(resolve(opts.out));
  const dirs = opts.members.map((m) => real(resolve(m)));
  const seen = new Set<string>();
  const manifests: ModelManifest[] = dirs.map((dir, i) => {
    const given = opts.members[i];
    if (seen.has(dir)) throw new UsageError(`--members names ${given} twice: an ensemble of copies is one model`);
    seen.add(dir);
    if (inside(dir, out) || inside(out, dir)) throw new UsageError(`--out ${opts.out} and member ${given} overlap: write the ensemble somewhere else`);
    if (!existsSync(dir)) throw new ModelError(`member ${given} does not exist`);
    if (isEnsembleDir(dir)) throw new UsageError(`member ${given} is an ensemble; name its member models instead`);
    if (!existsSync(join(dir, MANIFEST_FILE))) throw new ModelError(`member ${given} has no ${MANIFEST_FILE} (not a model udq trained)`);
    for (const f of ['model.json', 'weights.bin']) if (!existsSync(join(dir, f))) throw new ModelError(`member ${given} has no ${f}`);
    return readTrainedManifest(dir);
  });
  const arch = manifests[0].arch;
  manifests.forEach((m, i) => {
    if (m.arch !== arch) throw new UsageError(`member ${opts.members[i]} is ${m.arch}, member ${opts.members[0]} is ${arch}: members share one architecture`);
  });
  ensureWritableModelDir(out, Boolean(opts.force));
  // every member loaded and scored before anything in --out is touched
  const test = loadMnist('test');
  const testProbs: Float32Array[] = [];
  for (let i = 0; i < dirs.length; i++) {
    const model = await loadModelFiles(dirs[i]);
    try {
      testProbs.push(predictProbabilities(model, test.images));
    } finally {
      model.dispose();
    }
    log(`member ${i + 1}/${dirs.length}: ${relativePath(dirs[i])} (seed ${manifests[i].seed ?? '?'}, test accuracy ${manifests[i].testAccuracy.toFixed(4)})`);
  }
  const removed = clearEnsembleDir(out);
  if (removed.length) log(`--force: removed ${removed.join(', ')} from ${relativePath(out)}`);
  const records: EnsembleMemberRecord[] = [];
  try {
    for (let i = 0; i < dirs.length; i++) {
      const m = manifests[i];
      const target = memberDir(out, i);
      mkdirSync(target, { recursive: true });
      for (const f of ['model.json', 'weights.bin']) copyFileSync(join(dirs[i], f), join(target, f));
      const memberManifest: EnsembleMemberManifest = { ...m, ensembleMember: { index: i, of: dirs.length, heldOutFold: null } };
      writeJsonAtomic(join(target, MANIFEST_FILE), memberManifest);
      records.push(memberRecord(i, m.seed ?? NaN, null, m));
    }
  } catch (e) {
    // nothing half-written: a members/ directory alone would make the next run refuse --out
    rmSync(join(out, MEMBERS_DIR), { recursive: true, force: true });
    throw e;
  }
  const report = classificationReport(averageProbabilities(testProbs), test.labels!, test.classNames!);
  const manifest: EnsembleManifest & { assembledFrom: string[] } = {
    format: 'udq-ensemble',
    formatVersion: 1,
    arch,
    K: dirs.length,
    kfold: false,
    sampling: opts.sampling,
    seed: manifests[0].seed ?? NaN,
    seeds: records.map((r) => r.seed),
    epochs: Math.max(...manifests.map((m) => m.epochs)),
    batchSize: manifests[0].batchSize,
    backend: manifests[0].backend,
    trainImages: manifests[0].trainImages + manifests[0].valImages,
    valImages: manifests[0].valImages,
    ...membersManifestFields(records, report.accuracy, opts.argv),
    assembledFrom: opts.members.map((m) => relativePath(resolve(m))),
  };
  writeEnsembleManifest(out, manifest);
  return { dir: out, K: dirs.length, memberTestAccuracy: manifest.memberTestAccuracy, testAccuracy: report.accuracy };
}
