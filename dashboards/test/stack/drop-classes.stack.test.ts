/**
 * The packet loss headline (QUERIES.overview.packetLoss) on a real Prometheus scraping the real collector, with real
 * drops made in a network namespace of our own:
 * - socket churn (connections closed with unread data, connections and datagrams to closed ports) drops hundreds of
 *   packets (QUEUE_PURGE, NO_SOCKET, ...) and leaves the headline at 0;
 * - an nftables drop rule (NETFILTER_DROP) and a full accept queue (TCP_LISTEN_OVERFLOW) make it rise, each seen
 *   by name on "Packet loss by reason".
 *
 * The collector's tracefs instance sees every namespace's drops, and other tests on this host drop packets too. So
 * "stays at 0" is asked of one of a few churn windows (before the classes, churn alone made every window red), and
 * "rises" is checked together with the reason that made it rise.
 */
import { describeWithStack } from '../../../deploy/test/helpers/describe-stack';
import {
  prometheusStackUnavailable,
  startPrometheusStack,
  type PrometheusStack,
} from '../../../deploy/test/helpers/prometheus-stack';
import {
  cleanup,
  kernelTestsUnavailable,
  Namespace,
  uniqueName,
  waitForOutput,
} from '../../../collector/test/helpers/netns';
import { DROP_CLASS_LABEL, QUERIES, substituteVariables, type PanelDefinition, type VariableValues } from '../../src';
import { everyValueOnNode } from './panel-series';

const SCRAPE_INTERVAL_SECONDS = 1;
const RATE_WINDOW_SECONDS = 4;
const describeStack = describeWithStack(
  'drop classes stack test',
  prometheusStackUnavailable() ?? kernelTestsUnavailable(),
);

/** Churn for `ms` milliseconds on the namespace's loopback: closes with unread data, closed TCP and UDP ports. */
const CHURN = `
const net = require('node:net'); const dgram = require('node:dgram');
const [PORT, CLOSED, MS] = process.argv.slice(1).map(Number);
const server = net.createServer((s) => { s.on('error', () => {}); setTimeout(() => s.destroy(), 5); });
server.listen(PORT, '127.0.0.1', async () => {
  const end = Date.now() + MS;
  while (Date.now() < end) {
    await new Promise((done) => {
      const c = net.connect(PORT, '127.0.0.1', () => {
        c.write(Buffer.alloc(64 * 1024, 1));
        setTimeout(() => { c.write(Buffer.alloc(1024)); c.end(); }, 20);
      });
      c.on('error', () => {}); c.on('close', done);
    });
    await new Promise((done) => { const c = net.connect(CLOSED, '127.0.0.1'); c.on('error', () => done()); c.on('connect', () => { c.destroy(); done(); }); });
    await new Promise((done) => { const u = dgram.createSocket('udp4'); u.send('x', CLOSED, '127.0.0.1', () => { u.close(); done(); }); });
  }
  server.close(); console.log('churned');
});`;

/** A listener that never accepts (its event loop blocks right after listen), so its accept queue fills. */
const BLOCKED_LISTENER = `
const net = require('node:net'); const [PORT, BACKLOG, SECONDS] = process.argv.slice(1).map(Number);
net.createServer().listen({ port: PORT, host: '127.0.0.1', backlog: BACKLOG }, () => {
  console.log('listening');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, SECONDS * 1000);
  process.exit(0);
});`;

/** Opens connections that each send a little data, and holds them. */
const CONNECT = `
const net = require('node:net'); const [PORT, N, HOLD_MS] = process.argv.slice(1).map(Number);
let up = 0;
for (let i = 0; i < N; i++) {
  const c = net.connect(PORT, '127.0.0.1', () => { c.write('hello'); if (++up === N) console.log('connected'); });
  c.on('error', () => {});
}
setTimeout(() => process.exit(0), HOLD_MS);`;

/**
 * Datagrams for `ms` milliseconds, a few every 100 ms: a reason's series is born with its first count, which rate()
 * cannot see, so the drops must go on across several scrapes.
 */
const DATAGRAMS = `
const s = require('node:dgram').createSocket('udp4'); const [PORT, MS] = process.argv.slice(1).map(Number);
const end = Date.now() + MS;
const timer = setInterval(() => {
  if (Date.now() > end) { clearInterval(timer); s.close(); return; }
  for (let i = 0; i < 5; i++) s.send('x', PORT, '127.0.0.1');
}, 100);`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => Math.floor(Date.now() / 1000);

