/** The augmentation recipe (src/train/augment.ts): its geometry, table-style, and its seeding. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addFragment,
  applyAugment,
  augmentBatch,
  continentalOne,
  drawSegment,
  erodeX,
  fillStretch,
  lowResScan,
  augmentSpec,
  drawAugment,
  elasticField,
  IDENTITY_WARP,
  parseAugment,
  sourcePoint,
  thickenStroke,
  thinStroke,
  USERS_PARTS,
  USERS_RECIPE,
  warpImage,
  Warp,
} from '../src/train/augment';
import { loadMnist } from '../src/data/mnist';
import { mulberry32 } from '../src/random';

const S = 28;
/** an image with ink on the given [x, y] pixels */
function dots(points: [number, number][]): Float32Array {
  const img = new Float32Array(S * S);
  for (const [x, y] of points) img[y * S + x] = 1;
  return img;
}
/** a filled rectangle [x0, x1) x [y0, y1) */
function rect(x0: number, x1: number, y0: number, y1: number): Float32Array {
  const img = new Float32Array(S * S);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) img[y * S + x] = 1;
  return img;
}
function centroid(img: Float32Array): [number, number] {
  let m = 0;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const v = img[y * S + x];
    m += v;
    cx += v * x;
    cy += v * y;
  }
  return [cx / m, cy / m];
}
/** width and height of the pixels above `t` */
function extent(img: Float32Array, t = 0.5): [number, number] {
  let x0 = S;
  let x1 = -1;
  let y0 = S;
  let y1 = -1;
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) if (img[y * S + x] > t) {
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  return [x1 - x0 + 1, y1 - y0 + 1];
}
const sum = (img: Float32Array) => img.reduce((a, b) => a + b, 0);
const w = (p: Partial<Warp>): Warp => ({ ...IDENTITY_WARP, ...p });

test('sourcePoint: where an output pixel samples the source, per part of the warp', () => {
  const cases: { name: string; warp: Warp; out: [number, number]; src: [number, number] }[] = [
    { name: 'identity', warp: IDENTITY_WARP, out: [5, 9], src: [5, 9] },
    { name: 'shift right 2, down 1', warp: w({ tx: 2, ty: 1 }), out: [7, 10], src: [5, 9] },
    { name: 'scale 2: a point 4 px right of centre comes from 2 px', warp: w({ scaleX: 2, scaleY: 2 }), out: [17.5, 13.5], src: [15.5, 13.5] },
    { name: 'aspect 0.5 halves x distances only', warp: w({ scaleX: 0.5 }), out: [15.5, 17.5], src: [17.5, 17.5] },
    { name: 'rotate 90 (clockwise on screen): right of centre comes from above', warp: w({ rotate: Math.PI / 2 }), out: [18.5, 13.5], src: [13.5, 8.5] },
    { name: 'shear 0.5: 4 px below centre samples 2 px to the left', warp: w({ shear: 0.5 }), out: [13.5, 17.5], src: [11.5, 17.5] },
  ];
  for (const c of cases) {
    const [sx, sy] = sourcePoint(c.warp, c.out[0], c.out[1]);
    assert.ok(Math.abs(sx - c.src[0]) < 1e-9 && Math.abs(sy - c.src[1]) < 1e-9, `${c.name}: got ${sx}, ${sy}`);
  }
});

