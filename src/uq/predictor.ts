/**
 * What the uncertainty commands sample from: a single model (MC dropout) or an ensemble
 * (member disagreement, or MC dropout inside each member). Commands load a Predictor from a
 * directory and never touch tfjs models directly.
 */
import type * as tf from '@tensorflow/tfjs';
import { loadModel } from '../models/store';
import { EnsembleManifest, isEnsembleDir, loadEnsemble } from '../models/ensemble';
import { sampleMcDropout, McInput, McOptions, McResult } from './mc-dropout';
import { EnsembleMember, ensembleModeFromEnv, EnsembleMode, parseEnsembleMode, sampleEnsemble, tfjsMember } from './ensemble';
import { EngineInfo, EngineName, pickEngine, tryLoadOrt } from '../engine/engine';
import { OrtSampler } from './ort-sampler';
import { parseViews, sampleThroughViews, viewsSpec } from './views';
import { readGate } from '../gate/gate-file';

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
  /** what draws the samples: onnxruntime (cached sampler) or tfjs (every sampler and mode) */
  engine: EngineName;
  /** what the user should know: why the engine is not the preferred one, a plain tfjs model taken as it is... */
  notes: string[];
  /** ensembles: number of members */
  members?: number;
  /** ensembles: how sample() draws unless a call says otherwise */
  ensembleMode?: EnsembleMode;
  /** the test-time views sample() deals its passes out among (src/uq/views.ts), canonical spec; absent: none */
  views?: string;
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
  /** `ort` or `tfjs` (default: $UDQ_ENGINE, else ort when onnxruntime-node loads) */
  engine?: string;
  /**
   * test-time views (src/uq/views.ts), e.g. `id,r+8,r-8`; `none` for none. Default: the views
   * the directory's gate.json was fitted with, so the features match the gate's.
   */
  views?: string;
}

export function modelPredictor(dir: string, model: tf.LayersModel, manifest: { arch: string }): Predictor {
  return {
    dir,
    kind: 'model',
    arch: manifest.arch,
    engine: 'tfjs',
    notes: [],
    sample: (input, opts) => sampleMcDropout(model, input, opts),
    dispose: () => model.dispose(),
  };
}

/** MC-dropout passes on the ort sampler (BatchNorm in inference mode), else on tfjs with the same masks. */
function ortOrTfjs(sampler: OrtSampler, model: tf.LayersModel): (input: McInput, opts: McOptions) => Promise<McResult> {
  return (input, opts) => ((opts.bnMode ?? 'inference') === 'inference' ? sampler.sample(input, opts) : sampleMcDropout(model, input, opts));
}

/**
 * A model sampled by onnxruntime (cached or naive, BatchNorm in inference mode). Batch-statistics
 * BatchNorm (the study's Keras semantics, a comparison mode) runs on tfjs, with the same masks.
 */
export function ortModelPredictor(dir: string, model: tf.LayersModel, manifest: { arch: string }, sampler: OrtSampler): Predictor {
  return {
    dir,
    kind: 'model',
    arch: manifest.arch,
    engine: 'ort',
    notes: [],
    sample: ortOrTfjs(sampler, model),
    dispose: () => {
      void sampler.dispose();
      model.dispose();
    },
  };
}

/**
 * An ensemble. With `samplers` (one ort sampler per member), each member's MC-dropout passes
 * run on onnxruntime (BatchNorm in inference mode; batch mode and the one deterministic pass
 * per member of `disagreement` run on tfjs, with the same masks).
 */
