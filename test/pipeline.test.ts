/** The picture pipeline's pure steps (src/image/pipeline.ts, components.ts, number.ts), table-style. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  detectPolarity,
  dilate,
  estimateBackground,
  flattenInk,
  histogramQuantile,
  luminance,
  median3,
  normaliseStrokeWidth,
  pictureToInk,
  removeRuledLines,
  replaceBorderSteps,
  segmentInk,
  selectKth,
  strokeWidth,
} from '../src/image/pipeline';
import { labelComponents, neighbours8, selectCharacter } from '../src/image/components';
import { absorbFragments, bestCut, candidateCuts, growFaintInk, mergeColumns, segmentNumber, segmentNumberGroups, splitColumns, writingLine } from '../src/image/number';
import { segmentScore } from '../src/predict/number';
import { checkPicture } from '../src/gate/sanity';
import { mulberry32 } from '../src/random';

/** A W x H image filled with `v`, with rectangles of other values drawn on it. */
function canvas(W: number, H: number, v: number, rects: [number, number, number, number, number][] = []): Float32Array {
  const img = new Float32Array(W * H).fill(v);
  for (const [x0, y0, w, h, val] of rects) for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) img[y * W + x] = val;
  return img;
}

test('luminance: grey, RGB (Rec. 601), and alpha over the right paper', () => {
  const cases: { data: number[]; ch: number; want: number[] }[] = [
    { data: [0, 255], ch: 1, want: [0, 1] },
    { data: [255, 0, 0, 0, 255, 0], ch: 3, want: [0.299, 0.587] },
    // dark stroke on a transparent layer: transparent pixels become white paper
    { data: [0, 255, 0, 0, 0, 0, 0, 0], ch: 2, want: [0, 1, 1, 1] },
    // light stroke on a transparent layer: transparent pixels become black
    { data: [255, 255, 0, 0, 0, 0, 0, 0], ch: 2, want: [1, 0, 0, 0] },
  ];
  for (const c of cases) {
    const n = c.data.length / c.ch;
    const got = luminance(Uint8Array.from(c.data), n, 1, c.ch);
    c.want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) < 1e-3, `${JSON.stringify(c.data)}: ${got[i]} vs ${w}`));
  }
});

test('median3 removes isolated specks and keeps edges', () => {
  const img = canvas(9, 9, 0.8, [[4, 4, 1, 1, 0]]);
  assert.ok(Math.abs(median3(img, 9, 9)[4 * 9 + 4] - 0.8) < 1e-6);
  const edge = canvas(9, 9, 0.8, [[0, 0, 4, 9, 0.1]]);
  const m = median3(edge, 9, 9);
  assert.ok(Math.abs(m[4 * 9 + 2] - 0.1) < 1e-6 && Math.abs(m[4 * 9 + 6] - 0.8) < 1e-6);
});

test('histogramQuantile agrees with a sort within 1/4096 of the range', () => {
  const r = mulberry32(3);
  const v = Float32Array.from({ length: 10000 }, () => r() * 2 - 0.5);
  const s = Float32Array.from(v).sort();
  for (const q of [0, 0.1, 0.5, 0.98]) assert.ok(Math.abs(histogramQuantile(v, q) - s[Math.floor(q * (v.length - 1))]) < 2 / 4096 + 1e-6);
});

test('selectKth gives the value a sort puts at rank k: ties, runs, sorted and reversed input, every k', () => {
  const r = mulberry32(11);
  const cases: Float32Array[] = [
    Float32Array.from([5]),
    Float32Array.from([2, 1]),
    Float32Array.from([3, 3, 3, 3]),
    Float32Array.from({ length: 50 }, (_, i) => i),
    Float32Array.from({ length: 50 }, (_, i) => 50 - i),
    Float32Array.from({ length: 97 }, () => Math.floor(r() * 4) / 4),
    Float32Array.from({ length: 169 }, () => r()),
  ];
  for (const values of cases) {
    const sorted = Float32Array.from(values).sort();
    for (let k = 0; k < values.length; k++) assert.equal(selectKth(Float32Array.from(values), values.length, k), sorted[k], `n=${values.length} k=${k}`);
  }
  // only the first n values count
  assert.equal(selectKth(Float32Array.from([9, 1, 5, -100]), 3, 0), 1);
});

