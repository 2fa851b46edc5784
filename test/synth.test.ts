import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { centerOfMass, inkBBox } from '../src/image/load';
import { readIdxImages, writeIdx } from '../src/data/idx';
import { loadMnist } from '../src/data/mnist';
import { GLYPH_FONTS, LETTER_CLASSES, loadGlyph } from '../src/data/synth/glyphs';
import { drawSynthLetter, generateSynthLetters } from '../src/data/synth/letters';
import { bounds, densify, flattenCommands, parseSvgPath } from '../src/data/synth/path';
import { hashSeed, makeRng, mulberry32 } from '../src/data/synth/random';
import { fillContours, makeCanvas, strokePolylines } from '../src/data/synth/raster';
import { LetterStyle, warpGlyph } from '../src/data/synth/render';
import { cacheFiles, loadSynthLetters, splitSeed, synthLettersSource } from '../src/data/synth/source';
import { DataError } from '../src/errors';

const tmp = mkdtempSync(join(tmpdir(), 'udq-synth-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);
const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol;

test('mulberry32: deterministic, in [0,1), roughly uniform', () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const c = mulberry32(43);
  const xs = Array.from({ length: 20000 }, () => a());
  assert.deepEqual(Array.from({ length: 20000 }, () => b()), xs);
  assert.notDeepEqual(Array.from({ length: 10 }, () => c()), xs.slice(0, 10));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const bins = new Array(10).fill(0);
  for (const x of xs) bins[Math.floor(x * 10)]++;
  for (const n of bins) assert.ok(n > 1800 && n < 2200, `decile count ${n}`);
});

test('hashSeed: neighbouring inputs give distinct seeds; order matters', () => {
  const seen = new Set<number>();
  for (let s = 0; s < 20; s++) for (let i = 0; i < 50; i++) seen.add(hashSeed(s, i));
  assert.equal(seen.size, 1000);
  assert.notEqual(hashSeed(1, 2), hashSeed(2, 1));
  assert.equal(hashSeed(7, 9), hashSeed(7, 9));
});

test('makeRng: int and pick stay in range, normal has mean 0 and sd 1', () => {
  const r = makeRng(5);
  for (let k = 0; k < 1000; k++) {
    const i = r.int(7);
    assert.ok(Number.isInteger(i) && i >= 0 && i < 7);
    assert.ok(['a', 'b'].includes(r.pick(['a', 'b'])));
  }
  const zs = Array.from({ length: 20000 }, () => r.normal());
  const m = sum(zs) / zs.length;
  const sd = Math.sqrt(sum(zs.map((z) => (z - m) ** 2)) / zs.length);
  assert.ok(Math.abs(m) < 0.03 && Math.abs(sd - 1) < 0.03, `mean ${m} sd ${sd}`);
});

test('parseSvgPath: absolute, relative and implicit commands', () => {
  const cases: { d: string; want: unknown[] }[] = [
    { d: 'M1,2 L3,4 5,6', want: [{ type: 'M', x: 1, y: 2 }, { type: 'L', x: 3, y: 4 }, { type: 'L', x: 5, y: 6 }] },
    { d: 'M 1 2 3 4', want: [{ type: 'M', x: 1, y: 2 }, { type: 'L', x: 3, y: 4 }] },
    {
      d: 'm1 1 l2 0 v3 h-1 z',
      want: [{ type: 'M', x: 1, y: 1 }, { type: 'L', x: 3, y: 1 }, { type: 'L', x: 3, y: 4 }, { type: 'L', x: 2, y: 4 }, { type: 'Z' }],
    },
    { d: 'M0 0 Q 1 2 2 0', want: [{ type: 'M', x: 0, y: 0 }, { type: 'Q', x1: 1, y1: 2, x: 2, y: 0 }] },
    { d: 'M0,0 c0,1 1,1 1,0', want: [{ type: 'M', x: 0, y: 0 }, { type: 'C', x1: 0, y1: 1, x2: 1, y2: 1, x: 1, y: 0 }] },
    { d: 'M-1.5e1 .5', want: [{ type: 'M', x: -15, y: 0.5 }] },
  ];
  for (const c of cases) assert.deepEqual(parseSvgPath(c.d), c.want, c.d);
  assert.throws(() => parseSvgPath('M0 0 A 1 1 0 0 1 2 2'));
});

test('flattenCommands: curve points and closing', () => {
  const [q] = flattenCommands(parseSvgPath('M0 0 Q1 2 2 0'), 2);
  assert.deepEqual(q, [[0, 0], [1, 1], [2, 0]]); // quadratic at t=1/2: (0+2+2)/4, (0+4+0)/4
  const [c] = flattenCommands(parseSvgPath('M0 0 C0 1 1 1 1 0'), 2);
  assert.deepEqual(c[1], [0.5, 0.75]); // cubic at t=1/2: (P0 + 3 P1 + 3 P2 + P3) / 8
  const closed = flattenCommands(parseSvgPath('M0 0 L1 0 L1 1 Z M5 5 L6 6'));
  assert.equal(closed.length, 2);
  assert.deepEqual(closed[0], [[0, 0], [1, 0], [1, 1], [0, 0]]);
  assert.deepEqual(closed[1], [[5, 5], [6, 6]]);
});

test('densify and bounds', () => {
  const [d] = densify([[[0, 0], [1, 0]]], 0.3);
  assert.equal(d.length, 5);
  assert.deepEqual(d[2], [0.5, 0]);
  assert.deepEqual(bounds([[[1, 5], [-2, 3]], [[0, 9]]]), { x0: -2, y0: 3, x1: 1, y1: 9 });
  assert.equal(bounds([]), null);
});

test('strokePolylines: coverage clamp(r - d + 0.5), none beyond the pen, area ~ capsule', () => {
  // horizontal centre line y = 6; pixel row j has its centre at j + 0.5, so d = |j + 0.5 - 6|
  const cases: { pen: number; rows: [number, number][] }[] = [
    { pen: 4, rows: [[5, 1], [4, 1], [3, 0], [7, 1], [8, 0]] },
    { pen: 5, rows: [[5, 1], [4, 1], [3, 0.5], [8, 0.5], [2, 0]] },
  ];
  for (const t of cases) {
    const c = makeCanvas(20, 12);
    strokePolylines(c, [[[4, 6], [14, 6]]], () => t.pen);
    for (const [row, v] of t.rows) assert.equal(c.data[row * 20 + 8], v, `pen ${t.pen} row ${row}`);
    const capsule = 10 * t.pen + Math.PI * (t.pen / 2) ** 2;
    assert.ok(Math.abs(sum(c.data) - capsule) / capsule < 0.1, `area ${sum(c.data)} vs ${capsule}`);
  }
});

test('fillContours: exact areas and the non-zero rule', () => {
  const square = (x0: number, y0: number, x1: number, y1: number, ccw = false): [number, number][] => {
    const pts: [number, number][] = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]];
    return ccw ? pts.reverse() : pts;
  };
  const cases: { name: string; contours: [number, number][][]; area: number; at?: [number, number, number][] }[] = [
    { name: 'pixel-aligned 4x4', contours: [square(2, 2, 6, 6)], area: 16, at: [[2, 2, 1], [5, 5, 1], [6, 6, 0], [1, 3, 0]] },
    { name: 'half-pixel 3x3', contours: [square(2.5, 2.5, 5.5, 5.5)], area: 9, at: [[3, 3, 1], [2, 3, 0.5], [2, 2, 0.25]] },
    { name: 'right triangle', contours: [[[0, 0], [8, 0], [0, 8], [0, 0]]], area: 32 },
    { name: 'hole (reversed inner contour)', contours: [square(1, 1, 9, 9), square(3, 3, 7, 7, true)], area: 64 - 16, at: [[4, 4, 0], [1, 1, 1]] },
    { name: 'same-direction overlap is a union', contours: [square(1, 1, 5, 5), square(3, 3, 7, 7)], area: 16 + 16 - 4, at: [[3, 3, 1]] },
  ];
  for (const t of cases) {
    const c = makeCanvas(10, 10);
    fillContours(c, t.contours);
    assert.ok(close(sum(c.data), t.area, 1e-4), `${t.name}: area ${sum(c.data)}`);
    for (const [x, y, v] of t.at ?? []) assert.ok(close(c.data[y * 10 + x], v, 1e-6), `${t.name}: (${x},${y}) = ${c.data[y * 10 + x]}`);
  }
});

