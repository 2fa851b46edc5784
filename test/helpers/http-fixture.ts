/**
 * A local HTTP server (127.0.0.1, port 0) serving fixture files, with misbehaviours on
 * demand: ignore Range, cut the body short, answer an HTTP error. Records each request.
 */
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How one path is served. */
export interface Route {
  body: Buffer;
  /** answer Range requests with 206 (default true); false = always 200 with the whole body */
  honorRange?: boolean;
  /** cut the connection after this many body bytes on the first `truncateTimes` requests */
  truncateAt?: number;
  truncateTimes?: number;
  /** answer this status with no body instead */
  status?: number;
}

/** A logged request. */
export interface LoggedRequest {
  path: string;
  range: string | undefined;
  status: number;
}

export interface FixtureServer {
  /** absolute URL of a path on this server */
  url(path: string): string;
  routes: Map<string, Route>;
  requests: LoggedRequest[];
  close(): Promise<void>;
}

function serve(route: Route | undefined, req: IncomingMessage, res: ServerResponse, log: LoggedRequest, truncated: Map<Route, number>): void {
  if (!route) {
    log.status = 404;
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  if (route.status) {
    log.status = route.status;
    res.writeHead(route.status).end();
    return;
  }
  const whole = route.body;
  let start = 0;
  let status = 200;
  const range = req.headers.range?.match(/^bytes=(\d+)-$/);
  const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
  if (range && route.honorRange !== false) {
    start = Number(range[1]);
    if (start >= whole.length) {
      log.status = 416;
      res.writeHead(416, { 'content-range': `bytes */${whole.length}` }).end();
      return;
    }
    status = 206;
    headers['content-range'] = `bytes ${start}-${whole.length - 1}/${whole.length}`;
  }
  const body = whole.subarray(start);
  headers['content-length'] = body.length;
  log.status = status;
  res.writeHead(status, headers);
  const cuts = truncated.get(route) ?? 0;
  if (route.truncateAt !== undefined && cuts < (route.truncateTimes ?? 1)) {
    truncated.set(route, cuts + 1);
    // give the client time to consume what was sent before the connection drops
    res.write(body.subarray(0, route.truncateAt), () => setTimeout(() => res.socket?.destroy(), 60));
    return;
  }
  res.end(body);
}

/** Start a fixture server for `routes` (path -> route); close it in the test's cleanup. */
export async function startFixtureServer(routes: Record<string, Route>): Promise<FixtureServer> {
  const table = new Map(Object.entries(routes));
  const requests: LoggedRequest[] = [];
  const truncated = new Map<Route, number>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const log: LoggedRequest = { path, range: req.headers.range, status: 0 };
    requests.push(log);
    serve(table.get(path), req, res, log, truncated);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    routes: table,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
