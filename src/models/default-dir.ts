/** The default model: models/deep if it exists (a model or an ensemble), else models/basic. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { modelsDir } from '../paths';
import { ModelError } from '../errors';
import { isEnsembleDir } from './ensemble-files';

export function findDefaultModelDir(): string {
  for (const arch of ['deep', 'basic']) {
    const dir = join(modelsDir(), arch);
    if (existsSync(join(dir, 'model.json')) || isEnsembleDir(dir)) return dir;
  }
  throw new ModelError(`no model found in ${modelsDir()} (train one with: udq train --arch basic, or pass --model DIR)`);
}
