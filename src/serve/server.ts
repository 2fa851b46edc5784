/**
 * `udq serve`: a local web page to draw a digit (or anything) and see the verdict live.
 *
 * - The page is three static files from web/, read once at start-up into memory and served
 *   by exact name: no path from a request ever reaches the file system.
 * - `POST /api/predict` takes a PNG/JPEG/WebP body and answers the prediction as JSON (the
 *   fields of `udq predict --format json`, each class's mean probability and spread over the
 *   MC samples, the gate's threshold and the 28x28 image the model saw, as a PNG data URL).
 * - Limits: body size, pixel count (read from the header before decoding), content type,
 *   a bounded queue; bad input gets a 4xx (or 503 with Retry-After when the queue is full) with
 *   `{ error }`, never a crash.
 * - The model runs in this process; concurrent requests are batched into one sampling call
 *   (batcher.ts): a picture's answer does not depend on its batch (masks are keyed by picture).
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type sharpType from 'sharp';
import type { Udq } from '../library';
import { mnistPng } from '../image/load';
import { PACKAGE_ROOT } from '../paths';
import { ImageError, UdqError, UsageError } from '../errors';
import { RequestBatcher } from './batcher';
import type { PictureInput, Prediction } from '../predict/predict';
import { DecodePool } from '../image/decode-pool';
import { canSampleAdaptive } from '../uq/adaptive';
import { availableParallelism } from 'node:os';
import { gateSummary } from '../gate/gate-file';

export interface ServeLimits {
  /** largest request body in bytes */
  maxBodyBytes: number;
  /** largest picture in pixels (width x height) */
  maxPixels: number;
  /** requests admitted at once (being read, queued or scored); more get 503 with Retry-After */
  maxQueue: number;
  /** how long an idle server waits for more requests to batch with the first (ms) */
  batchWindowMs: number;
  /** most pictures scored in one sampling call */
  maxBatch: number;
}

export const DEFAULT_LIMITS: ServeLimits = { maxBodyBytes: 8 * 1024 * 1024, maxPixels: 40_000_000, maxQueue: 256, batchWindowMs: 5, maxBatch: 32 };

