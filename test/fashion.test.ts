import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  FASHION_CLASSES,
  FASHION_MNIST_SPEC,
  FashionMnistSpec,
  fetchFashionMnist,
  loadFashionMnist,
  locateFashionMnist,
  verifyFashionMnist,
} from '../src/data/fashion';
import { encodeIdx } from '../src/data/idx';
import { DataError, NetworkError } from '../src/errors';
import { startFixtureServer } from './helpers/http-fixture';

const COUNTS = { train: 12, test: 6 };
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'udq-fashion-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Raw IDX bytes of the four fixture files (labels cycle 0..9; pixel value encodes the index). */
function rawFiles(): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [split, prefix] of [['train', 'train'], ['test', 't10k']] as const) {
    const n = COUNTS[split];
    const pixels = new Uint8Array(n * 784);
    for (let i = 0; i < n; i++) pixels.fill(10 + i, i * 784, (i + 1) * 784);
    out[`${prefix}-images-idx3-ubyte.gz`] = encodeIdx({ dims: [n, 28, 28], data: pixels });
    out[`${prefix}-labels-idx1-ubyte.gz`] = encodeIdx({ dims: [n], data: Uint8Array.from({ length: n }, (_, i) => i % 10) });
  }
  return out;
}

/** The files as "Zalando" serves them (gzip level 9) and a spec pinning those. */
function fixture(baseUrl: string): { gz: Record<string, Buffer>; spec: FashionMnistSpec } {
  const raw = rawFiles();
  const gz: Record<string, Buffer> = {};
  for (const [name, bytes] of Object.entries(raw)) gz[name] = gzipSync(bytes, { level: 9 });
  const spec: FashionMnistSpec = {
    baseUrl,
    counts: { ...COUNTS },
    files: FASHION_MNIST_SPEC.files.map((f) => ({ ...f, md5: md5(gz[f.name]), contentSha256: sha256(raw[f.name]) })),
  };
  return { gz, spec };
}

async function serveFixture(t: { after(fn: () => Promise<void>): void }) {
  const probe = fixture('');
  const routes = Object.fromEntries(Object.entries(probe.gz).map(([name, body]) => [`/fm/${name}`, { body }]));
  const server = await startFixtureServer(routes);
  t.after(() => server.close());
  return { server, ...fixture(server.url('/fm')) }; // no trailing slash: the fetcher adds it
}

test('Fashion-MNIST: fetched from a base URL, checked, recorded, verified and loaded', async (t) => {
  const { spec } = await serveFixture(t);
  const dataDir = tempDir(t);
  const outcome = await fetchFashionMnist({ dataDir, spec, systemDirs: [] });
  assert.equal(outcome.status, 'fetched');
  assert.deepEqual(readdirSync(dataDir), ['fashion-mnist']);
  assert.deepEqual(readdirSync(join(dataDir, 'fashion-mnist')).sort(), [...spec.files.map((f) => f.name), 'manifest.json'].sort());
  const rep = await verifyFashionMnist(dataDir, [], spec);
  assert.equal(rep.ok, true, JSON.stringify(rep.checks));
  assert.ok(rep.checks.some((c) => /md5 .* as published/.test(c.detail)));
  const set = loadFashionMnist(outcome.path!, 'test', undefined, spec);
  assert.equal(set.images.count, COUNTS.test);
  assert.equal(set.images.pixels[3 * 784], 13);
  assert.equal(set.labels![3], 3);
  assert.deepEqual(set.classNames, FASHION_CLASSES);
});

test('Fashion-MNIST: a system copy (Debian path) is found and nothing is downloaded', async (t) => {
  const { server, gz, spec } = await serveFixture(t);
  const dir = tempDir(t);
  const system = join(dir, 'usr-share-datasets-fashion-mnist');
  mkdirSync(system);
  for (const [name, bytes] of Object.entries(gz)) writeFileSync(join(system, name), bytes);
  const dataDir = join(dir, 'data');
  assert.equal(locateFashionMnist(dataDir, [system], spec), system);
  const outcome = await fetchFashionMnist({ dataDir, spec, systemDirs: [join(dir, 'absent'), system] });
  assert.equal(outcome.status, 'present');
  assert.equal(outcome.path, system);
  assert.equal(server.requests.length, 0);
  assert.equal((await verifyFashionMnist(dataDir, [system], spec)).ok, true);
});

