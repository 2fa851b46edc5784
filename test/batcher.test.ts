/** RequestBatcher (udq serve): batches by window and size, bounded admission, failures stay with their batch. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestBatcher } from '../src/serve/batcher';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('requests arriving within the window share one call, capped at maxBatch, each with its own result', async () => {
  const calls: number[][] = [];
  const b = new RequestBatcher<number, number>(async (xs) => {
    calls.push(xs);
    await sleep(5);
    return xs.map((x) => x * 10);
  }, { windowMs: 20, maxBatch: 4, maxQueue: 100 });
  const out = await Promise.all([1, 2, 3, 4, 5, 6].map((x) => (b.tryAdmit(), b.submit(x))));
  assert.deepEqual(out, [10, 20, 30, 40, 50, 60]);
  assert.deepEqual(calls, [[1, 2, 3, 4], [5, 6]]);
  assert.deepEqual(b.stats(), { requests: 6, batches: 2, largestBatch: 4, admitted: 0 });
});

test('the queue admits maxQueue requests; places come back when answered or released', async () => {
  const b = new RequestBatcher<number, number>(async (xs) => xs, { windowMs: 1, maxBatch: 8, maxQueue: 2 });
  assert.equal(b.tryAdmit(), true);
  assert.equal(b.tryAdmit(), true);
  assert.equal(b.tryAdmit(), false, 'full');
  assert.ok(b.retryAfterSeconds() >= 1);
  b.release(); // a request whose body was refused
  const answered = b.submit(7);
  assert.equal(b.stats().admitted, 1);
  assert.equal(await answered, 7);
  assert.equal(b.stats().admitted, 0);
  assert.equal(b.tryAdmit(), true);
});

test('a failing batch rejects its own requests only; the next batch runs', async () => {
  const b = new RequestBatcher<number, number>(async (xs) => {
    if (xs.includes(13)) throw new Error('unlucky');
    return xs;
  }, { windowMs: 1, maxBatch: 2, maxQueue: 10 });
  const r = [12, 13, 14].map((x) => (b.tryAdmit(), b.submit(x)));
  await assert.rejects(r[0], /unlucky/);
  await assert.rejects(r[1], /unlucky/);
  assert.equal(await r[2], 14);
  assert.equal(b.stats().admitted, 0);
});

test('a run that returns the wrong number of results rejects the batch', async () => {
  const b = new RequestBatcher<number, number>(async (xs) => xs.slice(1), { windowMs: 1, maxBatch: 4, maxQueue: 10 });
  const r = [1, 2].map((x) => (b.tryAdmit(), b.submit(x)));
  await assert.rejects(r[0], /gave 1 results/);
  await assert.rejects(r[1], /gave 1 results/);
  assert.equal(b.stats().admitted, 0);
});

test('drain waits for the running batch and the waiting ones', async () => {
  const done: number[] = [];
  const b = new RequestBatcher<number, number>(async (xs) => {
    await sleep(20);
    done.push(...xs);
    return xs;
  }, { windowMs: 1, maxBatch: 1, maxQueue: 10 });
  await b.drain(); // idle: at once
  const r = [1, 2].map((x) => (b.tryAdmit(), b.submit(x)));
  await sleep(5);
  await b.drain();
  assert.deepEqual(done, [1, 2]);
  await Promise.all(r);
});
