/** Test-time views (src/uq/views.ts): the tokens, what each view does to a digit, how passes are dealt out, and sampling through views. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/engine/backend';
import { loadPredictor, Predictor, samplesPerImage, withViews } from '../src/uq/predictor';
import { applyView, parseView, parseViews, sampleThroughViews, viewPasses, viewSeed, viewsSpec } from '../src/uq/views';
import { sampleAdaptive } from '../src/uq/adaptive';
import { deriveSeed } from '../src/random';
import { summariseSamples } from '../src/uq/features';
import { loadMnist } from '../src/data/mnist';
import { ExitCode, ModelError, UsageError } from '../src/errors';
import { centerOfMass, inkBBox } from '../src/image/load';
import { gateSamplingWarning, gateSummary, readGate } from '../src/gate/gate-file';
import { runCli } from './helpers/cli';

const SIDE = 28;

test('parseView: each token, its warp and its canonical name', () => {
  const rows: [string, string, Partial<{ rotate: number; shear: number; scaleX: number; scaleY: number }>, string][] = [
    ['id', 'id', {}, 'same'],
    ['r+8', 'r+8', { rotate: (8 * Math.PI) / 180 }, 'same'],
    ['r8', 'r+8', { rotate: (8 * Math.PI) / 180 }, 'same'],
    ['r-12.5', 'r-12.5', { rotate: (-12.5 * Math.PI) / 180 }, 'same'],
    ['sx0.85', 'sx0.85', { scaleX: 0.85, scaleY: 1 }, 'same'],
    ['s1.10', 's1.1', { scaleX: 1.1, scaleY: 1.1 }, 'same'],
    ['sh-0.2', 'sh-0.2', { shear: -0.2 }, 'same'],
    [' thick ', 'thick', {}, 'thicker'],
    ['thin', 'thin', {}, 'thinner'],
  ];
  for (const [token, name, warp, pen] of rows) {
    const v = parseView(token);
    assert.equal(v.name, name, token);
    assert.equal(v.pen, pen, token);
    for (const [k, want] of Object.entries(warp)) assert.ok(Math.abs(v.warp[k as keyof typeof v.warp] - want) < 1e-12, `${token}: ${k}`);
  }
  for (const bad of ['', 'x', 'r', 'r+90', 'sx0', 'sx3', 'sxabc', 's', 'sh2', 'r8deg', 'idd']) {
    assert.throws(() => parseView(bad), UsageError, bad);
  }
});

test('parseViews: a list in canonical form; none and an empty list mean no views; a view twice is an error', () => {
  assert.equal(viewsSpec(parseViews('id, r8,r-8 ,sx0.850')!), 'id,r+8,r-8,sx0.85');
  assert.equal(parseViews('none'), null);
  assert.equal(parseViews(''), null);
  assert.throws(() => parseViews('id,r+8,r8'), /given twice/);
  assert.throws(() => parseViews('id,r0'), /'id' and 'r\+0' are the same view/);
  assert.throws(() => parseViews('s1.1,sx1.1,sx1,s1'), /'sx1' and 's1' are the same view/);
  assert.equal(parseViews('s1.1,sx1.1,sx1')!.length, 3);
  assert.throws(() => parseViews('id,,r8'), UsageError);
});

/** Ink moments of a 28x28 image: total, centre, horizontal extent (ink > 0.5), and the slope dx/dy of its main axis. */
function moments(img: Float32Array): { ink: number; cx: number; cy: number; width: number; slope: number } {
  const ink = img.reduce((a, b) => a + b, 0);
  const { x: cx, y: cy } = centerOfMass(img, SIDE, SIDE)!;
  const box = inkBBox(img, SIDE, SIDE, 0.5)!;
  let cxy = 0;
  let cyy = 0;
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const v = img[y * SIDE + x];
      cxy += v * (x - cx) * (y - cy);
      cyy += v * (y - cy) * (y - cy);
    }
  }
  return { ink, cx, cy, width: box.x1 - box.x0 + 1, slope: cxy / cyy };
}

