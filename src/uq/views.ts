/**
 * Test-time views: a picture is sampled as several slightly changed copies of itself (turned a
 * few degrees, narrower or wider, a thicker or thinner pen), the MC-dropout passes dealt out
 * among the copies, and all the softmax samples summarised together. The spread then covers
 * how the same writer could have drawn the digit as well as what the model does not know: a
 * digit that is read the same in every view stays certain, one that turns into another digit
 * when drawn a little narrower does not.
 *
 * Pass p of a picture is taken in view p mod J (J views), so a run of N passes gives each view
 * N/J of them (the first views one more when J does not divide N), and sampling in rounds
 * (`firstSample`, adaptive sampling) continues every view's own sequence of passes. View 0 keeps
 * the caller's seed; view v > 0 draws its masks from deriveSeed(seed, 'view', v). With the one
 * view `id` the samples are exactly those of the predictor underneath.
 *
 * A view is one token:
 * - `id`: the picture as it is;
 * - `r+8`, `r-8`: turned 8 degrees (positive: clockwise on screen) about the centre;
 * - `sx0.85`: its width times 0.85 (narrower; above 1 wider);
 * - `s0.9`: its size times 0.9;
 * - `sh0.2`: sheared (x += 0.2 y from the centre);
 * - `thick`, `thin`: the pen one step thicker (grey dilation) or half a step thinner (grey erosion).
 */
import { UsageError } from '../errors';
import { deriveSeed } from '../random';
import { IDENTITY_WARP, thickenStroke, thinStroke, Warp, warpImage } from '../train/augment';
import { summariseSamples } from './features';
import type { McInput, McOptions, McResult } from './mc-dropout';

export interface View {
  /** the token it was read from, in canonical form */
  name: string;
  warp: Warp;
  pen: 'same' | 'thicker' | 'thinner';
}

const SIZE = 784;

/** One view from its token (module comment); a UsageError names a token it cannot read. */
export function parseView(token: string): View {
  const t = token.trim();
  const num = (s: string, what: string, min: number, max: number): number => {
    const v = /^[+-]?\d+(\.\d+)?$/.test(s) ? Number(s) : NaN;
    if (!(v >= min && v <= max)) throw new UsageError(`view '${token}': ${what} must be a number from ${min} to ${max}`);
    return v;
  };
  const view = (name: string, warp: Partial<Warp>, pen: View['pen'] = 'same'): View => ({ name, warp: { ...IDENTITY_WARP, ...warp }, pen });
  if (t === 'id') return view('id', {});
  if (t === 'thick') return view('thick', {}, 'thicker');
  if (t === 'thin') return view('thin', {}, 'thinner');
  if (t.startsWith('sh')) {
    const v = num(t.slice(2), 'the shear', -1, 1);
    return view(`sh${v}`, { shear: v });
  }
  if (t.startsWith('sx')) {
    const v = num(t.slice(2), 'the width factor', 0.5, 2);
    return view(`sx${v}`, { scaleX: v });
  }
  if (t.startsWith('s')) {
    const v = num(t.slice(1), 'the size factor', 0.5, 2);
    return view(`s${v}`, { scaleX: v, scaleY: v });
  }
  if (t.startsWith('r')) {
    const v = num(t.slice(1), 'the angle (degrees)', -45, 45);
    return view(`r${v >= 0 ? '+' : ''}${v}`, { rotate: (v * Math.PI) / 180 });
  }
  throw new UsageError(`unknown view '${token}' (expected id, rDEG, sxF, sF, shF, thick or thin)`);
}

/** Views from a comma-separated list; `''` or `none` is no views (null). */
export function parseViews(spec: string): View[] | null {
  const s = spec.trim();
  if (s === '' || s === 'none') return null;
  const views = s.split(',').map(parseView);
  const same = (a: View, b: View) => a.pen === b.pen && (Object.keys(a.warp) as (keyof Warp)[]).every((k) => a.warp[k] === b.warp[k]);
  for (const [i, v] of views.entries()) {
    const earlier = views.slice(0, i).find((u) => same(u, v));
    if (earlier) throw new UsageError(earlier.name === v.name ? `view '${v.name}' is given twice` : `views '${earlier.name}' and '${v.name}' are the same view`);
  }
  return views;
}

/** The canonical spec of `views` (what gate.json records). */
export function viewsSpec(views: readonly View[]): string {
  return views.map((v) => v.name).join(',');
}

/** `img` (28x28, values 0..1, ink bright) as `view` sees it. */
export function applyView(img: Float32Array, view: View): Float32Array {
  const warped = warpImage(img, view.warp);
  if (view.pen === 'thicker') return thickenStroke(warped);
  if (view.pen === 'thinner') return thinStroke(warped);
  return warped;
}

