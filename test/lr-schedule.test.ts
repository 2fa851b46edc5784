import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scheduledLearningRate } from '../src/train/train';

const CASES: { name: string; o: Parameters<typeof scheduledLearningRate>[0]; epoch: number; step: number; total: number; want: number }[] = [
  { name: 'decay, first epoch: the base rate', o: { learningRate: 0.01, lrDecay: 0.5, lrSchedule: 'decay' }, epoch: 1, step: 7, total: 100, want: 0.01 },
  { name: 'decay, third epoch: base x decay^2', o: { learningRate: 0.01, lrDecay: 0.5, lrSchedule: 'decay' }, epoch: 3, step: 70, total: 100, want: 0.0025 },
  { name: 'no schedule given: decay (old checkpoints)', o: { learningRate: 0.01, lrDecay: 0.7 }, epoch: 2, step: 50, total: 100, want: 0.007 },
  { name: 'cosine, first batch: the peak', o: { learningRate: 0.004, lrDecay: 1, lrSchedule: 'cosine' }, epoch: 1, step: 0, total: 100, want: 0.004 },
  { name: 'cosine, half way: half the peak', o: { learningRate: 0.004, lrDecay: 1, lrSchedule: 'cosine' }, epoch: 1, step: 50, total: 100, want: 0.002 },
  { name: 'cosine, a quarter: (1 + cos(pi/4)) / 2 of the peak', o: { learningRate: 0.004, lrDecay: 1, lrSchedule: 'cosine' }, epoch: 1, step: 25, total: 100, want: 0.004 * (1 + Math.SQRT1_2) / 2 },
  { name: 'cosine ignores lrDecay', o: { learningRate: 0.004, lrDecay: 0.5, lrSchedule: 'cosine' }, epoch: 2, step: 50, total: 100, want: 0.002 },
  { name: 'cosine, past the end (more epochs on resume): 0, never negative', o: { learningRate: 0.004, lrDecay: 1, lrSchedule: 'cosine' }, epoch: 3, step: 130, total: 100, want: 0 },
];

for (const c of CASES) {
  test(`scheduledLearningRate: ${c.name}`, () => {
    const got = scheduledLearningRate(c.o, c.epoch, c.step, c.total);
    assert.ok(Math.abs(got - c.want) < 1e-12, `got ${got}, want ${c.want}`);
  });
}
