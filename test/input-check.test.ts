/**
 * The input check on whole pictures (issue #21), table-style on pictures made here in memory:
 * digits that fill the frame, coloured ink on coloured grainy paper, one-pixel pens on large
 * canvases are taken (and their ink reaches the 28x28 image); blank paper, grainy paper with no
 * stroke, wood grain and noise are refused, each with the check that refused it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxBlur, pictureToInk } from '../src/image/pipeline';
import { checkPicture } from '../src/gate/sanity';
import { preprocessToMnist } from '../src/image/load';
import { makeRng } from '../src/data/synth/random';
import { drawSegments, roundZeroSegments, Segment } from './helpers/user-pictures';

type Rgb = [number, number, number];

/** RGB bytes: paper of colour `paper` with grain of relative size `grain` (blurred, seeded), ink of colour `ink` where `cover` > 0. */
function picture(W: number, H: number, paper: Rgb, grain: number, cover: Float32Array | null, ink: Rgb, seed: number): Uint8Array {
  const r = makeRng(seed);
  const noise = boxBlur(Float32Array.from({ length: W * H }, () => r.normal()), W, H, 1);
  const out = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    const v = cover ? cover[i] : 0;
    for (let c = 0; c < 3; c++) {
      const p = paper[c] * (1 + 3 * grain * noise[i]);
      out[i * 3 + c] = Math.max(0, Math.min(255, Math.round(255 * (p * (1 - v) + ink[c] * v))));
    }
  }
  return out;
}

/** A 7 as two strokes, in 28 px units. */
const SEVEN: Segment[] = [
  [6, 5, 21, 5],
  [21, 5, 11, 24],
];

interface Case {
  name: string;
  W: number;
  H: number;
  data: () => Uint8Array;
  /** null: the picture must be taken; else the reason it must be refused */
  refused: null | 'blank' | 'noise-like';
}

const YELLOW: Rgb = [0.93, 0.88, 0.45];
const GREEN: Rgb = [0.78, 0.88, 0.62];
const TEAL: Rgb = [0.06, 0.26, 0.28];
const BLUE: Rgb = [0.12, 0.2, 0.55];

const cases: Case[] = [
  {
    name: 'a zero filling 90% of a tight crop on grainy grey paper',
    W: 120,
    H: 150,
    data: () => picture(120, 150, [0.8, 0.8, 0.78], 0.04, drawSegments(120, 150, roundZeroSegments(makeRng(1), 0.75), { x: 10, y: 8, height: 134, angle: 0, width: 14 }), [0.08, 0.08, 0.2], 11),
    refused: null,
  },
  {
    name: 'a seven filling 95% of the frame, its strokes along the frame',
    W: 110,
    H: 130,
    data: () => picture(110, 130, [0.9, 0.9, 0.88], 0.02, drawSegments(110, 130, SEVEN, { x: 4, y: 5, height: 120, angle: 0, width: 13 }), [0.1, 0.1, 0.1], 12),
    refused: null,
  },
  {
    name: 'teal ink on yellow grainy paper, the ink close to the paper in brightness',
    W: 150,
    H: 170,
    data: () => picture(150, 170, YELLOW, 0.06, drawSegments(150, 170, SEVEN, { x: 30, y: 20, height: 120, angle: 0.05, width: 10 }), TEAL.map((v) => v * 2.8) as Rgb, 13),
    refused: null,
  },
  {
    name: 'blue ink on green grainy paper',
    W: 140,
    H: 160,
    data: () => picture(140, 160, GREEN, 0.06, drawSegments(140, 160, roundZeroSegments(makeRng(2), 0.8), { x: 30, y: 20, height: 115, angle: 0, width: 9 }), BLUE.map((v) => v * 2) as Rgb, 14),
    refused: null,
  },
  {
    name: 'a one-pixel pen on a 600 px white canvas',
    W: 600,
    H: 600,
    data: () => picture(600, 600, [1, 1, 1], 0, drawSegments(600, 600, SEVEN, { x: 200, y: 150, height: 300, angle: 0, width: 1 }), [0, 0, 0], 15),
    refused: null,
  },
  {
    name: 'a small one-pixel drawing in the corner of a 500 px canvas',
    W: 500,
    H: 500,
    data: () => picture(500, 500, [1, 1, 1], 0, drawSegments(500, 500, SEVEN, { x: 440, y: 430, height: 55, angle: 0, width: 1.2 }), [0, 0, 0], 16),
    refused: null,
  },
  { name: 'blank white paper', W: 300, H: 240, data: () => picture(300, 240, [0.95, 0.95, 0.94], 0.004, null, [0, 0, 0], 21), refused: 'blank' },
  { name: 'grainy yellow paper with no stroke', W: 150, H: 170, data: () => picture(150, 170, YELLOW, 0.06, null, [0, 0, 0], 22), refused: 'blank' },
  { name: 'grainy green paper with no stroke', W: 200, H: 160, data: () => picture(200, 160, GREEN, 0.08, null, [0, 0, 0], 23), refused: 'blank' },
  {
    name: 'wood grain: strong bands across the whole picture, no stroke',
    W: 240,
    H: 200,
    data: () => {
      const out = new Uint8Array(240 * 200 * 3);
      for (let y = 0; y < 200; y++) for (let x = 0; x < 240; x++) {
        const t = 0.2 * Math.sin(x * 0.2 + 3 * Math.sin(y * 0.06)) + 0.1 * Math.sin(y * 0.34 + x * 0.05);
        for (let c = 0; c < 3; c++) out[(y * 240 + x) * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, [0.6, 0.45, 0.3][c] + t * [1, 0.8, 0.6][c])));
      }
      return out;
    },
    refused: 'noise-like',
  },
  {
    name: 'uniform colour noise',
    W: 200,
    H: 200,
    data: () => {
      const r = makeRng(31);
      return Uint8Array.from({ length: 200 * 200 * 3 }, () => r.int(256));
    },
    refused: 'noise-like',
  },
];

for (const c of cases) {
  test(`input check: ${c.name} is ${c.refused ? `refused (${c.refused})` : 'taken'}`, () => {
    const { ink, width, height, info } = pictureToInk(c.data(), c.W, c.H, 3);
    const verdict = checkPicture(info);
    const why = verdict ? `${verdict.reason}: ${verdict.detail}` : 'taken';
    if (c.refused === null) {
      assert.equal(verdict, null, `${c.name}: ${why} (${JSON.stringify(info)})`);
      const mnist = preprocessToMnist(ink, width, height, { threshold: 0.02 });
      assert.equal(mnist.empty, false);
      // the character reaches the 28x28 image whole: its longer side is MNIST's 20 px box
      assert.equal(Math.max(mnist.fitted.width, mnist.fitted.height), 20);
    } else {
      assert.ok(verdict, `${c.name} was taken (${JSON.stringify(info)})`);
      assert.ok(['blank', 'noise-like'].includes(verdict.reason), why);
      assert.ok(verdict.reasonDetail.message.length > 0);
    }
  });
}

test('input check: teal on yellow is read from the colour difference, and a one-pixel pen is thickened', () => {
  const teal = cases[2];
  assert.equal(pictureToInk(teal.data(), teal.W, teal.H, 3).info.channel, 'chroma');
  const pen = cases[4];
  const r = pictureToInk(pen.data(), pen.W, pen.H, 3);
  assert.equal(r.info.thickened, true);
  // worked on at the working size (100 px and a border for the pen), not the canvas's
  assert.ok(Math.max(r.width, r.height) <= 120);
});