test('warpImage moves ink where the warp says, and the identity leaves the image unchanged', () => {
  const digit = loadMnist('test').images;
  const img = Float32Array.from(digit.pixels.subarray(0, 784), (v) => v / 255);
  assert.deepEqual(warpImage(img, IDENTITY_WARP), img);
  // a dot moved by a shift
  assert.equal(warpImage(dots([[5, 5]]), w({ tx: 3, ty: -2 }))[3 * S + 8], 1);
  // rotation by 90 turns a horizontal bar into a vertical one and keeps its centroid at the centre
  const bar = rect(8, 20, 13, 15);
  const turned = warpImage(bar, w({ rotate: Math.PI / 2 }));
  const [bw, bh] = extent(turned);
  assert.ok(bh >= 11 && bw <= 3, `turned bar ${bw}x${bh}`);
  const [cx, cy] = centroid(turned);
  assert.ok(Math.abs(cx - 13.5) < 0.3 && Math.abs(cy - 13.5) < 0.3);
  // aspect 0.5 halves the width of a box, not its height
  const box = rect(6, 22, 6, 22);
  const [nw, nh] = extent(warpImage(box, w({ scaleX: 0.5 })));
  assert.ok(nw >= 7 && nw <= 9 && nh === 16, `narrowed box ${nw}x${nh}`);
  // shear slants a vertical bar: its top moves one way, its bottom the other
  const post = warpImage(rect(13, 15, 4, 24), w({ shear: 0.4 }));
  const rowCentre = (y: number) => centroid(Float32Array.from({ length: S * S }, (_, i) => (Math.floor(i / S) === y ? post[i] : 0)))[0];
  assert.ok(rowCentre(5) < 11 && rowCentre(22) > 16, `sheared post rows: ${rowCentre(5)}, ${rowCentre(22)}`);
});

test('stroke thickness: thicken grows a stroke by a pixel on each side, thin lightens it without moving it', () => {
  const bar = rect(10, 18, 12, 15); // 8 x 3
  const thick = thickenStroke(bar);
  assert.deepEqual(extent(thick), [10, 5]);
  const thin = thinStroke(bar);
  assert.ok(sum(thin) < sum(bar) && sum(thin) > 0.5 * sum(bar));
  assert.deepEqual(extent(thin, 0.9), [6, 1]); // the full-strength core
  assert.deepEqual(centroid(thin), centroid(bar));
});

test('elastic field: smooth (neighbours differ by under half the amplitude), its largest displacement equal to the amplitude; zero amplitude is the identity', () => {
  const f = elasticField(mulberry32(3), 2, 7);
  let peak = 0;
  let jump = 0;
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const i = y * S + x;
    peak = Math.max(peak, Math.hypot(f.dx[i], f.dy[i]));
    if (x > 0) jump = Math.max(jump, Math.abs(f.dx[i] - f.dx[i - 1]));
  }
  assert.ok(Math.abs(peak - 2) < 1e-5, `peak ${peak}`);
  assert.ok(jump < 1, `neighbouring displacements differ by ${jump}`);
  const zero = elasticField(mulberry32(3), 0, 7);
  const img = rect(8, 20, 8, 20);
  assert.deepEqual(warpImage(img, IDENTITY_WARP, zero), img);
});

test("fragment: a neighbour's edge enters only the chosen edge columns, at its ink's edge", () => {
  const neighbour = rect(6, 22, 6, 22);
  for (const side of ['left', 'right'] as const) {
    const img = addFragment(rect(11, 17, 8, 20), neighbour, side, 3, 0);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      const inDigit = x >= 11 && x < 17 && y >= 8 && y < 20;
      const inEdge = side === 'left' ? x < 3 : x >= S - 3;
      const v = img[y * S + x];
      if (!inDigit && !inEdge) assert.equal(v, 0, `${side}: ink at ${x},${y}`);
      if (inEdge) assert.equal(v, y >= 6 && y < 22 ? 1 : 0, `${side}: edge ${x},${y}`);
    }
  }
});

