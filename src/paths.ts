/** Where udq looks for data and models. */
import { isAbsolute, resolve, join, relative } from 'node:path';

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

/** A path as udq shows or records it: relative to the working directory ('.' for the directory itself), never a machine's absolute path. */
export function relativePath(p: string): string {
  return relative(process.cwd(), resolve(p)) || '.';
}

/** `path` as a user should see it: relative to `cwd` when it lies inside it, else as it is. */
export function displayPath(path: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}
