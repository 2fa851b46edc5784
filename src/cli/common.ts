/** Shared CLI helpers: option parsing, output, error handling. No maths here. */
import { InvalidArgumentError } from 'commander';
import { UdqError, UsageError } from '../errors';

/** commander argParser for a positive integer option. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

/** commander argParser for a non-negative integer option (seeds). */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  return n;
}

/** commander argParser for a number in the open interval (0, 1). */
export function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n >= 1) throw new InvalidArgumentError(`expected a number between 0 and 1, got "${value}"`);
  return n;
}

/** commander argParser for a number in [0, 1). */
export function fractionOrZero(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError(`expected a number in [0, 1), got "${value}"`);
  return n;
}

export function choice<T extends string>(allowed: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}, got "${value}"`);
    }
    return value as T;
  };
}

/** What predict and serve say when a model has no gate (only the input sanity check can reject). */
export function noGateNote(dir: string): string {
  return `note: ${dir} has no gate.json, so only the input sanity check can reject (run: udq calibrate --model ${dir})`;
}

/** Help text of the `--engine` option every sampling command has. */
export const ENGINE_OPTION_HELP = 'sampling engine: ort (onnxruntime-node, when installed) or tfjs (default: ort if it loads; env UDQ_ENGINE)';

import type { Io } from '../io';

export { processIo } from '../io';
export type { Io } from '../io';

export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/** Format a rows-of-cells table with aligned columns. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  return cells
    .map((r) => r.map((c, i) => String(c ?? '').padEnd(widths[i])).join('  ').trimEnd())
    .join('\n');
}

export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  return x.toFixed(4);
}

export function usage(message: string): never {
  throw new UsageError(message);
}

export function isUdqError(e: unknown): e is UdqError {
  return e instanceof UdqError;
}
