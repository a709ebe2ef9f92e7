/**
 * Real TCP traffic between test namespaces for the TCP flag counter tests: a server that accepts and closes, and a
 * client that opens N connections one after the other (each closed with FIN, or aborted with RST).
 */
import type { ChildProcess } from 'node:child_process';
import { waitForOutput, type Namespace } from './netns';

const SERVER = `
const net = require('node:net');
const [host, port] = [process.argv[1], Number(process.argv[2])];
// allowHalfOpen false (the default): the server answers the client's FIN with its own.
net.createServer((socket) => { socket.on('error', () => {}); socket.resume(); })
  .listen(port, host, () => console.log('listening'));
`;

const CLIENT = `
const net = require('node:net');
const [host, port, count, ending] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
async function once() {
  await new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.on('error', (error) => (ending === 'refused' && error.code === 'ECONNREFUSED' ? resolve() : reject(error)));
    socket.on('connect', () => {
      if (ending === 'reset') { socket.resetAndDestroy(); resolve(); return; }
      socket.write('x');
      socket.end();
    });
    socket.on('close', () => resolve());
  });
}
(async () => { for (let i = 0; i < count; i++) await once(); console.log('done ' + count); })()
  .catch((error) => { console.error(error); process.exit(1); });
`;

export async function startTcpServer(ns: Namespace, host: string, port: number): Promise<ChildProcess> {
  const child = ns.spawn(process.execPath, ['-e', SERVER, host, String(port)]);
  await waitForOutput(child, /listening/);
  return child;
}

/**
 * Opens `count` connections from `ns` to host:port, one at a time. `close`: data, then FIN from both sides;
 * `reset`: the client aborts with RST right after the handshake; `refused`: the port is closed, the peer answers RST.
 */
export function tcpConnections(
  ns: Namespace,
  host: string,
  port: number,
  count: number,
  ending: 'close' | 'reset' | 'refused',
): void {
  const out = ns.exec(process.execPath, '-e', CLIENT, host, String(port), String(count), ending);
  if (!out.includes(`done ${count}`)) throw new Error(`client did not finish: ${out}`);
}
