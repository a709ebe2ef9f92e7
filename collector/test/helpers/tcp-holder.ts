/**
 * Holds real TCP sockets open inside a namespace from a child Node process: listeners (accepted connections are held
 * too) and client connections. The child prints "ready" once every listener listens and every connection is
 * established, and holds them until killed.
 */
import type { ChildProcess } from 'node:child_process';
import { waitForOutput, type Namespace } from './netns';

export interface TcpHoldSpec {
  /** Addresses and ports to listen on. */
  readonly listen?: readonly (readonly [host: string, port: number])[];
  /** Connections to open: host, port, how many. */
  readonly connect?: readonly (readonly [host: string, port: number, count: number])[];
}

const TCP_HOLDER = `
const net = require('node:net');
const spec = JSON.parse(process.argv[1]);
const held = [];
const listen = spec.listen ?? [];
const connect = spec.connect ?? [];
const wanted = connect.reduce((sum, [, , count]) => sum + count, 0);
let listening = 0;
let connected = 0;
const fail = (error) => { console.error('holder: ' + error.message); process.exit(1); };
const check = () => { if (listening === listen.length && connected === wanted) console.log('ready'); };
for (const [host, port] of listen) {
  const server = net.createServer((socket) => { socket.on('error', () => {}); held.push(socket); });
  server.on('error', fail);
  server.listen({ host, port, ipv6Only: host.includes(':') }, () => { listening++; check(); });
  held.push(server);
}
for (const [host, port, count] of connect) {
  for (let i = 0; i < count; i++) {
    const socket = net.connect({ host, port }, () => { connected++; check(); });
    socket.on('error', fail);
    held.push(socket);
  }
}
check();
setInterval(() => {}, 1 << 30);
`;

/** Starts a holder inside the namespace and waits until all its sockets are open. */
export async function holdTcpSockets(ns: Namespace, spec: TcpHoldSpec): Promise<ChildProcess> {
  const child = ns.spawn(process.execPath, ['-e', TCP_HOLDER, JSON.stringify(spec)]);
  await waitForOutput(child, /ready/);
  return child;
}
