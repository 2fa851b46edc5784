/** Deterministic (dropout off) evaluation of a classifier on an image set. */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../data/idx';
import { fillBatch } from './batches';

/** Softmax outputs (inference mode) for every image, batched. Returns count x classes. */
export function predictProbabilities(model: tf.LayersModel, images: ImageSet, batchSize = 256): Float32Array {
  const { count, rows, cols } = images;
  const classes = (model.outputs[0].shape[1] as number) ?? 10;
  const out = new Float32Array(count * classes);
  const idx = Uint32Array.from({ length: count }, (_, i) => i);
  const buf = new Float32Array(batchSize * rows * cols);
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize);
    fillBatch(images, idx, start, end, buf);
    const probs = tf.tidy(() => {
      const x = tf.tensor4d(buf.subarray(0, (end - start) * rows * cols), [end - start, rows, cols, 1]);
      return model.predict(x) as tf.Tensor;
    });
    out.set(probs.dataSync() as Float32Array, start * classes);
    probs.dispose();
  }
  return out;
}

export function argmaxRows(probs: Float32Array, classes: number): Uint8Array {
  const n = probs.length / classes;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (probs[i * classes + k] > probs[i * classes + best]) best = k;
    out[i] = best;
  }
  return out;
}

export interface ClassificationReport {
  count: number;
  accuracy: number;
  perClass: { label: string; count: number; accuracy: number }[];
  meanLoss: number;
}

/** Accuracy, per-class accuracy and mean cross-entropy from probabilities and true labels. */
export function classificationReport(probs: Float32Array, labels: Uint8Array, classNames: string[]): ClassificationReport {
  const classes = classNames.length;
  const pred = argmaxRows(probs, classes);
  const hits = new Array(classes).fill(0);
  const totals = new Array(classes).fill(0);
  let correct = 0;
  let loss = 0;
  for (let i = 0; i < labels.length; i++) {
    totals[labels[i]]++;
    if (pred[i] === labels[i]) {
      correct++;
      hits[labels[i]]++;
    }
    loss -= Math.log(Math.max(probs[i * classes + labels[i]], 1e-7));
  }
  return {
    count: labels.length,
    accuracy: labels.length ? correct / labels.length : 0,
    perClass: classNames.map((label, k) => ({ label, count: totals[k], accuracy: totals[k] ? hits[k] / totals[k] : 0 })),
    meanLoss: labels.length ? loss / labels.length : 0,
  };
}