test('parseAugment: recipes, part lists, removal, the old pixel form, and bad names', () => {
  const cases: [string, string[] | null, number?][] = [
    ['0', null],
    ['off', null],
    ['2', ['shift'], 2],
    ['users', [...USERS_RECIPE.parts]],
    ['users,-elastic', USERS_RECIPE.parts.filter((p) => p !== 'elastic')],
    ['aspect,rotate', ['rotate', 'aspect']],
  ];
  for (const [spec, parts, shift] of cases) {
    const r = parseAugment(spec);
    assert.deepEqual(r?.parts ?? null, parts, spec);
    if (shift !== undefined) assert.equal(r!.shift, shift);
  }
  assert.equal(augmentSpec(parseAugment('users')), 'users');
  assert.equal(augmentSpec(parseAugment('3')), '3');
  assert.equal(augmentSpec(parseAugment('users,-fragment')), 'shift,rotate,shear,scale,aspect,thickness,elastic');
  // `users` keeps its meaning (the shipped models were trained with it); style is added by name
  assert.deepEqual(parseAugment('users')!.parts, [...USERS_PARTS]);
  assert.ok(!USERS_PARTS.includes('style'));
  assert.deepEqual(parseAugment('users,style')!.parts, [...USERS_PARTS, 'style']);
  assert.equal(augmentSpec(parseAugment('users,style')), 'users,style');
  assert.equal(augmentSpec(parseAugment('style,rotate')), 'rotate,style');
  assert.throws(() => parseAugment('twirl'), /unknown part or recipe "twirl"/);
  assert.throws(() => parseAugment('users,-spin'), /unknown part "spin"/);
  assert.throws(() => parseAugment('shift,-shift'), /no part left/);
});

test('drawAugment keeps each part in its range and off when not in the recipe', () => {
  const r = parseAugment('rotate,aspect')!;
  const rand = mulberry32(7);
  for (let i = 0; i < 200; i++) {
    const d = drawAugment(r, rand, 10);
    assert.ok(Math.abs(d.warp.rotate) <= (r.rotateDeg * Math.PI) / 180);
    assert.ok(d.warp.scaleX >= r.aspect[0] && d.warp.scaleX <= r.aspect[1] && d.warp.scaleY === 1);
    assert.equal(d.warp.shear, 0);
    assert.equal(d.warp.tx, 0);
    assert.equal(d.field, null);
    assert.equal(d.stroke, null);
    assert.equal(d.fragment, null);
  }
  const all = drawAugment(USERS_RECIPE, mulberry32(1), 10);
  assert.ok(all.field !== null);
});

test('augmentBatch is seeded: the same seed gives the same batch, another seed another; p = 0 leaves it alone', () => {
  const set = loadMnist('test').images;
  const n = 16;
  const base = Float32Array.from(set.pixels.subarray(0, n * 784), (v) => v / 255);
  const pool = { count: 100, image: (i: number) => Float32Array.from(set.pixels.subarray(i * 784, (i + 1) * 784), (v) => v / 255) };
  const run = (seed: number, p = USERS_RECIPE.p) => {
    const buf = base.slice();
    augmentBatch(buf, n, { ...USERS_RECIPE, p }, mulberry32(seed), pool);
    return buf;
  };
  assert.deepEqual(run(5), run(5));
  assert.notDeepEqual(run(5), run(6));
  assert.deepEqual(run(5, 0), base);
  // augmented digits keep most of their ink in the frame
  const out = run(5);
  for (let b = 0; b < n; b++) {
    const ratio = sum(out.subarray(b * 784, (b + 1) * 784)) / sum(base.subarray(b * 784, (b + 1) * 784));
    assert.ok(ratio > 0.4 && ratio < 3, `image ${b}: ink ratio ${ratio}`);
  }
});

/** ink-weighted box of pixels >= 0.3: [x0, y0, x1, y1] */
function inkBox(img: Float32Array): [number, number, number, number] {
  let x0 = S, y0 = S, x1 = -1, y1 = -1;
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    if (img[y * S + x] < 0.3) continue;
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  return [x0, y0, x1, y1];
}

test('drawSegment: full ink on the segment, none beyond the pen, the brightest value wins', () => {
  const w = 20;
  const c = new Float32Array(w * w);
  c[5 * w + 18] = 0.7;
  drawSegment(c, w, 2, 5, 15, 5, 2);
  const cases: [number, number, number][] = [
    // x, y, expected value (pen 2: 1.5 - the distance from the segment, clamped to [0, 1])
    [2, 5, 1], [8, 5, 1], [15, 5, 1], [8, 6, 0.5], [8, 4, 0.5], [8, 7, 0], [1, 5, 0.5], [16, 5, 0.5], [17, 5, 0], [18, 5, 0.7], [0, 5, 0],
  ];
  for (const [x, y, v] of cases) assert.ok(Math.abs(c[y * w + x] - v) < 1e-6, `(${x}, ${y}) = ${c[y * w + x]}, expected ${v}`);
});

