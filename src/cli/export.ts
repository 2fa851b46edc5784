/** `udq export`: write a model as a standard ONNX file. */
import { Command } from 'commander';
import { displayPath, relativePath } from '../paths';
import { Io, nonNegativeInt, printJson } from './common';
import { initBackend } from '../engine/backend';
import { exportOnnx } from '../onnx/export';
import { defaultModelDir } from './model-dir';
import { isEnsembleDir, memberDir } from '../models/ensemble-files';

/** The default model, or the first member of the default ensemble (ONNX export writes one model). */
function defaultSingleModelDir(io: Io): string {
  const dir = defaultModelDir(io);
  if (!isEnsembleDir(dir)) return dir;
  const member = memberDir(dir, 0);
  io.err(`${displayPath(dir)} is an ensemble: exporting its first member, ${displayPath(member)} (--model DIR for another)`);
  return member;
}

interface ExportCliOptions {
  model?: string;
  out: string;
  force?: boolean;
  check: number;
  backend?: string;
  json?: boolean;
}

export function registerExport(program: Command, io: Io): void {
  program
    .command('export')
    .description('write a model as a standard ONNX graph (opset 13; dropout off, BatchNorm folded) to run it anywhere')
    .option('--model <dir>', 'model directory (default: models/deep if present, else models/basic; of an ensemble, its first member)')
    .option('--out <file>', 'ONNX file to write', 'model.onnx')
    .option('--force', 'overwrite an existing file')
    .option('--check <n>', 'compare onnxruntime with tfjs on the first N MNIST test digits (0: skip; needs onnxruntime-node)', nonNegativeInt, 200)
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best available)')
    .option('--json', 'print one JSON object')
    .action(async (opts: ExportCliOptions) => {
      await initBackend(opts.backend);
      const r = await exportOnnx(opts.model ?? defaultSingleModelDir(io), opts.out, { force: opts.force, checkImages: opts.check });
      const shown = { ...r, modelDir: relativePath(r.modelDir), out: relativePath(r.out) };
      if (opts.json) return printJson(io, shown);
      io.out(`wrote ${shown.out} (${(r.bytes / 1e6).toFixed(2)} MB, ONNX opset ${r.opset}): input ${r.input.name} [${r.input.shape}] floats in [0,1], output ${r.output.name} [${r.output.shape}]`);
      if (r.check) io.out(`checked with onnxruntime on ${r.check.images} MNIST test digits: max |onnx - tfjs| = ${r.check.maxAbsDiff.toExponential(2)}, same digit for ${r.check.sameArgmax}/${r.check.images}`);
      else if (opts.check > 0) io.out('not checked: onnxruntime-node is not installed');
    });
}
