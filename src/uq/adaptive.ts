/**
 * Adaptive MC-dropout sampling (`udq predict`, the library and `udq serve` by default): passes
 * in rounds (10, 20, 40, then the planned N; an ensemble 20, 40, 80 passes in all, see
 * {@link adaptiveRounds}), and an image stops as soon as its verdict and its digit are settled.
 * Most digits are: a clear 3 does not need 90 more passes to stay a 3.
 *
 * The passes are one sequence: round r draws passes prev..r-1 with the masks those pass
 * numbers have (McOptions.firstSample), so an image that runs to N gets exactly the samples of a
 * fixed-N call (and its summary, within float rounding), and one that stops at n got the first n.
 *
 * The stopping rule. Each thing the answer depends on is a statistic T of the passes whose sign
 * is the answer:
 * - the gate: T = margin - logit(threshold), the gate's log-odds of "not a digit" minus the
 *   threshold's (T >= 0 means rejected);
 * - the digit d = argmax of the mean softmax: T_k = mean_d - mean_k for every other class k
 *   (all > 0 means d stays the digit).
 * Every feature is a mean over passes or a smooth function of such means (mean probabilities,
 * their spread, entropies, energy), so T_n (after n passes) is, to first order, a mean of n
 * independent per-pass terms with some variance s^2 (the passes' masks are independent hashes).
 * The final T_N shares the first n passes:
 *   T_N - T_n = (1 - n/N) (T_rest - T_n),  Var = (1 - n/N)^2 s^2 (1/(N-n) + 1/n) = s^2 (1/n - 1/N).
 * s^2/n is estimated by the jackknife over the n passes (each pass left out once):
 *   se_J^2 = (n-1)/n sum_i (T_(i) - mean_i T_(i))^2,
 * which for a plain mean is exactly the sample variance / n. So the image stops when, for every
 * statistic, |T_n| >= z * se_J * sqrt(1 - n/N). With z = 3 the normal tail puts the chance that
 * one look is wrong below 0.14% for an image at the boundary, and far less for the rest; an
 * image has at most three early looks. Statistics with se = 0 (every pass agrees exactly) stop.
 * `scripts/adaptive-eval.ts` measures how often the answer equals the fixed-N one on dev sets.
 *
 * An ensemble sampled with MC dropout (`mc` mode) runs its rounds in every member:
 * round r draws passes prev..r-1 in every member, and the statistics are taken over all the
 * image's passes pooled (K x n), as its features are. The pooled passes are not identically
 * distributed (each member has its own mean), so the jackknife over them also counts the spread
 * between members: a larger standard error than the within-member one, i.e. a later stop.
 * An ensemble in `disagreement` mode has nothing to continue (one deterministic pass a member).
 */
import type { Predictor } from './predictor';
import type { McInput } from './mc-dropout';
import { argmaxOf, buildSummary, entropyOf, logitScores, SampleSummary, summariseSamples, featureVector, FeatureSetName } from './features';
import { logisticMargin, LogisticModel } from '../gate/logistic';
import { UsageError } from '../errors';
import { samplesPerImage } from './sample-count';

/** How far the rule's statistics must be from their boundary, in jackknife standard errors. */
export const ADAPTIVE_Z = 3;

/** Whether `model` can be sampled adaptively: a single model, or an ensemble in `mc` mode. */
export function canSampleAdaptive(model: Pick<Predictor, 'kind' | 'ensembleMode'>): boolean {
  return model.kind === 'model' || model.ensembleMode === 'mc';
}

/**
 * The rounds (cumulative passes in each member) ending at `max`: a single model 10, 20, 40 below
 * it, then `max`. An ensemble of `members` pools its members' passes, so its rounds are 20, 40 and
 * 80 pooled passes (rounded up to whole passes in each member) below K x `max`, then `max`: two
 * members 10, 20, 40; four members 5, 10, 20.
 */
export function adaptiveRounds(max: number, members = 1): number[] {
  if (!Number.isInteger(max) || max < 1) throw new UsageError(`the number of passes must be a positive integer, got ${max}`);
  if (!Number.isInteger(members) || members < 1) throw new UsageError(`the number of members must be a positive integer, got ${members}`);
  const pooled = members === 1 ? [10, 20, 40] : [20, 40, 80];
  const rounds = pooled.map((r) => Math.ceil(r / members)).filter((r) => r < max);
  return [...new Set([...rounds, max])];
}