test('continentalOne: the up-stroke runs from the top of the stem down to the left, a foot spans the bottom, and the 1 is fitted to MNIST\'s box again', () => {
  // an upright stem 3 px wide, 20 px tall, centred as an MNIST 1
  const stem = rect(13, 16, 4, 24);
  const cases: { name: string; s: { length: number; angleDeg: number; foot: number; kick?: { length: number; angleDeg: number } }; check(out: Float32Array): void }[] = [
    {
      name: 'no flag, no foot: the stem is unchanged',
      s: { length: 0, angleDeg: 30, foot: 0 },
      check: (out) => assert.deepEqual(inkBox(out), inkBox(stem)),
    },
    {
      name: 'a flag of half the height at 40 degrees: ink left of the stem in its upper half, none in its lower half',
      s: { length: 0.5, angleDeg: 40, foot: 0 },
      check: (out) => {
        const [x0, y0, x1, y1] = inkBox(out);
        assert.equal(y1 - y0 + 1, 20, 'height fitted to 20');
        assert.ok(x1 - x0 + 1 >= 8, `wider than the stem: ${x1 - x0 + 1}`);
        let upperLeft = 0;
        let lowerLeft = 0;
        for (let y = y0; y <= y1; y++) for (let x = x0; x < x1 - 3; x++) if (out[y * S + x] >= 0.3) (y < (y0 + y1) / 2 ? upperLeft++ : lowerLeft++);
        assert.ok(upperLeft >= 10, `up-stroke ink in the upper half: ${upperLeft}`);
        assert.equal(lowerLeft, 0);
        // centred by mass, as the MNIST recipe does
        const [cx, cy] = centroid(out);
        assert.ok(Math.abs(cx - 14) <= 1 && Math.abs(cy - 14) <= 1, `centre of mass ${cx}, ${cy}`);
      },
    },
    {
      name: 'a foot: ink on both sides of the stem in the bottom rows',
      s: { length: 0, angleDeg: 30, foot: 0.3 },
      check: (out) => {
        const [x0, , x1, y1] = inkBox(out);
        assert.ok(x1 - x0 + 1 >= 12, `foot width ${x1 - x0 + 1}`);
        let left = 0;
        let right = 0;
        for (let x = 0; x < S; x++) if (out[y1 * S + x] >= 0.3) (x < 14 ? left++ : right++);
        assert.ok(left >= 4 && right >= 4, `foot ${left} left, ${right} right`);
      },
    },
    {
      name: 'a kick: ink right of the stem in its lowest 30% only, rising to the right, none left of it',
      s: { length: 0, angleDeg: 30, foot: 0, kick: { length: 0.3, angleDeg: 30 } },
      check: (out) => {
        const [x0, y0, x1, y1] = inkBox(out);
        assert.ok(x1 - x0 + 1 >= 7, `kick width ${x1 - x0 + 1}`);
        // the stem's column: the ink-richest one
        let stemX = 0;
        let most = -1;
        for (let x = 0; x < S; x++) {
          let n = 0;
          for (let y = 0; y < S; y++) if (out[y * S + x] >= 0.3) n++;
          if (n > most) [most, stemX] = [n, x];
        }
        let rightLow = 0;
        let rightHigh = 0;
        for (let y = y0; y <= y1; y++) for (let x = stemX + 3; x <= x1; x++) if (out[y * S + x] >= 0.3) (y >= y0 + 0.7 * (y1 - y0) ? rightLow++ : rightHigh++);
        assert.ok(rightLow >= 5 && rightHigh <= 1, `kick ink low ${rightLow}, high ${rightHigh}`);
        assert.ok(x0 >= stemX - 2, `no ink left of the stem (box from ${x0}, stem at ${stemX})`);
        // its far end is higher than the stem's foot
        let endY = -1;
        for (let y = y0; y <= y1; y++) if (out[y * S + x1] >= 0.3) { endY = y; break; }
        assert.ok(endY >= 0 && endY < y1, `far end at row ${endY}, bottom ${y1}`);
      },
    },
  ];
  for (const c of cases) {
    const out = continentalOne(stem, c.s);
    assert.equal(out.length, S * S);
    try {
      c.check(out);
    } catch (e) {
      throw new Error(`${c.name}: ${(e as Error).message}`);
    }
  }
  // a 1 leaning right far: the up-stroke is never flatter than 50 degrees from the vertical
  // (flatter it is a 7's bar): no ink in the top rows far left of the top of the stem
  const lean = new Float32Array(S * S);
  for (let y = 4; y < 24; y++) for (let dx = 0; dx < 3; dx++) lean[y * S + Math.round(8 + (23 - y) * 0.5) + dx] = 1;
  const out = continentalOne(lean, { length: 0.6, angleDeg: 45, foot: 0 });
  const [x0, y0] = inkBox(out);
  let topRowsFarLeft = 0;
  for (let y = y0; y < y0 + 3; y++) for (let x = x0; x < x0 + 4; x++) if (out[y * S + x] >= 0.3) topRowsFarLeft++;
  assert.equal(topRowsFarLeft, 0, 'no 7-like bar along the top');
  // no ink: unchanged
  const empty = new Float32Array(S * S);
  assert.equal(continentalOne(empty, { length: 0.5, angleDeg: 30, foot: 0.3 }), empty);
});

