/**
 * Sampling from an ensemble of K independently trained members.
 *
 * - `disagreement` (default): each member gives one deterministic softmax (dropout off,
 *   BatchNorm in inference mode: `model.predict`), so every image gets K samples and the
 *   features (per-class std, mutual information, ...) measure how much the members disagree.
 *   `samples` is ignored in this mode; nothing is random.
 * - `mc`: `samples` MC-dropout passes inside each member (sampleMcDropout, same rules as for
 *   a single model) with member i's masks seeded by deriveSeed(seed, 'member', i), so every
 *   image gets K x samples samples.
 *
 * Either way the result has the McResult shape of a single model: one summary per image over
 * all its samples (summariseSamples), and with `keepSamples` the samples image-major, member
 * by member within an image (member m, pass s at index m * samples + s). In `mc` mode, when
 * every member's sampler saw logits, the logit scores (energy, max logit: means over passes)
 * are the means over members, so the `scores` gate features exist for ensembles too; with
 * `keepSamples` their per-pass values come back in the samples' layout. `firstSample` (mc mode)
 * draws passes firstSample.. of every member, as for a single model, so adaptive sampling
 * (src/uq/adaptive.ts) can continue an ensemble's passes in rounds.
 *
 * A member is sampled by whatever sampler it comes with (EnsembleMember): tfjs, or the ort
 * engine's cached sampler (src/uq/predictor.ts), which draws the same masks.
 */
import * as tf from '@tensorflow/tfjs';
import type { McInput, McOptions, McResult } from './mc-dropout';
import { sampleMcDropout, toFloatImages } from './mc-dropout';
import { SampleSummary, summariseSamples } from './features';
import { deriveSeed } from '../random';
import { UsageError } from '../errors';
import { ENSEMBLE_MODES, EnsembleMode } from '../models/ensemble';

export type { EnsembleMode } from '../models/ensemble';
export { ENSEMBLE_MODES } from '../models/ensemble';

export interface EnsembleSampleOptions extends McOptions {
  /** default `disagreement` */
  mode?: EnsembleMode;
}

/** Environment variable that overrides an ensemble's sampling mode for every command. */
export const ENSEMBLE_MODE_ENV = 'UDQ_ENSEMBLE_MODE';

export function parseEnsembleMode(value: string, what = 'ensemble mode'): EnsembleMode {
  if (!(ENSEMBLE_MODES as readonly string[]).includes(value)) {
    throw new UsageError(`${what} must be ${ENSEMBLE_MODES.join(' or ')}, got "${value}"`);
  }
  return value as EnsembleMode;
}

/** The mode UDQ_ENSEMBLE_MODE asks for, or undefined when it is unset or empty. */
export function ensembleModeFromEnv(env: NodeJS.ProcessEnv = process.env): EnsembleMode | undefined {
  const v = env[ENSEMBLE_MODE_ENV];
  return v ? parseEnsembleMode(v, ENSEMBLE_MODE_ENV) : undefined;
}

/** Member seed for MC-dropout masks: deriveSeed(seed, 'member', index). */
export function memberMaskSeed(seed: number, index: number): number {
  return deriveSeed(seed, 'member', index);
}

