/** Where udq looks for data and models. */
import { resolve, join } from 'node:path';

/** The package root (where package.json, models/ and figures/ live). */
export const PACKAGE_ROOT = resolve(__dirname, '..');

/** Data directory: $UDQ_DATA_DIR, else `<package>/data`. */
export function dataDir(): string {
  return process.env.UDQ_DATA_DIR ? resolve(process.env.UDQ_DATA_DIR) : join(PACKAGE_ROOT, 'data');
}

/** Models directory: $UDQ_MODELS_DIR, else `<package>/models`. */
export function modelsDir(): string {
  return process.env.UDQ_MODELS_DIR ? resolve(process.env.UDQ_MODELS_DIR) : join(PACKAGE_ROOT, 'models');
}