test('style: only images labelled 1 get it, a users run draws exactly as without the part, and labels are needed', () => {
  const set = loadMnist('test');
  const n = 32;
  const base = Float32Array.from(set.images.pixels.subarray(0, n * 784), (v) => v / 255);
  const labels = set.labels!.subarray(0, n);
  const run = (spec: string, withLabels: boolean) => {
    const buf = base.slice();
    augmentBatch(buf, n, { ...parseAugment(spec)!, p: 1, style: 1, parts: parseAugment(spec)!.parts }, mulberry32(3), undefined, withLabels ? (b) => labels[b] : undefined);
    return buf;
  };
  const styled = run('style', true);
  const ones = [...labels].map((l, b) => (l === 1 ? b : -1)).filter((b) => b >= 0);
  assert.ok(ones.length >= 3, 'some 1s in the batch');
  for (let b = 0; b < n; b++) {
    const changed = styled.subarray(b * 784, (b + 1) * 784).some((v, k) => v !== base[b * 784 + k]);
    assert.equal(changed, labels[b] === 1, `image ${b} (label ${labels[b]})`);
  }
  // without labels the part does nothing
  assert.deepEqual(run('style', false), base);
  // a recipe without style draws the same whatever the labels
  assert.deepEqual(run('users', true), run('users', false));
});

test('fillStretch: the stretch that makes the ink box as wide as asked, never below 1 nor above the cap', () => {
  const cases: [string, Float32Array, number, number, number][] = [
    // name, image, aspect, max, expected
    ['a 4x20 bar to 0.8', rect(12, 16, 4, 24), 0.8, 10, 4],
    ['capped at 3', rect(12, 16, 4, 24), 0.8, 3, 3],
    ['already wide: 1', rect(4, 24, 10, 18), 1, 3, 1],
    ['square to 1: 1', rect(4, 24, 4, 24), 1, 3, 1],
    ['10x20 to 1', rect(9, 19, 4, 24), 1, 3, 2],
    ['no ink: 1', new Float32Array(S * S), 1, 3, 1],
  ];
  for (const [name, img, aspect, max, want] of cases) assert.ok(Math.abs(fillStretch(img, aspect, max) - want) < 1e-9, `${name}: ${fillStretch(img, aspect, max)}`);
});

test('erodeX: a bar loses r columns each side, rows are untouched, r = 0 is the identity', () => {
  const bar = rect(8, 18, 5, 9);
  const cases: [number, [number, number] | null][] = [
    [0, [8, 17]],
    [1, [9, 16]],
    [3, [11, 14]],
    [5, null],
  ];
  for (const [r, cols] of cases) {
    const out = erodeX(bar, r);
    const [x0, y0, x1, y1] = inkBox(out);
    if (!cols) assert.equal(x1, -1, `r ${r}: all gone`);
    else {
      assert.deepEqual([x0, x1], cols, `r ${r}`);
      assert.deepEqual([y0, y1], [5, 8], `r ${r}: rows`);
    }
  }
  // ink at the frame's edge counts the outside as paper
  assert.equal(erodeX(rect(0, 4, 0, 28), 1)[10 * S + 0], 0);
});

