/**
 * The HTTP side: /metrics (text format 0.0.4, gzip when asked), /healthz, /readyz (ready after the first gathering
 * with a source up), and / (the status page). Anything else is 404; anything but GET/HEAD is 405.
 *
 * Every response carries `X-Content-Type-Options: nosniff` and `Cache-Control: no-store`, the status page a
 * Content-Security-Policy, and no response echoes what the client sent. With a web configuration file: TLS (and
 * client-certificate policies) per connection, basic authentication on every path but the probes (/healthz, /readyz:
 * a Kubernetes httpGet probe cannot hold a password, and they tell nothing), and the file's extra headers.
 *
 * Connections are accepted by a plain TCP server and handed to an HTTP or HTTPS server (not listening itself), so the
 * limits (web/connection-guard.ts) see every connection before any byte is parsed, and each connection gets the web
 * configuration in force when it arrived: a renewed certificate serves the next connection, no restart.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { Logger } from 'pino';
import type { BuildInfo } from './build-info';
import type { ListenAddress } from './config';
import { describeError } from './errors';
import { CONTENT_TYPE, type Exposition, type ScrapeResult } from './exposition';
import type { Gatherer } from './gatherer';
import type { InstalledObject } from './installed-state';
import { renderStatusPage, STATUS_PAGE_CSP } from './status-page';
import { BasicAuthChecker } from './web/basic-auth';
import { clientCertificateRefusal } from './web/client-certificate';
import { ConnectionGuard, type ConnectionLimits } from './web/connection-guard';
import { PLAIN_HTTP, type LoadedWebConfig, type WebConfigFile } from './web/web-config-file';

const gzip = promisify(zlib.gzip);

const TEXT = 'text/plain; charset=utf-8';

/** Headers on every response, whatever the path or status. */
const SAFE_HEADERS: Readonly<http.OutgoingHttpHeaders> = {
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
};

/** Paths answered without basic authentication: what probes and load balancers call. */
const UNAUTHENTICATED_PATHS = new Set(['/healthz', '/readyz']);

export interface ServerDeps {
  readonly exposition: Exposition;
  readonly gatherer: Gatherer;
  readonly buildInfo: BuildInfo;
  readonly nodeName: string;
  readonly log: Logger;
  /** What the collector installs in the kernel, for the status page (empty on Windows). */
  readonly installed: readonly InstalledObject[];
  /** The status page shows a gathering at most this old (seconds), like /metrics (--scrape-reuse-window). */
  readonly scrapeReuseSeconds: number;
  /** The web configuration in force; absent: plain HTTP without authentication. */
  readonly webConfig?: WebConfigFile;
}

function acceptsGzip(request: http.IncomingMessage): boolean {
  const header = request.headers['accept-encoding'];
  return typeof header === 'string' && /(^|,)\s*gzip\s*(;\s*q=(?!0(\.0*)?\s*(,|$))[0-9.]+)?\s*(,|$)/i.test(header);
}

interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** The body gzipped, for clients that accept it: present when the reply may be compressed. */
  readonly gzipped?: () => Promise<Buffer>;
  readonly headers?: http.OutgoingHttpHeaders;
}

/**
 * The gzip of each exposition text, made once: scrapes answered from the same gathering (the reuse window, concurrent
 * scrapes) share it instead of compressing the same text again.
 */
function gzipOnce(): (result: ScrapeResult) => Promise<Buffer> {
  const made = new WeakMap<ScrapeResult, Promise<Buffer>>();
  return (result) => {
    let compressed = made.get(result);
    if (!compressed) {
      compressed = gzip(Buffer.from(result.text, 'utf8'));
      made.set(result, compressed);
    }
    return compressed;
  };
}

async function send(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  web: LoadedWebConfig,
  reply: Reply,
): Promise<void> {
  let payload: Buffer = Buffer.from(reply.body, 'utf8');
  const headers: http.OutgoingHttpHeaders = {
    ...SAFE_HEADERS,
    ...web.config.headers,
    ...reply.headers,
    'Content-Type': reply.contentType,
  };
  if (reply.gzipped) {
    headers['Vary'] = 'Accept-Encoding';
    if (acceptsGzip(request)) {
      payload = await reply.gzipped();
      headers['Content-Encoding'] = 'gzip';
    }
  }
  headers['Content-Length'] = payload.length;
  response.writeHead(reply.status, headers);
  response.end(request.method === 'HEAD' ? undefined : payload);
}

/** The request handler; basic-auth results and gzipped texts are remembered across its requests. */
export function createRequestHandler(deps: ServerDeps): http.RequestListener {
  const state: HandlerState = { auth: new BasicAuthChecker(), compress: gzipOnce() };
  return (request, response) => {
    const web = deps.webConfig?.current() ?? PLAIN_HTTP;
    void handle(deps, state, web, request, response).catch((error: unknown) => {
      deps.log.error({ err: describeError(error), path: pathOf(request) }, 'request failed');
      if (!response.headersSent) response.writeHead(500, { ...SAFE_HEADERS, 'Content-Type': TEXT });
      response.end('internal error: see the collector log\n');
    });
  };
}

function pathOf(request: http.IncomingMessage): string {
  return (request.url ?? '/').split('?')[0]!;
}

/** What the handler keeps between requests. */
interface HandlerState {
  /** Remembered basic-auth results. */
  readonly auth: BasicAuthChecker;
  readonly compress: (result: ScrapeResult) => Promise<Buffer>;
}

