/**
 * The library's front door: a model with its reject gate, ready to score pictures.
 *
 *   const { loadUdq } = require('udq');
 *   const udq = await loadUdq();                       // models/deep (or basic) shipped with udq
 *   const [p] = await udq.predict('figures/3.png');
 *   console.log(p.verdict, p.digit, p.gateProbability);
 *   udq.dispose();
 *
 * `predict` gives the same fields as `udq predict --format json`, for paths, encoded
 * pictures (Buffer / Uint8Array) or 28x28 pixel arrays, through the same picture pipeline.
 */
import { initBackend } from './engine/backend';
import { loadPredictor, Predictor } from './uq/predictor';
import type { EngineName } from './engine/engine';
import type { McInput, McOptions, McResult } from './uq/mc-dropout';
import { GateFile, readGate } from './gate/gate-file';
import { mnistSanityThresholds } from './gate/sanity';
import { findDefaultModelDir } from './models/default-dir';
import { PictureInput, Prediction, predictFiles } from './predict/predict';
import type { InkOption } from './image/pipeline';

export interface LoadUdqOptions {
  /** tfjs tensor backend: tensorflow, wasm or cpu (default: best available) */
  backend?: string;
  /** sampling engine: ort or tfjs (default: ort when onnxruntime-node loads) */
  engine?: EngineName;
}

export interface UdqPredictOptions {
  /**
   * MC-dropout passes per image, in each member of an ensemble (default: as the gate was
   * fitted, else 100); with `adaptive` the most a picture gets
   */
  samples?: number;
  /**
   * sample in rounds and stop each picture once its verdict and digit are settled (default:
   * true unless `samples` is given; a single model or an ensemble sampled with MC dropout, whose
   * rounds run in every member). `passes` says what each picture got (an ensemble: all members).
   */
  adaptive?: boolean;
  /** seed of the dropout masks (default 0, as `udq predict`) */
  seed?: number;
  /** ink polarity of pictures: auto (default), dark or light */
  ink?: InkOption;
  /** keep the 28x28 image the model saw in `pixels` (default true) */
  keepPixels?: boolean;
  /** add each class's mean probability and its spread over the samples */
  detail?: boolean;
}

export class Udq {
  private constructor(
    /** the predictor: MC-dropout sampling of the model (or ensemble) */
    readonly predictor: Predictor,
    /** the reject gate fitted by `udq calibrate`, or null (then only the input sanity check rejects) */
    readonly gate: GateFile | null,
  ) {}

  static async load(dir?: string, opts: LoadUdqOptions = {}): Promise<Udq> {
    await initBackend(opts.backend);
    const predictor = await loadPredictor(dir ?? findDefaultModelDir(), { engine: opts.engine });
    return new Udq(predictor, readGate(predictor.dir));
  }

  /** Absolute model directory. */
  get dir(): string {
    return this.predictor.dir;
  }

  get arch(): string {
    return this.predictor.arch;
  }

  get engine(): EngineName {
    return this.predictor.engine;
  }

  /** Passes per image when a call does not say. */
  get samples(): number {
    return this.gate?.samples ?? 100;
  }

  /** Verdict, digit and uncertainty for each input, in order; unreadable inputs get verdict 'error'. */
  async predict(inputs: PictureInput | PictureInput[], opts: UdqPredictOptions = {}): Promise<Prediction[]> {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const out = await predictFiles(this.predictor, list, {
      samples: opts.samples ?? this.samples,
      adaptive: opts.adaptive ?? opts.samples === undefined,
      seed: opts.seed ?? 0,
      gate: this.gate,
      sanity: this.gate?.sanity ?? mnistSanityThresholds(),
      ink: opts.ink,
      detail: opts.detail,
    });
    if (opts.keepPixels === false) for (const p of out) delete p.pixels;
    return out;
  }

  /** MC-dropout samples of 28x28 images, summarised per image (features for a gate). */
  sample(input: McInput, opts: McOptions): Promise<McResult> {
    return this.predictor.sample(input, opts);
  }

  dispose(): void {
    this.predictor.dispose();
  }
}

/** Load a model directory (default: the shipped models/deep, else models/basic) with its gate. */
export function loadUdq(dir?: string, opts: LoadUdqOptions = {}): Promise<Udq> {
  return Udq.load(dir, opts);
}
