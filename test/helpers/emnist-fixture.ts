/**
 * A miniature EMNIST `gzip.zip`: the four letters members (26 train, 52 test images) plus
 * unrelated members, laid out as NIST's archive is, with EMNIST's transposed storage.
 *
 * Every picture, seen upright (MNIST orientation), is an "L": a vertical stroke down
 * column 5 (rows 4..23) and a horizontal stroke along row 23 (columns 5..18). Its ink
 * intensity is 100 + 5 * (letter index), so a test can tell which label an image carries.
 */
import { createHash } from 'node:crypto';
import { encodeIdx } from '../../src/data/idx';
import type { EmnistLettersSpec } from '../../src/data/emnist';
import { buildZip, ZipMember } from './zip';

export const FIXTURE_COUNTS = { train: 26, test: 52 };

/** Ink value of letter `index` (0 = a). */
export function inkOf(letterIndex: number): number {
  return 100 + 5 * letterIndex;
}

/** The upright (MNIST-orientation) picture of letter `index`, row-major 28x28. */
export function uprightL(letterIndex: number): Uint8Array {
  const img = new Uint8Array(784);
  for (let r = 4; r <= 23; r++) img[r * 28 + 5] = inkOf(letterIndex);
  for (let c = 5; c <= 18; c++) img[23 * 28 + c] = inkOf(letterIndex);
  return img;
}

/** EMNIST stores each picture transposed: stored (r, c) holds upright (c, r). */
export function storedTransposed(upright: Uint8Array): Uint8Array {
  const out = new Uint8Array(784);
  for (let r = 0; r < 28; r++) for (let c = 0; c < 28; c++) out[r * 28 + c] = upright[c * 28 + r];
  return out;
}

/** gzip IDX bytes of one split: images (stored transposed) and labels 1..26 cycling. */
export function splitFiles(count: number): { images: Buffer; labels: Buffer } {
  const pixels = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = (i % 26) + 1;
    pixels.set(storedTransposed(uprightL(i % 26)), i * 784);
  }
  return {
    images: encodeIdx({ dims: [count, 28, 28], data: pixels }, { gzip: true }),
    labels: encodeIdx({ dims: [count], data: labels }, { gzip: true }),
  };
}

/** The four member files by their name on disk (e.g. `emnist-letters-test-images-idx3-ubyte.gz`). */
export function letterMemberFiles(counts = FIXTURE_COUNTS): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const split of ['train', 'test'] as const) {
    const f = splitFiles(counts[split]);
    out[`emnist-letters-${split}-images-idx3-ubyte.gz`] = f.images;
    out[`emnist-letters-${split}-labels-idx1-ubyte.gz`] = f.labels;
  }
  return out;
}

/** The fixture archive; `omit` drops letters members by disk name, `replace` swaps their bytes. */
export function buildEmnistZip(opts: { omit?: string[]; replace?: Record<string, Buffer> } = {}): Buffer {
  const members: ZipMember[] = [
    { name: 'gzip/', data: new Uint8Array(0), method: 0 },
    { name: 'gzip/emnist-digits-test-images-idx3-ubyte.gz', data: Buffer.from('not needed: digits'), method: 0 },
    { name: 'gzip/emnist-letters-mapping.txt', data: Buffer.from('1 65 97\n2 66 98\n') },
  ];
  const files = { ...letterMemberFiles(), ...(opts.replace ?? {}) };
  let stored = false;
  for (const [name, data] of Object.entries(files)) {
    if (opts.omit?.includes(name)) continue;
    members.push({ name: `gzip/${name}`, data, method: stored ? 0 : 8 });
    stored = !stored;
  }
  members.push({ name: 'gzip/emnist-mnist-train-labels-idx1-ubyte.gz', data: Buffer.from('not needed: mnist') });
  return buildZip(members);
}

export function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

/** A spec that expects exactly `zip` at `url`. */
export function fixtureSpec(zip: Buffer, url: string): EmnistLettersSpec {
  return { archive: { url, md5: md5Hex(zip) }, counts: { ...FIXTURE_COUNTS } };
}
