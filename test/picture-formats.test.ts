/** The picture pipeline reads every common encoding the same way (issue #9): 16-bit, CMYK, palette, alpha, EXIF orientation. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadImageAsMnist } from '../src/image/load';

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'udq-formats-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const W = 240;
const H = 200;
/** A "7" in blue ink on a yellow sticky note, as SVG. */
const svg = (ink = '#1a2a90', paper = '#f8e86a', transparent = false) =>
  Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${transparent ? '' : `<rect width="100%" height="100%" fill="${paper}"/>`}` +
      `<path d="M 80 50 L 160 50 L 110 160" stroke="${ink}" stroke-width="14" fill="none" stroke-linecap="round"/></svg>`,
  );

function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i] - b[i]);
  return d / a.length;
}

test('8-bit, 16-bit, palette, CMYK, alpha and EXIF-rotated encodings of one drawing give the same 28x28 digit', async () => {
  const reference = join(tmp, 'ref.png');
  await sharp(svg()).png().toFile(reference);
  const ref = await loadImageAsMnist(reference);
  assert.equal(ref.empty, false);
  const variants: [string, (p: string) => Promise<unknown>][] = [
    ['16bit.png', (p) => sharp(svg()).toColourspace('rgb16').png().toFile(p)],
    ['palette.png', (p) => sharp(svg()).png({ palette: true, colours: 16 }).toFile(p)],
    ['cmyk.jpg', (p) => sharp(svg()).toColourspace('cmyk').jpeg({ quality: 95 }).toFile(p)],
    ['grey.png', (p) => sharp(svg('#000000', '#ffffff')).greyscale().png().toFile(p)],
    ['alpha.png', (p) => sharp(svg('#000000', '', true)).png().toFile(p)],
    ['light-on-dark.png', (p) => sharp(svg('#ffffff', '#101010')).png().toFile(p)],
    // stored turned 90 degrees, with EXIF orientation 6 saying "turn it back"
    ['exif.jpg', (p) => sharp(svg()).rotate(-90).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(p)],
  ];
  for (const [name, write] of variants) {
    const p = join(tmp, name);
    await write(p);
    const got = await loadImageAsMnist(p);
    const d = meanAbsDiff(got.pixels, ref.pixels);
    assert.ok(d < 0.04, `${name}: mean abs diff ${d.toFixed(4)} from the 8-bit RGB picture`);
  }
});

test('tight 280 px black-on-white crops of MNIST digits (thick ink filling whole blocks) are read as dark ink and pass the picture check', async () => {
  const { loadMnist } = await import('../src/data/mnist');
  const { checkPicture } = await import('../src/gate/sanity');
  const train = loadMnist('train', 40);
  for (let i = 0; i < 40; i++) {
    const p = join(tmp, `tight-${i}.png`);
    const inverted = Buffer.from(train.images.pixels.subarray(i * 784, (i + 1) * 784).map((v) => 255 - v));
    await sharp(inverted, { raw: { width: 28, height: 28, channels: 1 } }).resize(280, 280).png().toFile(p);
    const r = await loadImageAsMnist(p);
    assert.equal(r.info.polarity, 'dark', `digit ${i}`);
    assert.equal(checkPicture(r.info), null, `digit ${i}: ${JSON.stringify(r.info)}`);
  }
});
