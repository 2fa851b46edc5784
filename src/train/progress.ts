/** Training progress: a redrawn bar on a TTY, plain lines (a few per epoch) otherwise. */
import type { Io } from '../io';

export interface BatchProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
  /** seconds left in the whole run */
  etaSeconds: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

export function formatBatchProgress(p: BatchProgress, width = 24): string {
  const frac = p.batches > 0 ? p.batch / p.batches : 1;
  const filled = Math.round(frac * width);
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
  return (
    `epoch ${p.epoch}/${p.epochs} [${bar}] ${p.batch}/${p.batches} ` +
    `loss ${p.loss.toFixed(4)} acc ${p.accuracy.toFixed(4)} ${Math.round(p.imagesPerSecond)} img/s ETA ${formatDuration(p.etaSeconds)}`
  );
}

export class ProgressPrinter {
  private lastPlain = 0;
  constructor(
    private readonly io: Io,
    private readonly plainIntervalMs = 15000,
  ) {}

  batch(p: BatchProgress): void {
    if (this.io.isTTY) {
      process.stderr.write(`\r${formatBatchProgress(p)}\x1b[K`);
      return;
    }
    const now = Date.now();
    if (now - this.lastPlain >= this.plainIntervalMs || p.batch === p.batches) {
      this.lastPlain = now;
      this.io.err(formatBatchProgress(p));
    }
  }

  line(text: string): void {
    if (this.io.isTTY) process.stderr.write('\r\x1b[K');
    this.io.err(text);
  }
}
