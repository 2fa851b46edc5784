/**
 * `udq serve` under load (issue #20): requests/s with 1 client and with 16 concurrent clients
 * (each sends its pictures one after another), whether every picture got the same verdict,
 * digit and p(reject) both ways, then a burst of 1,000 simultaneous requests: how many were
 * answered 200 / 503, the Retry-After given, and the process's peak RSS.
 *
 *   node --import tsx scripts/bench-serve.ts [--model models/deep] [--requests 320]
 *        [--batch 32] [--window 5] [--queue 256]
 */
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadUdq } from '../src/library';
import { startServer } from '../src/serve/server';
import { loadMnist } from '../src/data/mnist';
import { mnistPng } from '../src/image/load';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/deep' },
    requests: { type: 'string', default: '320' },
    batch: { type: 'string', default: '32' },
    window: { type: 'string', default: '5' },
    queue: { type: 'string', default: '256' },
  },
});

(async () => {
  const udq = await loadUdq(args.model);
  const server = await startServer(udq, { port: 0, limits: { maxBatch: Number(args.batch), batchWindowMs: Number(args.window), maxQueue: Number(args.queue) } });
  const count = Number(args.requests);
  const mnist = loadMnist('test', 64);
  // pictures as the drawing page sends them: a 280 px PNG of a digit
  const pictures = await Promise.all(
    Array.from({ length: 64 }, async (_, i) => sharp(await mnistPng(Float32Array.from(mnist.images.pixels.subarray(i * 784, (i + 1) * 784), (v) => v / 255))).resize(280, 280).png().toBuffer()),
  );
  type Answer = { status: number; verdict?: string; digit?: number; gateProbability?: number; retryAfter?: string | null };
  const ask = async (i: number): Promise<Answer> => {
    const res = await fetch(server.url + 'api/predict', { method: 'POST', headers: { 'content-type': 'image/png' }, body: pictures[i % pictures.length] });
    const json = (await res.json()) as Answer;
    return { status: res.status, verdict: json.verdict, digit: json.digit, gateProbability: json.gateProbability, retryAfter: res.headers.get('retry-after') };
  };
  const run = async (clients: number): Promise<{ perSecond: number; answers: Answer[] }> => {
    const answers: Answer[] = new Array(count);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < count) {
          const i = next++;
          answers[i] = await ask(i);
        }
      }),
    );
    return { perSecond: count / ((performance.now() - t0) / 1000), answers };
  };
  await run(4); // warm up
  const one = await run(1);
  const sixteen = await run(16);
  const same = one.answers.filter((a, i) => a.verdict === sixteen.answers[i].verdict && a.digit === sixteen.answers[i].digit && a.gateProbability === sixteen.answers[i].gateProbability).length;
  const info = (await (await fetch(server.url + 'api/info')).json()) as { batching: unknown; engine: string; sampling: string };
  console.log(`${args.model} on ${info.engine}, ${info.sampling} sampling, 280 px PNG drawings of MNIST test digits, ${count} requests per run`);
  console.log(`1 client: ${one.perSecond.toFixed(1)} requests/s; 16 concurrent clients: ${sixteen.perSecond.toFixed(1)} requests/s = ${(sixteen.perSecond / one.perSecond).toFixed(2)}x; all 200: ${[...one.answers, ...sixteen.answers].every((a) => a.status === 200)}; same verdict, digit and p(reject): ${same}/${count}`);
  const rssBefore = process.memoryUsage().rss;
  const burst = await Promise.all(Array.from({ length: 1000 }, (_, i) => ask(i)));
  const ok = burst.filter((a) => a.status === 200).length;
  const busy = burst.filter((a) => a.status === 503);
  const retry = [...new Set(busy.map((a) => a.retryAfter))].join(', ');
  console.log(`burst of 1,000 at once: ${ok} answered 200, ${busy.length} 503 (Retry-After ${retry || '-'}), other ${1000 - ok - busy.length}; RSS ${(rssBefore / 2 ** 20).toFixed(0)} MB before, peak ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  console.log(`batching: ${JSON.stringify(((await (await fetch(server.url + 'api/info')).json()) as { batching: unknown }).batching)}`);
  await server.close();
  udq.dispose();
})();