test('fill: a narrow digit comes out wider, with a pen about as wide as before', () => {
  const stem = rect(13, 15, 4, 24);
  const out = new Float32Array(S * S);
  applyAugment(stem, { warp: { ...IDENTITY_WARP }, field: null, stroke: null, fragment: null, fill: { aspect: 0.8, max: 3 } }, out);
  // a vertical bar stretched 3x is 6 wide, thinned back by 2 columns each side
  const [x0, , x1] = inkBox(out);
  assert.ok(x1 - x0 + 1 >= 2 && x1 - x0 + 1 <= 4, `width ${x1 - x0 + 1}`);
  // a slanted stroke becomes a flatter diagonal: its box at least twice as wide
  const slant = new Float32Array(S * S);
  for (let y = 4; y < 24; y++) for (let dx = 0; dx < 2; dx++) slant[y * S + Math.round(16 - (y - 4) * 0.2) + dx] = 1;
  const before = inkBox(slant);
  applyAugment(slant, { warp: { ...IDENTITY_WARP }, field: null, stroke: null, fragment: null, fill: { aspect: 0.8, max: 3 } }, out);
  const after = inkBox(out);
  assert.ok(after[2] - after[0] >= 2 * (before[2] - before[0]), `${before} -> ${after}`);
  assert.deepEqual([after[1], after[3]], [before[1], before[3]], 'height kept');
});

test('lowResScan: 1-bit at the reduced side, scaled back; at side 28 it is a plain threshold', () => {
  const bar = rect(12, 16, 4, 24); // a 4 px stroke
  const faint = new Float32Array(S * S);
  for (let y = 4; y < 24; y++) faint[y * S + 14] = 0.6; // a 1 px stroke of light ink
  const blank = new Float32Array(S * S);
  const cases: [string, Float32Array, number, number, (out: Float32Array) => void][] = [
    ['blank stays blank', blank, 14, 0.3, (o) => assert.equal(sum(o), 0)],
    ['full frame stays full', new Float32Array(S * S).fill(1), 17, 0.5, (o) => assert.ok(o.every((v) => Math.abs(v - 1) < 1e-6))],
    ['side 28: the threshold alone', faint, 28, 0.5, (o) => assert.deepEqual(o, Float32Array.from(faint, (v) => (v >= 0.5 ? 1 : 0)))],
    ['side 28, threshold above the ink: gone', faint, 28, 0.7, (o) => assert.equal(sum(o), 0)],
    // a thin stroke covers under a coarse pixel's threshold at 14 px: a 1-bit scan loses it
    ['a faint 1 px stroke vanishes at 14 px (half a coarse pixel at 0.6: 0.3)', faint, 14, 0.35, (o) => assert.equal(sum(o), 0)],
    ['a 4 px stroke keeps its place and size', bar, 14, 0.4, (o) => {
      const [cx, cy] = centroid(o);
      assert.ok(Math.abs(cx - 13.5) < 0.6 && Math.abs(cy - 13.5) < 0.6, `centroid ${cx}, ${cy}`);
      const [ew, eh] = extent(o);
      assert.ok(ew >= 3 && ew <= 6 && eh >= 18 && eh <= 22, `extent ${ew} x ${eh}`);
      assert.ok(o.every((v) => v >= 0 && v <= 1));
    }],
  ];
  for (const [name, img, side, t, check] of cases) {
    const before = img.slice();
    const out = lowResScan(img, side, t);
    assert.equal(out.length, S * S, name);
    assert.deepEqual(img, before, `${name}: input untouched`);
    check(out);
  }
  // its staircase: at 14 px each coarse pixel spans two fine ones, so a 1-bit edge has at most one grey pixel between ink and paper
  const diag = new Float32Array(S * S);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) if (Math.abs(x - y) <= 2) diag[y * S + x] = 1;
  const o = lowResScan(diag, 14, 0.5);
  const grey = o.filter((v) => v > 0.05 && v < 0.95).length;
  const ink = o.filter((v) => v >= 0.95).length;
  assert.ok(ink > 30 && grey > 0, `ink ${ink}, grey ${grey}`);
});

