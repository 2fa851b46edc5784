/**
 * The picture pipeline on worker threads (`udq predict DIR`): pictures are decoded and turned
 * into 28x28 images by `threads` workers while the main thread samples the previous batch.
 * Each worker runs exactly `loadImageAsMnist`, so its images are byte-identical to the
 * in-process ones (tested). Jobs go to the worker with the fewest outstanding; answers come
 * back by job id, so callers get them in their own order. A worker that dies fails its own
 * jobs (errors that are not ImageErrors) and is replaced.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { ImageError } from '../errors';
import type { InkOption, PipelineInfo } from './pipeline';

export interface DecodeJob {
  id: number;
  /** a path, or the picture's bytes */
  input: string | Uint8Array;
  ink?: InkOption;
  name: string;
}

export interface DecodeReply {
  id: number;
  pixels?: Float32Array;
  info?: PipelineInfo | null;
  error?: string;
  errorName?: string;
}

export interface DecodedImage {
  pixels: Float32Array;
  info: PipelineInfo | null;
}

interface Slot {
  worker: Worker;
  outstanding: number;
  restarts: number;
}

/** Times one slot's worker is replaced after dying before the pool gives up. */
const MAX_RESTARTS = 3;

/** The worker's entry: the compiled .js beside this file, or the .ts source through tsx (tests, scripts). */
function workerSource(): { code: string; eval: boolean } {
  const ts = __filename.endsWith('.ts');
  const file = join(__dirname, ts ? 'decode-worker.ts' : 'decode-worker.js');
  if (!ts) return { code: file, eval: false };
  // a worker does not inherit the parent's --import hooks: register tsx inside it
  return { code: `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(file)});`, eval: true };
}

export class DecodePool {
  private readonly slots: Slot[];
  private readonly pending = new Map<number, { resolve: (d: DecodedImage) => void; reject: (e: Error) => void; slot: Slot }>();
  private nextId = 0;
  private failure: Error | null = null;
  private closing = false;
  private readonly src = workerSource();

  constructor(readonly threads: number) {
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`decode threads must be a positive integer, got ${threads}`);
    this.slots = Array.from({ length: threads }, () => {
      const slot: Slot = { worker: null as unknown as Worker, outstanding: 0, restarts: 0 };
      this.start(slot);
      return slot;
    });
  }

  /** (Re)start a slot's worker. A worker that dies fails only its own jobs and is replaced, up to MAX_RESTARTS times. */
  private start(slot: Slot): void {
    const worker = new Worker(this.src.code, { eval: this.src.eval });
    slot.worker = worker;
    let ended = false;
    const died = (e: Error) => {
      if (ended || this.closing) return;
      ended = true;
      for (const [id, p] of this.pending) {
        if (p.slot !== slot) continue;
        this.pending.delete(id);
        p.reject(e);
      }
      slot.outstanding = 0;
      if (slot.restarts++ < MAX_RESTARTS) this.start(slot);
      else this.failure ??= e;
    };
    worker.on('message', (reply: DecodeReply) => this.answer(reply));
    worker.on('error', (e) => died(e));
    worker.on('exit', (code) => died(new Error(`a decode worker stopped (exit code ${code})`)));
  }

  /** The picture's 28x28 image as `loadImageAsMnist` makes it; rejects with an ImageError as it would. */
  decode(input: string | Uint8Array, opts: { ink?: InkOption; name: string }): Promise<DecodedImage> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('the decode pool is closed'));
    const slot = this.slots.reduce((a, b) => (b.outstanding < a.outstanding ? b : a));
    const id = this.nextId++;
    return new Promise<DecodedImage>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      slot.outstanding++;
      // bytes are copied (the caller keeps its buffer); paths are plain strings
      const job: DecodeJob = { id, input: typeof input === 'string' ? input : Uint8Array.from(input), ink: opts.ink, name: opts.name };
      slot.worker.postMessage(job);
    });
  }

  private answer(reply: DecodeReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    p.slot.outstanding = Math.max(0, p.slot.outstanding - 1);
    if (reply.pixels) p.resolve({ pixels: reply.pixels, info: reply.info ?? null });
    else {
      const e = reply.errorName === 'ImageError' ? new ImageError(reply.error ?? 'cannot read the picture') : new Error(reply.error ?? 'decode failed');
      p.reject(e);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