test('estimateBackground follows a lighting gradient and ignores a digit-sized dark mark', () => {
  const W = 200;
  const H = 150;
  const img = new Float32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) img[y * W + x] = 0.9 - 0.4 * (x / W);
  for (let y = 60; y < 90; y++) for (let x = 90; x < 96; x++) img[y * W + x] = 0.1; // a stroke
  const bg = estimateBackground(img, W, H);
  for (const [x, y] of [[5, 5], [100, 75], [195, 140], [93, 75]]) {
    const want = 0.9 - 0.4 * (x / W);
    assert.ok(Math.abs(bg[y * W + x] - want) < 0.04, `(${x},${y}) ${bg[y * W + x]} vs ${want}`);
  }
});

test('estimateBackground: a 28x28 picture gets its border median', () => {
  const img = canvas(28, 28, 0, [[8, 4, 10, 20, 1]]);
  assert.ok(estimateBackground(img, 28, 28).every((v) => v === 0));
  assert.ok(estimateBackground(canvas(28, 28, 1, [[8, 4, 10, 20, 0]]), 28, 28).every((v) => v === 1));
});

test('replaceBorderSteps: a band along the edge takes the paper level, a slope is kept', () => {
  const gw = 8;
  const gh = 6;
  const band = new Float32Array(gw * gh).fill(0.8);
  for (let by = 0; by < gh; by++) band[by * gw + gw - 1] = 0.2; // dark table along the right edge
  replaceBorderSteps(band, gw, gh);
  for (let by = 0; by < gh; by++) assert.ok(Math.abs(band[by * gw + gw - 1] - 0.8) < 1e-6);
  const slope = Float32Array.from({ length: gw * gh }, (_, i) => 0.9 - 0.05 * (i % gw));
  const before = Float32Array.from(slope);
  replaceBorderSteps(slope, gw, gh);
  assert.deepEqual(slope, before);
});

test('detectPolarity: the side of the background the strong deviations lie on', () => {
  const cases: { img: Float32Array; bg: number; want: 'dark' | 'light' }[] = [
    { img: canvas(40, 40, 0.8, [[10, 10, 4, 20, 0.1]]), bg: 0.8, want: 'dark' },
    { img: canvas(40, 40, 0.1, [[10, 10, 4, 20, 0.9]]), bg: 0.1, want: 'light' },
    { img: canvas(40, 40, 0.45, [[10, 10, 4, 20, 0.1]]), bg: 0.45, want: 'dark' }, // dark pencil on grey paper
    { img: canvas(40, 40, 0.45, [[10, 10, 4, 20, 0.85]]), bg: 0.45, want: 'light' }, // chalk on a grey board
  ];
  for (const c of cases) assert.equal(detectPolarity(c.img, new Float32Array(c.img.length).fill(c.bg)), c.want);
});

test('flattenInk: uneven light is divided out; strokes reach 1; blank paper stays empty', () => {
  const W = 100;
  const img = new Float32Array(W * W);
  const bg = new Float32Array(W * W);
  for (let i = 0; i < img.length; i++) {
    const light = 0.5 + 0.5 * ((i % W) / W);
    bg[i] = 0.9 * light;
    img[i] = bg[i];
  }
  for (const x of [10, 80]) for (let y = 40; y < 60; y++) for (let k = 0; k < 3; k++) img[y * W + x + k] = 0.1 * (0.5 + 0.5 * ((x + k) / W));
  const f = flattenInk(img, bg, 'dark', W, W);
  // the same pen in the shadow and in the light comes out equally dark
  assert.ok(Math.abs(f.ink[50 * W + 11] - f.ink[50 * W + 81]) < 0.05);
  assert.ok(f.ink[50 * W + 11] > 0.9 && f.ink[5 * W + 50] === 0);
  const blank = flattenInk(bg, bg, 'dark', W, W);
  assert.ok(blank.ink.every((v) => v === 0));
  assert.equal(blank.contrast, 0);
});

test('labelComponents: 8-connectivity, areas, boxes, edge contact', () => {
  const W = 10;
  const mask = new Uint8Array(W * 6);
  for (const [x, y] of [[1, 1], [2, 2], [3, 3], [7, 0], [7, 1], [9, 5]]) mask[y * W + x] = 1;
  const { components } = labelComponents(mask, W, 6);
  assert.deepEqual(
    components.map((c) => [c.area, c.x0, c.y0, c.x1, c.y1, c.touchesEdge]),
    [[2, 7, 0, 7, 1, true], [3, 1, 1, 3, 3, false], [1, 9, 5, 9, 5, true]],
  );
});