test('kick: only continental 1s get it, in range, and a users,style,lowres run draws exactly as without it', () => {
  assert.equal(augmentSpec(parseAugment('users,style,lowres,kick')), 'users,style,lowres,kick');
  const r = { ...parseAugment('users,style,lowres,kick')!, style: 1, kick: 1, kickFill: 1 };
  const rand = mulberry32(4);
  for (let i = 0; i < 100; i++) {
    const label = i % 10;
    const d = drawAugment(r, rand, 10, label);
    if (label !== 1) {
      assert.ok(!d.style && !d.fill, `label ${label}: no continental 1, no kick, no stretch`);
      continue;
    }
    assert.ok(d.style?.kick, 'a continental 1 gets the kick with probability 1');
    assert.ok(d.style.kick.length >= r.kickLength[0] && d.style.kick.length <= r.kickLength[1]);
    assert.ok(d.style.kick.angleDeg >= r.kickAngle[0] && d.style.kick.angleDeg <= r.kickAngle[1]);
    assert.ok(d.fill && d.fill.aspect >= r.fillAspect[0] && d.fill.aspect <= r.fillAspect[1], 'stretched towards a square box');
  }
  // the part draws last: every other part's draw is what it was without it
  for (const label of [1, 7]) {
    const a = drawAugment({ ...parseAugment('users,style,lowres')!, style: 1 }, mulberry32(9), 10, label);
    const b = drawAugment({ ...parseAugment('users,style,lowres,kick')!, style: 1, kickFill: 0 }, mulberry32(9), 10, label);
    if (b.style) delete b.style.kick;
    assert.deepEqual(b, a, `label ${label}`);
  }
});

test('lowres: drawn in range only when named; a users,style run draws exactly as without it', () => {
  assert.deepEqual(parseAugment('users,lowres')!.parts, [...USERS_PARTS, 'lowres']);
  assert.equal(augmentSpec(parseAugment('users,style,lowres')), 'users,style,lowres');
  const r = { ...parseAugment('users,style,lowres')!, lowres: 1 };
  const rand = mulberry32(5);
  for (let i = 0; i < 100; i++) {
    const d = drawAugment(r, rand, 10, i % 10);
    assert.ok(d.lowres, 'drawn with probability 1');
    assert.ok(Number.isInteger(d.lowres.side) && d.lowres.side >= r.lowresSide[0] && d.lowres.side <= r.lowresSide[1], `side ${d.lowres.side}`);
    assert.ok(d.lowres.threshold >= r.lowresThreshold[0] && d.lowres.threshold <= r.lowresThreshold[1]);
  }
  // the part draws last: every other part's draw is what it was without it
  const a = drawAugment(parseAugment('users,style')!, mulberry32(9), 10, 1);
  const b = drawAugment({ ...parseAugment('users,style,lowres')!, lowres: 1 }, mulberry32(9), 10, 1);
  const { lowres, ...rest } = b;
  assert.ok(lowres);
  assert.deepEqual(rest, a);
  // applied, a digit comes out 1-bit at the coarse grid (few grey levels) and in place
  const set = loadMnist('test', 1).images;
  const img = Float32Array.from(set.pixels.subarray(0, 784), (v) => v / 255);
  const out = applyAugment(img, { warp: { ...IDENTITY_WARP }, field: null, stroke: null, fragment: null, lowres: { side: 16, threshold: 0.4 } }, new Float32Array(S * S));
  assert.deepEqual(out, lowResScan(img, 16, 0.4));
  const [c0x, c0y] = centroid(img);
  const [c1x, c1y] = centroid(out);
  assert.ok(Math.hypot(c0x - c1x, c0y - c1y) < 1, 'ink stays in place');
});