/** Mean of equally long probability arrays (the ensemble's averaged softmax). */
export function averageProbabilities(parts: Float32Array[]): Float32Array {
  if (parts.length === 0) throw new UsageError('cannot average zero members');
  const out = new Float32Array(parts[0].length);
  for (const p of parts) {
    if (p.length !== out.length) throw new UsageError('members gave outputs of different sizes');
    for (let i = 0; i < p.length; i++) out[i] += p[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= parts.length;
  return out;
}

/** Deterministic softmax (dropout off, BatchNorm inference) of images [start, end): (end-start) x classes. */
export function deterministicProbabilities(model: tf.LayersModel, input: McInput, start = 0, end = input.count): Float32Array {
  const rows = input.rows ?? 28;
  const cols = input.cols ?? 28;
  const probs = tf.tidy(() => model.predict(tf.tensor4d(toFloatImages(input, start, end), [end - start, rows, cols, 1])) as tf.Tensor);
  const out = probs.dataSync() as Float32Array;
  probs.dispose();
  return out;
}

function classesOf(model: tf.LayersModel): number {
  return model.outputs[0].shape[1] as number;
}

/** One member as the ensemble sampler uses it: MC-dropout passes, and one deterministic softmax. */
export interface EnsembleMember {
  classes: number;
  /** MC-dropout passes of `input` (keepSamples is set by the caller) */
  sampleMc(input: McInput, opts: McOptions): Promise<McResult>;
  /** dropout off, BatchNorm in inference mode: images [start, end) x classes */
  deterministic(input: McInput, start: number, end: number): Float32Array;
}

/** A tfjs model as a member: sampleMcDropout and model.predict. */
export function tfjsMember(model: tf.LayersModel): EnsembleMember {
  return {
    classes: classesOf(model),
    sampleMc: (input, opts) => sampleMcDropout(model, input, opts),
    deterministic: (input, start, end) => deterministicProbabilities(model, input, start, end),
  };
}

function asMember(m: tf.LayersModel | EnsembleMember): EnsembleMember {
  return 'sampleMc' in m ? m : tfjsMember(m);
}

/** Images per chunk: keeps one chunk's samples (images x K x samples x classes) near 4M floats. */
function chunkSize(perImageFloats: number, batchSize?: number): number {
  return batchSize ?? Math.max(1, Math.min(256, Math.floor((4 * 1024 * 1024) / Math.max(1, perImageFloats))));
}

/** Sample an ensemble (see the module comment). Members must share the number of classes. */
export async function sampleEnsemble(given: (tf.LayersModel | EnsembleMember)[], input: McInput, opts: EnsembleSampleOptions): Promise<McResult> {
  if (given.length === 0) throw new UsageError('an ensemble needs at least one member');
  const members = given.map(asMember);
  const mode = opts.mode ?? 'disagreement';
  parseEnsembleMode(mode);
  if (mode === 'mc' && (!Number.isInteger(opts.samples) || opts.samples < 1)) throw new UsageError('samples must be a positive integer');
  if (mode === 'disagreement' && opts.bnMode === 'batch') {
    throw new UsageError('--bn-mode batch applies to MC dropout; ensemble disagreement uses each member in inference mode (use UDQ_ENSEMBLE_MODE=mc)');
  }
  const firstSample = opts.firstSample ?? 0;
  if (firstSample && mode !== 'mc') throw new UsageError('firstSample numbers MC-dropout passes; ensemble disagreement has one deterministic pass per member');
  const classes = members[0].classes;
  if (members.some((m) => m.classes !== classes)) throw new UsageError('ensemble members have different numbers of classes');
  const k = members.length;
  const perMember = mode === 'mc' ? opts.samples : 1;
  const total = k * perMember;
  const chunk = chunkSize(total * classes, opts.batchSize);
  const offset = opts.indexOffset ?? 0;
  const summaries: SampleSummary[] = [];
  const kept = opts.keepSamples ? new Float32Array(input.count * total * classes) : undefined;
  // mc mode with keepSamples: the members' per-pass logit scores, laid out as the samples (image, member, pass)
  const keptEnergies = kept && mode === 'mc' ? new Float32Array(input.count * total) : undefined;
  const keptMaxLogits = keptEnergies ? new Float32Array(input.count * total) : undefined;
  let perPassLogits = keptEnergies !== undefined;
  const perImage = new Float32Array(total * classes);

  for (let start = 0; start < input.count; start += chunk) {
    const end = Math.min(input.count, start + chunk);
    const b = end - start;
    const chunkSamples = new Float32Array(b * total * classes); // image, member, pass, class
    // mc mode: each member's logit scores per image (means over its passes), when its sampler saw logits
    const energy = new Float64Array(b);
    const maxLogit = new Float64Array(b);
    let logitMembers = 0;
    for (let m = 0; m < k; m++) {
      let values: Float32Array; // image-major: image, pass, class
      if (mode === 'disagreement') {
        values = members[m].deterministic(input, start, end);
      } else {
        const size = (input.rows ?? 28) * (input.cols ?? 28);
        const part: McInput = {
          count: b,
          rows: input.rows,
          cols: input.cols,
          pixels: input.pixels.subarray(start * size, end * size),
          keys: input.keys ? Array.from({ length: b }, (_, i) => input.keys![start + i]) : undefined,
        };
        const r = await members[m].sampleMc(part, {
          samples: opts.samples,
          firstSample,
          seed: memberMaskSeed(opts.seed, m),
          method: opts.method,
          bnMode: opts.bnMode,
          // the same mask keys as one call over the whole input would use
          indexOffset: offset + start,
          keepSamples: true,
          batchSize: opts.batchSize,
        });
        values = r.samples!;
        if (keptEnergies && keptMaxLogits && r.energies && r.maxLogits) {
          for (let i = 0; i < b; i++) {
            const at = (start + i) * total + m * perMember;
            keptEnergies.set(r.energies.subarray(i * perMember, (i + 1) * perMember), at);
            keptMaxLogits.set(r.maxLogits.subarray(i * perMember, (i + 1) * perMember), at);
          }
        } else perPassLogits = false;
        if (r.summaries.every((x) => x.energy !== undefined && x.maxLogit !== undefined)) {
          logitMembers++;
          r.summaries.forEach((x, i) => {
            energy[i] += x.energy!;
            maxLogit[i] += x.maxLogit!;
          });
        }
      }
      for (let i = 0; i < b; i++) {
        chunkSamples.set(values.subarray(i * perMember * classes, (i + 1) * perMember * classes), (i * total + m * perMember) * classes);
      }
    }
    for (let i = 0; i < b; i++) {
      perImage.set(chunkSamples.subarray(i * total * classes, (i + 1) * total * classes));
      const summary = summariseSamples(perImage, total, classes);
      if (logitMembers === k) Object.assign(summary, { energy: energy[i] / k, maxLogit: maxLogit[i] / k });
      summaries.push(summary);
    }
    if (kept) kept.set(chunkSamples, start * total * classes);
    opts.onProgress?.(end, input.count);
  }
  const logits = perPassLogits && keptEnergies && keptMaxLogits ? { energies: keptEnergies, maxLogits: keptMaxLogits } : {};
  return { summaries, samples: kept, classes, ...logits };
}