test('selectCharacter: specks dropped, broken strokes joined, edge bands ignored', () => {
  const c = (label: number, x0: number, y0: number, x1: number, y1: number, area: number, touchesEdge = false) => ({ label, area, x0, y0, x1, y1, mass: area, cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, touchesEdge });
  const cases: { name: string; comps: ReturnType<typeof c>[]; frame?: { width: number; height: number }; want: number[] }[] = [
    { name: 'digit + far speck', comps: [c(1, 40, 40, 60, 80, 300), c(2, 5, 5, 6, 6, 4)], want: [1] },
    { name: 'a 5 drawn in two strokes', comps: [c(1, 40, 50, 60, 80, 250), c(2, 42, 38, 62, 42, 60)], want: [1, 2] },
    { name: 'table band along the bottom', comps: [c(1, 0, 90, 99, 99, 1000, true), c(2, 40, 30, 55, 60, 120)], frame: { width: 100, height: 100 }, want: [2] },
    { name: 'nothing but specks', comps: [c(1, 5, 5, 5, 5, 1)], want: [] },
  ];
  for (const k of cases) assert.deepEqual(selectCharacter(k.comps, { frame: k.frame }).sort(), k.want, k.name);
});

test('removeRuledLines clears thin full-width lines but keeps a stroke crossing them', () => {
  const W = 120;
  const H = 80;
  const mask = new Uint8Array(W * H);
  for (let x = 0; x < W; x++) mask[40 * W + x] = 1; // ruled line
  for (let y = 20; y < 60; y++) for (let x = 60; x < 65; x++) mask[y * W + x] = 1; // a 1 crossing it
  removeRuledLines(mask, W, H);
  assert.equal(mask[40 * W + 10], 0);
  assert.equal(mask[40 * W + 62], 1);
  assert.equal(mask[25 * W + 62], 1);
});

test('strokeWidth and normaliseStrokeWidth: a thin pen is thickened, a thick one left alone', () => {
  const thin = canvas(100, 100, 0, [[48, 10, 2, 80, 1]]);
  assert.ok(Math.abs(strokeWidth(thin, 100, 100) - 2) < 0.2);
  const box = { x0: 48, y0: 10, x1: 49, y1: 89 };
  const t = normaliseStrokeWidth(thin, 100, 100, box);
  assert.ok(strokeWidth(t, 100, 100) > 4);
  const thick = canvas(100, 100, 0, [[44, 10, 9, 80, 1]]);
  assert.equal(normaliseStrokeWidth(thick, 100, 100, { x0: 44, y0: 10, x1: 52, y1: 89 }), thick);
  assert.equal(dilate(thin, 100, 100, 1)[50 * 100 + 47], 1);
});

test('segmentInk keeps the character and reports what it left out', () => {
  const W = 200;
  const ink = canvas(W, W, 0, [[90, 60, 8, 80, 1], [10, 10, 2, 2, 1], [0, 180, 200, 20, 1]]);
  const s = segmentInk(ink, W, W);
  assert.equal(s.ink[100 * W + 93], 1);
  assert.equal(s.ink[11 * W + 11], 0);
  assert.equal(s.ink[190 * W + 50], 0);
  assert.deepEqual(s.bbox, { x0: 90, y0: 60, x1: 97, y1: 139 });
});

test('pictureToInk: a white-on-black 28x28 MNIST export passes through nearly unchanged', () => {
  const px = new Uint8Array(784);
  for (let y = 6; y < 22; y++) for (let x = 12; x < 16; x++) px[y * 28 + x] = 255;
  px[6 * 28 + 11] = 128;
  const { ink, info } = pictureToInk(px, 28, 28, 1);
  assert.equal(info.polarity, 'light');
  assert.ok(Math.abs(ink[10 * 28 + 13] - 1) < 0.02 && ink[0] === 0 && Math.abs(ink[6 * 28 + 11] - 0.5) < 0.05);
});

