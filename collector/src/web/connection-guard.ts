/**
 * Bounds what clients can hold on the collector's port: at most `maxConnections` connections at once, and a deadline
 * for each new connection to deliver its first complete request head (TLS handshake included).
 *
 * When the limit is reached, the OLDEST connection with no request in progress is closed to make room: connections
 * that send nothing (or trickle a header) cannot lock Prometheus out, whereas refusing new connections (Node's
 * `server.maxConnections`) would let 64 idle sockets hold the port until they time out. Only when every connection
 * is busy with a request is the new one refused. The file-descriptor cost is bounded by the limit, so a flood of idle
 * connections never runs the process out of descriptors (at 1024, Node's accept loop would stall for as long as
 * the flood lasts).
 */
import type * as net from 'node:net';
import type { Logger } from 'pino';

export interface ConnectionLimits {
  readonly maxConnections: number;
  /** Milliseconds from accept to the first complete request head. */
  readonly readHeaderTimeoutMs: number;
}

interface Tracked {
  readonly raw: net.Socket;
  /** Requests being answered now (HTTP/1.1 pipelining can queue several). */
  inFlight: number;
  /** Requests seen on this connection; 0 until the first request head is complete. */
  requests: number;
  deadline: NodeJS.Timeout | undefined;
}

/** Logs the connection limit at most this often: a flood must not flood the log too. */
const LIMIT_LOG_INTERVAL_MS = 60_000;

/**
 * A connection's key: its remote address and port, which the TCP socket and a TLS socket over it share (Node's TLS
 * server creates the TLS socket itself, so the two are matched by what both report).
 */
function endpointOf(socket: Pick<net.Socket, 'remoteAddress' | 'remotePort'>): string {
  return `${socket.remoteAddress ?? '?'}|${socket.remotePort ?? '?'}`;
}

export class ConnectionGuard {
  /** By remote endpoint, oldest first (a Map iterates in insertion order). */
  private readonly connections = new Map<string, Tracked>();
  private lastLimitLog = 0;
  private evicted = 0;
  private refused = 0;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
  ) {}

  /** Connections open now. */
  get size(): number {
    return this.connections.size;
  }

  /**
   * Takes a newly accepted connection, closing the oldest idle one when the limit is reached. Returns false (and has
   * closed `raw`) when every connection is busy with a request.
   */
  admit(raw: net.Socket): boolean {
    if (this.connections.size >= this.limits.maxConnections && !this.evictOldestIdle()) {
      this.refused += 1;
      this.noteLimit();
      raw.destroy();
      return false;
    }
    const key = endpointOf(raw);
    const entry: Tracked = { raw, inFlight: 0, requests: 0, deadline: undefined };
    entry.deadline = setTimeout(() => {
      if (entry.requests === 0) raw.destroy();
    }, this.limits.readHeaderTimeoutMs).unref();
    this.connections.set(key, entry);
    raw.once('close', () => {
      clearTimeout(entry.deadline);
      if (this.connections.get(key) === entry) this.connections.delete(key);
    });
    return true;
  }

  /**
   * A complete request head arrived on `served` (the TCP socket, or the TLS socket over it); returns the function to
   * call when its response is done.
   */
  requestStarted(served: Pick<net.Socket, 'remoteAddress' | 'remotePort'>): () => void {
    const entry = this.connections.get(endpointOf(served));
    if (!entry) return () => undefined;
    entry.requests += 1;
    entry.inFlight += 1;
    clearTimeout(entry.deadline);
    let done = false;
    return () => {
      if (!done) entry.inFlight -= 1;
      done = true;
    };
  }

  /** Closes every connection (at shutdown). */
  closeAll(): void {
    for (const entry of [...this.connections.values()]) entry.raw.destroy();
  }

  private evictOldestIdle(): boolean {
    for (const [key, entry] of this.connections) {
      if (entry.inFlight > 0) continue;
      this.connections.delete(key);
      clearTimeout(entry.deadline);
      entry.raw.destroy();
      this.evicted += 1;
      this.noteLimit();
      return true;
    }
    return false;
  }

  private noteLimit(): void {
    const now = Date.now();
    if (now - this.lastLimitLog < LIMIT_LOG_INTERVAL_MS) return;
    this.lastLimitLog = now;
    this.log.warn(
      { maxConnections: this.limits.maxConnections, closedIdle: this.evicted, refusedBusy: this.refused },
      `connection limit reached (--max-connections ${this.limits.maxConnections}): closed the oldest idle connections ` +
        'to serve new ones; many clients, or idle connections held open by something that is not a scraper',
    );
  }
}