export function ensemblePredictor(dir: string, members: tf.LayersModel[], manifest: Pick<EnsembleManifest, 'arch'>, mode: EnsembleMode = 'disagreement', samplers?: OrtSampler[]): Predictor {
  const sampled: EnsembleMember[] = members.map((model, m) => {
    const tfjs = tfjsMember(model);
    const sampler = samplers?.[m];
    if (!sampler) return tfjs;
    return { ...tfjs, sampleMc: ortOrTfjs(sampler, model) };
  });
  return {
    dir,
    kind: 'ensemble',
    arch: manifest.arch,
    engine: samplers ? 'ort' : 'tfjs',
    notes: [],
    members: members.length,
    ensembleMode: mode,
    sample: (input, opts) => {
      const { ensembleMode, ...rest } = opts;
      return sampleEnsemble(sampled, input, { ...rest, mode: ensembleMode ?? mode });
    },
    dispose: () => {
      samplers?.forEach((s) => void s.dispose());
      members.forEach((m) => m.dispose());
    },
  };
}

/**
 * `p` sampling through test-time views (none: `p` as it is). Views deal out MC-dropout passes: an
 * ensemble's call in `disagreement` mode (one pass per member with dropout off, e.g. the report's
 * baseline) has none to deal, and sees the picture as it is.
 */
export function withViews(p: Predictor, spec: string | undefined): Predictor {
  const views = spec === undefined ? null : parseViews(spec);
  if (!views) return p;
  const viewed = sampleThroughViews(p.sample, views);
  const disagreement = (o: SampleOptions) => p.kind === 'ensemble' && (o.ensembleMode ?? p.ensembleMode) === 'disagreement';
  return { ...p, views: viewsSpec(views), sample: (input, o) => (disagreement(o) ? p.sample(input, o) : viewed(input, o)) };
}

/**
 * A model directory, or an ensemble directory (one holding ensemble.json), sampled through the
 * test-time views its gate was fitted with (or `opts.views`).
 */
export async function loadPredictor(dir: string, opts: LoadPredictorOptions = {}): Promise<Predictor> {
  // readGate checks the views it records, so a bad list fails before the model loads
  const spec = opts.views ?? readGate(dir)?.views;
  if (spec !== undefined) parseViews(spec);
  return withViews(await loadUnviewed(dir, opts), spec);
}

async function loadUnviewed(dir: string, opts: LoadPredictorOptions): Promise<Predictor> {
  if (isEnsembleDir(dir)) {
    const mode = opts.ensembleMode !== undefined ? parseEnsembleMode(opts.ensembleMode) : undefined;
    const envMode = ensembleModeFromEnv();
    const engine = pickEngine(opts.engine);
    const loaded = await loadEnsemble(dir);
    const chosenMode = mode ?? envMode ?? loaded.manifest.sampling ?? 'disagreement';
    let samplers: OrtSampler[] | undefined;
    let why = '';
    if (engine.engine === 'ort') {
      try {
        samplers = [];
        for (const m of loaded.members) samplers.push(await OrtSampler.create(tryLoadOrt()!, m));
      } catch (e) {
        if (engine.forced) throw e;
        samplers?.forEach((s) => void s.dispose());
        samplers = undefined;
        why = `ort cannot run a member (${(e as Error).message}); sampled with tfjs`;
      }
    }
    const p = ensemblePredictor(loaded.dir, loaded.members, loaded.manifest, chosenMode, samplers);
    if (why) p.notes.push(why);
    return p;
  }
  const engine: EngineInfo = pickEngine(opts.engine);
  const loaded = await loadModel(dir);
  const withNote = (p: Predictor) => {
    if (loaded.note) p.notes.unshift(loaded.note);
    return p;
  };
  if (engine.engine === 'ort') {
    try {
      const sampler = await OrtSampler.create(tryLoadOrt()!, loaded.model);
      return withNote(ortModelPredictor(loaded.dir, loaded.model, loaded.manifest, sampler));
    } catch (e) {
      // a layer the converter does not know: tfjs samples it, and the output says why
      if (engine.forced) throw e;
      const p = modelPredictor(loaded.dir, loaded.model, loaded.manifest);
      p.notes.push(`ort cannot run this model (${(e as Error).message}); sampled with tfjs`);
      return withNote(p);
    }
  }
  return withNote(modelPredictor(loaded.dir, loaded.model, loaded.manifest));
}
