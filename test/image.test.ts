import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  axisTaps,
  centerOfMass,
  decodeFailure,
  fitSize,
  inkBBox,
  loadImageAsMnist,
  preprocessToMnist,
  resize,
  saveMnistPng,
} from '../src/image/load';
import { luminance } from '../src/image/pipeline';
import { loadMnist } from '../src/data/mnist';
import { ImageError } from '../src/errors';

const tmp = mkdtempSync(join(tmpdir(), 'udq-image-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** A test canvas: ink (0..1) of thick round-capped segments, coverage by distance. */
function drawSegments(w: number, h: number, segs: [number, number, number, number][], width: number): Float32Array {
  const img = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let best = 0;
      for (const [ax, ay, bx, by] of segs) {
        const dx = bx - ax;
        const dy = by - ay;
        const L2 = dx * dx + dy * dy;
        const t = L2 === 0 ? 0 : Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / L2));
        const d = Math.hypot(x - ax - t * dx, y - ay - t * dy);
        best = Math.max(best, Math.min(1, Math.max(0, width / 2 - d + 0.5)));
      }
      img[y * w + x] = best;
    }
  }
  return img;
}

function rect(w: number, h: number, x0: number, y0: number, rw: number, rh: number, v = 1): Float32Array {
  const img = new Float32Array(w * h);
  for (let y = y0; y < y0 + rh; y++) for (let x = x0; x < x0 + rw; x++) img[y * w + x] = v;
  return img;
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i] - b[i]);
  return d / a.length;
}

/** Ink -> RGBA bytes: dark strokes; background white-opaque or transparent (RGB garbage). */
function inkToRgba(ink: Float32Array, transparent: boolean): Uint8Array {
  const out = new Uint8Array(ink.length * 4);
  for (let i = 0; i < ink.length; i++) {
    if (transparent) {
      out.set([20, 20, 60, Math.round(ink[i] * 255)], i * 4);
    } else {
      const v = 255 - Math.round(ink[i] * (255 - 20));
      const b = 255 - Math.round(ink[i] * (255 - 60));
      out.set([v, v, b, 255], i * 4);
    }
  }
  return out;
}

test('axisTaps: weights sum to 1 for every size pair', () => {
  for (const [src, dst] of [[7, 3], [100, 20], [20, 20], [3, 20], [1, 5], [5, 1]]) {
    for (const t of axisTaps(src, dst)) {
      const s = t.w.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(s - 1) < 1e-9, `${src}->${dst}: sum ${s}`);
      for (const i of t.idx) assert.ok(i >= 0 && i < src);
    }
  }
});

test('resize: hand-computed cases', () => {
  const cases: { name: string; src: number[]; sw: number; sh: number; dw: number; dh: number; want: number[] }[] = [
    { name: 'identity', src: [1, 2, 3, 4], sw: 2, sh: 2, dw: 2, dh: 2, want: [1, 2, 3, 4] },
    { name: '4x1 -> 2x1 area', src: [0, 1, 2, 3], sw: 4, sh: 1, dw: 2, dh: 1, want: [0.5, 2.5] },
    { name: '3x1 -> 2x1 fractional area', src: [0, 3, 6], sw: 3, sh: 1, dw: 2, dh: 1, want: [1, 5] },
    { name: '2x2 -> 1x1 mean', src: [0, 1, 1, 0], sw: 2, sh: 2, dw: 1, dh: 1, want: [0.5] },
    { name: '2x1 -> 4x1 linear, clamped ends', src: [0, 1], sw: 2, sh: 1, dw: 4, dh: 1, want: [0, 0.25, 0.75, 1] },
    { name: '1x2 -> 1x4 linear (vertical)', src: [0, 1], sw: 1, sh: 2, dw: 1, dh: 4, want: [0, 0.25, 0.75, 1] },
  ];
  for (const c of cases) {
    const got = Array.from(resize(c.src, c.sw, c.sh, c.dw, c.dh));
    assert.equal(got.length, c.want.length, c.name);
    got.forEach((v, i) => assert.ok(Math.abs(v - c.want[i]) < 1e-6, `${c.name}: [${got}] vs [${c.want}]`));
  }
});

test('resize: area shrinking preserves the mean', () => {
  const src = drawSegments(53, 41, [[5, 5, 40, 30], [10, 35, 48, 8]], 6);
  const out = resize(src, 53, 41, 20, 15);
  const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(mean(src) - mean(out)) < 1e-5);
});