describeStack('packet loss headline against real drops', () => {
  let stack: PrometheusStack;
  let ns: Namespace;
  let values: VariableValues;

  beforeAll(async () => {
    stack = await startPrometheusStack({ scrapeIntervalSeconds: SCRAPE_INTERVAL_SECONDS });
    ns = Namespace.create();
    await stack.waitForScrapes(3);
    values = everyValueOnNode(stack.nodeName, RATE_WINDOW_SECONDS);
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    cleanup();
  });

  /** The panel's series over [start, end] at the scrape step: labels and the largest value of each. */
  async function seriesMax(panel: PanelDefinition, start: number, end: number) {
    const matrix = await stack.queryRange(substituteVariables(panel.expr, values), start, end, SCRAPE_INTERVAL_SECONDS);
    return matrix.result.map((series) => ({
      metric: series.metric,
      max: Math.max(0, ...series.values.map(([, value]) => Number(value)).filter((v) => Number.isFinite(v))),
    }));
  }
  const headlineMax = async (start: number, end: number) =>
    Math.max(0, ...(await seriesMax(QUERIES.overview.packetLoss, start, end)).map((s) => s.max));
  const lossReasons = async (start: number, end: number) =>
    Object.fromEntries(
      (await seriesMax(QUERIES.drops.lossByReason, start, end))
        .filter((s) => s.max > 0)
        .map((s) => [s.metric.reason, s.max]),
    );

  /** Waits until Prometheus has scraped past `at` and rate() windows ending then are complete. */
  const settle = () => sleep((RATE_WINDOW_SECONDS + 2) * SCRAPE_INTERVAL_SECONDS * 1000);

  it('stays at 0 under socket churn with unread data and closed sockets, which the other classes show', async () => {
    const attempts: unknown[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const start = now();
      const churn = ns.spawn(process.execPath, ['-e', CHURN, '7300', '7301', '8000']);
      await waitForOutput(churn, /churned/, 30_000);
      await settle();
      // Rate windows entirely inside the churn: from one window after it started to its end.
      const from = start + RATE_WINDOW_SECONDS + 1;
      const to = now() - RATE_WINDOW_SECONDS;
      const byClass = await seriesMax(QUERIES.overview.dropsByClass, from, to);
      const notLoss = byClass.filter((s) =>
        ['housekeeping', 'not_for_node'].includes(s.metric[DROP_CLASS_LABEL] ?? ''),
      );
      const loss = await headlineMax(from, to);
      attempts.push({
        loss,
        lostBy: await lossReasons(from, to),
        notLoss: notLoss.map((s) => [s.metric[DROP_CLASS_LABEL], s.max]),
      });
      expect(notLoss.some((s) => s.max > 0)).toBe(true);
      if (loss === 0) return;
    }
    throw new Error(`the loss headline rose in every churn window: ${JSON.stringify(attempts)}`);
  }, 180_000);

  it('rises on an nftables drop, named NETFILTER_DROP', async () => {
    const table = uniqueName('kt');
    ns.exec('nft', 'add', 'table', 'inet', table);
    ns.exec('nft', `add chain inet ${table} input { type filter hook input priority 0; }`);
    ns.exec('nft', `add rule inet ${table} input udp dport 7400 counter drop`);
    const start = now();
    ns.exec(process.execPath, '-e', DATAGRAMS, '7400', String(3 * RATE_WINDOW_SECONDS * 1000));
    await settle();
    const end = now();
    ns.exec('nft', 'delete', 'table', 'inet', table);
    expect(await headlineMax(start, end)).toBeGreaterThan(0);
    expect(await lossReasons(start, end)).toHaveProperty('NETFILTER_DROP');
  }, 60_000);

  it('rises when an accept queue is full, named TCP_LISTEN_OVERFLOW', async () => {
    // Backlog 2: an accept queue of 3. Two connections wait in it; three more pass the SYN check while their ACKs are
    // held back by nft, then reach a full queue when released (the kernel drops those as TCP_LISTEN_OVERFLOW).
    const table = uniqueName('kt');
    const start = now();
    const listener = ns.spawn(process.execPath, ['-e', BLOCKED_LISTENER, '7500', '2', '15']);
    await waitForOutput(listener, /listening/);
    const first = ns.spawn(process.execPath, ['-e', CONNECT, '7500', '2', '12000']);
    await waitForOutput(first, /connected/);
    ns.exec('nft', 'add', 'table', 'inet', table);
    ns.exec('nft', `add chain inet ${table} input { type filter hook input priority 0; }`);
    ns.exec('nft', `add rule inet ${table} input tcp dport 7500 tcp flags & (syn | ack) == ack drop`);
    const second = ns.spawn(process.execPath, ['-e', CONNECT, '7500', '3', '10000']);
    await waitForOutput(second, /connected/);
    ns.exec('nft', 'delete', 'table', 'inet', table);
    await sleep(3000);
    await settle();
    const end = now();
    for (const child of [listener, first, second]) child.kill('SIGKILL');
    expect(await headlineMax(start, end)).toBeGreaterThan(0);
    expect(await lossReasons(start, end)).toHaveProperty('TCP_LISTEN_OVERFLOW');
  }, 90_000);
});
