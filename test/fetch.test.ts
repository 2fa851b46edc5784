import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProgress, downloadToFile, extractZipMembers, hashFile, ProgressSink } from '../src/data/fetch';
import { fetchEmnistLetters, loadEmnistLetters, verifyEmnistLetters } from '../src/data/emnist';
import { DataError, NetworkError } from '../src/errors';
import { startFixtureServer } from './helpers/http-fixture';
import { buildZip, crc32 } from './helpers/zip';
import { buildEmnistZip, FIXTURE_COUNTS, fixtureSpec, letterMemberFiles } from './helpers/emnist-fixture';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'udq-fetch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function captureSink(isTTY = false): ProgressSink & { lines: string[] } {
  const lines: string[] = [];
  return { lines, isTTY, err: (t: string) => void lines.push(t) };
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Everything under a directory, as relative paths (hidden entries included). */
function tree(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? [`${prefix}${name}/`, ...tree(path, `${prefix}${name}/`)] : [`${prefix}${name}`];
  });
}

test('crc32 of the standard check string "123456789" is 0xCBF43926', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
});

test('downloadToFile: downloads, reports size and digests, leaves no .part', async (t) => {
  const body = randomBytes(300_000);
  const server = await startFixtureServer({ '/f.bin': { body } });
  t.after(() => server.close());
  const dest = join(tempDir(t), 'sub', 'f.bin');
  const d = await downloadToFile({ url: server.url('/f.bin'), bytes: body.length, md5: md5(body), sha256: sha256(body) }, dest);
  assert.deepEqual(d, { bytes: body.length, md5: md5(body), sha256: sha256(body) });
  assert.ok(readFileSync(dest).equals(body));
  assert.equal(existsSync(`${dest}.part`), false);
});

test('downloadToFile: a cut download keeps its .part and the next run resumes it with Range', async (t) => {
  const body = randomBytes(400_000);
  const server = await startFixtureServer({ '/f.bin': { body, truncateAt: 150_000 } });
  t.after(() => server.close());
  const dest = join(tempDir(t), 'f.bin');
  const remote = { url: server.url('/f.bin'), md5: md5(body) };
  await assert.rejects(downloadToFile(remote, dest), (e: Error) => e instanceof NetworkError && /resume/.test(e.message));
  assert.equal(existsSync(dest), false, 'nothing under the final name after a cut');
  const kept = statSync(`${dest}.part`).size;
  assert.ok(kept > 0 && kept <= 150_000, `partial file holds ${kept} bytes`);

  const sink = captureSink();
  await downloadToFile(remote, dest, { progress: sink });
  assert.ok(readFileSync(dest).equals(body));
  assert.equal(server.requests.length, 2);
  assert.equal(server.requests[1].range, `bytes=${kept}-`);
  assert.equal(server.requests[1].status, 206);
  assert.ok(sink.lines.some((l) => /resuming/.test(l)));
});

test('downloadToFile: restarts from byte 0 when the server ignores Range', async (t) => {
  const body = randomBytes(200_000);
  const server = await startFixtureServer({ '/f.bin': { body, truncateAt: 50_000, honorRange: false } });
  t.after(() => server.close());
  const dest = join(tempDir(t), 'f.bin');
  const remote = { url: server.url('/f.bin'), sha256: sha256(body) };
  await assert.rejects(downloadToFile(remote, dest), NetworkError);
  assert.ok(statSync(`${dest}.part`).size > 0, 'precondition: a partial file to resume from');
  const sink = captureSink();
  await downloadToFile(remote, dest, { progress: sink });
  assert.ok(readFileSync(dest).equals(body), 'whole file, not the old prefix plus the whole body');
  assert.match(server.requests[1].range ?? '', /^bytes=\d+-$/);
  assert.equal(server.requests[1].status, 200);
  assert.ok(sink.lines.some((l) => /starting again/.test(l)));
});

test('downloadToFile: a .part that is already whole (server answers 416) is checked and used', async (t) => {
  const body = randomBytes(10_000);
  const server = await startFixtureServer({ '/f.bin': { body } });
  t.after(() => server.close());
  const dest = join(tempDir(t), 'f.bin');
  writeFileSync(`${dest}.part`, body);
  await downloadToFile({ url: server.url('/f.bin'), md5: md5(body) }, dest);
  assert.ok(readFileSync(dest).equals(body));
  assert.equal(server.requests[0].status, 416);
});

