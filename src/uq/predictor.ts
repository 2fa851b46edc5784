/**
 * What the uncertainty commands sample from: a single model (MC dropout) or an ensemble
 * (member disagreement, or MC dropout inside each member). Commands load a Predictor from a
 * directory and never touch tfjs models directly.
 */
import type * as tf from '@tensorflow/tfjs';
import { loadModel, ModelManifest } from '../models/store';
import { EnsembleManifest, isEnsembleDir, loadEnsemble } from '../models/ensemble';
import { sampleMcDropout, McInput, McOptions, McResult } from './mc-dropout';
import { ensembleModeFromEnv, EnsembleMode, parseEnsembleMode, sampleEnsemble } from './ensemble';

/** Options of one sample() call. */
export interface SampleOptions extends McOptions {
  /** ensembles only: sampling mode for this call (default: the predictor's `ensembleMode`) */
  ensembleMode?: EnsembleMode;
}

export interface Predictor {
  /** absolute directory it was loaded from (gate.json lives here) */
  dir: string;
  kind: 'model' | 'ensemble';
  arch: string;
  /** ensembles: number of members */
  members?: number;
  /** ensembles: how sample() draws unless a call says otherwise */
  ensembleMode?: EnsembleMode;
  /**
   * Softmax samples per image, summarised: a model gives `samples` MC-dropout passes; an
   * ensemble gives one per member (`disagreement`) or `samples` per member (`mc`).
   */
  sample(input: McInput, opts: SampleOptions): Promise<McResult>;
  dispose(): void;
}

export { samplesPerImage } from './sample-count';

export interface LoadPredictorOptions {
  /**
   * Sampling mode of an ensemble. Precedence: this option, then $UDQ_ENSEMBLE_MODE, then the
   * `sampling` field of ensemble.json, then `disagreement`. Ignored for a single model.
   */
  ensembleMode?: EnsembleMode;
}

export function modelPredictor(dir: string, model: tf.LayersModel, manifest: Pick<ModelManifest, 'arch'>): Predictor {
  return {
    dir,
    kind: 'model',
    arch: manifest.arch,
    sample: (input, opts) => sampleMcDropout(model, input, opts),
    dispose: () => model.dispose(),
  };
}

export function ensemblePredictor(dir: string, members: tf.LayersModel[], manifest: Pick<EnsembleManifest, 'arch'>, mode: EnsembleMode = 'disagreement'): Predictor {
  return {
    dir,
    kind: 'ensemble',
    arch: manifest.arch,
    members: members.length,
    ensembleMode: mode,
    sample: (input, opts) => {
      const { ensembleMode, ...rest } = opts;
      return sampleEnsemble(members, input, { ...rest, mode: ensembleMode ?? mode });
    },
    dispose: () => members.forEach((m) => m.dispose()),
  };
}

/** A model directory, or an ensemble directory (one holding ensemble.json). */
export async function loadPredictor(dir: string, opts: LoadPredictorOptions = {}): Promise<Predictor> {
  if (isEnsembleDir(dir)) {
    const mode = opts.ensembleMode !== undefined ? parseEnsembleMode(opts.ensembleMode) : undefined;
    const envMode = ensembleModeFromEnv();
    const loaded = await loadEnsemble(dir);
    return ensemblePredictor(loaded.dir, loaded.members, loaded.manifest, mode ?? envMode ?? loaded.manifest.sampling ?? 'disagreement');
  }
  const loaded = await loadModel(dir);
  return modelPredictor(loaded.dir, loaded.model, loaded.manifest);
}