test('checkPicture: decided from stroke evidence, each refusal with its check, value and threshold', () => {
  const e = (snr: number, kept = 1, rivals = 0, strokeLength = 3, noise = 0.02) => ({ snr, kept, rivals, strokeLength, noise });
  const cases: { name: string; ev: ReturnType<typeof e>; reason: string | null; check?: string }[] = [
    { name: 'no mark the size of a character', ev: e(0, 0), reason: 'blank', check: 'stroke-found' },
    { name: 'no mark the size of a character in noise', ev: e(0, 0, 0, 0, 0.2), reason: 'noise-like', check: 'stroke-found' },
    { name: 'a mark that does not stand out of clean paper', ev: e(4), reason: 'blank', check: 'stroke-contrast' },
    { name: 'a mark that does not stand out of noisy paper', ev: e(4, 1, 0, 3, 0.15), reason: 'noise-like', check: 'stroke-contrast' },
    { name: 'wood grain: many marks as strong as the character', ev: e(80, 1, 6), reason: 'noise-like', check: 'rival-marks' },
    { name: 'a faint blot: weak evidence, short path', ev: e(12, 1, 0, 1.1), reason: 'noise-like', check: 'stroke-path' },
    { name: 'a faint digit on grainy paper: weak evidence, a digit-long path', ev: e(8, 1, 0, 3.4), reason: null },
    { name: 'a clear 1: a short path is fine when the stroke is clear', ev: e(40, 1, 0, 1.1), reason: null },
    { name: 'a scan', ev: e(150, 1, 1, 2.5), reason: null },
  ];
  for (const c of cases) {
    const r = checkPicture(c.ev);
    assert.equal(r?.reason ?? null, c.reason, c.name);
    if (r) {
      assert.equal(r.reasonDetail.check, c.check, c.name);
      assert.ok(Number.isFinite(r.reasonDetail.value) && Number.isFinite(r.reasonDetail.threshold), c.name);
      assert.ok(r.reasonDetail.message.length > 10 && r.reasonDetail.short.length > 3, c.name);
    }
  }
});

test('number segmentation: merge overlapping columns, split a group as wide as two digits', () => {
  const c = (label: number, x0: number, x1: number) => ({ label, area: 10, x0, y0: 0, x1, y1: 10, mass: 10, cx: 0, cy: 0, touchesEdge: false });
  assert.deepEqual(mergeColumns([c(1, 0, 10), c(2, 2, 8), c(3, 20, 30)]).map((g) => [g.x0, g.x1]), [[0, 10], [20, 30]]);
  const col = Float32Array.from([5, 5, 5, 4, 1, 4, 5, 5, 5, 5]);
  assert.deepEqual(splitColumns(col, 2), [4]);
  // three bars of digit height, the last two touching: three digits
  const W = 200;
  const H = 60;
  const ink = canvas(W, H, 0, [[20, 10, 6, 40, 1], [70, 10, 28, 40, 1], [98, 10, 28, 40, 1]]);
  for (let y = 10; y < 50; y++) for (let x = 97; x < 100; x++) ink[y * W + x] = 0.2; // a thin waist where the two touch
  const digits = segmentNumber(ink, W, H);
  assert.equal(digits.length, 3);
  assert.ok(digits[0].x1 < digits[1].x0 && digits[1].x1 < digits[2].x0);
});

test('absorbFragments: a tiny piece or a flat bar joins its nearest neighbour, specks far from every digit go; digit-sized groups stay', () => {
  // a component as a group: x0..x1, y0..y1, ink mass
  const comp = (label: number, x0: number, x1: number, y0: number, y1: number, mass: number) => ({ label, area: mass, x0, y0, x1, y1, mass, cx: 0, cy: 0, touchesEdge: false });
  const group = (c: ReturnType<typeof comp>) => ({ comps: [c], x0: c.x0, x1: c.x1, y0: c.y0, y1: c.y1 });
  const digit = (label: number, x0: number) => comp(label, x0, x0 + 20, 0, 40, 300);
  const cases: { name: string; groups: ReturnType<typeof comp>[]; want: number[][] }[] = [
    { name: 'three digits', groups: [digit(1, 0), digit(2, 30), digit(3, 60)], want: [[1], [2], [3]] },
    // the bar of a 5 written apart, as wide as a digit, over the gap to the right: joins the 5 (overlapping it)
    { name: 'a 5 bar written apart', groups: [digit(1, 0), comp(2, 15, 36, 0, 5, 60), digit(3, 45)], want: [[1, 2], [3]] },
    { name: 'a flat bar nearer the right digit', groups: [digit(1, 0), comp(2, 38, 55, 0, 5, 60), digit(3, 50)], want: [[1], [3, 2]] },
    { name: 'a tiny speck-sized tail', groups: [digit(1, 0), comp(2, 23, 26, 30, 40, 20), digit(3, 45)], want: [[1, 2], [3]] },
    // a short digit is still a digit (half the line's height, not flat)
    { name: 'a small digit', groups: [digit(1, 0), comp(2, 30, 44, 20, 40, 150), digit(3, 60)], want: [[1], [2], [3]] },
    // dust on the writing line, a line height and more from the first digit: dropped, not glued to it
    { name: 'specks far to the left', groups: [comp(4, 0, 3, 20, 23, 10), comp(5, 50, 53, 25, 28, 10), digit(1, 100), digit(2, 130)], want: [[1], [2]] },
    { name: 'a speck just beyond reach', groups: [digit(1, 0), comp(2, 46, 48, 20, 22, 9)], want: [[1]] },
    { name: 'a speck just within reach', groups: [digit(1, 0), comp(2, 44, 46, 20, 22, 9)], want: [[1, 2]] },
    // a thin light 1 as tall as the line, far from a heavy 0: a digit of its own, not a fragment
    { name: 'a thin 1 beside a heavy digit', groups: [comp(1, 0, 5, 0, 40, 40), comp(2, 50, 75, 0, 40, 600)], want: [[1], [2]] },
    { name: 'the same stroke half as tall is a fragment out of reach', groups: [comp(1, 0, 5, 20, 38, 40), comp(2, 50, 75, 0, 40, 600)], want: [[2]] },
    // TALL_PIECE x 41 = 24.6 px: 25 px tall is a digit, 24 px a fragment (within reach: it joins)
    { name: 'a thin stroke 25 px tall beside a digit', groups: [comp(1, 0, 5, 16, 40, 40), comp(2, 20, 45, 0, 40, 600)], want: [[1], [2]] },
    { name: 'a thin stroke 24 px tall beside a digit', groups: [comp(1, 0, 5, 17, 40, 40), comp(2, 20, 45, 0, 40, 600)], want: [[2, 1]] },
  ];
  for (const c of cases) {
    const out = absorbFragments(c.groups.map(group), 41);
    assert.deepEqual(out.map((g) => g.comps.map((k) => k.label)), c.want, c.name);
  }
});

