/**
 * udq as a library (issue #11): the API in-process on the shipped figures and real MNIST
 * digits, the layering rule (nothing outside src/cli imports from it), and the packed
 * package installed into a temporary project and used from CommonJS and TypeScript.
 * The install takes its tarballs from the npm cache (`npm ci` filled it), about 40 s.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as udq from '../src/index';
import { loadMnist } from '../src/data/mnist';

const REPO = join(__dirname, '..');
const FIG = (name: string) => join(REPO, 'figures', name);
const ROOT = mkdtempSync(join(tmpdir(), 'udq-library-'));

after(() => rmSync(ROOT, { recursive: true, force: true }));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('no module under src/ outside src/cli/ imports from src/cli/', () => {
  const offenders = filesUnder(join(REPO, 'src'))
    .filter((f) => !relative(join(REPO, 'src'), f).startsWith('cli'))
    .filter((f) => /from ['"](\.\.?\/)+cli\//.test(readFileSync(f, 'utf8')) || /require\(['"](\.\.?\/)+cli\//.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders.map((f) => relative(REPO, f)), []);
});

test('loadUdq scores paths, encoded pictures and 28x28 arrays like udq predict', async () => {
  const model = await udq.loadUdq(join(REPO, 'models', 'basic'), { backend: 'wasm' });
  assert.equal(model.arch, 'basic');
  assert.ok(model.gate, 'the shipped model has a gate');
  const byPath = await model.predict([FIG('3.png'), FIG('8.png'), FIG('yoda.png'), FIG('zhong.png')], { samples: 30 });
  assert.deepEqual(byPath.map((p) => [p.verdict, p.verdict === 'digit' ? p.digit : null]), [['digit', 3], ['digit', 8], ['rejected', null], ['rejected', null]]);
  assert.equal(byPath[0].pixels?.length, 784);
  // the same picture as bytes gives the same numbers
  const [bytes] = await model.predict(readFileSync(FIG('3.png')), { samples: 30, detail: true, keepPixels: false });
  assert.equal(bytes.gateProbability, byPath[0].gateProbability);
  assert.equal(bytes.pixels, undefined);
  assert.equal(bytes.classProbabilities?.length, 10);
  assert.equal(bytes.classStd?.length, 10);
  assert.ok(Math.abs(bytes.classProbabilities!.reduce((a, b) => a + b, 0) - 1) < 1e-4);
  // real MNIST test digits as pixel arrays, 0..255
  const test = loadMnist('test', 20);
  const inputs = Array.from({ length: 20 }, (_, i) => ({ pixels: test.images.pixels.subarray(i * 784, (i + 1) * 784), name: `mnist ${i}` }));
  const digits = await model.predict(inputs, { samples: 20 });
  const right = digits.filter((p, i) => p.digit === test.labels![i]).length;
  assert.ok(right >= 19, `${right}/20 MNIST digits read right`);
  assert.equal(digits[4].file, 'mnist 4');
  // bad inputs are error rows, not exceptions
  const bad = await model.predict([{ pixels: new Float32Array(100) }, Buffer.from('not a picture'), join(ROOT, 'missing.png')]);
  assert.deepEqual(bad.map((p) => p.verdict), ['error', 'error', 'error']);
  assert.match(bad[0].error!, /784/);
  model.dispose();
});

test('the library exposes the sampler, test-time views, the gate fit, metrics and IDX I/O', () => {
  const gate = udq.fitRejectGate([[0], [0.1], [0.9], [1]], [0, 0, 1, 1]);
  assert.ok(udq.predictProba(gate, [1]) > 0.5 && udq.predictProba(gate, [0]) < 0.5);
  assert.equal(udq.auroc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1);
  const file = join(ROOT, 'x.idx');
  udq.writeIdx(file, { dims: [2, 2], data: new Uint8Array([1, 2, 3, 4]) });
  assert.deepEqual(Array.from(udq.readIdx(file).data), [1, 2, 3, 4]);
  assert.equal(udq.viewsSpec(udq.parseViews('id, r8')!), 'id,r+8');
  for (const name of ['sampleMcDropout', 'summariseSamples', 'calibrateGate', 'train', 'exportOnnx', 'loadAdversary', 'listSources', 'withViews', 'sampleThroughViews']) {
    assert.equal(typeof (udq as Record<string, unknown>)[name], 'function', name);
  }
});

test('the packed package installs into a fresh project and works from CommonJS and TypeScript', { timeout: 10 * 60 * 1000 }, () => {
  const packDir = join(ROOT, 'pack');
  mkdirSync(packDir);
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', packDir], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop()!;
  const project = join(ROOT, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  // tarballs come from the npm cache; ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node uses the CPU binaries it ships
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(packDir, tarball)], {
    cwd: project,
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  writeFileSync(
    join(project, 'use.js'),
    `const { loadUdq, pickEngine } = require('udq');
const path = require('path');
(async () => {
  const figures = path.join(path.dirname(require.resolve('udq/package.json')), 'figures');
  const model = await loadUdq();
  const results = await model.predict(['3.png', '8.png', 'yoda.png', 'zhong.png'].map((f) => path.join(figures, f)), { keepPixels: false });
  console.log(JSON.stringify({ arch: model.arch, engine: model.engine, ort: pickEngine().engine, results: results.map((r) => [path.basename(r.file), r.verdict, r.digit]) }));
  model.dispose();
})().catch((e) => { console.error(e); process.exit(1); });
`,
  );
  const out = JSON.parse(execFileSync(process.execPath, ['use.js'], { cwd: project, encoding: 'utf8' }).trim().split('\n').pop()!);
  assert.equal(out.arch, 'deep', 'the default model is the shipped deep one');
  assert.equal(out.engine, 'ort', 'onnxruntime-node installed from the cache and loaded');
  assert.deepEqual(
    out.results.map((r: [string, string, number]) => [r[0], r[1], r[1] === 'digit' ? r[2] : null]),
    [['3.png', 'digit', 3], ['8.png', 'digit', 8], ['yoda.png', 'rejected', null], ['zhong.png', 'rejected', null]],
  );
  // TypeScript: the declarations resolve (a wrong argument type is an error, so they are not `any`)
  writeFileSync(
    join(project, 'use.ts'),
    `import { loadUdq, Prediction, auroc, UdqPredictOptions } from 'udq';
async function main(): Promise<void> {
  const model = await loadUdq();
  const opts: UdqPredictOptions = { samples: 10, detail: true };
  const results: Prediction[] = await model.predict(Buffer.from([]), opts);
  const digit: number | undefined = results[0].digit;
  const a: number = auroc([0.1, 0.9], [0, 1]);
  // @ts-expect-error a number is not a model directory
  await loadUdq(42);
  console.log(digit, a);
}
void main();
`,
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, module: 'commonjs', target: 'ES2022', moduleResolution: 'node', noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(REPO, 'node_modules', '@types')] }, files: ['use.ts'] }),
  );
  try {
    execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project, encoding: 'utf8' });
  } catch (e) {
    assert.fail(`tsc on the consumer failed: ${(e as { stdout?: string }).stdout ?? e}`);
  }
});
