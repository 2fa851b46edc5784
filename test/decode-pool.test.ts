/** The picture pipeline on worker threads (issue #20): byte-identical to the in-process pipeline, in input order, errors as in process. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecodePool } from '../src/image/decode-pool';
import { loadImageAsMnist } from '../src/image/load';
import { loadMnist } from '../src/data/mnist';
import { renderPhoto, PhotoGroup, NO_DIGIT_GROUPS } from './helpers/photo';
import { initBackend } from '../src/engine/backend';
import { loadPredictor, Predictor } from '../src/uq/predictor';
import { predictFiles } from '../src/predict/predict';
import { readGate } from '../src/gate/gate-file';
import { mnistSanityThresholds } from '../src/gate/sanity';

const GROUPS: PhotoGroup[] = ['mnist-png', 'scan', 'photo', 'colour', 'tight-crop', 'colour-paper', 'thin-drawing', 'outline', 'corner', 'dark-canvas', 'round-zero', 'blank', 'noise', 'texture', 'paper-texture'];
let dir: string;
const files: string[] = [];
let model: Predictor;

before(async () => {
  await initBackend('wasm');
  model = await loadPredictor('models/basic');
  dir = mkdtempSync(join(tmpdir(), 'udq-pool-'));
  const mnist = loadMnist('test', 30);
  for (const [g, group] of GROUPS.entries()) {
    for (let i = 0; i < 2; i++) {
      const k = g * 2 + i;
      const pic = await renderPhoto({ group, seed: 500 + k, digits: NO_DIGIT_GROUPS.includes(group) ? [] : [mnist.images.pixels.slice(k * 784, (k + 1) * 784)] });
      const f = join(dir, `${String(k).padStart(2, '0')}-${group}.${pic.format === 'jpeg' ? 'jpg' : 'png'}`);
      writeFileSync(f, pic.data);
      files.push(f);
    }
  }
  writeFileSync(join(dir, 'broken.png'), 'not a picture');
  files.push(join(dir, 'broken.png'), join(dir, 'missing.png'));
});

after(() => {
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('two decode workers give byte-identical 28x28 images and the same pipeline facts as loadImageAsMnist, errors alike', async () => {
  const pool = new DecodePool(2);
  try {
    const pooled = await Promise.allSettled(files.map((f) => pool.decode(f, { name: f })));
    for (const [i, f] of files.entries()) {
      const local = await loadImageAsMnist(f, { name: f }).then(
        (v) => ({ ok: true as const, v }),
        (e: Error) => ({ ok: false as const, e }),
      );
      const p = pooled[i];
      if (!local.ok) {
        assert.equal(p.status, 'rejected', f);
        const reason = (p as PromiseRejectedResult).reason as Error;
        assert.equal(reason.message, local.e.message);
        assert.equal(reason.name, local.e.name);
        continue;
      }
      assert.equal(p.status, 'fulfilled', f);
      const got = (p as PromiseFulfilledResult<{ pixels: Float32Array; info: unknown }>).value;
      assert.equal(Buffer.compare(Buffer.from(got.pixels.buffer, got.pixels.byteOffset, got.pixels.byteLength), Buffer.from(local.v.pixels.buffer, local.v.pixels.byteOffset, local.v.pixels.byteLength)), 0, `${f}: pixels differ`);
      assert.deepEqual(got.info, local.v.info, f);
    }
    assert.ok(pooled.filter((p) => p.status === 'fulfilled').length >= 30);
    // bytes as input, as the library and the server pass them
    const bytes = new Uint8Array(await import('node:fs').then((fs) => fs.readFileSync(files[2])));
    const fromBytes = await pool.decode(bytes, { name: 'bytes' });
    const local = await loadImageAsMnist(Buffer.from(bytes), { name: 'bytes' });
    assert.deepEqual(Array.from(fromBytes.pixels), Array.from(local.pixels));
  } finally {
    await pool.close();
  }
});

test('predict with decode workers and small batches (decoding the next batch while sampling this one) equals predict in process', async () => {
  const gate = readGate(model.dir);
  const opts = { samples: 20, seed: 1, gate, sanity: gate?.sanity ?? mnistSanityThresholds(), batchSize: 4 };
  const local = await predictFiles(model, files, opts);
  const pooled = await predictFiles(model, files, { ...opts, decodeThreads: 2 });
  assert.equal(pooled.length, files.length);
  const strip = (ps: typeof local) => ps.map(({ pixels, ...rest }) => ({ ...rest, pixels: pixels ? Array.from(pixels) : null }));
  assert.deepEqual(strip(pooled), strip(local));
  assert.deepEqual(pooled.map((p) => p.file), files, 'input order');
  assert.equal(pooled.filter((p) => p.verdict === 'error').length, 2);
});

test('a decode worker that dies fails only its own jobs and is replaced: the pool goes on decoding', async () => {
  const pool = new DecodePool(2);
  try {
    const before = await pool.decode(files[0], { name: files[0] });
    // stop one worker from outside, as a crash would
    await (pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots[0].worker.terminate();
    await new Promise((r) => setTimeout(r, 50));
    const after = await Promise.all(files.slice(0, 6).map((f) => pool.decode(f, { name: f })));
    assert.deepEqual(Array.from(after[0].pixels), Array.from(before.pixels));
    assert.equal(after.length, 6);
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.decode(files[0], { name: 'x' }), /closed/);
});