const PLAIN: LetterStyle = {
  rotation: 0,
  shear: 0,
  aspect: 1,
  warpX: [],
  warpY: [],
  penWidth: 0.1,
  pressure: { amp: 0, fx: 0, fy: 0, phase: 0 },
  outlineWidth: 0,
};

test('warpGlyph: the identity style only normalises (longer side 1, centred); rotation by 90 deg swaps the sides', () => {
  const lines: [number, number][][] = [[[10, 10], [50, 10], [50, 30]]];
  const plain = bounds(warpGlyph(lines, PLAIN))!;
  assert.ok(close(plain.x0, -0.5, 1e-12) && close(plain.x1, 0.5, 1e-12));
  assert.ok(close(plain.y0, -0.25, 1e-12) && close(plain.y1, 0.25, 1e-12));
  const turned = bounds(warpGlyph(lines, { ...PLAIN, rotation: Math.PI / 2 }))!;
  assert.ok(close(turned.x1 - turned.x0, 0.5, 1e-9) && close(turned.y1 - turned.y0, 1, 1e-9));
});

test('glyphs: every font has all 52 letters; digits are refused', () => {
  assert.equal(LETTER_CLASSES.length, 52);
  assert.ok(LETTER_CLASSES.every((c) => /^[a-zA-Z]$/.test(c)));
  assert.equal(new Set(LETTER_CLASSES).size, 52);
  for (const f of GLYPH_FONTS) {
    for (const ch of LETTER_CLASSES) {
      const g = loadGlyph(f, ch);
      assert.ok(g && g.lines.length > 0, `${f.id} ${ch}`);
    }
  }
  assert.throws(() => loadGlyph(GLYPH_FONTS[0], '7'), DataError);
  // upper and lower case differ in at least one font of each family
  for (const fam of ['hershey', 'ems', 'woff']) {
    const f = GLYPH_FONTS.find((x) => x.id.startsWith(fam))!;
    assert.notDeepEqual(loadGlyph(f, 'a')!.lines, loadGlyph(f, 'A')!.lines, fam);
  }
});