async function route(deps: ServerDeps, state: HandlerState, path: string): Promise<Reply> {
  switch (path) {
    case '/metrics': {
      const result = await deps.exposition.scrape();
      return { status: 200, contentType: CONTENT_TYPE, body: result.text, gzipped: () => state.compress(result) };
    }
    case '/healthz':
      return { status: 200, contentType: TEXT, body: 'ok\n' };
    case '/readyz':
      return deps.gatherer.ready
        ? { status: 200, contentType: TEXT, body: 'ready\n' }
        : { status: 503, contentType: TEXT, body: 'not ready: no successful gathering yet\n' };
    case '/': {
      const gathering = await deps.gatherer.recent(deps.scrapeReuseSeconds).catch(() => deps.gatherer.latest);
      return {
        status: 200,
        contentType: 'text/html; charset=utf-8',
        body: renderStatusPage({
          buildInfo: deps.buildInfo,
          nodeName: deps.nodeName,
          gathering,
          installed: deps.installed,
        }),
        headers: { 'Content-Security-Policy': STATUS_PAGE_CSP, 'X-Frame-Options': 'DENY' },
      };
    }
    default:
      // The path is not echoed: nothing the client sends comes back in a response.
      return {
        status: 404,
        contentType: TEXT,
        body: 'not found: this collector serves /metrics, /healthz, /readyz and /\n',
      };
  }
}

async function handle(
  deps: ServerDeps,
  state: HandlerState,
  web: LoadedWebConfig,
  request: http.IncomingMessage,
  response: http.ServerResponse,
): Promise<void> {
  if (web.tls && request.socket instanceof tls.TLSSocket) {
    const refusal = clientCertificateRefusal(request.socket, web.tls.config);
    if (refusal) {
      deps.log.warn({ remote: request.socket.remoteAddress }, `TLS client refused: ${refusal}`);
      request.socket.destroy();
      return;
    }
  }
  const path = pathOf(request);
  const users = web.config.basicAuthUsers;
  if (
    users.size > 0 &&
    !UNAUTHENTICATED_PATHS.has(path) &&
    !(await state.auth.allows(request.headers.authorization, users))
  ) {
    return send(request, response, web, {
      status: 401,
      contentType: TEXT,
      body: 'unauthorized: this collector needs basic authentication\n',
      headers: { 'WWW-Authenticate': 'Basic realm="kappie", charset="UTF-8"' },
    });
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return send(request, response, web, {
      status: 405,
      contentType: TEXT,
      body: 'method not allowed: use GET\n',
      headers: { Allow: 'GET, HEAD' },
    });
  }
  return send(request, response, web, await route(deps, state, path));
}

export interface ListenOptions {
  readonly limits: ConnectionLimits;
  readonly log: Logger;
  /** Absent: plain HTTP. */
  readonly webConfig?: WebConfigFile;
}

/** A listening collector endpoint. */
export interface RunningServer {
  /** The bound address (the port chosen when --listen asked for port 0). */
  readonly address: net.AddressInfo;
  /** Connections open now. */
  readonly connections: number;
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

/** Idle time allowed between two requests of a keep-alive connection: longer than Prometheus' scrape interval. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * The HTTP servers that parse connections, one per web configuration loaded: plain HTTP, or Node's HTTPS server with
 * that configuration's certificate and client-certificate options (Node's own TLS server does the handshake and the
 * verification). A reload makes a new one for the connections that follow; earlier connections keep theirs.
 */
function httpServerFactory(
  handler: http.RequestListener,
  guard: ConnectionGuard,
  limits: ConnectionLimits,
  log: Logger,
): (web: LoadedWebConfig) => http.Server {
  const made = new WeakMap<LoadedWebConfig, http.Server>();
  return (web) => {
    const existing = made.get(web);
    if (existing) return existing;
    const server = web.tls
      ? https.createServer({ ...web.tls.serverOptions, handshakeTimeout: limits.readHeaderTimeoutMs }, handler)
      : http.createServer(handler);
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
      response.once('close', guard.requestStarted(request.socket));
    });
    const setup = web.tls;
    if (setup) {
      server.on('secureConnection', (socket: tls.TLSSocket) => {
        const refusal = clientCertificateRefusal(socket, setup.config);
        if (refusal) {
          log.warn({ remote: socket.remoteAddress }, `TLS client refused: ${refusal}`);
          socket.destroy();
        }
      });
      server.on('tlsClientError', (error, socket) => {
        log.debug({ err: describeError(error), remote: socket.remoteAddress }, 'TLS handshake failed');
      });
    }
    made.set(web, server);
    return server;
  };
}

/** Starts listening; resolves once bound, rejects with a clear error when the port is taken. */
export function listen(
  handler: http.RequestListener,
  address: ListenAddress,
  options: ListenOptions,
): Promise<RunningServer> {
  const { log, webConfig, limits } = options;
  const guard = new ConnectionGuard(limits, log);
  const serverFor = httpServerFactory(handler, guard, limits, log);
  const tcpServer = net.createServer((raw) => {
    if (!guard.admit(raw)) return;
    serverFor(webConfig?.current() ?? PLAIN_HTTP).emit('connection', raw);
  });

  return new Promise((resolve, reject) => {
    tcpServer.once('error', (error: NodeJS.ErrnoException) => {
      const where = `${address.host || '*'}:${address.port}`;
      if (error.code === 'EADDRINUSE')
        reject(new Error(`cannot listen on ${where}: the port is in use (choose another with --listen)`));
      else if (error.code === 'EACCES') reject(new Error(`cannot listen on ${where}: permission denied`));
      else reject(error);
    });
    tcpServer.listen({ host: address.host === '' ? undefined : address.host, port: address.port }, () =>
      resolve({
        address: tcpServer.address() as net.AddressInfo,
        get connections() {
          return guard.size;
        },
        close: () =>
          new Promise<void>((done) => {
            tcpServer.close(() => done());
            guard.closeAll();
          }),
      }),
    );
  });
}
