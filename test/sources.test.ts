import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { encodeIdx } from '../src/data/idx';
import { describeSource, getSource, listSources, loadAdversary } from '../src/data/sources';
import { DataError, UsageError } from '../src/errors';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'udq-sources-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function images(count: number, side = 28): Uint8Array {
  return Uint8Array.from({ length: count * side * side }, (_, i) => (i * 7) % 256);
}

test('the registry holds mnist (digit) and the adversaries, each name once', () => {
  const names = listSources().map((s) => s.name);
  for (const name of ['mnist', 'emnist-letters', 'fashion-mnist', 'noise']) assert.ok(names.includes(name), name);
  assert.equal(new Set(names).size, names.length);
  assert.equal(getSource('mnist').kind, 'digit');
  for (const name of ['emnist-letters', 'fashion-mnist', 'noise']) assert.equal(getSource(name).kind, 'adversary');
});

test('getSource of an unknown name is a UsageError that lists the known names', () => {
  assert.throws(
    () => getSource('emnist'),
    (e: Error) => e instanceof UsageError && listSources().every((s) => e.message.includes(s.name)),
  );
});

test('describeSource: absent download, generated noise, shipped mnist', (t) => {
  const dir = tempDir(t);
  const emnist = describeSource(getSource('emnist-letters'), dir);
  assert.equal(emnist.present, false);
  assert.equal(emnist.path, null);
  const noise = describeSource(getSource('noise'), dir);
  assert.equal(noise.present, true);
  assert.equal(noise.generated, true);
  const mnist = describeSource(getSource('mnist'), dir);
  assert.equal(mnist.present, true);
  assert.equal(typeof mnist.path, 'string');
});

test('loadAdversary: an IDX images file picks up its sibling labels file', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'mine-images-idx3-ubyte'), encodeIdx({ dims: [3, 28, 28], data: images(3) }));
  writeFileSync(join(dir, 'mine-labels-idx1-ubyte'), encodeIdx({ dims: [3], data: Uint8Array.from([4, 5, 6]) }));
  const set = await loadAdversary(join(dir, 'mine-images-idx3-ubyte'));
  assert.equal(set.images.count, 3);
  assert.deepEqual(set.images.pixels, images(3));
  assert.deepEqual(Array.from(set.labels!), [4, 5, 6]);
  assert.equal(set.name, join(dir, 'mine-images-idx3-ubyte'));
  const limited = await loadAdversary(join(dir, 'mine-images-idx3-ubyte'), { limit: 2 });
  assert.deepEqual(Array.from(limited.labels!), [4, 5]);
});

test('loadAdversary: a gzip IDX file without labels; explicit labels of the wrong length are refused', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'letters.idx3.gz');
  writeFileSync(path, encodeIdx({ dims: [2, 28, 28], data: images(2) }, { gzip: true }));
  const set = await loadAdversary(path);
  assert.equal(set.images.count, 2);
  assert.equal(set.labels, undefined);
  writeFileSync(join(dir, 'l'), encodeIdx({ dims: [5], data: new Uint8Array(5) }));
  await assert.rejects(loadAdversary(path, { labelsPath: join(dir, 'l') }), DataError);
});

test('loadAdversary: IDX images that are not 28x28 are a DataError', async (t) => {
  const path = join(tempDir(t), 'small-images-idx3-ubyte');
  writeFileSync(path, encodeIdx({ dims: [1, 20, 20], data: images(1, 20) }));
  await assert.rejects(loadAdversary(path), (e: Error) => e instanceof DataError && /20x20/.test(e.message));
});

test('loadAdversary: a folder of pictures, in name order, through the given loader', async (t) => {
  const dir = tempDir(t);
  for (const f of ['b.png', 'a.jpg', 'c.JPEG', 'notes.txt']) writeFileSync(join(dir, f), 'x');
  const seen: string[] = [];
  const loadImage = async (path: string) => {
    seen.push(path);
    const value = seen.length === 1 ? 0.5 : seen.length === 2 ? 1 : 0;
    const pixels = new Float32Array(784).fill(value);
    return seen.length === 2 ? { pixels } : pixels;
  };
  const set = await loadAdversary(dir, { loadImage });
  assert.deepEqual(seen, ['a.jpg', 'b.png', 'c.JPEG'].map((f) => join(dir, f)));
  assert.equal(set.images.count, 3);
  assert.equal(set.images.pixels[0], 128); // 0.5 * 255 rounded
  assert.equal(set.images.pixels[784], 255);
  assert.equal(set.images.pixels[2 * 784], 0);
  const two = await loadAdversary(dir, { loadImage: async () => new Float32Array(784), limit: 2 });
  assert.equal(two.images.count, 2);
});

test('loadAdversary: a folder without pictures, or a path that does not exist', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'empty'));
  await assert.rejects(loadAdversary(join(dir, 'empty'), { loadImage: async () => new Float32Array(784) }), DataError);
  await assert.rejects(loadAdversary(join(dir, 'nothing-here')), (e: Error) => e instanceof UsageError && /emnist-letters/.test(e.message));
});

test('loadAdversary: a folder with a real PNG goes through the default loader (src/image/load.ts)', async (t) => {
  const dir = tempDir(t);
  // dark vertical bar on white paper, 40x40
  const raw = Buffer.alloc(40 * 40, 255);
  for (let r = 5; r < 35; r++) for (let c = 18; c < 22; c++) raw[r * 40 + c] = 0;
  await sharp(raw, { raw: { width: 40, height: 40, channels: 1 } }).png().toFile(join(dir, 'bar.png'));
  const set = await loadAdversary(dir);
  assert.equal(set.images.count, 1);
  const px = set.images.pixels;
  assert.ok(px[14 * 28 + 14] > 128, 'ink at the centre');
  assert.equal(px[14 * 28 + 2], 0, 'background at the left edge');
});
