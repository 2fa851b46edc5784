/** Where output and progress go: the CLI prints to the terminal, tests and library callers capture it. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** is stderr an interactive terminal (progress bars) */
  isTTY: boolean;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
  isTTY: Boolean(process.stderr.isTTY),
};

/** Output nowhere (library calls that should stay quiet). */
export const silentIo: Io = { out: () => undefined, err: () => undefined, isTTY: false };
