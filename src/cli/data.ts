/** `udq data list | fetch | verify | path | preview`: the dataset registry on the command line. */
import { Command } from 'commander';
import { DataError, UsageError } from '../errors';
import { dataDir } from '../paths';
import type { FetchOutcome, VerifyReport } from '../data/dataset-dir';
import { describeSource, getSource, listSources, loadAdversary, SourceListing } from '../data/sources';
import type { Split } from '../data/types';
import { writeContactSheet } from '../report/contact-sheet';
import { choice, formatTable, Io, nonNegativeInt, positiveInt, printJson } from './common';

/** Registers one `udq data <sub>` command on the `data` command. */
export type DataSubcommand = (data: Command, io: Io) => void;

/** `udq data list`: every known dataset with where it is. */
export function runDataList(dir: string = dataDir()): SourceListing[] {
  return listSources().map((s) => describeSource(s, dir));
}

function formatBytes(bytes: number | null): string {
  if (bytes === null) return '-';
  return bytes >= 1e9 ? `~${(bytes / 1e9).toFixed(1)} GB` : `~${Math.round(bytes / 1e6)} MB`;
}

function formatCounts(counts: SourceListing['counts']): string {
  return `${counts.train ?? '?'} / ${counts.test ?? '?'}`;
}

/** The `list` table as text. */
export function formatDataList(rows: SourceListing[]): string {
  return formatTable(
    ['name', 'kind', 'present', 'train / test', 'download', 'where'],
    rows.map((r) => [
      r.name,
      r.kind,
      r.generated ? 'generated' : r.present ? 'yes' : 'no',
      formatCounts(r.counts),
      formatBytes(r.downloadBytes),
      r.path ?? r.source,
    ]),
  );
}

/** Options of `udq data fetch`. */
export interface DataFetchOptions {
  from?: string;
  force?: boolean;
}

/** `udq data fetch NAME`: progress lines go to `io.err`. */
export async function runDataFetch(name: string, opts: DataFetchOptions, io: Io, dir: string = dataDir()): Promise<FetchOutcome> {
  const entry = getSource(name);
  if (!entry.fetch) {
    if (opts.from !== undefined) throw new UsageError(`${name} cannot be fetched, so --from does not apply to it`);
    const why = entry.generated ? 'is generated on demand' : `comes with the install (${entry.source})`;
    return { name, status: 'builtin', path: entry.locate(dir), message: `${name} ${why}; nothing to fetch` };
  }
  return entry.fetch({ dataDir: dir, from: opts.from, force: opts.force, progress: io });
}

/** `udq data verify NAME`: the report; the caller decides the exit code from `ok`. */
export async function runDataVerify(name: string, dir: string = dataDir()): Promise<VerifyReport> {
  const entry = getSource(name);
  if (!entry.verify) {
    const what = entry.generated ? 'is generated on demand and has no files' : 'has no verification';
    return { name, path: entry.locate(dir), ok: true, checks: [{ target: name, ok: true, detail: `${name} ${what}` }] };
  }
  return entry.verify(dir);
}

