/**
 * The cached MC-dropout sampler on onnxruntime (issue #10): the model's deterministic prefix
 * and its stochastic suffix become two ONNX graphs (src/onnx/from-tfjs.ts), the suffix's
 * dropout masks are graph *inputs*, filled from the same hashed masks as the tfjs sampler
 * (masks.ts), so with the same seed both samplers give the same features.
 *
 * - prefix: one session run per chunk of images (BatchNorm folded, inference mode);
 * - suffix: P passes of B images per run (mask0 is [P,B,...] and broadcasts against the
 *   B prefix rows inside the graph, so nothing is copied P times in JS);
 * - logits come out of the suffix; the softmax, energy and max logit are computed as the tfjs
 *   sampler computes them (ChunkSamples), then summarised.
 * onnxruntime-node runs a session synchronously on its intra-op threads (= cores by default).
 * The naive sampler (the whole network per pass) exists for the benchmark and as a reference.
 */
import type * as tf from '@tensorflow/tfjs';
import type * as Ort from 'onnxruntime-node';
import { MaskInput, OnnxGraph, tfjsToOnnx } from '../onnx/from-tfjs';
import { MaskKernel } from './kernels/mask-kernel';
import { ChunkSamples, KeptSamples, McInput, McOptions, McResult, splitPoint, toFloatImages } from './mc-dropout';
import { SampleSummary } from './features';
import { UsageError } from '../errors';
import { ortSessionOptions } from '../engine/engine';

/** Rows (images x passes) per suffix run: large enough to keep both cores busy, small enough for the cache. */
const SUFFIX_ROWS = 2000;
/** Images per prefix run. */
const PREFIX_IMAGES = 256;

export interface OrtSamplerOptions {
  /** intra-op threads (default: the machine's cores) */
  threads?: number;
}

/** Time spent per part of the last sample() call (ms): for the benchmark's breakdown. */
export interface OrtProfile {
  prefix: number;
  masks: number;
  suffix: number;
  summarise: number;
}

export class OrtSampler {
  readonly profile: OrtProfile = { prefix: 0, masks: 0, suffix: 0, summarise: 0 };

  private constructor(
    private readonly ort: typeof Ort,
    private readonly prefix: Ort.InferenceSession | null,
    private readonly suffix: Ort.InferenceSession,
    private readonly suffixGraph: OnnxGraph,
    private readonly kernel: MaskKernel,
    private readonly classes: number,
    private readonly imageShape: number[],
    private readonly featureDims: number[],
  ) {}

  /** Convert `model` and open its two sessions. */
  static async create(ort: typeof Ort, model: tf.LayersModel, opts: OrtSamplerOptions = {}): Promise<OrtSampler> {
    const sessionOptions = ortSessionOptions(opts.threads);
    const prefixGraph = splitPoint(model) > 0 ? tfjsToOnnx(model, 'prefix') : null;
    const suffixGraph = tfjsToOnnx(model, 'suffix', { logits: true });
    const prefix = prefixGraph ? await ort.InferenceSession.create(prefixGraph.bytes, sessionOptions) : null;
    const suffix = await ort.InferenceSession.create(suffixGraph.bytes, sessionOptions);
    const shape = model.inputs[0].shape as number[];
    const imageShape = [shape[3], shape[1], shape[2]];
    return new OrtSampler(
      ort,
      prefix,
      suffix,
      suffixGraph,
      new MaskKernel(),
      suffixGraph.output.units,
      imageShape,
      suffixGraph.input.dims,
    );
  }

  get masks(): readonly MaskInput[] {
    return this.suffixGraph.masks;
  }

  /** The prefix's output for `count` images (the images themselves when the model starts with a Dropout). */
  private async features(pixels: Float32Array, count: number): Promise<Float32Array> {
    const t = performance.now();
    let out = pixels;
    if (this.prefix) {
      const result = await this.prefix.run({ image: new this.ort.Tensor('float32', pixels, [count, ...this.imageShape]) });
      out = result.features.data as Float32Array;
    }
    this.profile.prefix += performance.now() - t;
    if (out.length !== count * this.featureDims.reduce((a, b) => a * b, 1)) throw new Error('ort sampler: unexpected prefix output size');
    return out;
  }