test('writingLine: the components chained by height to the one sharing its height with the most; a big mark alone above or below is not on it', () => {
  // a component: its vertical span and ink (the columns do not matter here)
  const comp = (label: number, y0: number, y1: number, mass = 100) => ({ label, area: mass, x0: 10 * label, y0, x1: 10 * label + 8, y1, mass, cx: 0, cy: 0, touchesEdge: false });
  const cases: { name: string; big: ReturnType<typeof comp>[]; want: [number, number] }[] = [
    { name: 'one digit', big: [comp(1, 5, 40)], want: [5, 40] },
    { name: 'three digits on a line', big: [comp(1, 10, 40), comp(2, 12, 42), comp(3, 8, 38)], want: [8, 42] },
    // session 26, seed 67 #29: a dark dot far above a small photographed number
    { name: 'a blot far above five digits', big: [comp(1, 85, 95), comp(2, 87, 97), comp(3, 84, 94), comp(4, 85, 95), comp(5, 86, 96), comp(6, 0, 3, 300)], want: [84, 97] },
    { name: 'a blot below', big: [comp(1, 10, 40), comp(2, 12, 42), comp(3, 80, 90, 500)], want: [10, 42] },
    // a line that climbs: neighbours overlap, the ends do not; all of it stays
    { name: 'a climbing line', big: [comp(1, 40, 70), comp(2, 30, 60), comp(3, 20, 50), comp(4, 10, 40), comp(5, 0, 30)], want: [0, 70] },
    // each overlaps only its neighbours: reaching the ends takes several steps from the anchor
    { name: 'a long climbing line', big: [comp(1, 80, 100), comp(2, 65, 85), comp(3, 50, 70), comp(4, 35, 55), comp(5, 20, 40), comp(6, 5, 25)], want: [5, 100] },
    // steep: 5 px between neighbours' spans, under half a digit's height (21 px): still one line
    { name: 'a steep line with gaps', big: [comp(1, 78, 98), comp(2, 52, 72), comp(3, 26, 46), comp(4, 0, 20)], want: [0, 98] },
    // two marks that share no height: the heavier is the line
    { name: 'two apart, the heavier wins', big: [comp(1, 0, 10, 50), comp(2, 30, 60, 200)], want: [30, 60] },
  ];
  for (const c of cases) {
    const got = writingLine(c.big);
    assert.deepEqual([got.y0, got.y1], c.want, c.name);
  }
  // end to end: a heavy dot above the last of three digits, in its columns, is neither a digit nor glued to one
  const W = 160;
  const H = 120;
  const ink = canvas(W, H, 0, [[20, 80, 6, 30, 1], [50, 80, 6, 30, 1], [80, 80, 20, 6, 1], [80, 80, 6, 30, 1], [94, 80, 6, 30, 1], [84, 10, 14, 14, 1]]);
  const groups = segmentNumberGroups(ink, W, H);
  assert.equal(groups.length, 3, JSON.stringify(groups.map((g) => g.points)));
  const last = groups[2].segments[groups[2].byWidth[0]];
  assert.ok(last.y0 >= 75, `the last digit starts at the writing line, not at the dot: y0 ${last.y0}`);
});

