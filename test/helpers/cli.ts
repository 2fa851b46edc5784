/** Run the CLI in-process with captured output. */
import { main } from '../../src/cli/index';
import type { Io } from '../../src/cli/common';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    out: (t) => (stdout += t.endsWith('\n') ? t : t + '\n'),
    err: (t) => (stderr += t.endsWith('\n') ? t : t + '\n'),
    isTTY: false,
  };
  const code = await main(['node', 'udq', ...args], io);
  return { code, stdout, stderr };
}
