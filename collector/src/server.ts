/**
 * The HTTP side: /metrics (text format 0.0.4, gzip when asked), /healthz, /readyz (ready after the first gathering
 * with a source up), and / (the status page). Anything else is 404; anything but GET/HEAD is 405.
 */
import * as http from 'node:http';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { Logger } from 'pino';
import type { BuildInfo } from './build-info';
import type { ListenAddress } from './config';
import { describeError } from './errors';
import { CONTENT_TYPE, type Exposition } from './exposition';
import type { Gatherer } from './gatherer';
import { renderStatusPage } from './status-page';

const gzip = promisify(zlib.gzip);

export interface ServerDeps {
  readonly exposition: Exposition;
  readonly gatherer: Gatherer;
  readonly buildInfo: BuildInfo;
  readonly nodeName: string;
  readonly log: Logger;
}

function acceptsGzip(request: http.IncomingMessage): boolean {
  const header = request.headers['accept-encoding'];
  return typeof header === 'string' && /(^|,)\s*gzip\s*(;\s*q=(?!0(\.0*)?\s*(,|$))[0-9.]+)?\s*(,|$)/i.test(header);
}

async function send(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  status: number,
  contentType: string,
  body: string,
  compressible = false,
): Promise<void> {
  let payload: Buffer = Buffer.from(body, 'utf8');
  const headers: http.OutgoingHttpHeaders = { 'Content-Type': contentType, 'Cache-Control': 'no-store' };
  if (compressible) {
    headers['Vary'] = 'Accept-Encoding';
    if (acceptsGzip(request)) {
      payload = await gzip(payload);
      headers['Content-Encoding'] = 'gzip';
    }
  }
  headers['Content-Length'] = payload.length;
  response.writeHead(status, headers);
  response.end(request.method === 'HEAD' ? undefined : payload);
}

export function createRequestHandler(deps: ServerDeps): http.RequestListener {
  return (request, response) => {
    void handle(deps, request, response).catch((error: unknown) => {
      deps.log.error({ err: describeError(error), url: request.url }, 'request failed');
      if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end(`internal error: ${describeError(error)}\n`);
    });
  };
}

async function handle(deps: ServerDeps, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return send(request, response, 405, 'text/plain; charset=utf-8', 'method not allowed: use GET\n');
  }
  switch (path) {
    case '/metrics': {
      const { text } = await deps.exposition.scrape();
      return send(request, response, 200, CONTENT_TYPE, text, true);
    }
    case '/healthz':
      return send(request, response, 200, 'text/plain; charset=utf-8', 'ok\n');
    case '/readyz':
      return deps.gatherer.ready
        ? send(request, response, 200, 'text/plain; charset=utf-8', 'ready\n')
        : send(request, response, 503, 'text/plain; charset=utf-8', 'not ready: no successful gathering yet\n');
    case '/':
      return send(
        request,
        response,
        200,
        'text/html; charset=utf-8',
        renderStatusPage(deps.buildInfo, deps.nodeName, deps.gatherer.latest),
      );
    default:
      return send(request, response, 404, 'text/plain; charset=utf-8', `not found: ${path}\ntry /metrics\n`);
  }
}

/** Starts listening; resolves with the server once bound, rejects with a clear error when the port is taken. */
export function listen(handler: http.RequestListener, address: ListenAddress): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler);
    server.keepAliveTimeout = 65_000;
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = `${address.host || '*'}:${address.port}`;
      if (error.code === 'EADDRINUSE')
        reject(new Error(`cannot listen on ${where}: the port is in use (choose another with --listen)`));
      else if (error.code === 'EACCES') reject(new Error(`cannot listen on ${where}: permission denied`));
      else reject(error);
    });
    server.listen({ host: address.host === '' ? undefined : address.host, port: address.port }, () => resolve(server));
  });
}
