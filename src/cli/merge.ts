/** `udq merge SHARD.jsonl...`: the JSON-lines results of several runs (shards, resumed runs) as one table. */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { choice, Io } from './common';
import { mergeJsonl, predictionLine } from '../predict/jsonl';
import { PREDICTION_COLUMNS, predictionRow } from './predict';
import { UsageError } from '../errors';

export function registerMerge(program: Command, io: Io): void {
  program
    .command('merge')
    .description('join the JSON-lines results of `udq predict --format jsonl` runs (shards, resumed runs) into one CSV, one row per picture, sorted by path')
    .argument('<files...>', 'JSON-lines files written by udq predict')
    .option('--format <f>', 'csv or jsonl', choice(['csv', 'jsonl'] as const), 'csv')
    .action((files: string[], opts: { format: 'csv' | 'jsonl' }) => {
      const inputs = files.map((name) => {
        try {
          return { name, text: readFileSync(name, 'utf8') };
        } catch (e) {
          throw new UsageError(`cannot read ${name}: ${(e as Error).message}`);
        }
      });
      const merged = mergeJsonl(inputs);
      for (const f of merged.partialFiles) io.err(`note: ${f} ends in a line cut short (a run stopped mid-write); it was left out (rerun that shard with --resume)`);
      if (merged.duplicates) io.err(`note: ${merged.duplicates} pictures appear more than once; the last line read is kept`);
      if (opts.format === 'jsonl') {
        if (merged.predictions.length) io.out(merged.predictions.map(predictionLine).join('\n'));
      } else io.out(stringify([[...PREDICTION_COLUMNS], ...merged.predictions.map(predictionRow)]).trimEnd());
      io.err(`${merged.predictions.length} pictures from ${files.length} files`);
    });
}