/** What the verdict depends on: the gate's logistic, its feature set and threshold (none: only the digit). */
export interface VerdictGate {
  logistic: LogisticModel;
  features: FeatureSetName;
  threshold: number;
}

export interface AdaptiveOptions {
  seed: number;
  /** N, the most passes an image gets (an ensemble: in each member; default 100), sampled in the rounds adaptiveRounds(N, K) */
  samples?: number;
  /** instead of those: cumulative passes per round (an ensemble: in each member), increasing; the last is N */
  rounds?: number[];
  /** default ADAPTIVE_Z */
  z?: number;
  gate: VerdictGate | null;
  /** images whose verdict is already fixed (rejected by the input check): only their digit must settle */
  verdictFixed?: ArrayLike<boolean>;
}

export interface AdaptiveResult {
  summaries: SampleSummary[];
  /** passes each image got (an ensemble: in all its members together) */
  passes: number[];
}

/** Jackknife standard error of a statistic from its leave-one-out values. */
export function jackknifeSe(values: ArrayLike<number>): number {
  const n = values.length;
  if (n < 2) return Infinity;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  return Math.sqrt(((n - 1) / n) * ss);
}

/**
 * The n summaries of one image's n passes with one pass left out each (pass i left out in
 * summary i), computed from running sums in O(n K): each equals summariseSamples (and
 * logitScores) on the other n-1 passes, within rounding.
 * @param samples n x k probabilities, pass-major
 */
export function leaveOneOutSummaries(samples: Float32Array, n: number, k: number, energies?: ArrayLike<number>, maxLogits?: ArrayLike<number>): SampleSummary[] {
  if (n < 2) throw new UsageError('leaving one pass out needs at least 2 passes');
  if (samples.length < n * k) throw new UsageError(`expected ${n}x${k} probabilities, got ${samples.length}`);
  const s1 = new Float64Array(k);
  const s2 = new Float64Array(k);
  const counts = new Uint32Array(k);
  const h = new Float64Array(n);
  const top = new Uint32Array(n);
  let hSum = 0;
  let eSum = 0;
  let lSum = 0;
  for (let i = 0; i < n; i++) {
    const o = i * k;
    for (let c = 0; c < k; c++) {
      const p = samples[o + c];
      s1[c] += p;
      s2[c] += p * p;
    }
    h[i] = entropyOf(samples, o, k);
    hSum += h[i];
    top[i] = argmaxOf(samples, o, k);
    counts[top[i]]++;
    if (energies) eSum += energies[i];
    if (maxLogits) lSum += maxLogits[i];
  }
  const m = n - 1;
  const out: SampleSummary[] = [];
  const mean = new Float64Array(k);
  const variance = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    for (let c = 0; c < k; c++) {
      const p = samples[o + c];
      mean[c] = (s1[c] - p) / m;
      variance[c] = (s2[c] - p * p) / m - mean[c] * mean[c];
    }
    counts[top[i]]--;
    const summary = buildSummary(m, k, mean, variance, (hSum - h[i]) / m, counts);
    counts[top[i]]++;
    if (energies && maxLogits) Object.assign(summary, { energy: (eSum - energies[i]) / m, maxLogit: (lSum - maxLogits[i]) / m });
    out.push(summary);
  }
  return out;
}

/** log(t / (1 - t)): the gate margin at which P(not a digit) equals t. */
function logit(t: number): number {
  return Math.log(t / (1 - t));
}

/**
 * The signed statistics of one summary whose signs are its answer (see the module comment): the
 * gate's margin over its threshold (when `gate` and the threshold lies inside (0,1)), then the
 * lead of digit `digit` over every other class.
 */
export function verdictStatistics(summary: SampleSummary, digit: number, gate: VerdictGate | null): number[] {
  const out: number[] = [];
  if (gate && gate.threshold > 0 && gate.threshold < 1) out.push(logisticMargin(gate.logistic, featureVector(summary, gate.features)) - logit(gate.threshold));
  const m = summary.meanProbs;
  for (let c = 0; c < m.length; c++) if (c !== digit) out.push(m[digit] - m[c]);
  return out;
}

/**
 * Whether an image's answer after n of N passes is settled: every statistic at least z jackknife
 * standard errors (scaled by sqrt(1 - n/N)) from zero.
 */
