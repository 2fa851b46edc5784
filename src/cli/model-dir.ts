/** The default model: models/deep if it exists, else models/basic; says which. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { modelsDir } from '../paths';
import { ModelError } from '../errors';
import type { Io } from './common';

export function defaultModelDir(io: Io): string {
  for (const arch of ['deep', 'basic']) {
    const dir = join(modelsDir(), arch);
    if (existsSync(join(dir, 'model.json'))) {
      io.err(`using model ${dir}`);
      return dir;
    }
  }
  throw new ModelError(`no model found in ${modelsDir()} (train one with: udq train --arch basic, or pass --model DIR)`);
}
