/**
 * Tensor backend selection: `tensorflow` (tfjs-node, native) > `wasm` > `cpu` (pure JS).
 * Picked once at start-up; `--backend` / UDQ_BACKEND forces one, and asking for one that
 * is unavailable is an error, never a silent fallback.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendError } from '../errors';

export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendInfo {
  backend: BackendName;
  tfjsVersion: string;
  /** why faster backends were skipped (auto mode) */
  skipped: { backend: BackendName; reason: string }[];
}

let current: BackendInfo | null = null;

// Production mode: silences tfjs's console advice (e.g. "install tfjs-node") on the cpu backend.
tf.env().set('PROD', true);

async function tryTensorflow(): Promise<void> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-node');
  } catch (e) {
    throw new BackendError(`backend tensorflow unavailable: @tensorflow/tfjs-node is not installed or failed to load (${firstLine(e)})`);
  }
  if (!(await tf.setBackend('tensorflow'))) throw new BackendError('backend tensorflow failed to initialise');
}

async function tryWasm(): Promise<void> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    throw new BackendError(`backend wasm unavailable: @tensorflow/tfjs-backend-wasm failed to load (${firstLine(e)})`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { registerWasmKernels } = require('./wasm-kernels') as typeof import('./wasm-kernels');
  registerWasmKernels();
  let ok = false;
  try {
    ok = await tf.setBackend('wasm');
  } catch (e) {
    throw new BackendError(`backend wasm failed to initialise (${firstLine(e)})`);
  }
  if (!ok) throw new BackendError('backend wasm failed to initialise');
}

async function tryCpu(): Promise<void> {
  if (!(await tf.setBackend('cpu'))) throw new BackendError('backend cpu failed to initialise');
}

const STARTERS: Record<BackendName, () => Promise<void>> = { tensorflow: tryTensorflow, wasm: tryWasm, cpu: tryCpu };

export function parseBackendName(value: string | undefined): BackendName | undefined {
  if (value === undefined || value === '' || value === 'auto') return undefined;
  if (!(BACKENDS as readonly string[]).includes(value)) {
    throw new BackendError(`unknown backend "${value}" (expected one of ${BACKENDS.join(', ')}, or auto)`);
  }
  return value as BackendName;
}

/**
 * Initialise the tensor backend. `requested` (or UDQ_BACKEND) forces one backend;
 * otherwise the first that works of tensorflow, wasm, cpu.
 */
export async function initBackend(requested?: string): Promise<BackendInfo> {
  const forced = parseBackendName(requested ?? process.env.UDQ_BACKEND);
  if (current && (!forced || forced === current.backend)) return current;
  const skipped: BackendInfo['skipped'] = [];
  if (forced) {
    await STARTERS[forced]();
    current = { backend: forced, tfjsVersion: tf.version.tfjs, skipped };
    return current;
  }
  for (const name of BACKENDS) {
    try {
      await STARTERS[name]();
      current = { backend: name, tfjsVersion: tf.version.tfjs, skipped };
      return current;
    } catch (e) {
      skipped.push({ backend: name, reason: (e as Error).message });
    }
  }
  throw new BackendError(`no tensor backend could be started: ${skipped.map((s) => s.reason).join('; ')}`);
}

export function currentBackend(): BackendInfo | null {
  return current;
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}
