/**
 * `udq export`: a trained udq model as one standard ONNX file (inference graph: Dropout is
 * the identity, BatchNorm folded), checked against tfjs on real MNIST test digits when
 * onnxruntime-node is installed.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadModel } from '../models/store';
import { loadMnist } from '../data/mnist';
import { tfjsToOnnx, OnnxGraph } from './from-tfjs';
import { ONNX_OPSET } from './graph';
import { tryLoadOrt } from '../engine/engine';
import { ExistsError } from '../errors';

export interface ExportOptions {
  /** overwrite an existing file */
  force?: boolean;
  /** MNIST test digits to compare onnxruntime with tfjs on (0: no check) */
  checkImages?: number;
}

export interface ExportResult {
  modelDir: string;
  out: string;
  bytes: number;
  opset: number;
  input: { name: string; shape: (number | string)[] };
  output: { name: string; shape: (number | string)[] };
  /** onnxruntime vs tfjs on MNIST test digits; null when onnxruntime-node is not installed */
  check: { images: number; maxAbsDiff: number; sameArgmax: number } | null;
}

/** Largest absolute difference between tfjs's and onnxruntime's outputs of `graph` on `images` MNIST test digits. */
export async function compareWithTfjs(model: tf.LayersModel, graph: OnnxGraph, images: number): Promise<ExportResult['check']> {
  const ort = tryLoadOrt();
  if (!ort) return null;
  const test = loadMnist('test', images);
  const n = Math.min(images, test.images.count);
  const pixels = Float32Array.from(test.images.pixels.subarray(0, n * 784), (v) => v / 255);
  const session = await ort.InferenceSession.create(graph.bytes);
  try {
    const out = await session.run({ [graph.input.name]: new ort.Tensor('float32', pixels, [n, ...graph.input.dims]) });
    const got = out[graph.output.name].data as Float32Array;
    const want = tf.tidy(() => (model.predict(tf.tensor4d(pixels, [n, 28, 28, 1])) as tf.Tensor).dataSync() as Float32Array);
    const k = graph.output.units;
    let maxAbsDiff = 0;
    let sameArgmax = 0;
    for (let i = 0; i < n; i++) {
      let ag = 0;
      let aw = 0;
      for (let c = 0; c < k; c++) {
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i * k + c] - want[i * k + c]));
        if (got[i * k + c] > got[i * k + ag]) ag = c;
        if (want[i * k + c] > want[i * k + aw]) aw = c;
      }
      if (ag === aw) sameArgmax++;
    }
    return { images: n, maxAbsDiff, sameArgmax };
  } finally {
    await session.release();
  }
}

export async function exportOnnx(modelDir: string, out: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const target = resolve(out);
  if (existsSync(target) && !opts.force) throw new ExistsError(`${out} exists; use --force to overwrite it`);
  const loaded = await loadModel(modelDir);
  try {
    const graph = tfjsToOnnx(loaded.model, 'full');
    const check = (opts.checkImages ?? 200) > 0 ? await compareWithTfjs(loaded.model, graph, opts.checkImages ?? 200) : null;
    mkdirSync(dirname(target), { recursive: true });
    const tmp = `${target}.tmp-${process.pid}`;
    writeFileSync(tmp, graph.bytes);
    renameSync(tmp, target);
    return {
      modelDir: loaded.dir,
      out: target,
      bytes: graph.bytes.length,
      opset: ONNX_OPSET,
      input: { name: graph.input.name, shape: ['N', ...graph.input.dims] },
      output: { name: graph.output.name, shape: ['N', graph.output.units] },
      check,
    };
  } finally {
    loaded.model.dispose();
  }
}