test('fitSize: longer side to the box, aspect kept', () => {
  const cases: [number, number, number, number, number][] = [
    [40, 10, 20, 20, 5],
    [10, 40, 20, 5, 20],
    [100, 1, 20, 20, 1],
    [3, 3, 20, 20, 20],
    [30, 20, 20, 20, 13],
  ];
  for (const [w, h, box, ew, eh] of cases) assert.deepEqual(fitSize(w, h, box), { width: ew, height: eh }, `${w}x${h}`);
});

test('inkBBox and centerOfMass: hand-made cases', () => {
  const img = rect(10, 8, 2, 3, 4, 2);
  assert.deepEqual(inkBBox(img, 10, 8, 0), { x0: 2, y0: 3, x1: 5, y1: 4 });
  assert.deepEqual(centerOfMass(img, 10, 8), { x: 3.5, y: 3.5 });
  assert.equal(inkBBox(new Float32Array(12), 4, 3, 0), null);
  assert.equal(centerOfMass(new Float32Array(12), 4, 3), null);
});

test('preprocessToMnist: geometry of shapes of every size and place', () => {
  const cases: { name: string; img: Float32Array; w: number; h: number; fit: [number, number] }[] = [
    { name: 'large off-centre rectangle 100x60', img: rect(200, 200, 5, 130, 100, 60), w: 200, h: 200, fit: [20, 12] },
    { name: 'tall bar 10x80 in a corner', img: rect(90, 90, 80, 0, 10, 80), w: 90, h: 90, fit: [3, 20] },
    { name: 'tiny 5x10 shape is enlarged', img: rect(30, 30, 1, 1, 5, 10), w: 30, h: 30, fit: [10, 20] },
    { name: 'square stroke drawing', img: drawSegments(150, 120, [[20, 20, 120, 100], [20, 100, 120, 20]], 12), w: 150, h: 120, fit: [20, 16] },
  ];
  for (const c of cases) {
    const r = preprocessToMnist(c.img, c.w, c.h);
    assert.equal(r.empty, false, c.name);
    assert.equal(r.pixels.length, 784);
    assert.deepEqual([r.fitted.width, r.fitted.height], c.fit, c.name);
    const bb = inkBBox(r.pixels, 28, 28, 0.02)!;
    assert.ok(bb.x1 - bb.x0 + 1 <= 20 && bb.y1 - bb.y0 + 1 <= 20, `${c.name}: bbox ${JSON.stringify(bb)}`);
    assert.equal(Math.max(bb.x1 - bb.x0 + 1, bb.y1 - bb.y0 + 1), 20, `${c.name}: longer side 20`);
    const com = centerOfMass(r.pixels, 28, 28)!;
    assert.ok(Math.abs(com.x - 14) <= 0.5 + 1e-9 && Math.abs(com.y - 14) <= 0.5 + 1e-9, `${c.name}: com ${com.x},${com.y}`);
    for (const v of r.pixels) assert.ok(v >= 0 && v <= 1);
  }
});

test('preprocessToMnist: a solid rectangle maps to a solid block of the fitted size', () => {
  // 100x60 -> 20x12: area averaging of a solid block is solid: exactly 240 pixels at 1.
  const r = preprocessToMnist(rect(200, 200, 5, 130, 100, 60), 200, 200);
  const full = Array.from(r.pixels).filter((v) => v > 0.999).length;
  const any = Array.from(r.pixels).filter((v) => v > 0).length;
  assert.equal(full, 240);
  assert.equal(any, 240);
  // COM of a 20x12 block at offset o is o + 9.5 / o + 5.5 -> shift round(4.5)=5? round(14-9.5)=5, round(14-5.5)=9
  assert.deepEqual(r.offset, { x: 5, y: 9 });
});

test('preprocessToMnist: a lopsided shape is centred by mass, not by its box', () => {
  // a thin horizontal line with a heavy block at its right end
  const img = new Float32Array(100 * 40);
  for (let x = 0; x < 100; x++) img[20 * 100 + x] = 1;
  for (let y = 5; y < 35; y++) for (let x = 70; x < 100; x++) img[y * 100 + x] = 1;
  const r = preprocessToMnist(img, 100, 40);
  const bb = inkBBox(r.pixels, 28, 28, 0)!;
  const com = centerOfMass(r.pixels, 28, 28)!;
  assert.ok(Math.abs(com.x - 14) <= 0.5, `com.x ${com.x}`);
  assert.ok((bb.x0 + bb.x1) / 2 < 12, `box centre ${(bb.x0 + bb.x1) / 2} should sit left of 14`);
});

