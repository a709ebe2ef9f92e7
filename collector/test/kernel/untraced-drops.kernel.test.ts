/**
 * Drops the tracepoint never names, on the real kernel: a listener in a namespace of our own that never accepts, its
 * accept queue full, and clients whose SYNs (and their retransmissions) the kernel drops. tcp_conn_request counts each
 * in TcpExt ListenDrops and tcp_rcv_state_process frees the SYN with consume_skb(): no kfree_skb event. Two real
 * collectors run in that namespace at once, one with tracefs events and one with the kernel counters; both must count
 * those drops once (before untraced-drops.ts, tracefs events counted 0 of them and the counters all of them).
 *
 * The tracefs instance sees every namespace: TCP_LISTEN_OVERFLOW events of other tests on this host may add to the
 * tracefs total (and are subtracted from TCP_LISTEN_SYN_DROP), so the tracefs total may exceed ListenDrops by at most
 * those events, never fall short of it.
 *
 * Sends without a route: UDP and TCP to addresses behind `throw` routes (IPv4 and IPv6) fail with ENETUNREACH before a
 * packet exists (Ip OutNoRoutes / Ip6OutNoRoutes, no kfree_skb event), and a TCP connection whose route is replaced by a
 * route taken away after it was established has its segments freed by __ip_queue_xmit with IP_OUTNOROUTES (in
 * OutNoRoutes too). Both collectors must count each once, as nstat does (before IP_OUTNOROUTES_UNTRACED the tracefs
 * collector counted none of them: 0 of 37).
 */
import type { ChildProcess } from 'node:child_process';
import { LABEL, METRICS, metricName } from '../../src/catalog';
import {
  cleanup,
  COLLECTOR_CLI,
  connect,
  describeKernel,
  Namespace,
  uniqueName,
  waitForOutput,
} from '../helpers/netns';

const LISTEN_PORT = 7601;
const TRACEFS_PORT = 10094;
const COUNTERS_PORT = 10095;
const CLIENTS = 30;
/** Long enough for each refused client's SYN and two retransmissions (1 s, then 2 s later). */
const CLIENT_MS = 3500;

const LISTENER = `
const koffi = require(process.env.KOFFI_PATH);
const libc = koffi.load('libc.so.6');
const socket = libc.func('int socket(int, int, int)');
const bind = libc.func('int bind(int, void *, uint32_t)');
const listen = libc.func('int listen(int, int)');
const sin = Buffer.alloc(16);
sin.writeUInt16LE(2, 0);
sin.writeUInt16BE(Number(process.argv[1]), 2);
Buffer.from([127, 0, 0, 1]).copy(sin, 4);
const fd = socket(2, 1, 0);
if (fd < 0 || bind(fd, sin, 16) !== 0 || listen(fd, 1) !== 0) { console.error('cannot listen'); process.exit(1); }
console.log('listening');
setInterval(() => {}, 1 << 30);
`;

const CLIENTS_SCRIPT = `
const net = require('node:net');
const [port, count, ms] = process.argv.slice(1).map(Number);
const sockets = [];
for (let i = 0; i < count; i++) {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  sockets.push(s);
}
setTimeout(() => { for (const s of sockets) s.destroy(); process.exit(0); }, ms);
`;

/** Documentation prefixes (RFC 5737, RFC 3849), routed nowhere here: `throw` routes make every send to them fail. */
const NO_ROUTE_4 = '198.51.100.7';
const NO_ROUTE_6 = '2001:db8:6b61::7';
const UDP_SENDS_4 = 25;
const UDP_SENDS_6 = 5;
const TCP_CONNECTS = 3;

/** Sends UDP datagrams and opens TCP connections to unroutable addresses; prints how many failed with ENETUNREACH. */
const NO_ROUTE_SENDS = `
const dgram = require('node:dgram');
const net = require('node:net');
const [addr4, addr6, udp4, udp6, tcp] = process.argv.slice(1);
let refused = 0;
const sends = [];
for (const [type, addr, count] of [['udp4', addr4, Number(udp4)], ['udp6', addr6, Number(udp6)]]) {
  const socket = dgram.createSocket(type);
  for (let i = 0; i < count; i++) {
    sends.push(new Promise((done) => socket.send(Buffer.alloc(32), 9, addr, (err) => {
      if (err && err.code === 'ENETUNREACH') refused++;
      done();
    })));
  }
  sends.push(new Promise((done) => setTimeout(done, 200)).then(() => socket.close()));
}
for (let i = 0; i < Number(tcp); i++) {
  sends.push(new Promise((done) => net.connect(9, addr4).on('error', (err) => {
    if (err.code === 'ENETUNREACH') refused++;
    done();
  })));
}
Promise.all(sends).then(() => console.log('refused ' + refused));
`;

