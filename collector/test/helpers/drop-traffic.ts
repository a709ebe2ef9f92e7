/**
 * Steady traffic that makes the kernel drop packets, for tests that need drops to keep happening while Prometheus
 * scrapes (panels that show only series whose rate is above zero). Each loop runs in a namespace the test created,
 * as a Node child process calling libc through koffi (Node has no AF_PACKET sockets and always reads its UDP
 * sockets), until it is killed. Traffic stays inside the test's namespaces.
 *
 * Per round, in the namespace of `startDropLoop`:
 * - a datagram to a closed loopback port: dropped on the receive path (NO_SOCKET, direction ingress);
 * - a datagram to a neighbour behind `blackholeInterface` whose peer is down: dropped on the transmit path
 *   (QDISC_DROP, egress), counted in that interface's tx_dropped;
 * - two datagrams queued on a UDP socket that is closed without reading them: dropped where the kernel names no path
 *   (direction unknown).
 * And in the namespace of `startUnknownEthertypeLoop`: an Ethernet frame of an ethertype no protocol handles
 * (0x88b5, IEEE local experimental) to a MAC address on the link, which the receiving interface counts in
 * rx_dropped (and the kernel drops as UNHANDLED_PROTO, ingress).
 */
import type { ChildProcess } from 'node:child_process';
import { waitForOutput, type Namespace } from './netns';

const LIBC = `
const koffi = require(process.env.KOFFI_PATH);
const libc = koffi.load('libc.so.6');
const socket = libc.func('int socket(int, int, int)');
const bind = libc.func('int bind(int, void *, uint32_t)');
const sendto = libc.func('long sendto(int, const void *, size_t, int, void *, uint32_t)');
const send = libc.func('long send(int, const void *, size_t, int)');
const close = libc.func('int close(int)');
const ifIndex = libc.func('unsigned int if_nametoindex(const char *)');
const AF_INET = 2, SOCK_DGRAM = 2, AF_PACKET = 17, SOCK_RAW = 3;
function sockaddrIn(address, port) {
  const sin = Buffer.alloc(16);
  sin.writeUInt16LE(AF_INET, 0);
  sin.writeUInt16BE(port, 2);
  Buffer.from(address.split('.').map(Number)).copy(sin, 4);
  return sin;
}
`;

const DROP_LOOP = `${LIBC}
const [closedPort, blackholeAddress, purgePort, intervalMs] = process.argv.slice(1);
const tx = socket(AF_INET, SOCK_DGRAM, 0);
const closedTarget = sockaddrIn('127.0.0.1', Number(closedPort));
const blackholeTarget = sockaddrIn(blackholeAddress, 9);
const purgeAddress = sockaddrIn('127.0.0.1', Number(purgePort));
const payload = Buffer.from('kappie');
function round() {
  sendto(tx, payload, payload.length, 0, closedTarget, 16);
  sendto(tx, payload, payload.length, 0, blackholeTarget, 16);
  const queue = socket(AF_INET, SOCK_DGRAM, 0);
  if (bind(queue, purgeAddress, 16) === 0) {
    sendto(tx, payload, payload.length, 0, purgeAddress, 16);
    sendto(tx, payload, payload.length, 0, purgeAddress, 16);
  }
  close(queue);
}
round();
console.log('dropping');
setInterval(round, Number(intervalMs));
`;

const ETHERTYPE_LOOP = `${LIBC}
const [ifname, destinationMac, intervalMs] = process.argv.slice(1);
const fd = socket(AF_PACKET, SOCK_RAW, 0);
const link = Buffer.alloc(20);
link.writeUInt16LE(AF_PACKET, 0);
link.writeUInt16BE(0x88b5, 2);
link.writeInt32LE(ifIndex(ifname), 4);
if (fd < 0 || bind(fd, link, 20) !== 0) { console.error('cannot open a packet socket on ' + ifname); process.exit(1); }
const frame = Buffer.alloc(60);
Buffer.from(destinationMac.split(':').map((byte) => parseInt(byte, 16))).copy(frame, 0);
Buffer.from([0x02, 0, 0, 0, 0x6b, 0x61]).copy(frame, 6);
frame.writeUInt16BE(0x88b5, 12);
const round = () => send(fd, frame, frame.length, 0);
round();
console.log('sending');
setInterval(round, Number(intervalMs));
`;

const koffiEnv = () => ({ KOFFI_PATH: require.resolve('koffi') });

/** Starts the drop loop in `ns`; resolves once its first round ran. Killed by netns cleanup(). */
export async function startDropLoop(
  ns: Namespace,
  options: { closedPort: number; blackholeAddress: string; purgePort: number; intervalMs: number },
): Promise<ChildProcess> {
  const child = ns.spawn('env', [
    `KOFFI_PATH=${koffiEnv().KOFFI_PATH}`,
    process.execPath,
    '-e',
    DROP_LOOP,
    String(options.closedPort),
    options.blackholeAddress,
    String(options.purgePort),
    String(options.intervalMs),
  ]);
  await waitForOutput(child, /dropping/);
  return child;
}

/** Starts sending unknown-ethertype frames out of `ifname` in `ns` to `destinationMac`. */
export async function startUnknownEthertypeLoop(
  ns: Namespace,
  ifname: string,
  destinationMac: string,
  intervalMs: number,
): Promise<ChildProcess> {
  const child = ns.spawn('env', [
    `KOFFI_PATH=${koffiEnv().KOFFI_PATH}`,
    process.execPath,
    '-e',
    ETHERTYPE_LOOP,
    ifname,
    destinationMac,
    String(intervalMs),
  ]);
  await waitForOutput(child, /sending/);
  return child;
}

/**
 * A veth pair in `ns` whose first end is up with an address and a permanent neighbour, and whose peer is down:
 * whatever is sent to that neighbour is dropped by the sending side. Returns the neighbour's address.
 */
export function createBlackhole(ns: Namespace, name: string, peer: string, subnet: string): string {
  ns.ip('link', 'add', name, 'type', 'veth', 'peer', 'name', peer);
  ns.ip('addr', 'add', `${subnet}.1/24`, 'dev', name);
  ns.ip('link', 'set', name, 'up');
  ns.ip('neigh', 'add', `${subnet}.2`, 'lladdr', '02:00:00:00:6b:61', 'dev', name, 'nud', 'permanent');
  return `${subnet}.2`;
}