test('preprocessToMnist: blank, faint and grey inputs', () => {
  const blank = preprocessToMnist(new Float32Array(50 * 50), 50, 50);
  assert.equal(blank.empty, true);
  assert.equal(blank.bbox, null);
  assert.ok(blank.pixels.every((v) => v === 0));
  const faint = preprocessToMnist(new Float32Array(50 * 50).fill(0.01), 50, 50);
  assert.equal(faint.empty, true, 'noise under the threshold is background');
  const grey = preprocessToMnist(rect(60, 60, 10, 10, 30, 30, 0.5), 60, 60);
  assert.ok(Math.abs(Math.max(...grey.pixels) - 1) < 1e-6, 'grey ink is normalised to 1');
  const greyRaw = preprocessToMnist(rect(60, 60, 10, 10, 30, 30, 0.5), 60, 60, { normalize: false });
  assert.ok(Math.abs(Math.max(...greyRaw.pixels) - 0.5) < 1e-6);
});

test('preprocessToMnist: Uint8 input is read as 0..255', () => {
  const f = drawSegments(64, 64, [[10, 10, 50, 55]], 7);
  const u = Uint8Array.from(f, (v) => Math.round(v * 255));
  const a = preprocessToMnist(f, 64, 64).pixels;
  const b = preprocessToMnist(u, 64, 64).pixels;
  assert.ok(meanAbsDiff(a, b) < 0.005);
  assert.throws(() => preprocessToMnist(new Float32Array(10), 4, 4), ImageError);
});

test('ink = 1 - luminance: compositing over white paper, luma, inversion', () => {
  const cases: { name: string; px: number[]; ch: number; want: number }[] = [
    { name: 'opaque white', px: [255, 255, 255, 255], ch: 4, want: 0 },
    { name: 'opaque black', px: [0, 0, 0, 255], ch: 4, want: 1 },
    { name: 'transparent black is paper', px: [0, 0, 0, 0], ch: 4, want: 0 },
    { name: 'half-transparent black', px: [0, 0, 0, 51], ch: 4, want: 0.2 },
    { name: 'RGB pure red', px: [255, 0, 0], ch: 3, want: 1 - 0.299 },
    { name: 'RGB pure blue', px: [0, 0, 255], ch: 3, want: 1 - 0.114 },
    { name: 'gray 51', px: [51], ch: 1, want: 0.8 },
    { name: 'gray+alpha, black at alpha 102', px: [0, 102], ch: 2, want: 0.4 },
  ];
  for (const c of cases) {
    const got = 1 - luminance(Uint8Array.from(c.px), 1, 1, c.ch)[0];
    assert.ok(Math.abs(got - c.want) < 1e-6, `${c.name}: ${got} vs ${c.want}`);
  }
  assert.throws(() => luminance(new Uint8Array(5), 1, 1, 4), ImageError);
});

async function writePng(path: string, rgba: Uint8Array, w: number, h: number): Promise<void> {
  await sharp(Buffer.from(rgba), { raw: { width: w, height: h, channels: 4 } }).png().toFile(path);
}

test('loadImageAsMnist: transparent-background RGBA equals the same drawing on white', async () => {
  const W = 160;
  const H = 120;
  const ink = drawSegments(W, H, [[30, 20, 90, 20], [90, 20, 50, 100], [45, 60, 85, 60]], 11);
  const pTrans = join(tmp, 'trans.png');
  const pWhite = join(tmp, 'white.png');
  const pJpeg = join(tmp, 'white.jpg');
  await writePng(pTrans, inkToRgba(ink, true), W, H);
  await writePng(pWhite, inkToRgba(ink, false), W, H);
  await sharp(pWhite).flatten({ background: '#ffffff' }).jpeg({ quality: 90 }).toFile(pJpeg);
  const a = await loadImageAsMnist(pTrans);
  const b = await loadImageAsMnist(pWhite);
  const c = await loadImageAsMnist(pJpeg);
  assert.equal(a.width, W);
  assert.equal(a.height, H);
  assert.equal(a.empty, false);
  // same drawing: the two differ only by rounding of the composited bytes
  assert.ok(meanAbsDiff(a.pixels, b.pixels) < 0.01, `trans vs white ${meanAbsDiff(a.pixels, b.pixels)}`);
  assert.ok(meanAbsDiff(b.pixels, c.pixels) < 0.03, `png vs jpeg ${meanAbsDiff(b.pixels, c.pixels)}`);
  // and both equal the pure pipeline on the ink itself (the stroke colour is not pure black)
  const direct = preprocessToMnist(ink, W, H).pixels;
  assert.ok(meanAbsDiff(a.pixels, direct) < 0.01, `pipeline vs direct ${meanAbsDiff(a.pixels, direct)}`);
});

