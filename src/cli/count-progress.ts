/** A progress bar for counted work on stderr: redrawn in place on a terminal, plain lines every 10 s otherwise. */
import type { Io } from './common';
import { formatDuration } from '../train/progress';

/** `label [#####-----] done/total rate/s ETA`; pure. */
export function formatCountProgress(label: string, done: number, total: number, seconds: number, width = 24): string {
  const f = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(f * width);
  const rate = done / Math.max(seconds, 1e-3);
  const eta = rate > 0 ? (total - done) / rate : 0;
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${rate.toFixed(1)}/s ETA ${formatDuration(eta)}`;
}

export class CountProgress {
  private readonly t0 = Date.now();
  private lastPlain = 0;
  constructor(
    private readonly io: Io,
    private readonly label: string,
    private readonly total: number,
  ) {}

  update(done: number): void {
    const text = formatCountProgress(this.label, done, this.total, (Date.now() - this.t0) / 1000);
    if (this.io.isTTY) {
      process.stderr.write(`\r${text}\x1b[K`);
      return;
    }
    const now = Date.now();
    if (now - this.lastPlain >= 10000 || done === this.total) {
      this.lastPlain = now;
      this.io.err(text);
    }
  }

  done(): void {
    if (this.io.isTTY) process.stderr.write('\n');
  }
}
