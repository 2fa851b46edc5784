import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/index';
import type { Io } from '../src/cli/common';
import { fetchEmnistLetters } from '../src/data/emnist';
import { ExitCode } from '../src/errors';
import { buildEmnistZip, fixtureSpec } from './helpers/emnist-fixture';
import { startFixtureServer } from './helpers/http-fixture';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function udq(args: string[], isTTY = false): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    out: (t) => void (stdout += t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => void (stderr += t.endsWith('\n') ? t : `${t}\n`),
    isTTY,
  };
  const code = await main(['node', 'udq', ...args], io);
  return { code, stdout, stderr };
}

/** Write `bytes` to a file in its own temporary folder (outside the data dir). */
function tempFile(t: { after(fn: () => void): void }, name: string, bytes: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'udq-data-cli-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, name), bytes);
  return join(dir, name);
}

/** A fresh UDQ_DATA_DIR for one test (restored afterwards). */
function useDataDir(t: { after(fn: () => void): void }, extraEnv: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'udq-data-cli-'));
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries({ UDQ_DATA_DIR: dir, ...extraEnv })) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  t.after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

test('data list --json: one object per dataset with the documented fields', async (t) => {
  const dir = useDataDir(t);
  const r = await udq(['data', 'list', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
  assert.ok(Array.isArray(rows));
  for (const row of rows) {
    assert.deepEqual(Object.keys(row).sort(), ['counts', 'description', 'downloadBytes', 'generated', 'kind', 'name', 'path', 'present', 'source'].sort());
    assert.equal(typeof row.name, 'string');
    assert.ok(row.kind === 'digit' || row.kind === 'adversary');
    assert.equal(typeof row.present, 'boolean');
    assert.equal(typeof row.generated, 'boolean');
    assert.ok(row.path === null || typeof row.path === 'string');
    assert.ok(row.downloadBytes === null || typeof row.downloadBytes === 'number');
    assert.equal(typeof row.counts, 'object');
  }
  const byName = new Map(rows.map((row) => [row.name, row]));
  for (const name of ['mnist', 'emnist-letters', 'fashion-mnist', 'noise']) assert.ok(byName.has(name), name);
  assert.equal(byName.get('emnist-letters')!.present, false);
  assert.equal(byName.get('emnist-letters')!.path, null);
  assert.deepEqual(byName.get('emnist-letters')!.counts, { train: 124800, test: 20800 });
  assert.equal(byName.get('noise')!.generated, true);
  assert.equal(byName.get('noise')!.present, true);
  assert.equal(byName.get('mnist')!.kind, 'digit');
  assert.equal(byName.get('mnist')!.present, true);
  assert.equal(readdirSync(dir).length, 0, 'listing writes nothing');
});

test('data list (table) and data path after a fetch; data path of an absent set exits 3', async (t) => {
  const dir = useDataDir(t);
  const absent = await udq(['data', 'path', 'emnist-letters']);
  assert.equal(absent.code, ExitCode.data);
  assert.match(absent.stderr, /udq data fetch emnist-letters/);
  assert.equal(absent.stdout, '');

  const zip = buildEmnistZip();
  const zipPath = tempFile(t, 'gzip.zip', zip);
  await fetchEmnistLetters({ dataDir: dir, from: zipPath, spec: fixtureSpec(zip, 'http://127.0.0.1:9/') });

  const path = await udq(['data', 'path', 'emnist-letters']);
  assert.equal(path.code, 0);
  assert.equal(path.stdout.trim(), join(dir, 'emnist-letters'));
  const list = await udq(['data', 'list']);
  const line = list.stdout.split('\n').find((l) => l.startsWith('emnist-letters'));
  assert.ok(line && /\byes\b/.test(line) && line.includes(join(dir, 'emnist-letters')), line);
});

test('data verify: passes on a fetched set, fails (exit 3) once a file is damaged', async (t) => {
  const dir = useDataDir(t);
  const zip = buildEmnistZip();
  const zipPath = tempFile(t, 'gzip.zip', zip);
  await fetchEmnistLetters({ dataDir: dir, from: zipPath, spec: fixtureSpec(zip, 'http://127.0.0.1:9/') });

  const good = await udq(['data', 'verify', 'emnist-letters']);
  assert.equal(good.code, 0, good.stderr);
  assert.ok(!/FAIL/.test(good.stdout));

  appendFileSync(join(dir, 'emnist-letters', 'emnist-letters-test-labels-idx1-ubyte.gz'), Buffer.from([0]));
  const bad = await udq(['data', 'verify', 'emnist-letters']);
  assert.equal(bad.code, ExitCode.data);
  assert.match(bad.stdout, /FAIL\s+emnist-letters-test-labels-idx1-ubyte\.gz/);
  assert.match(bad.stderr, /^udq: emnist-letters: \d+ of \d+ checks failed\n$/);

  const json = await udq(['data', 'verify', 'emnist-letters', '--json']);
  assert.equal(json.code, ExitCode.data);
  assert.equal(JSON.parse(json.stdout).ok, false);
});

test('data verify of a set that is not there exits 3', async (t) => {
  useDataDir(t);
  const r = await udq(['data', 'verify', 'emnist-letters']);
  assert.equal(r.code, ExitCode.data);
});

test('data fetch --from a zip that is not the pinned archive: exit 3, data dir untouched', async (t) => {
  const dir = useDataDir(t);
  const zipPath = tempFile(t, 'gzip.zip', buildEmnistZip());
  const r = await udq(['data', 'fetch', 'emnist-letters', '--from', zipPath]);
  assert.equal(r.code, ExitCode.data);
  assert.match(r.stderr, /not NIST's EMNIST gzip\.zip \(md5 [0-9a-f]{32}, expected 58c8d27c78d21e728a6bc7b3cc06412e\)/);
  assert.deepEqual(readdirSync(dir), []);
});

test('data fetch from the mirror in UDQ_EMNIST_URL: 404 is exit 6 with one line, nothing left', async (t) => {
  const server = await startFixtureServer({});
  t.after(() => server.close());
  const dir = useDataDir(t, { UDQ_EMNIST_URL: server.url('/mirror/gzip.zip') });
  const r = await udq(['data', 'fetch', 'emnist-letters']);
  assert.equal(r.code, ExitCode.network);
  assert.equal(server.requests[0].path, '/mirror/gzip.zip');
  const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('udq:'));
  assert.equal(errorLines.length, 1);
  assert.match(errorLines[0], /HTTP 404/);
  assert.equal(r.stdout, '');
  assert.deepEqual(readdirSync(dir), []);
});

test('data fetch --from a mirror URL: the pinned md5 still applies (exit 6, nothing left)', async (t) => {
  const zip = buildEmnistZip();
  const server = await startFixtureServer({ '/gzip.zip': { body: zip } });
  t.after(() => server.close());
  const dir = useDataDir(t);
  const r = await udq(['data', 'fetch', 'emnist-letters', '--from', server.url('/gzip.zip')]);
  assert.equal(r.code, ExitCode.network);
  assert.match(r.stderr, /checksum mismatch/);
  assert.match(r.stderr, /downloading gzip\.zip: .*done/, 'progress lines went to stderr');
  assert.deepEqual(readdirSync(dir), []);
});

test('data fetch of shipped or generated sets has nothing to do; --from is refused for them', async (t) => {
  useDataDir(t);
  const noise = await udq(['data', 'fetch', 'noise']);
  assert.equal(noise.code, 0);
  assert.match(noise.stdout, /generated on demand; nothing to fetch/);
  const mnist = await udq(['data', 'fetch', 'mnist']);
  assert.equal(mnist.code, 0);
  assert.match(mnist.stdout, /comes with the install/);
  const from = await udq(['data', 'fetch', 'mnist', '--from', '/tmp']);
  assert.equal(from.code, ExitCode.usage);
});

test('unknown dataset names are usage errors listing the known ones', async (t) => {
  useDataDir(t);
  for (const sub of ['fetch', 'verify', 'path']) {
    const r = await udq(['data', sub, 'emnist']);
    assert.equal(r.code, ExitCode.usage, sub);
    assert.match(r.stderr, /unknown dataset "emnist" \(known: mnist, emnist-letters, fashion-mnist/);
  }
});

test('data path of the generated noise set exits 3; of mnist prints the package directory', async (t) => {
  useDataDir(t);
  const noise = await udq(['data', 'path', 'noise']);
  assert.equal(noise.code, ExitCode.data);
  const mnist = await udq(['data', 'path', 'mnist']);
  assert.equal(mnist.code, 0);
  assert.ok(existsSync(join(mnist.stdout.trim(), 't10k-images-idx3-ubyte')));
});
