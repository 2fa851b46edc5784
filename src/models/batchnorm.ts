/** A BatchNormalization layer's weights by name (tfjs stores gamma and beta only when `scale` / `center`). */
import type * as tf from '@tensorflow/tfjs';

export interface BatchNormWeights {
  gamma?: tf.Tensor1D;
  beta?: tf.Tensor1D;
  movingMean: tf.Tensor1D;
  movingVariance: tf.Tensor1D;
  epsilon: number;
}

export function batchNormWeights(layer: tf.layers.Layer): BatchNormWeights {
  const cfg = layer.getConfig() as { epsilon: number; center: boolean; scale: boolean };
  const w = layer.getWeights() as tf.Tensor1D[];
  let i = 0;
  const gamma = cfg.scale ? w[i++] : undefined;
  const beta = cfg.center ? w[i++] : undefined;
  return { gamma, beta, movingMean: w[i++], movingVariance: w[i++], epsilon: cfg.epsilon };
}
