/**
 * The file names of an ensemble directory, and how to tell one: a leaf module, so the model
 * store (which ensemble.ts imports) can recognise an ensemble without importing ensemble.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ENSEMBLE_FILE = 'ensemble.json';
export const MEMBERS_DIR = 'members';

/** Member `index`'s directory relative to the ensemble's (as ensemble.json records it). */
export function memberDirName(index: number): string {
  return `${MEMBERS_DIR}/m${index}`;
}

export function memberDir(ensembleDir: string, index: number): string {
  return join(ensembleDir, MEMBERS_DIR, `m${index}`);
}

/** A directory holding ensemble.json. */
export function isEnsembleDir(dir: string): boolean {
  return existsSync(join(dir, ENSEMBLE_FILE));
}

/** A directory holding an ensemble, or what is left of one (its members folder). */
export function holdsEnsemble(dir: string): boolean {
  return isEnsembleDir(dir) || existsSync(join(dir, MEMBERS_DIR));
}