/**
 * A TCP client that connects, sends 1.5 s later (after the test has taken its route away), says `retried` 3 s after
 * that, and stays connected until killed.
 */
const ORPHANED_CONNECTION = `
const net = require('node:net');
const socket = net.connect(Number(process.argv[2]), process.argv[1], () => {
  console.log('connected');
  setTimeout(() => socket.write(Buffer.alloc(100)), 1500);
  setTimeout(() => console.log('retried'), 4500);
});
socket.on('error', () => {});
setInterval(() => {}, 1 << 30);
`;

/** IpOutNoRoutes + Ip6OutNoRoutes as nstat reads them in `ns` (absolute values, history untouched). */
function nstatOutNoRoutes(ns: Namespace): number {
  let total = 0;
  for (const line of ns.exec('nstat', '-asz', 'IpOutNoRoutes', 'Ip6OutNoRoutes').split('\n')) {
    const match = /^(IpOutNoRoutes|Ip6OutNoRoutes)\s+(\d+)/.exec(line);
    if (match) total += Number(match[2]);
  }
  return total;
}

/** drop_count of one scrape summed per reason (every direction). */
function dropCounts(text: string): Map<string, number> {
  const name = metricName(METRICS.dropCount);
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const reason = new RegExp(`${LABEL.reason}="([^"]+)"`).exec(line)![1]!;
    counts.set(reason, (counts.get(reason) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}

function listenDrops(ns: Namespace): number {
  const lines = ns.exec('cat', '/proc/net/netstat').split('\n');
  const header = lines.find((l) => l.startsWith('TcpExt: ') && /[A-Za-z]/.test(l.slice(8)))!;
  const values = lines[lines.indexOf(header) + 1]!.split(' ');
  return Number(values[header.split(' ').indexOf('ListenDrops')]);
}

describeKernel('drops the tracepoint never names: a full accept queue, tracefs events and kernel counters', () => {
  let ns: Namespace;
  const instance = uniqueName('kt');
  const children: ChildProcess[] = [];

  function startCollector(port: number, reader: string, ready: RegExp): Promise<string> {
    const child = ns.spawn(process.execPath, [
      COLLECTOR_CLI,
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--sources',
      'drops',
      '--drop-reader',
      reader,
      '--tracefs-instance',
      instance,
    ]);
    children.push(child);
    return waitForOutput(child, ready);
  }

  beforeAll(async () => {
    ns = Namespace.create();
    const listener = ns.spawn('env', [
      `KOFFI_PATH=${require.resolve('koffi')}`,
      process.execPath,
      '-e',
      LISTENER,
      String(LISTEN_PORT),
    ]);
    children.push(listener);
    await waitForOutput(listener, /listening/);
    await startCollector(TRACEFS_PORT, 'tracefs', /streaming kfree_skb drops|hist/);
    await startCollector(COUNTERS_PORT, 'counters', /serving \/metrics/);
  });

  afterAll(async () => {
    // SIGTERM first: the tracefs collector removes its instance.
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    cleanup();
  });

  it('counts each SYN a full accept queue drops once, with tracefs events as with the kernel counters', () => {
    const scrape = (port: number) => dropCounts(ns.fetchText(`http://127.0.0.1:${port}/metrics`));
    const tracefsBefore = scrape(TRACEFS_PORT);
    const countersBefore = scrape(COUNTERS_PORT);
    const dropsBefore = listenDrops(ns);

    ns.exec(process.execPath, '-e', CLIENTS_SCRIPT, String(LISTEN_PORT), String(CLIENTS), String(CLIENT_MS));

    const listenDropped = listenDrops(ns) - dropsBefore;
    const tracefsAfter = scrape(TRACEFS_PORT);
    const countersAfter = scrape(COUNTERS_PORT);
    const delta = (after: Map<string, number>, before: Map<string, number>, reason: string) =>
      (after.get(reason) ?? 0) - (before.get(reason) ?? 0);

    // A real full accept queue: most of the 30 clients' SYNs and their retransmissions were dropped.
    expect(listenDropped).toBeGreaterThanOrEqual(CLIENTS);
    // The kernel counters: ListenDrops as TCP_LISTEN_OVERFLOW.
    expect(delta(countersAfter, countersBefore, 'TCP_LISTEN_OVERFLOW')).toBe(listenDropped);
    // tracefs events: the ACK-path overflows as events, the SYNs freed by consume_skb() from ListenDrops.
    const events = delta(tracefsAfter, tracefsBefore, 'TCP_LISTEN_OVERFLOW');
    const synDrops = delta(tracefsAfter, tracefsBefore, 'TCP_LISTEN_SYN_DROP');
    expect(synDrops).toBeLessThanOrEqual(listenDropped);
    expect(synDrops + events).toBeGreaterThanOrEqual(listenDropped);
    // Beyond ListenDrops only by TCP_LISTEN_OVERFLOW events (other namespaces' overflows, seen by the tracepoint).
    expect(synDrops + events - listenDropped).toBeLessThanOrEqual(events);
  }, 60_000);

  it('counts each send refused for want of a route once, with tracefs events as with the kernel counters', async () => {
    const scrape = (port: number) => dropCounts(ns.fetchText(`http://127.0.0.1:${port}/metrics`));
    const outside = Namespace.create('ktnr');
    const link = connect(outside, ns);
    ns.ip('route', 'add', 'throw', '198.51.100.0/24');
    ns.ip('-6', 'route', 'add', 'throw', '2001:db8::/32');
    const server = outside.spawn(process.execPath, [
      '-e',
      "require('node:net').createServer((s) => s.on('data', () => {})).listen(7602, () => console.log('listening'))",
    ]);
    children.push(server);
    await waitForOutput(server, /listening/);

    const tracefsBefore = scrape(TRACEFS_PORT);
    const countersBefore = scrape(COUNTERS_PORT);
    const nstatBefore = nstatOutNoRoutes(ns);

    const refused = ns.exec(
      process.execPath,
      '-e',
      NO_ROUTE_SENDS,
      NO_ROUTE_4,
      NO_ROUTE_6,
      String(UDP_SENDS_4),
      String(UDP_SENDS_6),
      String(TCP_CONNECTS),
    );
    expect(refused.trim()).toBe(`refused ${UDP_SENDS_4 + UDP_SENDS_6 + TCP_CONNECTS}`);
    // A connection whose route goes away: its segments are freed with IP_OUTNOROUTES (events, and in OutNoRoutes).
    const client = ns.spawn(process.execPath, ['-e', ORPHANED_CONNECTION, link.aAddr4, '7602']);
    children.push(client);
    await waitForOutput(client, /connected/);
    // The subnet route to the peer goes away (the namespace has no default route): no route for its segments.
    const subnet = `${link.aAddr4.replace(/\.1$/, '.0')}/24`;
    ns.ip('route', 'del', subnet, 'dev', link.bIf);
    await waitForOutput(client, /retried/, 10_000);
    // Back before counting: the connection's later retransmissions and its close then find their route.
    ns.ip('route', 'add', subnet, 'dev', link.bIf);

    const noRoutes = nstatOutNoRoutes(ns) - nstatBefore;
    const tracefsAfter = scrape(TRACEFS_PORT);
    const countersAfter = scrape(COUNTERS_PORT);
    const delta = (after: Map<string, number>, before: Map<string, number>, reason: string) =>
      (after.get(reason) ?? 0) - (before.get(reason) ?? 0);
    const events = delta(tracefsAfter, tracefsBefore, 'IP_OUTNOROUTES');
    const untraced = delta(tracefsAfter, tracefsBefore, 'IP_OUTNOROUTES_UNTRACED');
    const diagnostics = {
      noRoutes,
      events,
      untraced,
      counters: delta(countersAfter, countersBefore, 'IP_OUTNOROUTES'),
    };

    // Every refused send, and the orphaned connection's segments (at least its first and one retransmission).
    expect({ ...diagnostics, enough: noRoutes >= UDP_SENDS_4 + UDP_SENDS_6 + TCP_CONNECTS + 2 }).toMatchObject({
      enough: true,
    });
    expect(diagnostics.counters).toBe(noRoutes);
    // Once: no-route events of other namespaces can only lower IP_OUTNOROUTES_UNTRACED, never add to the sum. (The
    // orphaned connection's segments are no events here: __ip_queue_xmit frees them before skb->protocol is set, and
    // the collector's filter passes only protocol != 0, so they are in IP_OUTNOROUTES_UNTRACED.)
    expect({ ...diagnostics, sum: events + untraced }).toMatchObject({ sum: noRoutes });
    outside.delete();
  }, 60_000);
});