/** `udq data path NAME`: where the dataset is on disk (DataError when absent or generated). */
export function runDataPath(name: string, dir: string = dataDir()): string {
  const entry = getSource(name);
  const path = entry.locate(dir);
  if (path) return path;
  if (entry.generated) throw new DataError(`${name} is generated on demand and has no files`);
  throw new DataError(`${name} is not in ${dir}${entry.fetch ? `; run \`udq data fetch ${name}\`` : ''}`);
}

const registerList: DataSubcommand = (data, io) => {
  data
    .command('list')
    .description('list the known datasets, whether they are present, and where')
    .option('--json', 'print a JSON array')
    .action((opts: { json?: boolean }) => {
      const rows = runDataList();
      if (opts.json) return printJson(io, rows);
      io.out(formatDataList(rows));
    });
};

const registerFetch: DataSubcommand = (data, io) => {
  data
    .command('fetch')
    .description('download a dataset into the data dir (resumable; checksums verified)')
    .argument('<name>', 'dataset name (see `udq data list`)')
    .option('--from <url-or-path>', 'take it from a mirror URL or a local file/folder instead of the official source')
    .option('--force', 'fetch again even when already present')
    .action(async (name: string, opts: DataFetchOptions) => {
      const outcome = await runDataFetch(name, opts, io);
      io.out(outcome.message);
    });
};

const registerVerify: DataSubcommand = (data, io) => {
  data
    .command('verify')
    .description('re-check a dataset\'s files: IDX structure, counts, checksums (non-zero exit on problems)')
    .argument('<name>', 'dataset name')
    .option('--json', 'print the report as JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const rep = await runDataVerify(name);
      if (opts.json) printJson(io, rep);
      else io.out(rep.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.target}: ${c.detail}`).join('\n'));
      if (!rep.ok) {
        const failed = rep.checks.filter((c) => !c.ok).length;
        throw new DataError(`${name}: ${failed} of ${rep.checks.length} checks failed`);
      }
    });
};

const registerPath: DataSubcommand = (data, io) => {
  data
    .command('path')
    .description('print where a dataset is on disk')
    .argument('<name>', 'dataset name')
    .action((name: string) => io.out(runDataPath(name)));
};

/** Options of `udq data preview`. */
export interface DataPreviewOptions {
  /** PNG file to write (overwritten if it exists) */
  out: string;
  /** images to show, the first ones of the split (default 100) */
  count?: number;
  seed?: number;
  /** split of a registry dataset (default test) */
  split?: Split;
  /** upscaling factor (default 3) */
  scale?: number;
}

/** What `udq data preview` wrote. */
export interface DataPreviewResult {
  path: string;
  name: string;
  count: number;
  width: number;
  height: number;
}

/**
 * `udq data preview NAME --out sheet.png`: a contact sheet (grid of the first images,
 * upscaled, thin separators) of a dataset by name, or of an IDX file / picture folder.
 */
export async function runDataPreview(name: string, opts: DataPreviewOptions, dir: string = dataDir()): Promise<DataPreviewResult> {
  const set = await loadAdversary(name, { split: opts.split ?? 'test', limit: opts.count ?? 100, seed: opts.seed, dataDir: dir });
  const count = Math.min(set.images.count, opts.count ?? 100);
  if (count === 0) throw new DataError(`${name}: no images to preview`);
  const sheet = await writeContactSheet(set.images, opts.out, { count, scale: opts.scale ?? 3 });
  return { path: opts.out, name, count, width: sheet.width, height: sheet.height };
}

const registerPreview: DataSubcommand = (data, io) => {
  data
    .command('preview')
    .description('write a contact sheet PNG of a dataset\'s first images (after MNIST preprocessing)')
    .argument('<name>', 'dataset name, IDX images file or folder of pictures')
    .requiredOption('--out <file.png>', 'PNG file to write (overwritten)')
    .option('--count <n>', 'number of images', positiveInt, 100)
    .option('--seed <n>', 'seed of a generated dataset', nonNegativeInt)
    .option('--split <split>', 'train or test', choice(['train', 'test'] as const), 'test')
    .option('--scale <n>', 'upscaling factor per image', positiveInt, 3)
    .action(async (name: string, opts: DataPreviewOptions) => {
      const r = await runDataPreview(name, opts);
      io.out(`wrote ${r.path}: ${r.count} images of ${r.name}, ${r.width}x${r.height} px`);
    });
};

/** `udq data` subcommands, in help order. */
export const DATA_SUBCOMMANDS: DataSubcommand[] = [registerList, registerFetch, registerVerify, registerPath, registerPreview];

/** Register `udq data` and its subcommands. */
export function registerData(program: Command, io: Io): void {
  const data = program.command('data').description('list, fetch, verify and locate datasets (digits and adversaries)');
  for (const register of DATA_SUBCOMMANDS) register(data, io);
}
