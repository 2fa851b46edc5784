import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describePasses, samplesPerImage } from '../src/uq/sample-count';

const CASES: { name: string; s: Parameters<typeof samplesPerImage>[0]; samples: number; want: number; words: string }[] = [
  { name: 'a model: the MC-dropout passes', s: { kind: 'model' }, samples: 100, want: 100, words: '100 passes' },
  { name: 'an ensemble in disagreement mode: one per member', s: { kind: 'ensemble', members: 5, ensembleMode: 'disagreement' }, samples: 100, want: 5, words: 'one deterministic pass in each of 5 members' },
  { name: 'an ensemble with no mode given: disagreement', s: { kind: 'ensemble', members: 4 }, samples: 30, want: 4, words: 'one deterministic pass in each of 4 members' },
  { name: 'an ensemble in mc mode: passes x members', s: { kind: 'ensemble', members: 5, ensembleMode: 'mc' }, samples: 20, want: 100, words: '20 passes in each of 5 members' },
];
for (const c of CASES) {
  test(`samplesPerImage: ${c.name}`, () => assert.equal(samplesPerImage(c.s, c.samples), c.want));
  test(`describePasses: ${c.name}`, () => assert.equal(describePasses(c.s, c.samples), c.words));
}
