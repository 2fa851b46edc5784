import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { contactSheet, writeContactSheet } from '../src/report/contact-sheet';
import { ImageError } from '../src/errors';

// three 2x2 images: values 10.., 20.., 30..
const images = { count: 3, rows: 2, cols: 2, pixels: Uint8Array.from([10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33]) };

test('contactSheet: grid size, upscaled cells, separators, black filler', () => {
  const s = contactSheet(images, { cols: 2, scale: 2, sep: 1, sepValue: 99 });
  // 2 cells of 4 px + 3 separators each way
  assert.deepEqual([s.width, s.height], [11, 11]);
  const at = (x: number, y: number) => s.data[y * s.width + x];
  assert.equal(at(0, 0), 99);
  assert.equal(at(5, 3), 99); // vertical separator between the columns
  assert.equal(at(3, 5), 99); // horizontal separator between the rows
  // image 0 at (1,1): pixel (0,0) covers 2x2 output pixels, pixel (1,0) starts at x = 3
  assert.deepEqual([at(1, 1), at(2, 2), at(3, 1), at(1, 3), at(4, 4)], [10, 10, 11, 12, 13]);
  // image 1 at (6,1), image 2 at (1,6); the fourth cell (6,6) is empty
  assert.deepEqual([at(6, 1), at(9, 4), at(1, 6), at(4, 9), at(6, 6), at(9, 9)], [20, 23, 30, 33, 0, 0]);
});

test('contactSheet: defaults to a near-square grid and honours count', () => {
  const many = { count: 10, rows: 1, cols: 1, pixels: new Uint8Array(10).fill(200) };
  const s = contactSheet(many, { scale: 1, sep: 0 });
  assert.deepEqual([s.width, s.height], [4, 3]); // ceil(sqrt(10)) = 4 columns, 3 rows
  const few = contactSheet(many, { scale: 1, sep: 0, count: 4 });
  assert.deepEqual([few.width, few.height], [2, 2]);
  assert.throws(() => contactSheet({ ...many, count: 0 }), ImageError);
});

test('writeContactSheet: a grayscale PNG of the sheet', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'udq-sheet-'));
  try {
    const p = join(dir, 'sheet.png');
    const s = await writeContactSheet(images, p, { cols: 3, scale: 3 });
    const meta = await sharp(p).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['png', s.width, s.height, 1]);
    assert.deepEqual([s.width, s.height], [3 * 6 + 4, 6 + 2]);
    const data = await sharp(p).extractChannel(0).raw().toBuffer();
    assert.deepEqual(Uint8Array.from(data), s.data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('udq data preview: a contact sheet of a dataset by name or IDX path', async () => {
  const { runDataPreview } = await import('../src/cli/data');
  const { writeIdx } = await import('../src/data/idx');
  const dir = mkdtempSync(join(tmpdir(), 'udq-preview-'));
  try {
    const out = join(dir, 'noise.png');
    const r = await runDataPreview('noise', { out, count: 12, scale: 1 }, dir);
    // 12 images -> 4 columns x 3 rows of 28 px, 1 px separators
    assert.deepEqual([r.count, r.width, r.height], [12, 4 * 28 + 5, 3 * 28 + 4]);
    const meta = await sharp(out).metadata();
    assert.deepEqual([meta.width, meta.height], [r.width, r.height]);

    const idx = join(dir, 'two-images-idx3-ubyte');
    const px = new Uint8Array(2 * 784);
    px.fill(255, 0, 784);
    writeIdx(idx, { dims: [2, 28, 28], data: px });
    const out2 = join(dir, 'idx.png');
    const r2 = await runDataPreview(idx, { out: out2, scale: 2 }, dir);
    assert.deepEqual([r2.count, r2.width, r2.height], [2, 2 * 56 + 3, 56 + 2]);
    const data = await sharp(out2).extractChannel(0).raw().toBuffer();
    assert.equal(data[1 * r2.width + 1], 255); // first image is white
    assert.equal(data[1 * r2.width + 58], 0); // second is black
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
