/**
 * Typed errors. Every error a user can cause carries a one-line message and an exit code;
 * the CLI prints `udq: <message>` and exits with `exitCode`, never a stack trace.
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  data: 3,
  model: 4,
  backend: 5,
  network: 6,
  image: 7,
  exists: 8,
  training: 9,
} as const;

export class UdqError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = ExitCode.failure) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad command-line arguments or option values. */
export class UsageError extends UdqError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

/** A dataset file is missing, truncated, corrupt or of the wrong kind. */
export class DataError extends UdqError {
  constructor(message: string) {
    super(message, ExitCode.data);
  }
}

/** A model directory is missing, incomplete or incompatible. */
export class ModelError extends UdqError {
  constructor(message: string) {
    super(message, ExitCode.model);
  }
}

/** A requested tensor backend is unavailable or failed to initialise. */
export class BackendError extends UdqError {
  constructor(message: string) {
    super(message, ExitCode.backend);
  }
}

/** A download failed (network, HTTP status, checksum). */
export class NetworkError extends UdqError {
  constructor(message: string) {
    super(message, ExitCode.network);
  }
}

/** An input image could not be read or decoded. */
export class ImageError extends UdqError {
  constructor(message: string) {
    super(message, ExitCode.image);
  }
}

/** Refusing to overwrite something that exists (use --force). */
export class ExistsError extends UdqError {
  constructor(message: string) {
    super(message, ExitCode.exists);
  }
}

/** Training could not go on (a non-finite loss): says at which step, and what was kept. */
export class TrainingError extends UdqError {
  constructor(message: string) {
    super(message, ExitCode.training);
  }
}
