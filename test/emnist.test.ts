import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EMNIST_LETTERS_MEMBERS,
  EMNIST_LETTERS_SPEC,
  emnistLettersSpecFromEnv,
  fetchEmnistLetters,
  LETTER_CLASSES,
  loadEmnistLetters,
  transposeImages,
} from '../src/data/emnist';
import { loadAdversary } from '../src/data/sources';
import { DataError } from '../src/errors';
import { FIXTURE_COUNTS, fixtureSpec, inkOf, letterMemberFiles } from './helpers/emnist-fixture';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'udq-emnist-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Fetch the fixture members (from a folder, no network) into a fresh data dir. */
async function fixtureDataDir(t: { after(fn: () => void): void }): Promise<string> {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'members'));
  for (const [name, bytes] of Object.entries(letterMemberFiles())) writeFileSync(join(dir, 'members', name), bytes);
  const dataDir = join(dir, 'data');
  await fetchEmnistLetters({ dataDir, from: join(dir, 'members'), spec: fixtureSpec(Buffer.alloc(0), 'http://127.0.0.1:9/') });
  return dataDir;
}

const px = (pixels: Uint8Array, image: number, r: number, c: number) => pixels[image * 784 + r * 28 + c];

test('EMNIST images come out upright: the "L" has its vertical stroke on the left, its foot at the bottom', async (t) => {
  const dataDir = await fixtureDataDir(t);
  const set = loadEmnistLetters(join(dataDir, 'emnist-letters'), 'test');
  assert.equal(set.images.count, FIXTURE_COUNTS.test);
  assert.equal(set.images.rows, 28);
  for (const i of [0, 7, 51]) {
    const ink = inkOf(set.labels![i]);
    for (let r = 4; r <= 23; r++) assert.equal(px(set.images.pixels, i, r, 5), ink, `image ${i}: column 5, row ${r} is ink`);
    for (let c = 5; c <= 18; c++) assert.equal(px(set.images.pixels, i, 23, c), ink, `image ${i}: row 23, column ${c} is ink`);
    // as stored (transposed) the stroke would run along row 5 and the foot down column 23
    assert.equal(px(set.images.pixels, i, 5, 12), 0, `image ${i}: row 5 is not a stroke`);
    assert.equal(px(set.images.pixels, i, 10, 23), 0, `image ${i}: column 23 is not a stroke`);
  }
});

test('EMNIST labels 1..26 become 0..25 with class names a..z, aligned with their images', async (t) => {
  const dataDir = await fixtureDataDir(t);
  const set = loadEmnistLetters(join(dataDir, 'emnist-letters'), 'test');
  assert.deepEqual(set.classNames, 'abcdefghijklmnopqrstuvwxyz'.split(''));
  assert.equal(LETTER_CLASSES.length, 26);
  // the fixture cycles file labels 1..26, so image i is letter i mod 26
  assert.deepEqual(Array.from(set.labels!.subarray(0, 27)), [...Array.from({ length: 26 }, (_, i) => i), 0]);
  for (let i = 0; i < set.images.count; i++) {
    assert.equal(px(set.images.pixels, i, 23, 5), inkOf(set.labels![i]), `image ${i} carries the ink of its own label`);
  }
});

test('transposeImages swaps rows and columns of every image, including non-square ones', () => {
  // two 2x3 images: [[1,2,3],[4,5,6]] and [[7,8,9],[10,11,12]]
  const out = transposeImages({ count: 2, rows: 2, cols: 3, pixels: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) });
  assert.equal(out.rows, 3);
  assert.equal(out.cols, 2);
  assert.deepEqual(Array.from(out.pixels), [1, 4, 2, 5, 3, 6, 7, 10, 8, 11, 9, 12]);
});

test('EMNIST through loadAdversary: by name with a limit; absent -> DataError pointing at `udq data fetch`', async (t) => {
  const dataDir = await fixtureDataDir(t);
  const set = await loadAdversary('emnist-letters', { dataDir, limit: 5 });
  assert.equal(set.images.count, 5);
  assert.equal(set.labels!.length, 5);
  assert.equal(set.name, 'emnist-letters');
  const train = await loadAdversary('emnist-letters', { dataDir, split: 'train' });
  assert.equal(train.images.count, FIXTURE_COUNTS.train);
  await assert.rejects(
    loadAdversary('emnist-letters', { dataDir: tempDir(t) }),
    (e: Error) => e instanceof DataError && /udq data fetch emnist-letters/.test(e.message),
  );
});

test('EMNIST published facts and archive layout are pinned as the issue states', () => {
  assert.equal(EMNIST_LETTERS_SPEC.archive.url, 'https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip');
  assert.equal(EMNIST_LETTERS_SPEC.archive.md5, '58c8d27c78d21e728a6bc7b3cc06412e');
  assert.deepEqual(EMNIST_LETTERS_SPEC.counts, { train: 124_800, test: 20_800 });
  assert.deepEqual(EMNIST_LETTERS_MEMBERS.map((m) => m.member).sort(), [
    'gzip/emnist-letters-test-images-idx3-ubyte.gz',
    'gzip/emnist-letters-test-labels-idx1-ubyte.gz',
    'gzip/emnist-letters-train-images-idx3-ubyte.gz',
    'gzip/emnist-letters-train-labels-idx1-ubyte.gz',
  ]);
});

test('UDQ_EMNIST_URL replaces the archive URL but keeps the pinned md5', () => {
  const spec = emnistLettersSpecFromEnv({ UDQ_EMNIST_URL: 'http://mirror.example/gzip.zip' });
  assert.equal(spec.archive.url, 'http://mirror.example/gzip.zip');
  assert.equal(spec.archive.md5, EMNIST_LETTERS_SPEC.archive.md5);
  assert.equal(emnistLettersSpecFromEnv({}).archive.url, EMNIST_LETTERS_SPEC.archive.url);
});
