/** The default model (models/deep if it exists, else models/basic); says which. */
import { findDefaultModelDir } from '../models/default-dir';
import type { Io } from './common';
import { displayPath } from '../paths';

export function defaultModelDir(io: Io): string {
  const dir = findDefaultModelDir();
  io.err(`using model ${displayPath(dir)}`);
  return dir;
}
