/** The default model (models/deep if it exists, else models/basic); says which. */
import { findDefaultModelDir } from '../models/default-dir';
import type { Io } from './common';

export function defaultModelDir(io: Io): string {
  const dir = findDefaultModelDir();
  io.err(`using model ${dir}`);
  return dir;
}