test('neighbours8: the pixels around one inside the frame, never itself', () => {
  const cases: { name: string; x: number; y: number; width: number; height: number; want: number[] }[] = [
    { name: 'top-left corner of 3 x 3', x: 0, y: 0, width: 3, height: 3, want: [1, 3, 4] },
    { name: 'centre of 3 x 3', x: 1, y: 1, width: 3, height: 3, want: [0, 1, 2, 3, 5, 6, 7, 8] },
    { name: 'right end of a row does not wrap', x: 2, y: 0, width: 3, height: 2, want: [1, 4, 5] },
    { name: 'a one-pixel-wide column', x: 0, y: 1, width: 1, height: 3, want: [0, 2] },
    { name: 'a single pixel', x: 0, y: 0, width: 1, height: 1, want: [] },
  ];
  const out = new Int32Array(8);
  for (const c of cases) assert.deepEqual(Array.from(out.subarray(0, neighbours8(c.x, c.y, c.width, c.height, out))), c.want, c.name);
});

test('growFaintInk: faint ink joins the strokes within reach, never through blocked pixels, never from nothing', () => {
  // ink, seeds (the stroke pixels), width x height, reach, blocked; the low level is 0.15
  const cases: { name: string; ink: number[]; seeds: number[]; width: number; height: number; reach: number; blocked?: number[]; want: number[] }[] = [
    { name: 'a light run touching a stroke', ink: [0, 1, 0.2, 0.2, 0, 0.2, 0.2, 0, 0], seeds: [0, 1, 0, 0, 0, 0, 0, 0, 0], width: 9, height: 1, reach: 3, want: [0, 1, 1, 1, 0, 0, 0, 0, 0] },
    { name: 'reach limits the growth', ink: [1, 0.2, 0.2, 0.2, 0.2], seeds: [1, 0, 0, 0, 0], width: 5, height: 1, reach: 2, want: [1, 1, 1, 0, 0] },
    { name: 'the low level itself joins, just under it does not', ink: [1, 0.15, 0.15, 0, 1, 0.149], seeds: [1, 0, 0, 0, 1, 0], width: 6, height: 1, reach: 5, want: [1, 1, 1, 0, 1, 0] },
    { name: 'blocked pixels stop it', ink: [1, 0.2, 0.2, 0.2], seeds: [1, 0, 0, 0], width: 4, height: 1, reach: 5, blocked: [0, 0, 1, 0], want: [1, 1, 0, 0] },
    { name: 'no wrap from a row end to the next row', ink: [0, 0, 1, 0.2, 0, 0, 0, 0, 0], seeds: [0, 0, 1, 0, 0, 0, 0, 0, 0], width: 3, height: 3, reach: 5, want: [0, 0, 1, 0, 0, 0, 0, 0, 0] },
    { name: 'diagonal neighbours connect', ink: [1, 0, 0, 0, 0.2, 0, 0, 0, 0.2], seeds: [1, 0, 0, 0, 0, 0, 0, 0, 0], width: 3, height: 3, reach: 5, want: [1, 0, 0, 0, 1, 0, 0, 0, 1] },
    { name: 'a one-pixel-wide column', ink: [1, 0.2, 0.2], seeds: [1, 0, 0], width: 1, height: 3, reach: 1, want: [1, 1, 0] },
    { name: 'faint ink without a stroke stays out', ink: [0.3, 0.3, 0.3], seeds: [0, 0, 0], width: 3, height: 1, reach: 5, want: [0, 0, 0] },
  ];
  for (const c of cases) {
    const got = growFaintInk(Uint8Array.from(c.seeds), c.ink, c.width, c.height, 0.15, c.reach, c.blocked ? Uint8Array.from(c.blocked) : undefined);
    assert.deepEqual(Array.from(got), c.want, c.name);
  }
});

