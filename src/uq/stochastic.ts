/**
 * The stochastic layers MC sampling reads, as tfjs-layers has them: Dropout (optionally with
 * a noise shape), SpatialDropout1D (one mask value per channel, shared along the steps),
 * AlphaDropout, GaussianDropout and GaussianNoise. Each pass draws their noise from the hashed
 * randomness of masks.ts, keyed by the layer's index among the model's stochastic layers,
 * so an image's samples never depend on its batch neighbours.
 *
 * Every kind is an affine map per unit, out = x * mul + add:
 * - dropout: mul = 0 or 1/(1-rate) (inverted dropout), no add;
 * - gaussian-dropout: mul ~ N(1, rate/(1-rate)) (Keras/tfjs GaussianDropout);
 * - gaussian-noise: add ~ N(0, stddev^2);
 * - alpha-dropout: keep k = (u >= rate); mul = a*k, add = a*alpha'*(1-k) + b with Keras's
 *   constants (dropped units go to the SELU saturation alpha' = -1.7581, then the affine a, b
 *   restores mean and variance). tfjs-layers' own AlphaDropout flips the sign of alpha'; udq
 *   follows Keras, where converted models come from.
 */
import type * as tf from '@tensorflow/tfjs';
import { fillDropoutMask, fillNormal } from './masks';

export type NoiseKind = 'dropout' | 'alpha-dropout' | 'gaussian-dropout' | 'gaussian-noise';

/** tfjs layer class -> the noise it makes. */
export const STOCHASTIC_CLASSES: Readonly<Record<string, NoiseKind>> = {
  Dropout: 'dropout',
  SpatialDropout1D: 'dropout',
  AlphaDropout: 'alpha-dropout',
  GaussianDropout: 'gaussian-dropout',
  GaussianNoise: 'gaussian-noise',
};

export interface StochasticLayer {
  kind: NoiseKind;
  /** the layer's class, as a manifest reports it */
  className: string;
  /** index among the model's stochastic layers: the randomness key */
  index: number;
  rate: number;
  stddev: number;
  /** per-row shape of the noise (1 = shared along that axis), given the layer's input row shape */
  noiseDims(rowShape: number[]): number[];
}

export function isStochastic(layer: tf.layers.Layer): boolean {
  return layer.getClassName() in STOCHASTIC_CLASSES;
}

export function stochasticLayer(layer: tf.layers.Layer, index: number): StochasticLayer | null {
  const className = layer.getClassName();
  const kind = STOCHASTIC_CLASSES[className];
  if (!kind) return null;
  const cfg = layer.getConfig() as { rate?: number; stddev?: number; noiseShape?: (number | null)[] | null };
  const noiseShape = (layer as unknown as { noiseShape?: (number | null)[] | null }).noiseShape ?? cfg.noiseShape ?? null;
  return {
    kind,
    className,
    index,
    rate: cfg.rate ?? 0,
    stddev: cfg.stddev ?? 0,
    noiseDims: (row) => {
      if (className === 'SpatialDropout1D') return [1, row[row.length - 1]];
      if (kind === 'dropout' && noiseShape) return noiseShape.slice(1).map((d, i) => (d === null || d === undefined ? row[i] : d));
      return row;
    },
  };
}

/** Keras' AlphaDropout constants. */
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

export interface NoiseBlock {
  /** rows x prod(dims) values, or null when the layer multiplies by 1 */
  mul: Float32Array | null;
  /** rows x prod(dims) values, or null when it adds nothing */
  add: Float32Array | null;
  dims: number[];
}

/** The noise of `layer` for `rows` rows (row r: image key and sample index from `row`). */
export function drawNoise(layer: StochasticLayer, rowShape: number[], rows: number, row: (r: number) => { image: number; sample: number }, seed: number): NoiseBlock {
  const dims = layer.noiseDims(rowShape);
  const units = dims.reduce((a, b) => a * b, 1);
  const { rate } = layer;
  const active = layer.kind === 'gaussian-noise' ? layer.stddev > 0 : rate > 0 && rate < 1;
  if (!active && layer.kind !== 'dropout') return { mul: null, add: null, dims };
  if (layer.kind === 'dropout') {
    const mul = new Float32Array(rows * units);
    for (let r = 0; r < rows; r++) {
      const { image, sample } = row(r);
      fillDropoutMask(mul, r * units, units, rate, seed, layer.index, image, sample);
    }
    return { mul, add: null, dims };
  }
  if (layer.kind === 'gaussian-dropout' || layer.kind === 'gaussian-noise') {
    const values = new Float32Array(rows * units);
    const [mean, std] = layer.kind === 'gaussian-dropout' ? [1, Math.sqrt(rate / (1 - rate))] : [0, layer.stddev];
    for (let r = 0; r < rows; r++) {
      const { image, sample } = row(r);
      fillNormal(values, r * units, units, mean, std, seed, layer.index, image, sample);
    }
    return layer.kind === 'gaussian-dropout' ? { mul: values, add: null, dims } : { mul: null, add: values, dims };
  }
  // alpha dropout
  const alphaP = -SELU_ALPHA * SELU_SCALE;
  const a = ((1 - rate) * (1 + rate * alphaP ** 2)) ** -0.5;
  const b = -a * alphaP * rate;
  // the keep decisions are the dropout masks' (non-zero = kept), drawn one row at a time
  const mul = new Float32Array(rows * units);
  const add = new Float32Array(rows * units);
  for (let r = 0; r < rows; r++) {
    const { image, sample } = row(r);
    fillDropoutMask(mul, r * units, units, rate, seed, layer.index, image, sample);
  }
  for (let i = 0; i < mul.length; i++) {
    const keep = mul[i] !== 0;
    mul[i] = keep ? a : 0;
    add[i] = keep ? b : a * alphaP + b;
  }
  return { mul, add, dims };
}