test('downloadToFile: HTTP 404 is a NetworkError and leaves no file', async (t) => {
  const server = await startFixtureServer({});
  t.after(() => server.close());
  const dir = tempDir(t);
  await assert.rejects(
    downloadToFile({ url: server.url('/missing.zip') }, join(dir, 'missing.zip')),
    (e: Error) => e instanceof NetworkError && /HTTP 404/.test(e.message) && !e.message.includes('\n'),
  );
  assert.deepEqual(tree(dir), []);
});

test('downloadToFile: a checksum mismatch deletes the download', async (t) => {
  const body = randomBytes(5_000);
  const server = await startFixtureServer({ '/f.bin': { body } });
  t.after(() => server.close());
  const dir = tempDir(t);
  const wrong = md5(Buffer.from('something else'));
  await assert.rejects(
    downloadToFile({ url: server.url('/f.bin'), md5: wrong }, join(dir, 'f.bin')),
    (e: Error) => e instanceof NetworkError && /checksum mismatch/.test(e.message) && e.message.includes(wrong),
  );
  assert.deepEqual(tree(dir), []);
});

test('downloadToFile: a server size different from the pinned size is refused before writing', async (t) => {
  const body = randomBytes(5_000);
  const server = await startFixtureServer({ '/f.bin': { body } });
  t.after(() => server.close());
  const dir = tempDir(t);
  await assert.rejects(downloadToFile({ url: server.url('/f.bin'), bytes: 4_000 }, join(dir, 'f.bin')), /expected 4000/);
  assert.deepEqual(tree(dir), []);
});

test('downloadToFile: a body shorter than its Content-Length never becomes the final file', async (t) => {
  const body = randomBytes(100_000);
  const server = await startFixtureServer({ '/f.bin': { body, truncateAt: 30_000, truncateTimes: 99 } });
  t.after(() => server.close());
  const dir = tempDir(t);
  for (let run = 0; run < 2; run++) {
    await assert.rejects(downloadToFile({ url: server.url('/f.bin') }, join(dir, 'f.bin')), NetworkError);
  }
  assert.deepEqual(tree(dir), ['f.bin.part']);
  assert.ok(statSync(join(dir, 'f.bin.part')).size < body.length);
});

test('downloadToFile: an unreachable server is a one-line NetworkError', async (t) => {
  const server = await startFixtureServer({});
  const url = server.url('/f.bin');
  await server.close();
  await assert.rejects(
    downloadToFile({ url }, join(tempDir(t), 'f.bin')),
    (e: Error) => e instanceof NetworkError && /cannot download/.test(e.message) && /ECONNREFUSED/.test(e.message),
  );
});

test('downloadToFile: a complete earlier download that still matches is reused without a request', async (t) => {
  const body = randomBytes(5_000);
  const server = await startFixtureServer({ '/f.bin': { body } });
  t.after(() => server.close());
  const dest = join(tempDir(t), 'f.bin');
  writeFileSync(dest, body);
  const d = await downloadToFile({ url: server.url('/f.bin'), md5: md5(body) }, dest);
  assert.equal(d.sha256, sha256(body));
  assert.equal(server.requests.length, 0);
});

test('hashFile matches node:crypto over the same bytes', async (t) => {
  const body = randomBytes(70_000);
  const path = join(tempDir(t), 'x');
  writeFileSync(path, body);
  assert.deepEqual(await hashFile(path), { bytes: body.length, md5: md5(body), sha256: sha256(body) });
});