test('generateSynthLetters: deterministic per seed, labelled, never blank, MNIST-shaped', async () => {
  const n = 104;
  const a = await generateSynthLetters({ count: n, seed: 11 });
  const b = await generateSynthLetters({ count: n, seed: 11 });
  const c = await generateSynthLetters({ count: n, seed: 12 });
  assert.deepEqual(a.images.pixels, b.images.pixels);
  assert.notDeepEqual(a.images.pixels, c.images.pixels);
  assert.deepEqual([a.images.count, a.images.rows, a.images.cols, a.images.pixels.length], [n, 28, 28, n * 784]);
  assert.deepEqual(a.classNames, LETTER_CLASSES);
  assert.equal(a.labels!.length, n);
  for (let i = 0; i < n; i++) assert.equal(a.labels![i], i % 52);
  // image i is drawn from (seed, i) alone: a prefix of a longer set is the shorter set
  assert.deepEqual(drawSynthLetter(11, 60).pixels, a.images.pixels.subarray(60 * 784, 61 * 784));
  for (let i = 0; i < n; i++) {
    const img = a.images.pixels.subarray(i * 784, (i + 1) * 784);
    const bb = inkBBox(img, 28, 28, 12);
    assert.ok(bb, `image ${i} is blank`);
    assert.ok(Math.max(bb.x1 - bb.x0, bb.y1 - bb.y0) + 1 <= 21, `image ${i}: ink box ${JSON.stringify(bb)}`);
    const com = centerOfMass(img, 28, 28)!;
    assert.ok(Math.abs(com.x - 14) < 1 && Math.abs(com.y - 14) < 1, `image ${i}: centre of mass ${com.x},${com.y}`);
  }
  // stroke width matched to MNIST: mean pixel value close to MNIST's
  const mnist = loadMnist('test', 2000).images.pixels;
  const mnistMean = sum(mnist) / mnist.length / 255;
  const synthMean = sum(a.images.pixels) / a.images.pixels.length / 255;
  assert.ok(Math.abs(synthMean - mnistMean) < 0.015, `synth ${synthMean.toFixed(4)} vs MNIST ${mnistMean.toFixed(4)}`);
});

test('synth-letters source: splits differ, caches as IDX keyed by seed/count, regenerates corrupt caches', async () => {
  const counts = { train: 30, test: 20 };
  assert.notEqual(splitSeed(3, 'train'), splitSeed(3, 'test'));
  const dir = join(tmp, 'data');
  assert.equal(synthLettersSource.locate(dir), null);
  const train = await loadSynthLetters(dir, { split: 'train', seed: 3 }, counts);
  const test1 = await loadSynthLetters(dir, { split: 'test', seed: 3 }, counts);
  assert.equal(train.images.count, 30);
  assert.equal(test1.images.count, 20);
  assert.notDeepEqual(train.images.pixels.subarray(0, 784), test1.images.pixels.subarray(0, 784));
  assert.equal(synthLettersSource.locate(dir), join(dir, 'synth-letters'));
  const files = cacheFiles(dir, splitSeed(3, 'train'), 'train', 30);
  assert.ok(existsSync(files.images) && existsSync(files.labels));
  assert.deepEqual(readIdxImages(files.images).pixels, train.images.pixels);
  assert.equal(readdirSync(files.dir).filter((f) => f.includes('.tmp-')).length, 0);

  // the cache is what is read: replace it with a recognisable set of the same shape
  const marked = new Uint8Array(30 * 784).fill(7);
  writeIdx(files.images, { dims: [30, 28, 28], data: marked });
  const again = await loadSynthLetters(dir, { split: 'train', seed: 3 }, counts);
  assert.deepEqual(again.images.pixels, marked);

  // another seed or count is another file; a limit below the count is a prefix
  const other = await loadSynthLetters(dir, { split: 'train', seed: 4 }, counts);
  assert.notDeepEqual(other.images.pixels, marked);
  const few = await loadSynthLetters(dir, { split: 'test', seed: 3, limit: 5 }, counts);
  assert.deepEqual(few.images.pixels, test1.images.pixels.subarray(0, 5 * 784));
  const more = await loadSynthLetters(dir, { split: 'test', seed: 3, limit: 25 }, counts);
  assert.equal(more.images.count, 25);
  assert.deepEqual(more.images.pixels.subarray(0, 20 * 784), test1.images.pixels);

  // a corrupt cache file is regenerated, not an error
  writeFileSync(files.images, 'garbage');
  const fixed = await loadSynthLetters(dir, { split: 'train', seed: 3 }, counts);
  assert.deepEqual(fixed.images.pixels, train.images.pixels);
});