/** A filled rectangle (ink 1) from (x0, y0) to (x1, y1) inclusive. */
function rect(x0: number, y0: number, x1: number, y1: number): Float32Array {
  const img = new Float32Array(SIDE * SIDE);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) img[y * SIDE + x] = 1;
  return img;
}

test('applyView: what each view does to a bar and a box', () => {
  const bar = rect(13, 4, 14, 23); // a vertical stroke through the centre
  const wide = rect(12, 4, 15, 23); // 4 px wide, so a thinner pen leaves its middle
  const box = rect(4, 6, 23, 21); // 20 px wide
  const id = applyView(box, parseView('id'));
  assert.deepEqual(Array.from(id), Array.from(box), 'id leaves the picture as it is');
  const rows: [string, Float32Array, (m: ReturnType<typeof moments>, before: ReturnType<typeof moments>) => boolean][] = [
    // clockwise on screen: the top of the stroke goes right, so x falls as y grows
    ['r+8', bar, (m) => Math.abs(m.slope + Math.tan((8 * Math.PI) / 180)) < 0.02],
    ['r-8', bar, (m) => Math.abs(m.slope - Math.tan((8 * Math.PI) / 180)) < 0.02],
    ['sh0.2', bar, (m) => Math.abs(m.slope - 0.2) < 0.02],
    ['sx0.85', box, (m, b) => Math.abs(m.width - 0.85 * b.width) <= 1 && Math.abs(m.cx - b.cx) < 0.1],
    ['sx1.15', box, (m, b) => Math.abs(m.width - 1.15 * b.width) <= 1 && Math.abs(m.cx - b.cx) < 0.1],
    ['s0.9', box, (m, b) => Math.abs(m.ink - 0.81 * b.ink) < 0.03 * b.ink],
    ['thick', bar, (m, b) => m.ink > 1.5 * b.ink && Math.abs(m.cx - b.cx) < 0.01],
    ['thin', wide, (m, b) => m.ink < 0.8 * b.ink && m.ink > 0.5 * b.ink],
  ];
  for (const [token, img, ok] of rows) {
    const before = moments(img);
    const after = moments(applyView(img, parseView(token)));
    assert.ok(ok(after, before), `${token}: ${JSON.stringify(after)} from ${JSON.stringify(before)}`);
    if (token !== 'thick' && token !== 'thin') assert.ok(Math.hypot(after.cx - before.cx, after.cy - before.cy) < 0.15, `${token} keeps the centre`);
  }
});

test('viewPasses: pass p goes to view p mod J, and rounds continue each view', () => {
  const table: [number, number, number, number[]][] = [
    // first, samples, views, passes per view
    [0, 25, 5, [5, 5, 5, 5, 5]],
    [0, 7, 3, [3, 2, 2]],
    [0, 2, 5, [1, 1, 0, 0, 0]],
    [0, 1, 1, [1]],
  ];
  for (const [first, samples, views, want] of table) {
    assert.deepEqual(Array.from({ length: views }, (_, v) => viewPasses(first, samples, v, views).samples), want, `${first}+${samples} over ${views}`);
  }
  // rounds 0-5, 5-10, 10-20, 20-25 give each view the same passes as one run of 25
  for (const views of [1, 3, 5, 7]) {
    for (let v = 0; v < views; v++) {
      const once = viewPasses(0, 25, v, views);
      let next = 0;
      for (const [a, b] of [[0, 5], [5, 10], [10, 20], [20, 25]]) {
        const r = viewPasses(a, b - a, v, views);
        if (r.samples > 0) assert.equal(r.first, next, `view ${v} of ${views}, round ${a}-${b}`);
        next += r.samples;
      }
      assert.equal(next, once.samples, `view ${v} of ${views}`);
    }
  }
});

