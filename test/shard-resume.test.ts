/** Runs that split and resume (issue #20): --shard K/N, --format jsonl, --resume, udq merge; xargs -P end to end. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fnv1a32, parseShard, shardOf, takeShard } from '../src/predict/shard';
import { mergeJsonl, parseJsonl, prepareResume } from '../src/predict/jsonl';
import { saveMnistPng } from '../src/image/load';
import { loadMnist } from '../src/data/mnist';
import { runCli } from './helpers/cli';
import { ImageError } from '../src/errors';
import { defaultThreads, ortSessionOptions } from '../src/engine/engine';
import { adaptiveRounds } from '../src/uq/adaptive';
import { isEnsembleDir } from '../src/models/ensemble-files';
import { readEnsembleManifest } from '../src/models/ensemble';
import { readGate } from '../src/gate/gate-file';

const REPO = join(__dirname, '..');

for (const [text, want] of [
  ['0/4', { index: 0, count: 4 }],
  ['3/4', { index: 3, count: 4 }],
  [' 1 / 2 ', { index: 1, count: 2 }],
  ['0/1', { index: 0, count: 1 }],
] as const) {
  test(`--shard ${JSON.stringify(text)} is shard ${want.index} of ${want.count}`, () => {
    assert.deepEqual(parseShard(text), want);
  });
}

for (const bad of ['4/4', '1/0', 'a/b', '-1/3', '2', '1/2/3', '']) {
  test(`--shard ${JSON.stringify(bad)} is refused`, () => {
    assert.throws(() => parseShard(bad), /--shard/);
  });
}

test('FNV-1a 32 matches its published test vectors', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
});

for (const n of [1, 2, 3, 5, 8]) {
  test(`${n} shards partition 2,000 paths exactly, each about 1/${n}, order kept`, () => {
    const paths = Array.from({ length: 2000 }, (_, i) => `scans/box-${i % 37}/page-${i}.png`);
    const shards = Array.from({ length: n }, (_, k) => takeShard(paths, { index: k, count: n }));
    const all = shards.flat();
    assert.equal(all.length, paths.length);
    assert.equal(new Set(all).size, paths.length);
    for (const s of shards) {
      assert.ok(Math.abs(s.length - 2000 / n) < 0.15 * (2000 / n) + 10, `shard of ${s.length}`);
      const positions = s.map((p) => paths.indexOf(p));
      assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
    }
    // a path's shard depends on the path alone, not on the list it is in
    shards.forEach((s, k) => s.slice(0, 20).forEach((p) => assert.equal(shardOf(p, n), k)));
    assert.deepEqual(takeShard(paths.slice(500, 520), { index: 0, count: n }), shards[0].filter((p) => paths.slice(500, 520).includes(p)));
  });
}

test('JSON lines: a last line cut short is dropped; a bad line elsewhere names its line; records need a file', () => {
  const a = '{"file":"a.png","verdict":"digit","digit":3}\n';
  const b = '{"file":"b.png","verdict":"rejected"}\n';
  const whole = parseJsonl(a + b, 'x.jsonl');
  assert.deepEqual(whole.predictions.map((p) => p.file), ['a.png', 'b.png']);
  assert.equal(whole.partialTail, false);
  assert.equal(whole.completeBytes, Buffer.byteLength(a + b));
  const cut = parseJsonl(a + b + '{"file":"c.p', 'x.jsonl');
  assert.equal(cut.partialTail, true);
  assert.equal(cut.completeBytes, Buffer.byteLength(a + b));
  assert.deepEqual(cut.predictions.map((p) => p.file), ['a.png', 'b.png']);
  assert.equal(parseJsonl(a + b.trimEnd(), 'x').partialTail, false, 'a complete last line without its newline is kept');
  assert.throws(() => parseJsonl(a + 'oops\n' + b, 'x.jsonl'), /x\.jsonl:2: not a JSON line/);
  assert.throws(() => parseJsonl('{"verdict":"digit"}\n', 'y.jsonl'), /y\.jsonl:1: not a udq prediction/);
});

test('a file that is not udq output is refused by --resume and left as it was', () => {
  const f = join(dir, 'notes.txt');
  writeFileSync(f, 'hello, no newline');
  assert.throws(() => prepareResume(f), /not a JSON line/);
  assert.equal(readFileSync(f, 'utf8'), 'hello, no newline');
});

test('--resume refuses a picture path and --shard refuses an empty value', async () => {
  const pics = join(dir, 'pics');
  const r = await runCli(['predict', pics, '--resume', join(pics, 'sub', 'digit-7.png')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /that is a picture/);
  const s = await runCli(['predict', pics, '--shard', '']);
  assert.equal(s.code, 2);
  assert.match(s.stderr, /--shard/);
});

test("merging: an unreadable picture's row never replaces a row that read it", () => {
  const merged = mergeJsonl([
    { name: 'retry', text: '{"file":"a.png","verdict":"digit","digit":4}\n' },
    { name: 'old', text: '{"file":"a.png","verdict":"error","error":"busy disk"}\n' },
  ]);
  assert.deepEqual(merged.predictions.map((p) => p.verdict), ['digit']);
  assert.equal(merged.duplicates, 1);
});

test('merging shards: one row per picture, sorted by path, the last line of a picture wins', () => {
  const merged = mergeJsonl([
    { name: 's1', text: '{"file":"d/b.png","verdict":"error"}\n{"file":"d/c.png","verdict":"digit"}\n' },
    { name: 's0', text: '{"file":"d/a.png","verdict":"digit"}\n{"file":"d/b.png","verdict":"rejected"}\n{"file":"d/z' },
  ]);
  assert.deepEqual(merged.predictions.map((p) => `${p.file}:${p.verdict}`), ['d/a.png:digit', 'd/b.png:rejected', 'd/c.png:digit']);
  assert.equal(merged.duplicates, 1);
  assert.deepEqual(merged.partialFiles, ['s0']);
});

let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'udq-shard-'));
  const pics = join(dir, 'pics');
  mkdirSync(join(pics, 'sub'), { recursive: true });
  const mnist = loadMnist('test', 14).images;
  for (let i = 0; i < 14; i++) {
    await saveMnistPng(Float32Array.from(mnist.pixels.subarray(i * 784, (i + 1) * 784), (v) => v / 255), join(pics, i < 7 ? '' : 'sub', `digit-${i}.png`));
  }
  writeFileSync(join(pics, 'broken.png'), 'not a png');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('prepareResume cuts a partial last line off the file and retries unreadable pictures', () => {
  const f = join(dir, 'resume.jsonl');
  writeFileSync(f, '{"file":"a.png","verdict":"digit"}\n{"file":"b.png","verdict":"error","error":"x"}\n{"file":"c.p');
  const r = prepareResume(f);
  assert.deepEqual([...r.done], ['a.png']);
  assert.equal(r.droppedPartial, true);
  assert.equal(readFileSync(f, 'utf8'), '{"file":"a.png","verdict":"digit"}\n{"file":"b.png","verdict":"error","error":"x"}\n');
  assert.deepEqual([...prepareResume(join(dir, 'missing.jsonl')).done], []);
});

test('xargs -P 3 runs three shards with --resume, udq merge joins them into the single run\'s CSV; rerunning a shard adds nothing', () => {
  const pics = join(dir, 'pics');
  const out = join(dir, 'run');
  mkdirSync(out);
  const udq = `${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(join(REPO, 'test', 'helpers', 'udq-main.ts'))}`;
  // one run alone first, so the three below do not all compile the same sources at once (tsx's cache)
  execFileSync('sh', ['-c', `${udq} predict ${JSON.stringify(join(pics, 'sub'))} --samples 1 --format csv > /dev/null 2>&1 || true`], { cwd: REPO });
  const script = `printf '0\\n1\\n2\\n' | xargs -P 3 -I{} sh -c '${udq} predict ${JSON.stringify(pics)} --samples 5 --shard {}/3 --resume ${JSON.stringify(out)}/shard-{}.jsonl 2>${JSON.stringify(out)}/shard-{}.err || true'`;
  execFileSync('sh', ['-c', script], { cwd: REPO, stdio: 'pipe' });
  const shards = [0, 1, 2].map((k) => join(out, `shard-${k}.jsonl`));
  // a shard that wrote nothing says why (its stderr; an unreadable picture is expected in one of them)
  shards.forEach((f, k) => assert.ok(existsSync(f), `shard ${k} wrote nothing: ${readFileSync(join(out, `shard-${k}.err`), 'utf8')}`));
  const lines = shards.map((f) => readFileSync(f, 'utf8').trim().split('\n').filter(Boolean));
  assert.equal(lines.flat().length, 15, '14 digits and the broken file, each in one shard');
  assert.ok(lines.every((l) => l.length > 0), `every shard got pictures: ${lines.map((l) => l.length).join(', ')}`);
  const merged = execFileSync('sh', ['-c', `${udq} merge ${shards.map((f) => JSON.stringify(f)).join(' ')}`], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const single = execFileSync('sh', ['-c', `${udq} predict ${JSON.stringify(pics)} --samples 5 --format csv 2>/dev/null || true`], { cwd: REPO, encoding: 'utf8' });
  const sorted = (csv: string) => {
    const [head, ...rows] = csv.trim().split('\n');
    return [head, ...rows.sort()];
  };
  assert.deepEqual(sorted(merged), sorted(single));
  // rerun shard 0: everything readable is done, only the unreadable picture (if it is in shard 0) is tried again
  const before = readFileSync(shards[0], 'utf8');
  execFileSync('sh', ['-c', `${udq} predict ${JSON.stringify(pics)} --samples 5 --shard 0/3 --resume ${JSON.stringify(shards[0])} 2>/dev/null || true`], { cwd: REPO });
  const after = readFileSync(shards[0], 'utf8');
  const retried = before.includes('broken.png') ? 1 : 0;
  assert.equal(after.trim().split('\n').length, before.trim().split('\n').length + retried);
  assert.ok(after.startsWith(before));
});

test('a run stopped mid-write resumes: the cut line is dropped and its picture predicted again', async () => {
  const pics = join(dir, 'pics');
  const f = join(dir, 'cut.jsonl');
  const first = await runCli(['predict', pics, '--samples', '5', '--resume', f]);
  assert.equal(first.code, new ImageError('x').exitCode, 'one picture is unreadable');
  const full = readFileSync(f, 'utf8');
  const n = full.trim().split('\n').length;
  assert.equal(n, 15);
  truncateSync(f, statSync(f).size - 20); // the last line loses its end
  const again = await runCli(['predict', pics, '--samples', '5', '--resume', f]);
  assert.match(again.stderr, /cut short/);
  const text = readFileSync(f, 'utf8');
  const files = text.trim().split('\n').map((l) => JSON.parse(l).file as string);
  assert.equal(new Set(files).size, 15, 'every picture once (the unreadable one may be retried)');
  assert.ok(text.endsWith('\n'));
});

test('--format jsonl streams one line per picture with the passes it got (the shipped model\'s adaptive rounds, in all its members)', async () => {
  const r = await runCli(['predict', join(dir, 'pics', 'sub'), '--format', 'jsonl']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 7);
  const shipped = join(REPO, 'models', 'deep');
  const k = isEnsembleDir(shipped) ? readEnsembleManifest(shipped).K : 1;
  const allowed = adaptiveRounds(readGate(shipped)!.samples, k).map((round) => round * k);
  for (const p of lines) {
    assert.equal(typeof p.digit, 'number');
    assert.ok(allowed.includes(p.passes), `passes ${p.passes}, not one of ${allowed}`);
    assert.equal(p.pixels, undefined);
  }
});

for (const [value, want] of [
  ['3', 3],
  ['1', 1],
  ['0', availableParallelism()],
  ['two', availableParallelism()],
  [undefined, availableParallelism()],
] as const) {
  test(`UDQ_THREADS=${value ?? '(unset)'} gives ${want} ort threads`, () => {
    assert.equal(defaultThreads(value === undefined ? {} : { UDQ_THREADS: value }), want);
  });
}

test('sampling sessions let onnxruntime\'s threads sleep between ops; the trainer\'s may spin', () => {
  const sampling = ortSessionOptions(2);
  assert.equal(sampling.intraOpNumThreads, 2);
  assert.deepEqual(sampling.extra, { session: { intra_op: { allow_spinning: '0' } } });
  const training = ortSessionOptions(2, { spinning: true });
  assert.equal(training.extra, undefined);
});
