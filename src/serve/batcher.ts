/**
 * Batches concurrent requests into one call (`udq serve`): requests wait in a bounded queue; a
 * batch starts `windowMs` after the first request arrives at an idle batcher (or at once when
 * `maxBatch` are waiting, or when the previous batch ends with requests waiting), takes up to
 * `maxBatch` of them in arrival order, and hands each its own result. One batch runs at a time
 * (the model is shared). A request counts against `maxQueue` from `tryAdmit` (before its body
 * is read) until its result is handed back, so memory is bounded by maxQueue bodies.
 */
export interface BatcherLimits {
  /** how long an idle batcher waits for more requests before it starts a batch (ms) */
  windowMs: number;
  /** most requests per batch */
  maxBatch: number;
  /** most requests admitted at once (being read, waiting or in the running batch) */
  maxQueue: number;
}

export interface BatcherStats {
  requests: number;
  batches: number;
  largestBatch: number;
  /** requests admitted now */
  admitted: number;
}

interface Waiting<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

export class RequestBatcher<I, O> {
  private admittedCount = 0;
  private readonly waiting: Waiting<I, O>[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly counts = { requests: 0, batches: 0, largestBatch: 0 };
  /** seconds per request of recent batches (exponentially weighted): for Retry-After */
  private secondsPerRequest = 0.05;
  private readonly drained: (() => void)[] = [];

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    readonly limits: BatcherLimits,
  ) {}

  /** Reserve a place for one request; false when the queue is full (answer 503). */
  tryAdmit(): boolean {
    if (this.admittedCount >= this.limits.maxQueue) return false;
    this.admittedCount++;
    return true;
  }

  /** Give back a place taken by `tryAdmit` for a request that will not be submitted (a bad body). */
  release(): void {
    this.admittedCount = Math.max(0, this.admittedCount - 1);
  }

  /** Seconds a client refused now should wait before trying again (at least 1). */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.admittedCount * this.secondsPerRequest));
  }

  /** Resolves when no batch runs and none waits (a server closing before the model is released). */
  drain(): Promise<void> {
    if (!this.running && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  stats(): BatcherStats {
    return { ...this.counts, admitted: this.admittedCount };
  }

  /** Queue an admitted request; resolves with its own result. Its place is released when it settles. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      let settled = false;
      const done = <T>(f: (v: T) => void) => (v: T) => {
        if (settled) return;
        settled = true;
        this.release();
        f(v);
      };
      this.waiting.push({ item, resolve: done(resolve), reject: done(reject) });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running) return;
    if (this.waiting.length >= this.limits.maxBatch) {
      this.start();
      return;
    }
    if (!this.timer && this.waiting.length > 0) {
      this.timer = setTimeout(() => this.start(), this.limits.windowMs);
    }
  }

  private start(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.running || this.waiting.length === 0) return;
    this.running = true;
    const batch = this.waiting.splice(0, this.limits.maxBatch);
    this.counts.requests += batch.length;
    this.counts.batches++;
    this.counts.largestBatch = Math.max(this.counts.largestBatch, batch.length);
    const t0 = performance.now();
    this.run(batch.map((w) => w.item))
      .then(
        (out) => {
          if (out.length !== batch.length) throw new Error(`batch of ${batch.length} gave ${out.length} results`);
          batch.forEach((w, i) => w.resolve(out[i]));
        },
        (e: unknown) => batch.forEach((w) => w.reject(e)),
      )
      .catch((e: unknown) => batch.forEach((w) => w.reject(e)))
      .finally(() => {
        const perRequest = (performance.now() - t0) / 1000 / batch.length;
        this.secondsPerRequest = 0.7 * this.secondsPerRequest + 0.3 * perRequest;
        this.running = false;
        // requests that arrived during the batch have waited already: start at once
        if (this.waiting.length > 0) this.start();
        else this.drained.splice(0).forEach((resolve) => resolve());
      });
  }
}
