/**
 * What the uncertainty commands sample from: a single model (MC dropout) or, later, an
 * ensemble. Commands load a Predictor from a directory and never touch tfjs models directly.
 */
import type * as tf from '@tensorflow/tfjs';
import { loadModel, ModelManifest } from '../models/store';
import { sampleMcDropout, McInput, McOptions, McResult } from './mc-dropout';

export interface Predictor {
  /** absolute directory it was loaded from (gate.json lives here) */
  dir: string;
  kind: 'model' | 'ensemble';
  arch: string;
  /** N stochastic softmax vectors per image, summarised */
  sample(input: McInput, opts: McOptions): Promise<McResult>;
  dispose(): void;
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

export async function loadPredictor(dir: string): Promise<Predictor> {
  const loaded = await loadModel(dir);
  return modelPredictor(loaded.dir, loaded.model, loaded.manifest);
}
