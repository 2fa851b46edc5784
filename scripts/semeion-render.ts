/**
 * The Semeion digits (`../shared/data/semeion-digits.data.gz`) as users bring such digits, for
 * the evaluation and benchmark scripts: `scan` (8x bilinear upscale of the 16x16 bitmap,
 * Gaussian blur 2, a 24 px white margin, black on white: 176 px PNG) and `mnist-png` (fitted
 * into MNIST's 20x20 box and centred by mass in 28x28, white on black).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { preprocessToMnist, toBytes } from '../src/image/load';
import type { Predictor } from '../src/uq/predictor';
import { readGate } from '../src/gate/gate-file';
import { mnistSanityThresholds } from '../src/gate/sanity';
import { predictFiles, type Prediction } from '../src/predict/predict';

/** One line of semeion.data: 256 pixel values then 10 one-hot labels. */
export function parseSemeion(text: string): { bits: Uint8Array; label: number }[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const v = l.trim().split(/\s+/).map(Number);
      if (v.length < 266) throw new Error(`semeion line with ${v.length} values (expected 266)`);
      return { bits: Uint8Array.from(v.slice(0, 256), (x) => (x > 0.5 ? 1 : 0)), label: v.slice(256, 266).indexOf(1) };
    });
}

export async function renderSemeion(bits: Uint8Array, how: string): Promise<Buffer> {
  if (how === 'scan') {
    const ink = Buffer.from(bits.map((b) => (b ? 0 : 255)));
    const up = await sharp(ink, { raw: { width: 16, height: 16, channels: 1 } }).resize(128, 128, { kernel: 'linear' }).raw().toBuffer({ resolveWithObject: true });
    return sharp(up.data, { raw: { width: 128, height: 128, channels: up.info.channels as 1 | 3 } })
      .extend({ top: 24, bottom: 24, left: 24, right: 24, background: { r: 255, g: 255, b: 255 } })
      .blur(2)
      .png()
      .toBuffer();
  }
  return sharp(Buffer.from(toBytes(semeionMnistPixels(bits))), { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer();
}

/** A 16x16 Semeion bitmap fitted into MNIST's 20x20 box and centred by mass in 28x28 (floats 0..1): the mnist-png rendering's pixels. */
export function semeionMnistPixels(bits: Uint8Array): Float32Array {
  return preprocessToMnist(Float32Array.from(bits), 16, 16, { threshold: 0 }).pixels;
}


/** Every digit of a semeion.data(.gz) file. */
export function readSemeion(path: string): { bits: Uint8Array; label: number }[] {
  const raw = readFileSync(path);
  return parseSemeion((path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
}

/**
 * Semeion digits rendered `how` (renderSemeion) and predicted as `udq predict` predicts pictures:
 * the encoded PNGs through the picture pipeline, the model's gate and its passes, seed 0.
 */
export async function predictSemeion(model: Predictor, rows: { bits: Uint8Array }[], how: string): Promise<Prediction[]> {
  const gate = readGate(model.dir);
  const pictures: Uint8Array[] = [];
  for (const r of rows) pictures.push(await renderSemeion(r.bits, how));
  return predictFiles(model, pictures, { samples: gate?.samples ?? 100, seed: 0, gate, sanity: gate?.sanity ?? mnistSanityThresholds() });
}