test('segmentNumberGroups: faint structures touching the digits (a thick faint line, a shadow from the edge, an underline) neither drop nor merge them', () => {
  const W = 160;
  const H = 80;
  // two digit-sized strong shapes (8 px strokes in a 28 x 40 box) at x 30-57 and 90-117
  const digits: [number, number, number, number, number][] = [[30, 10, 28, 8, 1], [30, 10, 8, 40, 1], [50, 10, 8, 40, 1], [90, 10, 28, 8, 1], [90, 10, 8, 40, 1], [110, 10, 8, 40, 1]];
  const cases: { name: string; faint: [number, number, number, number, number][] }[] = [
    { name: 'a 4 px faint line across the picture through both', faint: [[0, 28, W, 4, 0.25]] },
    { name: 'a faint shadow from the left edge up to the first', faint: [[0, 0, 30, H, 0.2]] },
    { name: 'a faint underline touching both', faint: [[20, 50, 110, 3, 0.25]] },
  ];
  for (const c of cases) {
    const ink = canvas(W, H, 0, [...c.faint, ...digits]);
    const groups = segmentNumberGroups(ink, W, H);
    const spans = groups.map((g) => [g.points[0], g.points[g.points.length - 1] - 1]);
    assert.equal(groups.length, 2, `${c.name}: ${JSON.stringify(spans)}`);
    assert.ok(Math.abs(spans[0][0] - 30) <= 12 && Math.abs(spans[0][1] - 57) <= 12, `${c.name}: first ${spans[0]}`);
    assert.ok(Math.abs(spans[1][0] - 90) <= 12 && Math.abs(spans[1][1] - 117) <= 12, `${c.name}: second ${spans[1]}`);
  }
});

test('segmentNumberGroups: the faint bar of a 5 (below the stroke level, touching the stroke) stays with its digit', () => {
  const W = 120;
  const H = 60;
  // two strong bars of digit height; the second has a light (0.25) flat bar on top, reaching 10 px
  // right of it (within reach: 1.5 x the strokes' width)
  const ink = canvas(W, H, 0, [[20, 10, 8, 40, 1], [70, 14, 8, 36, 1], [70, 10, 18, 4, 0.25]]);
  const groups = segmentNumberGroups(ink, W, H);
  assert.equal(groups.length, 2);
  const last = groups[1].segments[groups[1].byWidth[0]];
  assert.ok(last.x1 >= 87 && last.y0 <= 10, `the bar is in the digit's crop: x ${last.x0}-${last.x1}, y ${last.y0}-${last.y1}`);
});

test('segmentNumberGroups: a faint 1 px ruled line through two digits leaves them apart, with at most a stub each', () => {
  const W = 160;
  const H = 60;
  // two strong bars of digit height and a light (0.25) 1 px line across the whole picture through both
  const ink = canvas(W, H, 0, [[30, 10, 8, 40, 1], [90, 10, 8, 40, 1], [0, 30, W, 1, 0.25]]);
  for (let x = 30; x < 38; x++) ink[30 * W + x] = 1;
  for (let x = 90; x < 98; x++) ink[30 * W + x] = 1;
  const groups = segmentNumberGroups(ink, W, H);
  // each digit keeps at most a stub of the line (its reach), and the two stay apart
  const spans = groups.map((g) => [g.points[0], g.points[g.points.length - 1] - 1]);
  assert.equal(spans.length, 2, JSON.stringify(spans));
  assert.ok(Math.abs(spans[0][0] - 30) <= 12 && Math.abs(spans[0][1] - 37) <= 12 && Math.abs(spans[1][0] - 90) <= 12 && Math.abs(spans[1][1] - 97) <= 12, JSON.stringify(spans));
});

test('candidateCuts: a narrow group has none; a wide one keeps the width-based cuts exactly and adds the ink minima away from its ends', () => {
  // 60 columns of writing 40 px high (wider than 1.15 x 40: two digits by width), ink minima at 12 and 25
  const col = new Float32Array(60).fill(10);
  col[12] = 1;
  col[25] = 0;
  col[30] = 3;
  col[2] = 0; // a minimum too near the left end (under 0.15 x 40 = 6 px)
  const { cuts, byWidth } = candidateCuts(col, 40);
  assert.deepEqual(byWidth, splitColumns(col, 2));
  for (const c of byWidth) assert.ok(cuts.includes(c), `width cut ${c} kept exactly`);
  assert.ok(cuts.includes(12), `minimum at 12 in ${cuts}`);
  assert.ok(!cuts.includes(2), 'no cut within 6 px of the end');
  for (let i = 1; i < cuts.length; i++) assert.ok(cuts[i] - cuts[i - 1] > 2, `cuts ${cuts} more than 2 px apart`);
  assert.deepEqual(candidateCuts(new Float32Array(40).fill(5), 40), { cuts: [], byWidth: [] });
});