test('extractZipMembers: streams out the requested members only (stored and deflated)', async (t) => {
  const dir = tempDir(t);
  const a = randomBytes(20_000);
  const b = Buffer.from('b'.repeat(5_000));
  const zipPath = join(dir, 'a.zip');
  writeFileSync(zipPath, buildZip([
    { name: 'x/a.bin', data: a, method: 0 },
    { name: 'x/skip.bin', data: Buffer.from('skip me') },
    { name: 'x/b.txt', data: b, method: 8 },
  ]));
  mkdirSync(join(dir, 'out'));
  const digests = await extractZipMembers(zipPath, [
    { member: 'x/b.txt', dest: join(dir, 'out', 'b') },
    { member: 'x/a.bin', dest: join(dir, 'out', 'a') },
  ]);
  assert.deepEqual(readdirSync(join(dir, 'out')).sort(), ['a', 'b']);
  assert.ok(readFileSync(join(dir, 'out', 'a')).equals(a));
  assert.ok(readFileSync(join(dir, 'out', 'b')).equals(b));
  assert.equal(digests.get('x/a.bin')?.sha256, sha256(a));
  assert.equal(digests.get('x/b.txt')?.bytes, b.length);
});

test('extractZipMembers: a missing member or a non-zip is a DataError', async (t) => {
  const dir = tempDir(t);
  const zipPath = join(dir, 'a.zip');
  writeFileSync(zipPath, buildZip([{ name: 'x/a.bin', data: Buffer.from('a') }]));
  await assert.rejects(
    extractZipMembers(zipPath, [{ member: 'x/nope.bin', dest: join(dir, 'nope') }]),
    (e: Error) => e instanceof DataError && e.message.includes('x/nope.bin'),
  );
  writeFileSync(join(dir, 'not.zip'), 'plain text, no zip here');
  await assert.rejects(extractZipMembers(join(dir, 'not.zip'), [{ member: 'x', dest: join(dir, 'x') }]), DataError);
});

test('progress on a terminal: redrawn in place, at most every 100 ms', () => {
  const sink = captureSink(true);
  let now = 0;
  const p = createProgress(sink, 'dl', 1000, () => now);
  p.update(100);
  now = 50;
  p.update(200); // throttled
  now = 150;
  p.update(500);
  p.finish();
  assert.equal(sink.lines.length, 3);
  assert.ok(!sink.lines[0].startsWith('\x1b['), 'first draw does not move the cursor');
  assert.ok(sink.lines.slice(1).every((l) => l.startsWith('\x1b[1A\x1b[2K')), 'later draws replace the line');
  assert.match(sink.lines[1], / 50% /);
});

test('progress off a terminal: plain lines per 10% step, at most every 2 s, then done', () => {
  const sink = captureSink(false);
  let now = 0;
  const p = createProgress(sink, 'dl', 1000, () => now);
  for (let done = 0; done <= 1000; done += 10) {
    now += 100;
    p.update(done);
  }
  p.finish();
  assert.ok(sink.lines.every((l) => !l.includes('\x1b')), 'no terminal escapes');
  assert.ok(sink.lines.length >= 3 && sink.lines.length <= 7, `${sink.lines.length} lines`);
  assert.match(sink.lines.at(-1)!, /done/);
});

// ---- EMNIST letters, end to end against a local server ----

async function emnistServer(t: { after(fn: () => Promise<void>): void }, route: Parameters<typeof startFixtureServer>[0][string]) {
  const server = await startFixtureServer({ '/cs_links/EMNIST/gzip.zip': route });
  t.after(() => server.close());
  return { server, url: server.url('/cs_links/EMNIST/gzip.zip') };
}

test('EMNIST fetch: download, extract the letters members, verify, load; only the dataset stays', async (t) => {
  const zip = buildEmnistZip();
  const { url } = await emnistServer(t, { body: zip });
  const dataDir = tempDir(t);
  const sink = captureSink();
  const outcome = await fetchEmnistLetters({ dataDir, spec: fixtureSpec(zip, url), progress: sink });
  assert.equal(outcome.status, 'fetched');
  assert.equal(outcome.path, join(dataDir, 'emnist-letters'));
  assert.deepEqual(tree(dataDir).sort(), [
    'emnist-letters/',
    'emnist-letters/emnist-letters-test-images-idx3-ubyte.gz',
    'emnist-letters/emnist-letters-test-labels-idx1-ubyte.gz',
    'emnist-letters/emnist-letters-train-images-idx3-ubyte.gz',
    'emnist-letters/emnist-letters-train-labels-idx1-ubyte.gz',
    'emnist-letters/manifest.json',
  ]);
  const expected = letterMemberFiles();
  for (const [name, bytes] of Object.entries(expected)) {
    assert.ok(readFileSync(join(dataDir, 'emnist-letters', name)).equals(bytes), `${name} extracted byte for byte`);
  }
  const manifest = JSON.parse(readFileSync(join(dataDir, 'emnist-letters', 'manifest.json'), 'utf8'));
  assert.equal(manifest.archive.md5, md5(zip));
  const testImages = manifest.files.find((f: { name: string }) => f.name === 'emnist-letters-test-images-idx3-ubyte.gz');
  assert.equal(testImages.sha256, sha256(expected['emnist-letters-test-images-idx3-ubyte.gz']));
  assert.deepEqual(testImages.dims, [FIXTURE_COUNTS.test, 28, 28]);
  const rep = await verifyEmnistLetters(dataDir);
  assert.equal(rep.ok, true, JSON.stringify(rep.checks));
  assert.equal(loadEmnistLetters(outcome.path!, 'test').images.count, FIXTURE_COUNTS.test);
  assert.ok(sink.lines.some((l) => /downloading gzip\.zip/.test(l)), 'progress went to the sink');
});