test('Fashion-MNIST --from a folder: re-compressed files are accepted by their uncompressed content', async (t) => {
  const { spec } = await serveFixture(t);
  const dir = tempDir(t);
  const folder = join(dir, 'debian');
  mkdirSync(folder);
  const raw = rawFiles();
  // a different gzip encoding of the same bytes (as Debian's package has): md5 differs, content does not
  for (const [name, bytes] of Object.entries(raw)) writeFileSync(join(folder, name), gzipSync(bytes, { level: 1 }));
  const dataDir = join(dir, 'data');
  const outcome = await fetchFashionMnist({ dataDir, spec, from: folder });
  assert.equal(outcome.status, 'fetched');
  const rep = await verifyFashionMnist(dataDir, [], spec);
  assert.equal(rep.ok, true);
  assert.ok(rep.checks.some((c) => /uncompressed sha256/.test(c.detail)));
});

test('Fashion-MNIST --from a folder with other content installs nothing', async (t) => {
  const { spec } = await serveFixture(t);
  const dir = tempDir(t);
  const folder = join(dir, 'other');
  mkdirSync(folder);
  const raw = rawFiles();
  raw['t10k-labels-idx1-ubyte.gz'] = encodeIdx({ dims: [COUNTS.test], data: new Uint8Array(COUNTS.test).fill(1) });
  for (const [name, bytes] of Object.entries(raw)) writeFileSync(join(folder, name), gzipSync(bytes));
  const dataDir = join(dir, 'data');
  await assert.rejects(
    fetchFashionMnist({ dataDir, spec, from: folder }),
    (e: Error) => e instanceof DataError && e.message.includes('t10k-labels-idx1-ubyte.gz'),
  );
  assert.deepEqual(readdirSync(dataDir), []);
});

test('Fashion-MNIST: a bad download installs nothing; verified files are reused on the next run', async (t) => {
  const { server, spec } = await serveFixture(t);
  const dataDir = tempDir(t);
  const broken: FashionMnistSpec = { ...spec, files: spec.files.map((f) => (f.role === 'labels' && f.split === 'train' ? { ...f, md5: md5(Buffer.from('x')) } : f)) };
  await assert.rejects(fetchFashionMnist({ dataDir, spec: broken, systemDirs: [] }), (e: Error) => e instanceof NetworkError && /checksum mismatch/.test(e.message));
  assert.equal(existsSync(join(dataDir, 'fashion-mnist')), false);
  const before = server.requests.length;
  await fetchFashionMnist({ dataDir, spec, systemDirs: [] });
  const again = server.requests.slice(before).map((r) => r.path);
  assert.equal(again.includes('/fm/train-images-idx3-ubyte.gz'), false, 'the verified train images were not downloaded again');
  assert.deepEqual(readdirSync(dataDir), ['fashion-mnist']);
});

test('Fashion-MNIST: --from that is neither a folder nor a URL is a usage error', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'file.gz'), 'x');
  await assert.rejects(fetchFashionMnist({ dataDir: join(dir, 'data'), from: join(dir, 'file.gz'), systemDirs: [] }), /takes a folder or a base URL/);
});

test('Fashion-MNIST official files and md5s are pinned as the fashion-mnist README publishes them', () => {
  const byName = Object.fromEntries(FASHION_MNIST_SPEC.files.map((f) => [f.name, f.md5]));
  assert.deepEqual(byName, {
    'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
    'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
    't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
    't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310',
  });
  assert.equal(FASHION_MNIST_SPEC.baseUrl, 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/');
});

test('Fashion-MNIST, the real Debian package when installed: verifies against the pins', { skip: !existsSync('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz') }, async (t) => {
  const rep = await verifyFashionMnist(tempDir(t));
  assert.equal(rep.ok, true, JSON.stringify(rep.checks.filter((c) => !c.ok)));
  assert.equal(rep.path, '/usr/share/datasets/fashion-mnist');
});
