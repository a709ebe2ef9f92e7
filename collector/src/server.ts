/**
 * The HTTP side: /metrics (text format 0.0.4, gzipped unless Accept-Encoding refuses gzip or prefers the plain text:
 * web/content-coding.ts), /healthz, /readyz (ready after the first gathering with a source up), and / (the status
 * page). Anything else is 404; anything but GET/HEAD is 405.
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
import type * as https from 'node:https';
import * as net from 'node:net';
import type * as tls from 'node:tls';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { Logger } from 'pino';
import type { BuildInfo } from './build-info';
import type { CollectorConfig, ListenAddress } from './config';
import { describeError } from './errors';
import { CONTENT_TYPE, Exposition, type ScrapeResult } from './exposition';
import type { Gatherer } from './gatherer';
import type { InstalledObject } from './installed-state';
import { renderStatusPage, STATUS_PAGE_CSP } from './status-page';
import { BasicAuthChecker } from './web/basic-auth';
import { clientCertificateRefusal } from './web/client-certificate';
import { ConnectionGuard, type ConnectionLimits } from './web/connection-guard';
import { responseCoding } from './web/content-coding';
import type { LoadedWebConfig, WebConfigFile } from './web/web-config-file';

/** The configuration of a collector started without --web-config-file: plain HTTP, no authentication. */
export const PLAIN_HTTP: LoadedWebConfig = {
  config: { tls: undefined, headers: {}, basicAuthUsers: new Map() },
  tls: undefined,
};

/*
 * node:tls and node:https are loaded only when a web configuration turns TLS on (about 2 MiB of resident memory a
 * plain-HTTP collector does not need): `web.tls` is set only then, and the web configuration file loaded them.
 */
function tlsModule(): typeof tls {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('node:tls') as typeof tls;
}

function httpsModule(): typeof https {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('node:https') as typeof https;
}

const gzip = promisify(zlib.gzip);

/**
 * Texts up to this size are compressed on the main thread. An exposition is ~15 KB (the series count does not grow
 * with the node: ~190 at 1000 interfaces) and zlib takes ~0.06 ms for it, where handing it to libuv's thread pool and
 * back costs 0.3 ms to 2 ms of latency on a busy 2-CPU node (measured: bench/RESULTS.md); a larger text (a
 * --compat retina scrape of a very large node) still goes to the pool so the event loop is not held.
 */
const GZIP_ON_MAIN_THREAD_MAX_BYTES = 256 * 1024;

/**
 * zlib's state for each compression: a 16 KiB window and a 2^12-entry hash (windowBits 14, memLevel 6) instead of
 * 32 KiB and 2^15 (15, 8). zlib's default state is ~256 KiB, which glibc's malloc maps and unmaps at every call
 * (above its 128 KiB mmap threshold): page faults and zeroing took the median gzip of a 15 KB exposition to 0.77 ms,
 * against 0.056 ms with this state, for the same 2218 compressed bytes (bench/RESULTS.md).
 *
 * Level 1 (zlib's fastest): an exposition is repetitive text that level 1 already shrinks ~10x, and the scrape waits
 * for the compression. On a 24.5 KB exposition (the golden file, --no-opt like the bin) level 6 took 0.42 ms
 * median (0.11 min) for 2330 bytes, level 1 0.058 ms for 2573 bytes: 243 bytes more per scrape for ~0.1-0.35 ms less.
 */
const GZIP_OPTIONS: zlib.ZlibOptions = { level: zlib.constants.Z_BEST_SPEED, windowBits: 14, memLevel: 6 };

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
      const text = Buffer.from(result.text, 'utf8');
      compressed =
        text.length <= GZIP_ON_MAIN_THREAD_MAX_BYTES
          ? Promise.resolve(zlib.gzipSync(text, GZIP_OPTIONS))
          : gzip(text, GZIP_OPTIONS);
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
  let payload: Buffer | string = reply.body;
  const headers: http.OutgoingHttpHeaders = {
    ...SAFE_HEADERS,
    ...web.config.headers,
    ...reply.headers,
    'Content-Type': reply.contentType,
  };
  if (reply.gzipped) {
    headers['Vary'] = 'Accept-Encoding';
    const coding = responseCoding(request.headers);
    if (coding !== 'identity') {
      payload = await reply.gzipped();
      headers['Content-Encoding'] = coding;
    }
  }
  headers['Content-Length'] = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
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
  if (web.tls && request.socket instanceof tlsModule().TLSSocket) {
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
      ? httpsModule().createServer({ ...web.tls.serverOptions, handshakeTimeout: limits.readHeaderTimeoutMs }, handler)
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

/** What `startServer` needs: the configuration, the gatherer that serves it, and what the status page names. */
export interface ServerSetup {
  /** --listen, --node-name, --scrape-reuse-window, --max-connections, --read-header-timeout and the prefix. */
  readonly config: CollectorConfig;
  readonly gatherer: Gatherer;
  readonly buildInfo: BuildInfo;
  readonly log: Logger;
  /** What the collector installs in the kernel, for the status page (empty on Windows). */
  readonly installed: readonly InstalledObject[];
  /** The loaded --web-config-file; absent: plain HTTP without authentication. */
  readonly webConfig?: WebConfigFile;
}

/** A serving collector endpoint with the exposition it answers /metrics from. */
export interface StartedServer extends RunningServer {
  readonly exposition: Exposition;
  /** `http://` or `https://` (when the web configuration enables TLS) and the bound address. */
  readonly url: string;
}

/**
 * The one way a collector starts serving (`kappie serve` and the tests): the exposition over the gatherer, the
 * request handler and the listening server with the configured limits and web configuration. Rejects as `listen`
 * does when the address cannot be bound.
 */
export async function startServer(setup: ServerSetup): Promise<StartedServer> {
  const { config, gatherer, buildInfo, log, installed, webConfig } = setup;
  const exposition = new Exposition(gatherer, config, buildInfo);
  const handler = createRequestHandler({
    exposition,
    gatherer,
    buildInfo,
    nodeName: config.nodeName,
    log,
    installed,
    scrapeReuseSeconds: config.scrapeReuseSeconds,
    webConfig,
  });
  const server = await listen(handler, config.listen, {
    log,
    webConfig,
    limits: { maxConnections: config.maxConnections, readHeaderTimeoutMs: config.readHeaderTimeoutSeconds * 1000 },
  });
  const scheme = webConfig?.current().tls ? 'https' : 'http';
  const { address, port, family } = server.address;
  const host = family === 'IPv6' ? `[${address}]` : address;
  return {
    exposition,
    url: `${scheme}://${host}:${port}`,
    address: server.address,
    get connections() {
      return server.connections;
    },
    close: () => server.close(),
  };
}
