/**
 * A traffic agent run inside a network namespace of the guest (`ip netns exec NS node agent.js`): one node process
 * per namespace for the whole suite, because starting node costs seconds under emulation. It reads one JSON command
 * per line on stdin and answers one JSON line on stdout.
 *
 * Commands: udp (send datagrams), tcp-refused (connection attempts to a closed port), listen / connect-many (an
 * accept queue that is never drained), close-connections (the connecting sockets), close-all (listeners too), read
 * (a file of this namespace, e.g. /proc/net/snmp), write (a sysctl). A socket error never ends the agent: an agent that died would leave the suite waiting.
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as readline from 'node:readline';

export type AgentCommand =
  | { readonly op: 'udp'; readonly to: string; readonly port: number; readonly count: number; readonly size: number }
  | { readonly op: 'tcp-refused'; readonly to: string; readonly port: number; readonly count: number }
  | { readonly op: 'listen'; readonly port: number; readonly backlog: number }
  | {
      readonly op: 'connect-many';
      readonly to: string;
      readonly port: number;
      readonly count: number;
      readonly waitMs: number;
    }
  | { readonly op: 'close-connections' }
  | { readonly op: 'close-all' }
  | { readonly op: 'read'; readonly file: string }
  | { readonly op: 'write'; readonly file: string; readonly text: string };

/** Sockets this agent holds open between commands (listeners that never accept, pending connections). */
interface Held {
  /** Closers of raw listening sockets. */
  readonly listeners: (() => void)[];
  readonly sockets: net.Socket[];
}

/**
 * Sends `count` datagrams one after the other. A send the kernel refuses (EPERM when an output rule drops it) is
 * counted as failed and the next one goes out anyway.
 */
function sendDatagrams(to: string, port: number, count: number, size: number): Promise<unknown> {
  const socket = dgram.createSocket('udp4');
  socket.on('error', () => undefined);
  const payload = Buffer.alloc(size, 0x6b);
  return new Promise((resolve) => {
    let sent = 0;
    let failed = 0;
    const next = (error?: Error | null) => {
      if (error) failed += 1;
      if (sent === count) {
        socket.close();
        return resolve({ sent, failed });
      }
      sent += 1;
      socket.send(payload, port, to, next);
    };
    next();
  });
}

function refusedConnections(to: string, port: number, count: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let refused = 0;
    const next = () => {
      if (refused === count) return resolve({ refused });
      const socket = net.connect(port, to);
      socket.once('connect', () => reject(new Error(`${to}:${port} accepted a connection: the port is not closed`)));
      socket.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ECONNREFUSED') return reject(error);
        refused += 1;
        next();
      });
    };
    next();
  });
}

/** The libc calls of a listener that never accepts (koffi: the collector's own way to call libc). */
interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, address: Buffer, length: number): number;
  listen(fd: number, backlog: number): number;
  close(fd: number): number;
}

function loadLibc(): Libc {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require('koffi') as {
    load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
  };
  const library = koffi.load('libc.so.6');
  const socket = library.func('int socket(int, int, int)');
  const bind = library.func('int bind(int, const void *, uint32_t)');
  const listen = library.func('int listen(int, int)');
  const close = library.func('int close(int)');
  return {
    socket: (domain, type, protocol) => socket(domain, type, protocol) as number,
    bind: (fd, address, length) => bind(fd, address, length) as number,
    listen: (fd, backlog) => listen(fd, backlog) as number,
    close: (fd) => close(fd) as number,
  };
}

const AF_INET = 2;
const SOCK_STREAM = 1;

/**
 * A TCP listener nobody accepts from (what a stuck application is): a plain listen(2) on 0.0.0.0:port, outside
 * node's event loop, which would accept everything. Its accept queue holds `backlog` + 1 connections.
 */
function listenWithoutAccepting(port: number, backlog: number, held: Held): unknown {
  const libc = loadLibc();
  const fd = libc.socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw new Error('socket() failed');
  const address = Buffer.alloc(16);
  address.writeUInt16LE(AF_INET, 0);
  address.writeUInt16BE(port, 2);
  if (libc.bind(fd, address, address.length) !== 0 || libc.listen(fd, backlog) !== 0) {
    libc.close(fd);
    throw new Error(`bind/listen on port ${port} failed`);
  }
  held.listeners.push(() => libc.close(fd));
  return { listening: port, backlog };
}

function connectMany(to: string, port: number, count: number, waitMs: number, held: Held): Promise<unknown> {
  const outcomes: Record<string, number> = {};
  for (let i = 0; i < count; i += 1) {
    const socket = net.connect(port, to);
    held.sockets.push(socket);
    socket.once('connect', () => (outcomes['connected'] = (outcomes['connected'] ?? 0) + 1));
    socket.on(
      'error',
      (error: NodeJS.ErrnoException) => (outcomes[error.code ?? 'error'] = (outcomes[error.code ?? 'error'] ?? 0) + 1),
    );
  }
  return new Promise((resolve) => setTimeout(() => resolve(outcomes), waitMs));
}

/** Runs one command in this agent's network namespace; sockets it keeps open go into `held`. */
async function execute(command: AgentCommand, held: Held): Promise<unknown> {
  switch (command.op) {
    case 'udp':
      return sendDatagrams(command.to, command.port, command.count, command.size);
    case 'tcp-refused':
      return refusedConnections(command.to, command.port, command.count);
    case 'listen':
      return listenWithoutAccepting(command.port, command.backlog, held);
    case 'connect-many':
      return connectMany(command.to, command.port, command.count, command.waitMs, held);
    case 'close-connections':
      for (const socket of held.sockets.splice(0)) socket.resetAndDestroy();
      return { closed: true };
    case 'close-all':
      for (const socket of held.sockets.splice(0)) socket.resetAndDestroy();
      for (const close of held.listeners.splice(0)) close();
      return { closed: true };
    case 'read':
      return { text: fs.readFileSync(command.file, 'latin1') };
    case 'write':
      fs.writeFileSync(command.file, command.text);
      return { written: command.file };
  }
}

function main(): void {
  process.on('uncaughtException', (error) => process.stderr.write(`agent: ${error.stack ?? error.message}\n`));
  const held: Held = { listeners: [], sockets: [] };
  const reply = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    let command: AgentCommand;
    try {
      command = JSON.parse(line) as AgentCommand;
    } catch {
      return reply({ error: `not JSON: ${line.slice(0, 80)}` });
    }
    Promise.resolve()
      .then(() => execute(command, held))
      .then(
        (result) => reply({ ok: result }),
        (error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) }),
      );
  });
  reply({ ready: true });
}

if (require.main === module) main();