export function isSettled(summary: SampleSummary, loo: SampleSummary[], total: number, gate: VerdictGate | null, z: number): boolean {
  const n = summary.numSamples;
  if (n >= total) return true;
  const digit = summary.predicted;
  const at = verdictStatistics(summary, digit, gate);
  const left = loo.map((s) => verdictStatistics(s, digit, gate));
  const shrink = Math.sqrt(1 - n / total);
  for (let j = 0; j < at.length; j++) {
    const se = jackknifeSe(left.map((v) => v[j]));
    if (Math.abs(at[j]) < z * se * shrink) return false;
  }
  return true;
}

/**
 * Sample `input` in rounds, stopping each image when its answer is settled ({@link isSettled}).
 * A single model, or an ensemble in `mc` mode (rounds counted per member; see the module comment).
 */
export async function sampleAdaptive(model: Predictor, input: McInput, opts: AdaptiveOptions): Promise<AdaptiveResult> {
  if (!canSampleAdaptive(model)) throw new UsageError('adaptive sampling continues MC-dropout passes; an ensemble in disagreement mode has one deterministic pass per member');
  // samples each image gets per pass number: one, or one per member
  const width = samplesPerImage(model, 1);
  const rounds = opts.rounds ?? adaptiveRounds(opts.samples ?? 100, width);
  if (rounds.length === 0 || rounds.some((r, i) => !Number.isInteger(r) || r < 1 || (i > 0 && r <= rounds[i - 1]))) {
    throw new UsageError(`rounds must be increasing positive integers, got ${rounds.join(', ')}`);
  }
  const z = opts.z ?? ADAPTIVE_Z;
  const total = rounds[rounds.length - 1];
  const count = input.count;
  const size = (input.rows ?? 28) * (input.cols ?? 28);
  const summaries: SampleSummary[] = new Array(count);
  const passes = new Array<number>(count).fill(0);
  if (count === 0) return { summaries, passes };
  let classes = 0;
  let store: Float32Array | null = null;
  let energies: Float32Array | null = null;
  let maxLogits: Float32Array | null = null;
  let pending = Array.from({ length: count }, (_, i) => i);
  let done = 0;
  for (const r of rounds) {
    const pixels = input.pixels instanceof Float32Array ? new Float32Array(pending.length * size) : new Uint8Array(pending.length * size);
    pending.forEach((img, j) => pixels.set(input.pixels.subarray(img * size, (img + 1) * size), j * size));
    const keys = pending.map((img) => (input.keys ? input.keys[img] : img));
    const res = await model.sample({ count: pending.length, pixels, keys, rows: input.rows, cols: input.cols }, { samples: r - done, seed: opts.seed, firstSample: done, keepSamples: true });
    if (!res.samples) throw new Error('adaptive sampling: the sampler kept no samples');
    if (!store) {
      classes = res.classes;
      store = new Float32Array(count * width * total * classes);
      if (res.energies && res.maxLogits) {
        energies = new Float32Array(count * width * total);
        maxLogits = new Float32Array(count * width * total);
      }
    }
    // this round's samples of an image: width x step (an ensemble: member by member), after its earlier ones
    const step = width * (r - done);
    const perImage = width * total;
    const have = width * r;
    const next: number[] = [];
    pending.forEach((img, j) => {
      const at = img * perImage + width * done;
      store!.set(res.samples!.subarray(j * step * classes, (j + 1) * step * classes), at * classes);
      if (energies && maxLogits) {
        energies.set(res.energies!.subarray(j * step, (j + 1) * step), at);
        maxLogits.set(res.maxLogits!.subarray(j * step, (j + 1) * step), at);
      }
      const own = store!.subarray(img * perImage * classes, (img * perImage + have) * classes);
      const e = energies?.subarray(img * perImage, img * perImage + have);
      const l = maxLogits?.subarray(img * perImage, img * perImage + have);
      const summary = summariseSamples(own, have, classes);
      if (e && l) Object.assign(summary, logitScores(e, l));
      const gate = opts.verdictFixed?.[img] ? null : opts.gate;
      if (r >= total || (have >= 2 && isSettled(summary, leaveOneOutSummaries(own, have, classes, e, l), perImage, gate, z))) {
        summaries[img] = summary;
        passes[img] = have;
      } else next.push(img);
    });
    done = r;
    pending = next;
    if (pending.length === 0) break;
  }
  return { summaries, passes };
}