test('loadImageAsMnist: blank image is empty; bad files are ImageErrors naming the file', async () => {
  const pBlank = join(tmp, 'blank.png');
  await writePng(pBlank, new Uint8Array(40 * 30 * 4), 40, 30);
  const blank = await loadImageAsMnist(pBlank);
  assert.equal(blank.empty, true);
  assert.ok(blank.pixels.every((v) => v === 0));

  const pText = join(tmp, 'notes.png');
  writeFileSync(pText, 'this is not a picture\n');
  await assert.rejects(loadImageAsMnist(pText), (e: unknown) => e instanceof ImageError && e.message.includes(pText));
  const pMissing = join(tmp, 'missing.png');
  await assert.rejects(loadImageAsMnist(pMissing), (e: unknown) => e instanceof ImageError && e.message === `${pMissing}: file not found`);
  await assert.rejects(loadImageAsMnist(pText), (e: unknown) => e instanceof ImageError && e.message === `${pText}: not a readable image: Input file contains unsupported image format`);
});

test('decodeFailure: a path is missing when the file system says so, whatever message sharp gave', () => {
  const pText = join(tmp, 'words.png');
  writeFileSync(pText, 'words\n');
  const pMissing = join(tmp, 'absent.png');
  const unsupported = 'Input file contains unsupported image format';
  const rows: [string | Buffer, string, string][] = [
    [pMissing, `Input file is missing: ${pMissing}`, 'file not found'],
    // libvips' error buffer is shared by threads: a worker can read another file's message
    [pMissing, unsupported, 'file not found'],
    [pText, `Input file is missing: ${pText}`, `not a readable image: ${unsupported}`],
    [pText, unsupported, `not a readable image: ${unsupported}`],
    [pText, 'Input file has corrupt header: pngload: end of stream', 'not a readable image: Input file has corrupt header: pngload: end of stream'],
    [Buffer.from('x'), 'Input buffer contains unsupported image format', 'not a readable image: Input buffer contains unsupported image format'],
  ];
  for (const [input, message, want] of rows) assert.equal(decodeFailure(input, new Error(message)), want, `${String(input)} / ${message}`);
});

test('saveMnistPng: 28x28 single-channel PNG with the given bytes', async () => {
  const px = new Float32Array(784);
  px[0] = 1;
  px[28 * 14 + 14] = 0.5;
  const p = join(tmp, 'out.png');
  await saveMnistPng(px, p);
  const meta = await sharp(p).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['png', 28, 28, 1]);
  const data = await sharp(p).extractChannel(0).raw().toBuffer();
  assert.equal(data[0], 255);
  assert.equal(data[28 * 14 + 14], 128);
  assert.equal(data[1], 0);
  await assert.rejects(saveMnistPng(new Float32Array(10), p), ImageError);
});

test('MNIST test digits are (nearly) fixed points of the preprocessing', () => {
  const set = loadMnist('test', 500);
  let total = 0;
  for (let n = 0; n < set.images.count; n++) {
    const img = set.images.pixels.subarray(n * 784, (n + 1) * 784);
    const ref = Float32Array.from(img, (v) => v / 255);
    const d = meanAbsDiff(preprocessToMnist(img, 28, 28).pixels, ref);
    assert.ok(d < 0.1, `digit ${n}: mean abs diff ${d}`);
    total += d;
  }
  assert.ok(total / set.images.count < 0.005, `mean abs diff ${total / set.images.count}`);
});

test('the committed figures (scripts/draw-figures.ts) load as non-empty, MNIST-centred digits/doodles', async () => {
  for (const f of ['3', '8', 'zhong', 'yoda']) {
    const r = await loadImageAsMnist(join(__dirname, '..', 'figures', `${f}.png`));
    assert.deepEqual([r.width, r.height, r.empty], [280, 280, false], f);
    const com = centerOfMass(r.pixels, 28, 28)!;
    assert.ok(Math.abs(com.x - 14) <= 0.5 && Math.abs(com.y - 14) <= 0.5, `${f}: centre of mass ${com.x},${com.y}`);
  }
});
