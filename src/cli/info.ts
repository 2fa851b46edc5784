/** `udq info`: backend in use, versions, and where data and models are looked up. */
import { Command } from 'commander';
import { Io, printJson } from './common';
import { initBackend } from '../engine/backend';
import { EngineInfo, pickEngine } from '../engine/engine';
import { dataDir, modelsDir, PACKAGE_ROOT } from '../paths';
import { VERSION } from '../version';

export interface InfoResult {
  udqVersion: string;
  node: string;
  backend: string;
  tfjsVersion: string;
  skippedBackends: { backend: string; reason: string }[];
  /** what MC-dropout sampling runs on */
  engine: EngineInfo;
  /** what `udq train` computes its steps with (the same choice; tfjs trains what the ort step graph does not cover) */
  trainingEngine: EngineInfo['engine'];
  dataDir: string;
  modelsDir: string;
  packageRoot: string;
}

export async function runInfo(opts: { backend?: string; engine?: string }): Promise<InfoResult> {
  const b = await initBackend(opts.backend);
  const engine = pickEngine(opts.engine);
  return {
    udqVersion: VERSION,
    node: process.version,
    backend: b.backend,
    tfjsVersion: b.tfjsVersion,
    skippedBackends: b.skipped,
    engine,
    trainingEngine: engine.engine,
    dataDir: dataDir(),
    modelsDir: modelsDir(),
    packageRoot: PACKAGE_ROOT,
  };
}

export function registerInfo(program: Command, io: Io): void {
  program
    .command('info')
    .description('show the tensor backend in use, versions, and the data/model directories')
    .option('--backend <name>', 'force a backend: tensorflow, wasm or cpu (default: best available; env UDQ_BACKEND)')
    .option('--engine <name>', 'force an engine for sampling and training: ort or tfjs (default: ort if onnxruntime-node loads; env UDQ_ENGINE)')
    .option('--json', 'print one JSON object')
    .action(async (opts: { backend?: string; engine?: string; json?: boolean }) => {
      const info = await runInfo(opts);
      if (opts.json) return printJson(io, info);
      io.out(
        [
          `udq ${info.udqVersion} (node ${info.node})`,
          `backend:    ${info.backend} (tfjs ${info.tfjsVersion})`,
          ...info.skippedBackends.map((s) => `  skipped ${s.backend}: ${s.reason}`),
          `engine:     ${info.engine.engine}${info.engine.engine === 'ort' ? ` (onnxruntime-node ${info.engine.ortVersion}, ${info.engine.threads} threads; cached sampler, BatchNorm in inference mode)` : ' (tfjs tensors on the backend above)'}`,
          ...(info.engine.skipped ?? []).map((s) => `  skipped ${s.engine}: ${s.reason}`),
          `training:   ${info.trainingEngine}${info.trainingEngine === 'ort' ? ' (udq train: the step graph on onnxruntime; --engine tfjs for the backend above)' : ' (udq train: tfjs autodiff on the backend above)'}`,
          `data dir:   ${info.dataDir}`,
          `models dir: ${info.modelsDir}`,
        ].join('\n'),
      );
    });
}