test('EMNIST fetch: resumes after a cut first attempt', async (t) => {
  const zip = buildEmnistZip();
  const { server, url } = await emnistServer(t, { body: zip, truncateAt: Math.floor(zip.length / 2) });
  const dataDir = tempDir(t);
  const spec = fixtureSpec(zip, url);
  await assert.rejects(fetchEmnistLetters({ dataDir, spec }), NetworkError);
  assert.deepEqual(tree(dataDir), ['.downloads/', '.downloads/emnist-letters/', '.downloads/emnist-letters/gzip.zip.part']);
  const outcome = await fetchEmnistLetters({ dataDir, spec });
  assert.equal(outcome.status, 'fetched');
  assert.match(server.requests[1].range ?? '', /^bytes=[1-9]\d*-$/);
  assert.equal(server.requests[1].status, 206);
  assert.equal((await verifyEmnistLetters(dataDir)).ok, true);
  assert.deepEqual(tree(dataDir).filter((p) => p.startsWith('.')), [], 'no download leftovers');
});

test('EMNIST fetch: starts over cleanly when the server ignores Range', async (t) => {
  const zip = buildEmnistZip();
  const { server, url } = await emnistServer(t, { body: zip, truncateAt: 1000, honorRange: false });
  const dataDir = tempDir(t);
  const spec = fixtureSpec(zip, url);
  await assert.rejects(fetchEmnistLetters({ dataDir, spec }), NetworkError);
  await fetchEmnistLetters({ dataDir, spec });
  assert.equal(server.requests[1].status, 200);
  assert.equal((await verifyEmnistLetters(dataDir)).ok, true);
});

test('EMNIST fetch: 404 leaves the data dir empty', async (t) => {
  const zip = buildEmnistZip();
  const { server } = await emnistServer(t, { body: zip });
  const dataDir = tempDir(t);
  const spec = fixtureSpec(zip, server.url('/elsewhere/gzip.zip'));
  await assert.rejects(fetchEmnistLetters({ dataDir, spec }), (e: Error) => e instanceof NetworkError && /404/.test(e.message));
  assert.deepEqual(tree(dataDir), []);
});

test('EMNIST fetch: a checksum mismatch leaves the data dir empty', async (t) => {
  const zip = buildEmnistZip();
  const { url } = await emnistServer(t, { body: zip });
  const dataDir = tempDir(t);
  const spec = fixtureSpec(buildEmnistZip({ omit: ['emnist-letters-train-labels-idx1-ubyte.gz'] }), url);
  await assert.rejects(fetchEmnistLetters({ dataDir, spec }), (e: Error) => e instanceof NetworkError && /checksum mismatch/.test(e.message));
  assert.deepEqual(tree(dataDir), []);
});

