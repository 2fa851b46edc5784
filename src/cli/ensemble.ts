/** `udq ensemble --members A,B,C --out DIR`: join separately trained models into a deep ensemble. */
import { Command } from 'commander';
import { choice, Io, printJson } from './common';
import { assembleEnsemble } from '../models/assemble';
import { ENSEMBLE_MODES, EnsembleMode } from '../models/ensemble';
import { initBackend } from '../engine/backend';
import { relativePath } from '../paths';
import { UsageError } from '../errors';

export function registerEnsemble(program: Command, io: Io): void {
  program
    .command('ensemble')
    .description('join models udq trained separately (e.g. the same command with different --seed) into one ensemble directory; calibrate it afterwards')
    .requiredOption('--members <dirs>', 'comma-separated model directories, one per member (at least 2, one architecture)')
    .requiredOption('--out <dir>', 'the ensemble directory to write')
    .option('--ensemble-mode <mode>', 'default sampling stored in ensemble.json: mc (MC dropout inside each member) or disagreement (one softmax per member)', choice(ENSEMBLE_MODES), 'mc')
    .option('--force', 'overwrite an existing model or ensemble directory')
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best available)')
    .option('--json', 'print one JSON object with the results')
    .action(async (opts: { members: string; out: string; ensembleMode: EnsembleMode; force?: boolean; backend?: string; json?: boolean }, cmd: Command) => {
      const members = opts.members.split(',').map((m) => m.trim());
      if (members.some((m) => !m)) throw new UsageError('--members: an empty directory name');
      await initBackend(opts.backend);
      const argv = cmd.parent ? process.argv.slice(2) : [];
      const summary = await assembleEnsemble({ members, out: opts.out, sampling: opts.ensembleMode, force: opts.force, argv, log: (line) => io.err(line) });
      const result = { ...summary, dir: relativePath(summary.dir) };
      if (opts.json) printJson(io, result);
      else
        io.out(
          `ensemble of ${summary.K}: test accuracy ${summary.testAccuracy.toFixed(4)} (members ${summary.memberTestAccuracy.map((a) => a.toFixed(4)).join(', ')}), saved to ${result.dir}; ` +
            `fit its gate with: udq calibrate --model ${result.dir}`,
        );
    });
}