/** Every image of `input` as `view` sees it (floats 0..1). */
export function viewInput(input: McInput, view: View): McInput {
  const scale = input.pixels instanceof Uint8Array ? 1 / 255 : 1;
  const out = new Float32Array(input.count * SIZE);
  const img = new Float32Array(SIZE);
  for (let i = 0; i < input.count; i++) {
    for (let p = 0; p < SIZE; p++) img[p] = input.pixels[i * SIZE + p] * scale;
    out.set(applyView(img, view), i * SIZE);
  }
  return { count: input.count, rows: 28, cols: 28, pixels: out, keys: input.keys };
}

/**
 * Which of the passes first .. first+samples-1 view `v` of `views` takes (pass p goes to view
 * p mod views): its own first pass number and how many, as a contiguous run of that view's passes.
 */
export function viewPasses(first: number, samples: number, v: number, views: number): { first: number; samples: number } {
  const start = Math.max(0, Math.ceil((first - v) / views));
  const end = Math.max(0, Math.ceil((first + samples - v) / views));
  return { first: start, samples: end - start };
}

/** The mask seed of view `v`: the caller's for view 0, deriveSeed(seed, 'view', v) for the others. */
export function viewSeed(seed: number, v: number): number {
  return v === 0 ? seed : deriveSeed(seed, 'view', v);
}

/** What is sampled through views: a predictor's sample function. */
export type SampleFn = (input: McInput, opts: McOptions) => Promise<McResult>;

/**
 * `sample` through `views`: each call's passes dealt out among the views (module comment), the
 * samples of all views summarised together per image. The result keeps the samples (and their
 * per-pass logit scores) when asked, an image's views one after the other.
 */
export function sampleThroughViews(sample: SampleFn, views: readonly View[]): SampleFn {
  if (views.length === 0) throw new UsageError('no views given');
  return async (input, opts) => {
    if (!Number.isInteger(opts.samples) || opts.samples < 1) throw new UsageError('samples must be a positive integer');
    const first = opts.firstSample ?? 0;
    const parts: { result: McResult; perImage: number }[] = [];
    const dealt = views.map((view, v) => ({ view, v, passes: viewPasses(first, opts.samples, v, views.length) })).filter((d) => d.passes.samples > 0);
    for (const [k, { view, v, passes }] of dealt.entries()) {
      const result = await sample(view.name === 'id' ? input : viewInput(input, view), {
        ...opts,
        samples: passes.samples,
        firstSample: passes.first,
        seed: viewSeed(opts.seed, v),
        keepSamples: true,
        onProgress: opts.onProgress && ((done) => opts.onProgress!(k * input.count + done, dealt.length * input.count)),
      });
      if (!result.samples) throw new Error('test-time views: the sampler kept no samples');
      // an ensemble keeps K x passes samples an image
      parts.push({ result, perImage: input.count ? result.samples.length / input.count / result.classes : 0 });
    }
    const classes = parts[0].result.classes;
    const total = parts.reduce((a, p) => a + p.perImage, 0);
    const logits = parts.every((p) => p.result.energies && p.result.maxLogits);
    const kept = opts.keepSamples ? new Float32Array(input.count * total * classes) : undefined;
    const keptEnergies = kept && logits ? new Float32Array(input.count * total) : undefined;
    const keptMaxLogits = keptEnergies ? new Float32Array(input.count * total) : undefined;
    const all = new Float32Array(total * classes);
    const summaries = [];
    for (let i = 0; i < input.count; i++) {
      let at = 0;
      let energy = 0;
      let maxLogit = 0;
      let scored = 0;
      for (const { result, perImage } of parts) {
        all.set(result.samples!.subarray(i * perImage * classes, (i + 1) * perImage * classes), at * classes);
        if (keptEnergies && keptMaxLogits) {
          keptEnergies.set(result.energies!.subarray(i * perImage, (i + 1) * perImage), i * total + at);
          keptMaxLogits.set(result.maxLogits!.subarray(i * perImage, (i + 1) * perImage), i * total + at);
        }
        const s = result.summaries[i];
        if (s.energy !== undefined && s.maxLogit !== undefined) {
          // a view's scores are means over its passes: weighted by them, the mean over every pass
          energy += s.energy * perImage;
          maxLogit += s.maxLogit * perImage;
          scored += perImage;
        }
        at += perImage;
      }
      kept?.set(all, i * total * classes);
      const summary = summariseSamples(all, total, classes);
      if (scored === total) Object.assign(summary, { energy: energy / total, maxLogit: maxLogit / total });
      summaries.push(summary);
    }
    return { summaries, classes, samples: kept, ...(keptEnergies && keptMaxLogits ? { energies: keptEnergies, maxLogits: keptMaxLogits } : {}) };
  };
}
