/**
 * A model's Flatten output (for deep, its last layer before the dropout and the softmax) and its softmax, one
 * pass with dropout off, for 28x28 images as floats in [0,1]: the features of
 * scripts/feature-distance.ts (Mahalanobis distance) and scripts/semeion-neighbours.ts (nearest
 * training images by cosine, with `unit`).
 */
import * as tf from '@tensorflow/tfjs';

export interface FlattenFeatures {
  /** count x dim, row per image; unit length with `unit` */
  features: Float32Array;
  /** count x 10 softmax */
  probs: Float32Array;
  dim: number;
}

export function flattenFeatures(model: tf.LayersModel, pixels: Float32Array, count: number, opts: { unit?: boolean; batch?: number } = {}): FlattenFeatures {
  const flat = model.layers.find((l) => l.getClassName() === 'Flatten');
  if (!flat) throw new Error(`the model ${model.name} has no Flatten layer`);
  const net = tf.model({ inputs: model.inputs, outputs: [flat.output as tf.SymbolicTensor, model.outputs[0]] });
  const dim = (flat.outputShape as number[])[1];
  const features = new Float32Array(count * dim);
  const probs = new Float32Array(count * 10);
  const batch = opts.batch ?? 500;
  for (let s = 0; s < count; s += batch) {
    const e = Math.min(count, s + batch);
    const [f, p] = tf.tidy(() => {
      const [raw, softmax] = net.predict(tf.tensor4d(pixels.subarray(s * 784, e * 784), [e - s, 28, 28, 1])) as tf.Tensor2D[];
      return [opts.unit ? tf.div(raw, tf.add(tf.norm(raw, 2, 1, true), 1e-8)) : raw, softmax];
    });
    features.set(f.dataSync(), s * dim);
    probs.set(p.dataSync(), s * 10);
    f.dispose();
    p.dispose();
  }
  return { features, probs, dim };
}