  /**
   * `cached` (default): the prefix once per image, the suffix for P passes of B images per run.
   * `naive` (reference, benchmark): the whole network once per pass, as the tfjs naive sampler.
   */
  async sample(input: McInput, opts: McOptions): Promise<McResult> {
    if (!Number.isInteger(opts.samples) || opts.samples < 1) throw new UsageError('samples must be a positive integer');
    if ((opts.bnMode ?? 'inference') !== 'inference') throw new UsageError('the ort engine samples with BatchNorm in inference mode only (use --engine tfjs)');
    const naive = (opts.method ?? 'cached') === 'naive';
    Object.assign(this.profile, { prefix: 0, masks: 0, suffix: 0, summarise: 0 });
    const { ort, classes } = this;
    const n = opts.samples;
    const offset = opts.indexOffset ?? 0;
    const logits = this.suffixGraph.output.kind === 'logits';
    const featureUnits = this.featureDims.reduce((a, b) => a * b, 1);
    const imageUnits = this.imageShape.reduce((a, b) => a * b, 1);
    const group = naive ? PREFIX_IMAGES : Math.max(1, Math.min(PREFIX_IMAGES, Math.floor(SUFFIX_ROWS / n)));
    const passBlock = naive ? 1 : Math.max(1, Math.min(n, Math.floor(SUFFIX_ROWS / group)));
    const summaries: SampleSummary[] = [];
    const kept = opts.keepSamples ? new KeptSamples(input.count, n, classes, logits) : undefined;
    const firstSample = opts.firstSample ?? 0;
    this.kernel.reserve(passBlock * group, this.masks.map((m) => m.units));

    for (let start = 0; start < input.count; start += PREFIX_IMAGES) {
      const end = Math.min(input.count, start + PREFIX_IMAGES);
      const pixels = toFloatImages(input, start, end);
      const cached = naive ? null : await this.features(pixels, end - start);
      for (let g0 = start; g0 < end; g0 += group) {
        const g1 = Math.min(end, g0 + group);
        const b = g1 - g0;
        const acc = new ChunkSamples(b, n, classes, logits);
        const groupFeatures = async () =>
          new ort.Tensor(
            'float32',
            cached ? cached.slice((g0 - start) * featureUnits, (g1 - start) * featureUnits) : await this.features(pixels.slice((g0 - start) * imageUnits, (g1 - start) * imageUnits), b),
            [b, ...this.featureDims],
          );
        const cachedFeatures = cached ? await groupFeatures() : null;
        const imageKey = (i: number) => (input.keys ? input.keys[g0 + i] : offset + g0 + i);
        for (let s0 = 0; s0 < n; s0 += passBlock) {
          const passes = Math.min(passBlock, n - s0);
          const feeds: Record<string, Ort.Tensor> = { features: cachedFeatures ?? (await groupFeatures()) };
          const t = performance.now();
          const rows = { count: passes * b, row: (r: number) => ({ image: imageKey(r % b), sample: firstSample + s0 + Math.floor(r / b) }) };
          this.masks.forEach((m, k) => {
            const data = this.kernel.fill(k, rows, m.rate, opts.seed, m.dropoutIndex);
            feeds[m.name] = new ort.Tensor('float32', data, k === 0 ? [passes, b, ...m.dims] : [passes * b, ...m.dims]);
          });
          const t1 = performance.now();
          this.profile.masks += t1 - t;
          const out = await this.suffix.run(feeds);
          const t2 = performance.now();
          this.profile.suffix += t2 - t1;
          acc.addBlock(out[this.suffixGraph.output.name].data as Float32Array, s0, passes);
          this.profile.summarise += performance.now() - t2;
        }
        const t = performance.now();
        acc.summarise(summaries);
        kept?.set(acc, g0);
        this.profile.summarise += performance.now() - t;
      }
      opts.onProgress?.(end, input.count);
    }
    return { summaries, ...kept?.fields(), classes };
  }

  async dispose(): Promise<void> {
    await Promise.all([this.prefix?.release(), this.suffix.release()]);
  }
}