export interface ServeOptions {
  host?: string;
  port?: number;
  limits?: Partial<ServeLimits>;
  /** exactly N MC passes per picture, in each member of an ensemble (default: adaptive, up to the gate's N) */
  samples?: number;
  /** worker threads decoding pictures as requests arrive, beside the sampling (default: 2 on 2+ cores, else 0) */
  decodeThreads?: number;
  seed?: number;
  /** one line per request, e.g. the CLI's stderr */
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const CONTENT_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp']);

/** The page's files, by the exact URL path that serves them. */
function loadAssets(): Map<string, { type: string; body: Buffer }> {
  const dir = join(PACKAGE_ROOT, 'web');
  const assets = new Map<string, { type: string; body: Buffer }>();
  const add = (url: string, file: string, type: string) => assets.set(url, { type, body: readFileSync(join(dir, file)) });
  add('/', 'index.html', 'text/html; charset=utf-8');
  add('/app.js', 'app.js', 'text/javascript; charset=utf-8');
  add('/style.css', 'style.css', 'text/css; charset=utf-8');
  return assets;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

/** Read the body, refusing it as soon as it passes `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new HttpError(413, `body of ${declared} bytes is over the limit of ${limit}`));
      req.resume();
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new HttpError(413, `body is over the limit of ${limit} bytes`));
        req.resume();
        return;
      }
      parts.push(chunk);
    });
    req.on('end', () => failed || resolve(Buffer.concat(parts)));
    req.on('error', (e) => failed || reject(new HttpError(400, `cannot read the body: ${e.message}`)));
  });
}

/** Width x height from the picture's header, without decoding it. */
async function pictureSize(body: Buffer): Promise<{ width: number; height: number }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sharp = require('sharp') as typeof sharpType;
  try {
    const m = await sharp(body, { limitInputPixels: false }).metadata();
    if (!m.width || !m.height) throw new Error('no size');
    return { width: m.width, height: m.height };
  } catch (e) {
    throw new HttpError(400, `not a readable picture (${(e as Error).message.split('\n')[0]})`);
  }
}

export async function startServer(udq: Udq, opts: ServeOptions = {}): Promise<RunningServer> {
  const limits: ServeLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const assets = loadAssets();
  const samples = opts.samples ?? udq.samples;
  const seed = opts.seed ?? 0;
  const log = opts.log ?? (() => undefined);
  // adaptive unless a fixed N is asked for (or the model is an ensemble in disagreement mode)
  const adaptive = opts.samples === undefined && canSampleAdaptive(udq.predictor);
  // concurrent requests share one sampling call; one batch at a time (the model is shared)
  // pictures are decoded on worker threads as they arrive, while the current batch samples
  const decodeThreads = opts.decodeThreads ?? (availableParallelism() >= 2 ? 2 : 0);
  const pool = decodeThreads > 0 ? new DecodePool(decodeThreads) : null;
  const batcher = new RequestBatcher<PictureInput, Prediction>((inputs) => udq.predict(inputs, { samples, adaptive, seed, detail: true }), {
    windowMs: limits.batchWindowMs,
    maxBatch: limits.maxBatch,
    maxQueue: limits.maxQueue,
  });

  const info = () => ({
    model: basename(udq.dir),
    arch: udq.arch,
    engine: udq.engine,
    samples,
    members: udq.predictor.members ?? 1,
    ensembleMode: udq.predictor.ensembleMode ?? null,
    sampling: adaptive ? 'adaptive' : 'fixed',
    gate: gateSummary(udq.gate),
    limits,
    batching: batcher.stats(),
  });

  /** Read, check and score one admitted request; `release` gives its place back when it fails before it is queued. */
  async function predict(req: IncomingMessage, release: () => void): Promise<unknown> {
    let queued = false;
    try {
      return await readAndScore(req, () => {
        queued = true;
      });
    } finally {
      if (!queued) release();
    }
  }

  async function readAndScore(req: IncomingMessage, onQueued: () => void): Promise<unknown> {
    const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!CONTENT_TYPES.has(type)) {
      req.resume();
      throw new HttpError(415, `content type "${type || 'none'}" is not accepted (send image/png, image/jpeg or image/webp)`);
    }
    const body = await readBody(req, limits.maxBodyBytes);
    if (body.length === 0) throw new HttpError(400, 'empty body: send the picture');
    const size = await pictureSize(body);
    if (size.width * size.height > limits.maxPixels) throw new HttpError(413, `picture of ${size.width}x${size.height} pixels is over the limit of ${limits.maxPixels} pixels`);
    const t0 = performance.now();
    let input: PictureInput = body;
    if (pool) {
      try {
        input = { ...(await pool.decode(body, { name: 'picture' })), name: 'picture' };
      } catch (e) {
        // the picture's fault (400), or the server's (a decode worker died: 500)
        throw new HttpError(e instanceof ImageError ? 400 : 500, (e as Error).message);
      }
    }
    onQueued();
    const p = await batcher.submit(input);
    if (p.verdict === 'error') throw new HttpError(400, p.error ?? 'cannot read the picture');
    const { pixels, file: _file, ...fields } = p;
    return {
      ...fields,
      threshold: udq.gate?.threshold ?? null,
      samples,
      image28: pixels ? `data:image/png;base64,${(await mnistPng(pixels)).toString('base64')}` : null,
      ms: Math.round(performance.now() - t0),
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/api/predict') {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST with the picture as the body');
      if (!batcher.tryAdmit()) {
        req.resume();
        res.setHeader('retry-after', String(batcher.retryAfterSeconds()));
        throw new HttpError(503, `busy: ${limits.maxQueue} requests queued (the limit); try again shortly`);
      }
      const result = await predict(req, () => batcher.release());
      sendJson(res, 200, result);
      log(`POST /api/predict 200 ${(result as { verdict: string }).verdict}`);
      return;
    }
    if (path === '/api/info') {
      if (req.method !== 'GET') throw new HttpError(405, 'use GET');
      sendJson(res, 200, info());
      return;
    }
    const asset = assets.get(path);
    if (!asset) throw new HttpError(404, `not found: ${path.slice(0, 100)}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET');
    res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, 'x-content-type-options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : e instanceof UdqError ? 400 : 500;
      const message = e instanceof Error ? e.message : String(e);
      if (status >= 500 && status !== 503) log(`error: ${message}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // a refused upload may still be arriving: answer, then close the connection
      if (status === 413) res.setHeader('connection', 'close');
      sendJson(res, status, { error: message });
    });
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const where = `${opts.host ?? '127.0.0.1'}:${opts.port ?? 8080}`;
      if (e.code === 'EADDRINUSE') reject(new UsageError(`cannot listen on ${where}: the port is in use (pick another with --port, or 0 for any free one)`));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') reject(new UsageError(`cannot listen on ${where}: no such address on this machine (--host)`));
      else if (e.code === 'EACCES') reject(new UsageError(`cannot listen on ${where}: permission denied (ports below 1024 need privileges)`));
      else reject(e);
    });
    server.listen(opts.port ?? 8080, opts.host ?? '127.0.0.1', () => resolve());
  });
  try {
    await listening;
  } catch (e) {
    // nothing may keep the process alive after a failed start
    await pool?.close();
    throw e;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    server,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // a batch still sampling finishes before the caller may release the model
      await batcher.drain();
      await pool?.close();
    },
  };
}
