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
 */
import type { ChildProcess } from 'node:child_process';
import { LABEL, METRICS, metricName } from '../../src/catalog';
import { cleanup, COLLECTOR_CLI, describeKernel, Namespace, uniqueName, waitForOutput } from '../helpers/netns';

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
});
