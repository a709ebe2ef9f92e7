/**
 * Holds real sockets open inside a namespace from a child Node process, so tests can assert exact socket counts.
 * The child prints "ready" once every socket is open and holds them until killed.
 */
import type { ChildProcess } from 'node:child_process';
import { waitForOutput, type Namespace } from './netns';

const UDP_HOLDER = `
const dgram = require('node:dgram');
const [count, family] = [Number(process.argv[1]), process.argv[2]];
const sockets = [];
let bound = 0;
for (let i = 0; i < count; i++) {
  const s = dgram.createSocket(family === '6' ? 'udp6' : 'udp4');
  s.bind(0, family === '6' ? '::1' : '127.0.0.1', () => { if (++bound === count) console.log('ready'); });
  sockets.push(s);
}
setInterval(() => {}, 1 << 30);
`;

/** Opens `count` UDP sockets (IPv4 or IPv6) inside the namespace. */
export async function holdUdpSockets(ns: Namespace, count: number, family: '4' | '6'): Promise<ChildProcess> {
  const child = ns.spawn(process.execPath, ['-e', UDP_HOLDER, String(count), family]);
  await waitForOutput(child, /ready/);
  return child;
}
