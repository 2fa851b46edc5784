import { test } from 'node:test';
import assert from 'node:assert/strict';
import { samplesPerImage } from '../src/uq/sample-count';

const CASES: { name: string; s: Parameters<typeof samplesPerImage>[0]; samples: number; want: number }[] = [
  { name: 'a model: the MC-dropout passes', s: { kind: 'model' }, samples: 100, want: 100 },
  { name: 'an ensemble in disagreement mode: one per member', s: { kind: 'ensemble', members: 5, ensembleMode: 'disagreement' }, samples: 100, want: 5 },
  { name: 'an ensemble with no mode given: disagreement', s: { kind: 'ensemble', members: 4 }, samples: 30, want: 4 },
  { name: 'an ensemble in mc mode: passes x members', s: { kind: 'ensemble', members: 5, ensembleMode: 'mc' }, samples: 20, want: 100 },
];
for (const c of CASES) {
  test(`samplesPerImage: ${c.name}`, () => assert.equal(samplesPerImage(c.s, c.samples), c.want));
}
