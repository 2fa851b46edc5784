/**
 * Sampling engine selection, like the backend's: `ort` (onnxruntime-node, an optional
 * dependency with native CPU kernels) when it loads, else `tfjs` (the tensor backend from
 * backend.ts). `--engine` / UDQ_ENGINE forces one; asking for `ort` when it cannot load is an
 * error, never a silent fallback. tfjs stays the reference implementation (naive sampler,
 * batch-statistics BatchNorm, ensembles, training).
 */
import type * as Ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import { BackendError } from '../errors';

export const ENGINES = ['ort', 'tfjs'] as const;
export type EngineName = (typeof ENGINES)[number];

export interface EngineInfo {
  engine: EngineName;
  /** asked for by --engine or UDQ_ENGINE (not the automatic choice) */
  forced: boolean;
  /** onnxruntime-node's version, when it loaded */
  ortVersion?: string;
  /** intra-op threads the ort sessions use */
  threads?: number;
  /** why ort was not used (auto mode) */
  skipped?: { engine: EngineName; reason: string }[];
}

let ortModule: typeof Ort | null | undefined;
let ortError = '';

/** onnxruntime-node, or null when it is not installed or fails to load (reason in the error). */
export function tryLoadOrt(): typeof Ort | null {
  if (ortModule !== undefined) return ortModule;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ortModule = require('onnxruntime-node') as typeof Ort;
  } catch (e) {
    ortModule = null;
    ortError = String((e as Error)?.message ?? e).split('\n')[0];
  }
  return ortModule;
}

export function parseEngineName(value: string | undefined): EngineName | undefined {
  if (value === undefined || value === '' || value === 'auto') return undefined;
  if (!(ENGINES as readonly string[]).includes(value)) {
    throw new BackendError(`unknown engine "${value}" (expected one of ${ENGINES.join(', ')}, or auto)`);
  }
  return value as EngineName;
}

/**
 * Threads an ort session uses: $UDQ_THREADS when it is a positive integer (several processes on
 * one machine, a container whose CPU limit is below the cores it sees), else every core.
 */
export function defaultThreads(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.UDQ_THREADS);
  return Number.isInteger(n) && n > 0 ? n : availableParallelism();
}

/**
 * The session options every udq graph runs with: `threads` intra-op threads (default: the
 * machine's cores), one inter-op thread, nodes in sequence, every graph optimisation;
 * the pool's threads sleep between ops unless `spinning`.
 */
export function ortSessionOptions(threads: number = defaultThreads(), opts: { spinning?: boolean } = {}): Ort.InferenceSession.SessionOptions {
  const options: Ort.InferenceSession.SessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
  // onnxruntime's pool threads spin between ops by default, burning the cores that decoding
  // (worker threads), the server and the summaries need between sampling calls: off unless
  // asked (the trainer, which runs nothing else). Measured on 2 cores (issue #20): one deep
  // picture's adaptive sampling 7.1 -> 3.7 ms CPU; `udq serve` 26 -> 36 requests/s alone,
  // 60 -> 91 with 16 clients
  if (!opts.spinning) options.extra = { session: { intra_op: { allow_spinning: '0' } } };
  return options;
}

/** The engine to sample with: `requested`, else $UDQ_ENGINE, else ort if it loads, else tfjs. */
export function pickEngine(requested?: string): EngineInfo {
  const forced = parseEngineName(requested ?? process.env.UDQ_ENGINE);
  if (forced === 'tfjs') return { engine: 'tfjs', forced: true };
  const ort = tryLoadOrt();
  if (ort) return { engine: 'ort', forced: forced === 'ort', ortVersion: ort.env.versions?.node ?? 'unknown', threads: defaultThreads() };
  const reason = `onnxruntime-node is not installed or failed to load (${ortError})`;
  if (forced === 'ort') throw new BackendError(`engine ort unavailable: ${reason}`);
  return { engine: 'tfjs', forced: false, skipped: [{ engine: 'ort', reason }] };
}

/**
 * MNIST test digits `evaluate` and `report` score by default, and that `calibrate` chooses the
 * threshold on: all 5000 of a half with ort (deep, 50 passes: under a minute), 2000 with tfjs.
 */
export function defaultTestDigits(engine: EngineName): number {
  return engine === 'ort' ? 5000 : 2000;
}
