/**
 * The two CNNs of the source study, layer for layer (Keras defaults: glorot_uniform kernels,
 * zero biases, valid padding unless stated, BatchNormalization momentum 0.99, epsilon 1e-3),
 * and `deep-wide`, udq's own: the study's deep layers with every convolution DEEP_WIDE_FACTOR
 * times as many filters (not from the study; affordable since training runs on onnxruntime).
 */
import * as tf from '@tensorflow/tfjs';

export const ARCHS = ['basic', 'deep', 'deep-wide'] as const;
export type Arch = (typeof ARCHS)[number];
/** The study's two (the benchmarks' PyTorch peer has these). */
export const STUDY_ARCHS = ['basic', 'deep'] as const;
export type StudyArch = (typeof STUDY_ARCHS)[number];

/** Conv32 3x3 relu -> MaxPool 2 -> Flatten -> Dense100 relu he_uniform -> Dropout .25 -> Dense10 softmax. */
export function buildBasic(seed?: number): tf.Sequential {
  const init = seededInit(seed);
  return tf.sequential({
    name: 'basic',
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init('he_uniform') }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 100, activation: 'relu', kernelInitializer: init('he_uniform') }),
      tf.layers.dropout({ rate: 0.25 }),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init('glorot_uniform') }),
    ],
  });
}

/** `deep-wide`'s convolutions have this many times the study's filters (64 / 128 / 256). */
export const DEEP_WIDE_FACTOR = 2;

/**
 * Conv32 3 / BN / Conv32 3 / BN / Conv32 5 s2 same / BN / Dropout .4 /
 * Conv64 3 / BN / Conv64 3 / BN / Conv64 5 s2 same / BN / Dropout .4 /
 * Conv128 4 / BN / Flatten / Dropout .4 / Dense10 softmax  (all convs relu);
 * with `widen` k every convolution has k times the filters (`deep-wide`: k = DEEP_WIDE_FACTOR).
 */
export function buildDeep(seed?: number, widen = 1): tf.Sequential {
  const init = seededInit(seed);
  const conv = (filters: number, kernelSize: number, extra: Partial<{ strides: number; padding: 'same' | 'valid' }> = {}, first = false) =>
    tf.layers.conv2d({
      ...(first ? { inputShape: [28, 28, 1] } : {}),
      filters: filters * widen,
      kernelSize,
      activation: 'relu',
      kernelInitializer: init('glorot_uniform'),
      ...extra,
    });
  const bn = () => tf.layers.batchNormalization({});
  return tf.sequential({
    name: widen === 1 ? 'deep' : 'deep_wide',
    layers: [
      conv(32, 3, {}, true), bn(),
      conv(32, 3), bn(),
      conv(32, 5, { strides: 2, padding: 'same' }), bn(),
      tf.layers.dropout({ rate: 0.4 }),
      conv(64, 3), bn(),
      conv(64, 3), bn(),
      conv(64, 5, { strides: 2, padding: 'same' }), bn(),
      tf.layers.dropout({ rate: 0.4 }),
      conv(128, 4), bn(),
      tf.layers.flatten(),
      tf.layers.dropout({ rate: 0.4 }),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init('glorot_uniform') }),
    ],
  });
}

export function buildModel(arch: Arch, seed?: number): tf.Sequential {
  return arch === 'basic' ? buildBasic(seed) : arch === 'deep-wide' ? buildDeep(seed, DEEP_WIDE_FACTOR) : buildDeep(seed);
}

/** Initializers seeded per layer so that `--seed` reproduces the initial weights. */
function seededInit(seed?: number) {
  let layer = 0;
  return (kind: 'he_uniform' | 'glorot_uniform'): ReturnType<typeof tf.initializers.heUniform> => {
    const s = seed === undefined ? undefined : seed * 1000 + layer++;
    return kind === 'he_uniform' ? tf.initializers.heUniform({ seed: s }) : tf.initializers.glorotUniform({ seed: s });
  };
}
