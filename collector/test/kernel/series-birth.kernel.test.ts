/**
 * A drop reason seen for the first time, as Prometheus sees it: Debian's real `prometheus` scrapes the real collector
 * (tracefs events, as on a node), a namespace sends 300 frames to a MAC address nobody has, over a veth, and the
 * receiving namespace's kernel drops each one as OTHERHOST. `increase()` over a window covering the burst must say
 * about 300. Before series-birth.ts the series appeared as `kappie_drop_count{reason="OTHERHOST"} 300` and increase()
 * said 0 (run with `--new-series-hold 0` to see it).
 *
 * The collector's tracefs instance sees every namespace: OTHERHOST drops of other tests would add to ours, so the test
 * checks that the reason is unseen before the burst, and compares increase() with the collector's own total.
 */
import * as os from 'node:os';
import { METRICS, LABEL, metricName } from '../../src/catalog';
import { createNetlink } from '../../src/kernel/netlink-socket';
import { dumpLinks } from '../../src/kernel/rtnetlink-link';
import { inNamespace } from '../helpers/in-namespace';
import {
  prometheusStackUnavailable,
  startPrometheusStack,
  type PrometheusStack,
} from '../../../deploy/test/helpers/prometheus-stack';
import { cleanup, connect, describeKernel, Namespace, type Link } from '../helpers/netns';

const FRAMES = 300;
const HOLD_SECONDS = 5;
const DROP_COUNT = metricName(METRICS.dropCount);
const OTHERHOST = `${DROP_COUNT}{${LABEL.reason}="OTHERHOST"}`;

const unavailable = prometheusStackUnavailable();
const describeStack = unavailable ? describe.skip : describeKernel;
// eslint-disable-next-line no-console -- says once why the suite is skipped
if (unavailable) console.warn(`skipping the series birth test: ${unavailable}`);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The sum of the collector's OTHERHOST series in one exposition, undefined when it has none. */
function otherhostTotal(text: string): number | undefined {
  const lines = text
    .split('\n')
    .filter((l) => l.startsWith(`${DROP_COUNT}{`) && l.includes(`${LABEL.reason}="OTHERHOST"`));
  if (lines.length === 0) return undefined;
  return lines.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** The receiving interface's own count of frames for other hosts (IFLA_STATS64 rx_otherhost_dropped, 5.19+). */
function rxOtherhostDropped(ns: Namespace, ifname: string): bigint {
  const link = inNamespace(ns, () => dumpLinks(createNetlink(), os.endianness() === 'LE')).links.find(
    (l) => l.name === ifname,
  );
  const value = link?.stats64?.rx_otherhost_dropped;
  if (value === undefined) throw new Error(`no rx_otherhost_dropped for ${ifname} (kernel before 5.19?)`);
  return value;
}

/** `count` UDP datagrams from `link.a` to `link.b`'s address, whose neighbour entry in `a` is a MAC nobody has. */
function sendToForeignMac(link: Link, count: number): void {
  link.a.ip('neigh', 'replace', link.bAddr4, 'lladdr', '02:00:00:6b:61:99', 'nud', 'permanent', 'dev', link.aIf);
  const script = `
    const s = require('node:dgram').createSocket('udp4');
    let left = ${count};
    const next = () => left-- > 0 ? s.send('x', 9, '${link.bAddr4}', next) : s.close();
    next();`;
  link.a.exec(process.execPath, '-e', script);
}

describeStack('a counter series born with its first value, scraped by a real Prometheus', () => {
  let stack: PrometheusStack;
  let link: Link;

  beforeAll(async () => {
    link = connect(Namespace.create(), Namespace.create());
    stack = await startPrometheusStack({
      collectorArgs: ['--sources', 'drops', '--drop-reader', 'tracefs', '--new-series-hold', String(HOLD_SECONDS)],
    });
    await stack.waitForScrapes(3);
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    cleanup();
  });

  it(`increase() over a window covering a burst of ${FRAMES} OTHERHOST drops of a reason never seen before is about ${FRAMES}`, async () => {
    expect(otherhostTotal(await stack.collectorMetrics())).toBeUndefined();
    const rxOtherhostBefore = rxOtherhostDropped(link.b, link.bIf);
    const start = Date.now() / 1000;
    sendToForeignMac(link, FRAMES);
    // The receiving kernel's own count of those frames (ip_rcv_core counts each in rx_otherhost_dropped).
    expect(rxOtherhostDropped(link.b, link.bIf) - rxOtherhostBefore).toBe(BigInt(FRAMES));

    // The collector's total shows the burst once the hold is over; then a few more scrapes.
    let total: number | undefined;
    const deadline = Date.now() + 60_000;
    while (((total = otherhostTotal(await stack.collectorMetrics())) ?? 0) < FRAMES && Date.now() < deadline) {
      await sleep(500);
    }
    expect(total).toBeGreaterThanOrEqual(FRAMES);
    await sleep(3000);
    const window = Math.ceil(Date.now() / 1000 - start) + 5;
    const result = await stack.query(`sum(increase(${OTHERHOST}[${window}s]))`);
    const increase = result.resultType === 'vector' ? Number(result.result[0]?.value[1] ?? 0) : NaN;
    // increase() extrapolates to the window's end by up to half a scrape interval; it never extrapolates a counter
    // back below 0, so the held 0 is where it starts.
    expect(increase).toBeGreaterThanOrEqual(total! * 0.95);
    expect(increase).toBeLessThanOrEqual(total! * 1.15);
  }, 120_000);
});
