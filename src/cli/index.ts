/** The `udq` command line: commander wiring only; each command lives in its own file. */
import { Command, CommanderError } from 'commander';
import { ExitCode, UdqError } from '../errors';
import { Io, processIo } from './common';
import { VERSION } from '../version';
import { registerInfo } from './info';
import { registerTrain } from './train';
import { registerEvaluate } from './evaluate';
import { registerCalibrate } from './calibrate';
import { registerPredict } from './predict';
import { registerData } from './data';
import { registerReport } from './report';
import { registerExport } from './export';
import { registerServe } from './serve';
import { registerImport } from './import';
import { registerMerge } from './merge';
import { registerEnsemble } from './ensemble';

export type Register = (program: Command, io: Io) => void;

/** Commands, in the order `udq --help` lists them. */
const COMMANDS: Register[] = [registerInfo, registerData, registerTrain, registerEnsemble, registerImport, registerCalibrate, registerEvaluate, registerPredict, registerMerge, registerReport, registerServe, registerExport];

export function buildProgram(io: Io = processIo): Command {
  const program = new Command('udq')
    .description('Monte-Carlo-dropout uncertainty and a reject gate for digit classifiers')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  for (const register of COMMANDS) register(program, io);
  return program;
}

/** Run the CLI; resolves to the process exit code. Errors become one line on stderr. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (e) {
    return handleError(e, io);
  }
}

export function handleError(e: unknown, io: Io): number {
  if (e instanceof CommanderError) {
    // help and version exit with 0; commander already printed its message
    return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (e instanceof UdqError) {
    io.err(`udq: ${e.message}`);
    return e.exitCode;
  }
  const err = e as Error;
  io.err(`udq: internal error: ${err?.message ?? String(e)}`);
  if (process.env.UDQ_DEBUG) io.err(err?.stack ?? '');
  return ExitCode.failure;
}
