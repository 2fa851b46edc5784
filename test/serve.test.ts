/**
 * `udq serve` (issue #11): the predict API's answers and limits in-process, then the real
 * command in its own process driven by headless Chromium (Debian's `chromium`, through
 * playwright-core): a 3 and a 中 drawn with pointer events, their verdicts read off the page,
 * a screenshot saved. Without a Chromium the browser test is skipped, unless
 * UDQ_REQUIRE_BROWSER=1 (set by .ci/run, which installs it) makes that a failure.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadUdq, Udq } from '../src/library';
import { RunningServer, startServer } from '../src/serve/server';
import { loadMnist } from '../src/data/mnist';
import { mnistPng } from '../src/image/load';

// what the page functions below use of the browser's DOM (the project compiles without the DOM library)
declare const document: { body: { dataset: Record<string, string | undefined> }; getElementById(id: string): { textContent: string | null } | null };

const REPO = join(__dirname, '..');
const FIG = (name: string) => readFileSync(join(REPO, 'figures', name));
const ROOT = mkdtempSync(join(tmpdir(), 'udq-serve-'));
const CHROMIUM = process.env.UDQ_CHROMIUM ?? '/usr/bin/chromium';

let udq: Udq;
let server: RunningServer;

before(async () => {
  udq = await loadUdq(join(REPO, 'models', 'basic'), { backend: 'wasm' });
  server = await startServer(udq, { port: 0, samples: 30, limits: { maxBodyBytes: 200_000, maxPixels: 2_000_000, maxQueue: 3 } });
});

after(async () => {
  await server.close();
  udq.dispose();
  rmSync(ROOT, { recursive: true, force: true });
});

async function post(body: Buffer | string, type = 'image/png', path = 'api/predict'): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': type }, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

test('POST /api/predict answers the verdict, the class probabilities and spreads, and the 28x28 image', async () => {
  const three = await post(FIG('3.png'));
  assert.equal(three.status, 200, JSON.stringify(three.json));
  assert.equal(three.json.verdict, 'digit');
  assert.equal(three.json.digit, 3);
  assert.equal((three.json.classProbabilities as number[]).length, 10);
  assert.equal((three.json.classStd as number[]).length, 10);
  assert.equal(three.json.threshold, udq.gate!.threshold);
  assert.equal(three.json.samples, 30);
  const png = Buffer.from(String(three.json.image28).replace(/^data:image\/png;base64,/, ''), 'base64');
  const meta = await sharp(png).metadata();
  assert.deepEqual([meta.width, meta.height], [28, 28]);
  const zhong = await post(FIG('zhong.png'));
  assert.equal(zhong.json.verdict, 'rejected');
  const jpeg = await post(await sharp(FIG('8.png')).flatten({ background: '#fff' }).jpeg().toBuffer(), 'image/jpeg');
  assert.equal(jpeg.json.digit, 8);
  assert.equal(jpeg.json.passes, 30, 'the passes the picture got (fixed --samples 30, one model)');
  // the page's line "samples itself N times" reads these: a single model, sampled at fixed passes
  const info = (await (await fetch(server.url + 'api/info')).json()) as Record<string, unknown>;
  assert.deepEqual([info.samples, info.members, info.ensembleMode, info.sampling], [30, 1, null, 'fixed']);
});

test('bad requests get a 4xx with a JSON error, and the server keeps serving', async () => {
  const cases: [string, Promise<{ status: number; json: Record<string, unknown> }>, number, RegExp][] = [
    ['wrong content type', post('hello', 'text/plain'), 415, /content type/],
    ['empty body', post(Buffer.alloc(0)), 400, /empty/],
    ['not a picture', post(Buffer.from('GIF89a but not really')), 400, /not a readable picture/],
    ['truncated PNG', post(FIG('3.png').subarray(0, 60)), 400, /picture/],
    ['body over the limit', post(Buffer.alloc(300_000, 1)), 413, /limit/],
    ['picture over the pixel limit', post(await sharp({ create: { width: 2000, height: 1500, channels: 3, background: '#fff' } }).png().toBuffer()), 413, /pixels/],
  ];
  for (const [what, pending, status, message] of cases) {
    const r = await pending;
    assert.equal(r.status, status, `${what}: ${JSON.stringify(r.json)}`);
    assert.match(String(r.json.error), message, what);
  }
  const get = await fetch(server.url + 'api/predict');
  assert.equal(get.status, 405);
  for (const path of ['..%2Fpackage.json', 'web/index.html', '%2e%2e/%2e%2e/etc/passwd', 'app.js/../../package.json']) {
    const r = await fetch(server.url + path);
    assert.equal(r.status, 404, path);
  }
  assert.equal((await post(FIG('8.png'))).json.digit, 8, 'still serving');
});

test('a port already in use is a usage error that says so', async () => {
  const port = Number(new URL(server.url).port);
  await assert.rejects(startServer(udq, { port }), (e: Error & { exitCode?: number }) => /in use/.test(e.message) && e.exitCode === 2);
});

test('concurrent requests: up to the queue limit are scored, the rest get 503 with Retry-After, nothing is lost or mixed up', async () => {
  const figures = ['3.png', '8.png', 'zhong.png', 'yoda.png'];
  const send = async (figure: string) => {
    const res = await fetch(server.url + 'api/predict', { method: 'POST', headers: { 'content-type': 'image/png' }, body: FIG(figure) });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), json: (await res.json()) as Record<string, unknown>, figure };
  };
  const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => send(figures[i % 4])));
  for (const r of replies.filter((x) => x.status === 503)) assert.ok(Number(r.retryAfter) >= 1, `Retry-After ${r.retryAfter}`);
  const ok = replies.filter((r) => r.status === 200);
  const busy = replies.filter((r) => r.status === 503);
  assert.equal(ok.length + busy.length, 12, JSON.stringify(replies.map((r) => r.status)));
  assert.ok(ok.length >= 3, `${ok.length} answered`);
  assert.ok(busy.length >= 1, 'the queue of 3 turned some away');
  for (const r of ok) {
    const want = r.figure === '3.png' ? ['digit', 3] : r.figure === '8.png' ? ['digit', 8] : ['rejected'];
    assert.deepEqual([r.json.verdict, ...(want.length > 1 ? [r.json.digit] : [])], want, r.figure);
  }
  assert.equal((await post(FIG('3.png'))).status, 200, 'free again afterwards');
});

test('batching: 16 clients at once each get their own answer, equal to the answer alone, in fewer sampling calls', async () => {
  const batched = await startServer(udq, { port: 0, limits: { batchWindowMs: 20, maxBatch: 8 } });
  try {
    const digits = loadMnist('test', 16);
    const pngs = await Promise.all(Array.from({ length: 16 }, (_, i) => mnistPng(Float32Array.from(digits.images.pixels.subarray(i * 784, (i + 1) * 784), (v) => v / 255))));
    const ask = async (png: Buffer) => (await (await fetch(batched.url + 'api/predict', { method: 'POST', headers: { 'content-type': 'image/png' }, body: png })).json()) as Record<string, unknown>;
    const together = await Promise.all(pngs.map(ask));
    const info = (await (await fetch(batched.url + 'api/info')).json()) as { batching: { requests: number; batches: number; largestBatch: number } };
    assert.equal(info.batching.requests, 16);
    assert.ok(info.batching.batches < 16 && info.batching.largestBatch > 1 && info.batching.largestBatch <= 8, JSON.stringify(info.batching));
    for (const [i, png] of pngs.entries()) {
      const alone = await ask(png);
      assert.deepEqual([together[i].verdict, together[i].digit, together[i].passes, together[i].gateProbability], [alone.verdict, alone.digit, alone.passes, alone.gateProbability], `picture ${i}`);
    }
    assert.ok(together.filter((r, i) => r.digit === digits.labels![i]).length >= 15, 'the answers are the pictures\' own digits');
  } finally {
    await batched.close();
  }
});

const browserMissing = !existsSync(CHROMIUM) && process.env.UDQ_REQUIRE_BROWSER !== '1';

test('in Chromium: draw a 3 and a 中 with pointer events, read the verdicts off the page', { skip: browserMissing ? `no Chromium at ${CHROMIUM} (apt-get install chromium)` : false, timeout: 5 * 60 * 1000 }, async () => {
  const { chromium } = await import('playwright-core');
  const proc = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'test', 'helpers', 'udq-main.ts'), 'serve', '--port', '0', '--model', join(REPO, 'models', 'deep'), '--samples', '40'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /udq serve: (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`udq serve exited with ${code}: ${stderr}`)));
  });
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'loopback by default');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 980, height: 780 } });
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');
    // the shipped ensemble's members are each sampled 40 times (--samples 40): the page says how many passes in all
    const ensembleFile = join(REPO, 'models', 'deep', 'ensemble.json');
    const members: number = existsSync(ensembleFile) ? JSON.parse(readFileSync(ensembleFile, 'utf8')).K : 1;
    assert.equal(await page.locator('#samples').textContent(), members > 1 ? `${40 * members} times (${members} members, 40 each) with dropout on` : '40 times with dropout on');
    const box = (await page.locator('#canvas').boundingBox())!;
    const at = (x: number, y: number) => [box.x + (x / 280) * box.width, box.y + (y / 280) * box.height] as const;
    const stroke = async (points: [number, number][]) => {
      await page.mouse.move(...at(...points[0]));
      await page.mouse.down();
      for (const p of points.slice(1)) await page.mouse.move(...at(...p), { steps: 3 });
      await page.mouse.up();
    };
    const arc = (cx: number, cy: number, r: number, from: number, to: number): [number, number][] =>
      Array.from({ length: 14 }, (_, i) => {
        const a = ((from + ((to - from) * i) / 13) * Math.PI) / 180;
        return [cx + r * Math.cos(a), cy + r * Math.sin(a)];
      });
    // the page numbers its requests: wait until the latest one is answered
    const verdict = async () => {
      await page.waitForFunction(() => document.body.dataset.requested !== undefined && document.body.dataset.answered === document.body.dataset.requested);
      return page.evaluate(() => ({ verdict: document.body.dataset.verdict, digit: document.body.dataset.digit, text: document.getElementById('verdict')!.textContent }));
    };
    // a 3: two bowls, one stroke
    await stroke([...arc(140, 90, 45, 200, 430), ...arc(140, 180, 48, -90, 150)]);
    const three = await verdict();
    assert.equal(three.verdict, 'digit', JSON.stringify(three));
    assert.equal(three.digit, '3');
    assert.match((await page.locator('#stats').textContent())!, new RegExp(` ${40 * members} samples `), 'the passes the picture got');
    assert.equal(await page.locator('#bars .bar').count(), 10);
    assert.ok(await page.locator('#seen').getAttribute('src'), 'the 28x28 image is shown');
    await page.screenshot({ path: join(ROOT, 'serve-three.png') });
    if (process.env.UDQ_SCREENSHOT) await page.screenshot({ path: process.env.UDQ_SCREENSHOT });
    // clear, then 中: a box and a long vertical stroke
    await page.click('#clear');
    await stroke([[75, 95], [205, 95]]);
    await stroke([[75, 95], [75, 185]]);
    await stroke([[205, 95], [205, 185]]);
    await stroke([[75, 185], [205, 185]]);
    await stroke([[140, 35], [140, 250]]);
    const zhong = await verdict();
    assert.equal(zhong.verdict, 'rejected', JSON.stringify(zhong));
    await page.screenshot({ path: join(ROOT, 'serve-zhong.png') });
    if (process.env.UDQ_SCREENSHOT_REJECTED) await page.screenshot({ path: process.env.UDQ_SCREENSHOT_REJECTED });
    assert.ok(statSync(join(ROOT, 'serve-three.png')).size > 10_000);
    // undo the last stroke: the page asks again
    await page.click('#undo');
    const undone = await verdict();
    assert.ok(undone.verdict === 'digit' || undone.verdict === 'rejected', JSON.stringify(undone));
  } finally {
    await browser.close();
    proc.kill('SIGTERM');
  }
  assert.equal(await exited, 0, `udq serve stopped cleanly on SIGTERM: ${stderr}`);
});
