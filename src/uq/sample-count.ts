/** How many softmax samples an image gets (pure; shared by the CLI and the report). */
import type { EnsembleMode } from './ensemble';

/**
 * Samples per image when `samples` passes are requested: a model gives `samples` MC-dropout
 * passes; an ensemble one softmax per member (`disagreement`) or `samples` per member (`mc`).
 */
export function samplesPerImage(s: { kind: 'model' | 'ensemble'; members?: number; ensembleMode?: EnsembleMode }, samples: number): number {
  if (s.kind !== 'ensemble') return samples;
  const k = s.members ?? 1;
  return s.ensembleMode === 'mc' ? k * samples : k;
}

/** How `samples` requested passes are spent, in words: "100 passes", "50 passes in each of 2 members". */
export function describePasses(s: { kind: 'model' | 'ensemble'; members?: number; ensembleMode?: EnsembleMode }, samples: number): string {
  if (s.kind !== 'ensemble') return `${samples} passes`;
  const k = s.members ?? 1;
  return s.ensembleMode === 'mc' ? `${samples} passes in each of ${k} members` : `one deterministic pass in each of ${k} members`;
}