let basic: Predictor;
let basicTfjs: Predictor;
before(async () => {
  await initBackend('wasm');
  basic = await loadPredictor('models/basic', { views: 'none' });
  basicTfjs = await loadPredictor('models/basic', { engine: 'tfjs', views: 'none' });
});

function digits(n: number) {
  const set = loadMnist('test', n).images;
  return { count: n, pixels: set.pixels.subarray(0, n * 784), rows: 28, cols: 28 };
}

test('sampling through the one view id gives the samples of the predictor underneath', async () => {
  const input = digits(12);
  const plain = await basic.sample(input, { samples: 10, seed: 3, keepSamples: true });
  const viewed = await sampleThroughViews(basic.sample, parseViews('id')!)(input, { samples: 10, seed: 3, keepSamples: true });
  assert.deepEqual(Array.from(viewed.samples!), Array.from(plain.samples!));
  assert.deepEqual(viewed.summaries.map((s) => [s.maxMean, s.energy]), plain.summaries.map((s) => [s.maxMean, s.energy]));
});

test('views: all passes summarised together, rounds continue one run, ort and tfjs agree, and an image does not depend on its batch', async () => {
  const input = digits(16);
  const views = parseViews('id,r+8,r-8,sx0.85,thick')!;
  const viewed = sampleThroughViews(basic.sample, views);
  const once = await viewed(input, { samples: 12, seed: 5, keepSamples: true });
  assert.equal(once.samples!.length, 16 * 12 * 10);
  assert.equal(once.energies!.length, 16 * 12);
  for (let i = 0; i < 16; i++) {
    const own = once.samples!.subarray(i * 120, (i + 1) * 120);
    const s = summariseSamples(own, 12, 10);
    assert.equal(once.summaries[i].maxMean, s.maxMean);
    const e = once.energies!.subarray(i * 12, (i + 1) * 12).reduce((a, b) => a + b, 0) / 12;
    assert.ok(Math.abs(once.summaries[i].energy! - e) < 1e-4, 'energy: the mean over every pass');
  }
  // the views change what is seen: the passes differ from twelve passes of the picture as it is
  const plain = await basic.sample(input, { samples: 12, seed: 5 });
  assert.ok(once.summaries.some((s, i) => Math.abs(s.meanStd - plain.summaries[i].meanStd) > 1e-4));
  // in rounds of 5 and 7 passes: the same samples (pooled) as one run of 12
  const a = await viewed(input, { samples: 5, seed: 5, keepSamples: true });
  const b = await viewed(input, { samples: 7, seed: 5, firstSample: 5, keepSamples: true });
  for (let i = 0; i < 16; i++) {
    const pooled = new Float32Array(120);
    pooled.set(a.samples!.subarray(i * 50, (i + 1) * 50));
    pooled.set(b.samples!.subarray(i * 70, (i + 1) * 70), 50);
    const sorted = (x: Float32Array) => Array.from({ length: x.length / 10 }, (_, s) => Array.from(x.subarray(s * 10, s * 10 + 10)).join()).sort();
    assert.deepEqual(sorted(pooled), sorted(once.samples!.subarray(i * 120, (i + 1) * 120)), `image ${i}`);
  }
  // the same features on tfjs
  if (basic.engine === 'ort') {
    const t = await sampleThroughViews(basicTfjs.sample, views)(input, { samples: 12, seed: 5 });
    once.summaries.forEach((s, i) => assert.ok(Math.abs(s.meanStd - t.summaries[i].meanStd) < 1e-4 && s.predicted === t.summaries[i].predicted, `image ${i}`));
  }
  // one image alone (mask key 7 given to both) gets what it got in the batch
  const one = await viewed({ count: 1, pixels: input.pixels.subarray(7 * 784, 8 * 784), keys: [7] }, { samples: 12, seed: 5 });
  assert.equal(one.summaries[0].maxMean, once.summaries[7].maxMean);
});

