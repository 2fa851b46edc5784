/**
 * A decode worker (decode-pool.ts): reads pictures and runs the picture pipeline off the main
 * thread, answering each job with the 28x28 image and the pipeline's facts, or the error.
 */
import { parentPort } from 'node:worker_threads';
import { loadImageAsMnist } from './load';
import type { DecodeJob, DecodeReply } from './decode-pool';

parentPort!.on('message', (job: DecodeJob) => {
  const input = typeof job.input === 'string' ? job.input : Buffer.from(job.input.buffer, job.input.byteOffset, job.input.byteLength);
  loadImageAsMnist(input, { ink: job.ink, name: job.name }).then(
    (img) => {
      const reply: DecodeReply = { id: job.id, pixels: img.pixels, info: img.info };
      parentPort!.postMessage(reply, [img.pixels.buffer as ArrayBuffer]);
    },
    (e: unknown) => {
      const err = e as Error;
      const reply: DecodeReply = { id: job.id, error: err.message, errorName: err.name };
      parentPort!.postMessage(reply);
    },
  );
});
