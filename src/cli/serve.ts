/** `udq serve`: the drawing page and the predict API on a local port. */
import { Command } from 'commander';
import { ENGINE_OPTION_HELP, Io, noGateNote, nonNegativeInt, positiveInt } from './common';
import { loadUdq } from '../library';
import { DEFAULT_LIMITS, startServer } from '../serve/server';
import { defaultModelDir } from './model-dir';
import { UsageError } from '../errors';

interface ServeCliOptions {
  model?: string;
  port: number;
  host: string;
  samples?: number;
  seed: number;
  maxQueue: number;
  maxBatch: number;
  batchWindowMs: number;
  backend?: string;
  engine?: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export function registerServe(program: Command, io: Io): void {
  program
    .command('serve')
    .description('a local web page: draw a digit (or anything) and see the verdict, the MC spread and p(reject) live')
    .option('--model <dir>', 'model directory (default: models/deep if present, else models/basic)')
    .option('--port <n>', 'port (0: any free port)', nonNegativeInt, 8080)
    .option('--host <address>', 'address to listen on: loopback only unless you name another (e.g. 0.0.0.0)', '127.0.0.1')
    .option('--samples <n>', 'exactly N MC-dropout passes per picture, in each member of an ensemble (default: adaptive, up to the calibrated N)', positiveInt)
    .option('--seed <n>', 'seed for the dropout masks', nonNegativeInt, 0)
    .option('--max-queue <n>', 'requests admitted at once (read, queued or scored); more get 503 with Retry-After', positiveInt, DEFAULT_LIMITS.maxQueue)
    .option('--max-batch <n>', 'most pictures scored in one sampling call', positiveInt, DEFAULT_LIMITS.maxBatch)
    .option('--batch-window-ms <n>', 'how long an idle server waits for more requests to batch with the first', nonNegativeInt, DEFAULT_LIMITS.batchWindowMs)
    .option('--backend <name>', 'tensorflow, wasm or cpu (default: best available)')
    .option('--engine <name>', ENGINE_OPTION_HELP)
    .action(async (opts: ServeCliOptions) => {
      if (opts.port > 65535) throw new UsageError(`--port ${opts.port} is not a port`);
      const udq = await loadUdq(opts.model ?? defaultModelDir(io), { backend: opts.backend, engine: opts.engine as 'ort' | 'tfjs' | undefined });
      for (const note of udq.predictor.notes) io.err(`note: ${note}`);
      if (!udq.gate) io.err(noGateNote(udq.dir));
      const running = await startServer(udq, { host: opts.host, port: opts.port, samples: opts.samples, seed: opts.seed, limits: { maxQueue: opts.maxQueue, maxBatch: opts.maxBatch, batchWindowMs: opts.batchWindowMs }, log: (l) => io.err(l) });
      if (!LOOPBACK.has(opts.host)) io.err(`note: listening on ${opts.host}: other machines on the network can reach this page`);
      io.out(`udq serve: ${running.url} (model ${udq.dir}, ${udq.arch}, engine ${udq.engine}); Ctrl-C to stop`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void running.close().then(() => {
            udq.dispose();
            resolve();
          });
          // keep-alive connections must not hold the process open
          running.server.closeAllConnections();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