test('loadPredictor samples through the views in gate.json; calibrate --views writes them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'udq-views-'));
  try {
    cpSync('models/basic', dir, { recursive: true });
    const gate = JSON.parse(readFileSync(join(dir, 'gate.json'), 'utf8'));
    writeFileSync(join(dir, 'gate.json'), JSON.stringify({ ...gate, views: 'id,r8,sx0.85' }));
    const p = await loadPredictor(dir);
    assert.equal(p.views, 'id,r+8,sx0.85');
    const input = digits(4);
    const got = await p.sample(input, { samples: 6, seed: 1 });
    const want = await withViews(basic, 'id,r+8,sx0.85').sample(input, { samples: 6, seed: 1 });
    assert.deepEqual(got.summaries.map((s) => s.meanStd), want.summaries.map((s) => s.meanStd));
    const none = await loadPredictor(dir, { views: 'none' });
    assert.equal(none.views, undefined);
    p.dispose();
    writeFileSync(join(dir, 'gate.json'), JSON.stringify({ ...gate, views: 'id,r90' }));
    await assert.rejects(loadPredictor(dir), (e: Error) => e instanceof ModelError && /gate\.json: views: view 'r90'/.test(e.message));
    writeFileSync(join(dir, 'gate.json'), JSON.stringify({ ...gate, views: 7 }));
    await assert.rejects(loadPredictor(dir), (e: Error) => e instanceof ModelError && /gate\.json: views: not a list/.test(e.message));
    // a run that samples otherwise than the gate was fitted is warned about
    writeFileSync(join(dir, 'gate.json'), JSON.stringify({ ...gate, views: 'id,r8' }));
    assert.match(gateSamplingWarning(readGate(dir)!, none) ?? '', /test-time views id,r8 but this run samples through none/);
    assert.equal(gateSamplingWarning(readGate(dir)!, withViews(none, 'id,r8')), null);
    // predict's JSON and the server's /api/info name the views, and only when there are some
    assert.equal(gateSummary(readGate(dir))?.views, 'id,r8');
    assert.equal('views' in gateSummary(gate)!, false);
    none.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('calibrate --views fits the gate through the views and records them; calibrating again without --views says the views are dropped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'udq-views-cal-'));
  try {
    cpSync('models/basic', dir, { recursive: true });
    const args = ['calibrate', '--model', dir, '--adversary', 'synth-letters', '--samples', '4', '--limit', '100', '--threshold-digits', '100', '--backend', 'wasm'];
    const bad = await runCli([...args, '--views', 'id,r+90']);
    assert.equal(bad.code, ExitCode.usage, bad.stderr);
    assert.match(bad.stderr, /view 'r\+90'/);
    const r = await runCli([...args, '--views', 'id,r8,thick']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /test-time views id,r\+8,thick/);
    const gate = JSON.parse(readFileSync(join(dir, 'gate.json'), 'utf8'));
    assert.equal(gate.views, 'id,r+8,thick');
    const p = await loadPredictor(dir);
    assert.equal(p.views, 'id,r+8,thick');
    p.dispose();
    // without --views the gate is fitted on the pictures as they are, and says nothing of views
    const plain = await runCli(args);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stderr, /previous gate sampled through the test-time views id,r\+8,thick/);
    assert.equal(JSON.parse(readFileSync(join(dir, 'gate.json'), 'utf8')).views, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('each view samples its own picture with its own seed: view v > 0 draws the masks of deriveSeed(seed, view, v)', async () => {
  const input = digits(6);
  assert.equal(viewSeed(9, 0), 9);
  assert.equal(viewSeed(9, 2), deriveSeed(9, 'view', 2));
  // two passes: pass 0 in view 0 (seed 9), pass 1 in view 1 (its pass 0, seed viewSeed(9, 1))
  const nearly = await sampleThroughViews(basic.sample, parseViews('id,r+0.0001')!)(input, { samples: 2, seed: 9, keepSamples: true });
  const turned = await sampleThroughViews(basic.sample, parseViews('id,r+8')!)(input, { samples: 2, seed: 9, keepSamples: true });
  const own = await basic.sample(input, { samples: 1, seed: viewSeed(9, 1), keepSamples: true });
  const plain0 = await basic.sample(input, { samples: 1, seed: 9, keepSamples: true });
  let turnedApart = 0;
  for (let i = 0; i < 6; i++) {
    const pass = (r: typeof nearly, s: number) => Array.from(r.samples!.subarray((i * 2 + s) * 10, (i * 2 + s + 1) * 10));
    const gap = (a: number[], b: number[]) => Math.max(...a.map((v, j) => Math.abs(v - b[j])));
    assert.ok(gap(pass(nearly, 0), Array.from(plain0.samples!.subarray(i * 10, i * 10 + 10))) < 1e-6, `image ${i}: view 0 is the picture with the caller's seed`);
    assert.ok(gap(pass(nearly, 1), Array.from(own.samples!.subarray(i * 10, i * 10 + 10))) < 1e-3, `image ${i}: a view that barely turns the picture draws the masks of viewSeed(9, 1)`);
    turnedApart = Math.max(turnedApart, gap(pass(turned, 1), pass(nearly, 1)));
    assert.deepEqual(pass(turned, 0), pass(nearly, 0));
  }
  assert.ok(turnedApart > 0.01, `the turned picture gives other probabilities (largest difference ${turnedApart})`);
});

test('kept passes through views: every pass keeps its own energy and max logit beside its probabilities', async () => {
  const input = digits(8);
  const r = await sampleThroughViews(basic.sample, parseViews('id,r-8,sx1.15,thin')!)(input, { samples: 11, seed: 2, keepSamples: true });
  let worst = 0;
  for (let j = 0; j < 8 * 11; j++) {
    // the largest softmax probability is exp(max logit - logsumexp) = exp(maxLogit + energy)
    const top = Math.max(...Array.from(r.samples!.subarray(j * 10, j * 10 + 10)));
    worst = Math.max(worst, Math.abs(top - Math.exp(r.maxLogits![j] + r.energies![j])));
  }
  assert.ok(worst < 1e-4, `largest mismatch ${worst}`);
});

test('the shipped deep ensemble through views: K x N samples an image, adaptive rounds run to N equal the fixed call, disagreement sees the picture as it is', async () => {
  const ensemble = await loadPredictor('models/deep', { views: 'none' });
  const viewed = withViews(ensemble, 'id,r+8,sx0.85');
  const input = { ...digits(5), keys: new Uint32Array(5) };
  const fixed = await viewed.sample(input, { samples: 25, seed: 0, keepSamples: true });
  assert.equal(fixed.samples!.length, 5 * samplesPerImage(viewed, 25) * 10);
  const k = ensemble.members!;
  assert.ok(k >= 2, `models/deep is an ensemble: ${k} members`);
  assert.equal(samplesPerImage(viewed, 25), 25 * k);
  // nothing settles at z = 1e9: every picture runs its rounds (in each member) to the end, 25 passes a member
  const adaptive = await sampleAdaptive(viewed, input, { seed: 0, samples: 25, z: 1e9, gate: null });
  assert.deepEqual(adaptive.passes, new Array(5).fill(25 * k));
  adaptive.summaries.forEach((s, i) => {
    assert.ok(Math.abs(s.maxMean - fixed.summaries[i].maxMean) < 1e-5, `image ${i} mean`);
    assert.ok(Math.abs(s.meanStd - fixed.summaries[i].meanStd) < 1e-5, `image ${i} spread`);
    assert.ok(Math.abs(s.energy! - fixed.summaries[i].energy!) < 1e-4, `image ${i} energy`);
  });
  const dis = await viewed.sample(input, { samples: 25, seed: 0, ensembleMode: 'disagreement', keepSamples: true });
  const plain = await ensemble.sample(input, { samples: 25, seed: 0, ensembleMode: 'disagreement', keepSamples: true });
  assert.deepEqual(Array.from(dis.samples!), Array.from(plain.samples!));
  ensemble.dispose();
});
