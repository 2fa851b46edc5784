import assert from 'node:assert/strict';

/** Assert |actual - expected| <= tolerance, naming what was compared. */
export function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: got ${actual}, expected ${expected} (tolerance ${tolerance})`,
  );
}