test('bestCut: the path of pieces with the best total score, the width-based cut unless another beats it by the margin', () => {
  // points 0..3; pieces 0-1, 1-2, 2-3, 0-2, 1-3, 0-3; the width-based cut is 0-2, 2-3
  const segments = [
    { from: 0, to: 1 },
    { from: 1, to: 2 },
    { from: 2, to: 3 },
    { from: 0, to: 2 },
    { from: 1, to: 3 },
    { from: 0, to: 3 },
  ];
  const group = { points: [0, 10, 20, 30], segments, byWidth: [3, 2] };
  const cases: { name: string; scores: number[]; margin: number; want: number[] }[] = [
    { name: 'all pieces equally likely: fewest pieces win', scores: [-0.1, -0.1, -0.1, -0.1, -0.1, -0.1], margin: 0, want: [5] },
    { name: 'the same with a margin: the width-based cut stays', scores: [-0.1, -0.1, -0.1, -0.1, -0.1, -0.1], margin: 0.2, want: [3, 2] },
    { name: 'the wide first piece refused: three pieces', scores: [-0.05, -0.05, -0.05, -5, -3, -6], margin: 0.2, want: [0, 1, 2] },
    { name: 'one piece, two other ways', scores: [-0.02, -4, -4, -3, -0.02, -5], margin: 0.2, want: [0, 4] },
    { name: 'a better cut by less than the margin: the width-based one stays', scores: [-0.5, -0.5, -0.5, -0.5, -0.35, -2], margin: 0.2, want: [3, 2] },
  ];
  for (const c of cases) assert.deepEqual(bestCut(group, (i) => c.scores[i], c.margin), c.want, c.name);
});

test('segmentScore: log(1 - p(reject)); a piece the input check refused scores as refused by the gate; without a gate, the probability', () => {
  const cases: { d: Parameters<typeof segmentScore>[0]; want: number }[] = [
    { d: { verdict: 'digit', gateProbability: 0.1, probability: 0.5 }, want: Math.log(0.9) },
    { d: { verdict: 'rejected', reason: 'uncertain', gateProbability: 0.8, probability: 0.5 }, want: Math.log(0.2) },
    { d: { verdict: 'rejected', reason: 'invalid-input:blank' }, want: Math.log(1e-6) },
    { d: { verdict: 'digit', probability: 0.75 }, want: Math.log(0.75) },
  ];
  for (const c of cases) assert.ok(Math.abs(segmentScore(c.d) - c.want) < 1e-12, JSON.stringify(c.d));
});

test('segmentNumberGroups: two touching bars of different widths are cut where they touch, among the candidates, and segmentNumber is the width-based cut', () => {
  // a bar 10 px wide and one 40 px wide touching through a thin waist at x 60, 40 px high: the
  // width-based cut for two digits lies mid-group (x 75), the waist is among the candidates
  const W = 200;
  const H = 60;
  const ink = canvas(W, H, 0, [[50, 10, 10, 40, 1], [61, 10, 40, 40, 1]]);
  for (let y = 10; y < 50; y++) ink[y * W + 60] = 0.4;
  const groups = segmentNumberGroups(ink, W, H);
  assert.equal(groups.length, 1);
  const g = groups[0];
  assert.ok(g.points.some((p) => Math.abs(p - 60) <= 1), `a cut at the waist: ${g.points}`);
  for (const s of g.segments) assert.ok(s.from < s.to && g.points[s.from] === s.x0 && g.points[s.to] - 1 === s.x1, 'pieces lie between their points');
  const byWidth = g.byWidth.map((i) => g.segments[i]);
  assert.equal(byWidth[0].x0, g.points[0]);
  assert.equal(byWidth[byWidth.length - 1].x1, g.points[g.points.length - 1] - 1);
  assert.deepEqual(segmentNumber(ink, W, H).map((d) => [d.x0, d.x1]), byWidth.map((d) => [d.x0, d.x1]));
  // scoring the piece that ends at the waist best picks the cut there
  const path = bestCut(g, (i) => (Math.abs(g.segments[i].x1 - 59) <= 1 || Math.abs(g.segments[i].x0 - 60) <= 1 ? -0.01 : -5), 0.2);
  assert.equal(path.length, 2);
  assert.ok(Math.abs(g.segments[path[0]].x1 - 59) <= 1, `cut at ${g.segments[path[0]].x1}`);
});