test('EMNIST fetch: an archive without a letters member, or with wrong counts, installs nothing', async (t) => {
  const dataDir = tempDir(t);
  const lacking = buildEmnistZip({ omit: ['emnist-letters-test-labels-idx1-ubyte.gz'] });
  const a = await emnistServer(t, { body: lacking });
  await assert.rejects(
    fetchEmnistLetters({ dataDir, spec: fixtureSpec(lacking, a.url) }),
    (e: Error) => e instanceof DataError && e.message.includes('emnist-letters-test-labels-idx1-ubyte.gz'),
  );
  assert.deepEqual(tree(dataDir), []);

  const zip = buildEmnistZip();
  const b = await emnistServer(t, { body: zip });
  const spec = { ...fixtureSpec(zip, b.url), counts: { train: 124_800, test: 20_800 } };
  await assert.rejects(fetchEmnistLetters({ dataDir, spec }), (e: Error) => e instanceof DataError && /expected 124800/.test(e.message));
  assert.deepEqual(tree(dataDir), []);
});

test('EMNIST fetch: labels outside 1..26 are refused', async (t) => {
  const dataDir = tempDir(t);
  const { encodeIdx } = await import('../src/data/idx');
  const badLabels = encodeIdx({ dims: [FIXTURE_COUNTS.test], data: new Uint8Array(FIXTURE_COUNTS.test) }, { gzip: true }); // all 0
  const zip = buildEmnistZip({ replace: { 'emnist-letters-test-labels-idx1-ubyte.gz': badLabels } });
  const { url } = await emnistServer(t, { body: zip });
  await assert.rejects(fetchEmnistLetters({ dataDir, spec: fixtureSpec(zip, url) }), /labels span 0\.\.0, expected 1\.\.26/);
  assert.deepEqual(tree(dataDir), []);
});

test('EMNIST fetch --from: a local zip is checked against the pinned md5 and read in place', async (t) => {
  const dir = tempDir(t);
  const dataDir = join(dir, 'data');
  const zip = buildEmnistZip();
  const zipPath = join(dir, 'gzip.zip');
  writeFileSync(zipPath, zip);
  const spec = fixtureSpec(zip, 'http://127.0.0.1:9/unused');
  const outcome = await fetchEmnistLetters({ dataDir, spec, from: zipPath });
  assert.equal(outcome.status, 'fetched');
  assert.ok(existsSync(zipPath), "the user's own file is left alone");
  assert.equal((await verifyEmnistLetters(dataDir)).ok, true);

  const otherData = join(dir, 'data2');
  const wrongSpec = fixtureSpec(Buffer.from('another archive'), 'http://127.0.0.1:9/unused');
  await assert.rejects(fetchEmnistLetters({ dataDir: otherData, spec: wrongSpec, from: zipPath }), (e: Error) => e instanceof DataError && /md5/.test(e.message));
  assert.deepEqual(tree(otherData), []);
});

test('EMNIST fetch --from: a folder holding the four extracted members', async (t) => {
  const dir = tempDir(t);
  const members = join(dir, 'raw', 'gzip');
  mkdirSync(members, { recursive: true });
  for (const [name, bytes] of Object.entries(letterMemberFiles())) writeFileSync(join(members, name), bytes);
  const dataDir = join(dir, 'data');
  const outcome = await fetchEmnistLetters({ dataDir, spec: fixtureSpec(Buffer.alloc(0), 'http://127.0.0.1:9/unused'), from: join(dir, 'raw') });
  assert.equal(outcome.status, 'fetched');
  assert.equal(loadEmnistLetters(outcome.path!, 'train').images.count, FIXTURE_COUNTS.train);
});

test('EMNIST fetch: present -> no request; --force replaces it and clears stale staging', async (t) => {
  const zip = buildEmnistZip();
  const { server, url } = await emnistServer(t, { body: zip });
  const dataDir = tempDir(t);
  const spec = fixtureSpec(zip, url);
  await fetchEmnistLetters({ dataDir, spec });
  const again = await fetchEmnistLetters({ dataDir, spec });
  assert.equal(again.status, 'present');
  assert.equal(server.requests.length, 1);

  mkdirSync(join(dataDir, '.emnist-letters.staging-1-abc'));
  writeFileSync(join(dataDir, 'emnist-letters', 'stray-file'), 'from the old copy');
  const forced = await fetchEmnistLetters({ dataDir, spec, force: true });
  assert.equal(forced.status, 'fetched');
  assert.equal(server.requests.length, 2);
  assert.equal(existsSync(join(dataDir, 'emnist-letters', 'stray-file')), false, 'old directory replaced whole');
  assert.deepEqual(tree(dataDir).filter((p) => p.startsWith('.')), []);
});
