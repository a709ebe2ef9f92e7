/**
 * kappie_tcp_flag_counters end to end: the real collector serving inside namespace `a`, real TCP connections over a
 * veth pair to namespace `b`, the nftables table `kappie` living in `a`'s network namespace.
 */
import type { ChildProcess } from 'node:child_process';
import { LABEL, METRICS, metricName, TCP_FLAGS, type TcpFlag } from '../../src/catalog';
import type { NftDirection } from '../../src/sources/linux/nft-ruleset';
import { parseSnapshotJson } from '../../src/snapshot-json';
import { NFT_TABLE_NAME } from '../../src/sources/linux/nft-ruleset';
import { cleanup, COLLECTOR_CLI, connect, describeKernel, Namespace, waitForOutput, type Link } from '../helpers/netns';
import { startTcpServer, tcpConnections } from '../helpers/tcp-flags-traffic';

const FLAG_METRIC = metricName(METRICS.tcpFlagCounters);
const OPEN_PORT = 8080;
const CLOSED_PORT = 8081;

type Counts = Record<NftDirection, Record<TcpFlag, number>>;

/** The flag counters of a /metrics text, by direction and flag; every one of the 18 series must be there. */
function flagCounts(metricsText: string): Counts {
  const counts = { ingress: {}, egress: {} } as Counts;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(`${FLAG_METRIC}{`)) continue;
    const flag = new RegExp(`${LABEL.flag}="([A-Z]+)"`).exec(line)?.[1] as TcpFlag;
    const direction = new RegExp(`${LABEL.direction}="([a-z]+)"`).exec(line)?.[1] as NftDirection;
    counts[direction][flag] = Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  for (const direction of ['ingress', 'egress'] as const) {
    expect(Object.keys(counts[direction]).sort()).toEqual([...TCP_FLAGS].sort());
  }
  return counts;
}

function delta(after: Counts, before: Counts, direction: NftDirection, flag: TcpFlag): number {
  return after[direction][flag] - before[direction][flag];
}

function kappieTables(ns: Namespace): string[] {
  return ns
    .exec('nft', 'list', 'tables')
    .split('\n')
    .filter((line) => line.trim().endsWith(` ${NFT_TABLE_NAME}`));
}

describeKernel('TCP flag counters from the nftables table in a network namespace', () => {
  let link: Link;
  let port = 19_100;
  afterAll(cleanup);

  beforeAll(async () => {
    link = connect(Namespace.create(), Namespace.create());
    await startTcpServer(link.b, link.bAddr4, OPEN_PORT);
    await startTcpServer(link.b, link.bAddr6, OPEN_PORT);
  });

  async function startCollector(): Promise<{ child: ChildProcess; url: string; log: () => string }> {
    port += 1;
    const child = link.a.spawn(process.execPath, [
      COLLECTOR_CLI,
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--sources',
      'tcp_flags',
    ]);
    let log = '';
    for (const stream of [child.stdout!, child.stderr!])
      stream.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await waitForOutput(child, /ready: the sources are started/);
    return { child, url: `http://127.0.0.1:${port}/metrics`, log: () => log };
  }

  function scrape(url: string): Counts {
    return flagCounts(link.a.fetchText(url));
  }

  async function stopWith(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  it('counts N connections exactly: SYN egress, SYNACK ingress, FIN both ways, RST from a closed port', async () => {
    const { child, url, log } = await startCollector();
    const before = scrape(url);
    expect(kappieTables(link.a)).toEqual([`table inet ${NFT_TABLE_NAME}`]);

    const closed = 12;
    tcpConnections(link.a, link.bAddr4, OPEN_PORT, closed, 'close');
    tcpConnections(link.a, link.bAddr6, OPEN_PORT, closed, 'close');
    const afterClose = scrape(url);
    // No other TCP crosses the veth (the scrape itself is on loopback, which is not counted).
    expect(delta(afterClose, before, 'egress', 'SYN')).toBe(2 * closed);
    expect(delta(afterClose, before, 'ingress', 'SYNACK')).toBe(2 * closed);
    expect(delta(afterClose, before, 'ingress', 'SYN')).toBe(0);
    expect(delta(afterClose, before, 'egress', 'SYNACK')).toBe(0);
    // FIN from each side once per connection (a retransmitted FIN would add more: lower bound).
    expect(delta(afterClose, before, 'egress', 'FIN')).toBeGreaterThanOrEqual(2 * closed);
    expect(delta(afterClose, before, 'ingress', 'FIN')).toBeGreaterThanOrEqual(2 * closed);
    // Handshake ACK, data, FIN+ACK, last ACK: at least 3 ACK segments out and 2 in per connection.
    expect(delta(afterClose, before, 'egress', 'ACK')).toBeGreaterThanOrEqual(3 * 2 * closed);
    expect(delta(afterClose, before, 'ingress', 'ACK')).toBeGreaterThanOrEqual(2 * 2 * closed);
    expect(delta(afterClose, before, 'egress', 'PSH')).toBeGreaterThanOrEqual(2 * closed);
    expect(delta(afterClose, before, 'ingress', 'RST')).toBe(0);

    const refused = 7;
    tcpConnections(link.a, link.bAddr4, CLOSED_PORT, refused, 'refused');
    const afterRefused = scrape(url);
    expect(delta(afterRefused, afterClose, 'egress', 'SYN')).toBe(refused);
    expect(delta(afterRefused, afterClose, 'ingress', 'RST')).toBe(refused);
    expect(delta(afterRefused, afterClose, 'ingress', 'SYNACK')).toBe(0);

    const aborted = 5;
    tcpConnections(link.a, link.bAddr4, OPEN_PORT, aborted, 'reset');
    const afterReset = scrape(url);
    expect(delta(afterReset, afterRefused, 'egress', 'RST')).toBe(aborted);
    expect(delta(afterReset, afterRefused, 'ingress', 'SYNACK')).toBe(aborted);

    // A one-shot snapshot (kubectl exec next to the DaemonSet) reads the serving collector's table, leaves it alone.
    const snapshot = link.a.snapshot('--sources', 'tcp_flags');
    const snapshotSyn = snapshot.samples.tcpFlagCounters?.find(
      (sample) => sample.labels[LABEL.flag] === 'SYN' && sample.labels[LABEL.direction] === 'egress',
    );
    expect(snapshotSyn?.value).toBe(afterReset.egress.SYN);
    expect(kappieTables(link.a)).toHaveLength(1);
    // Read from the serving collector's /metrics: the same counts, in the text's flag table.
    const fromCollector = link.a.exec(process.execPath, COLLECTOR_CLI, 'snapshot', '--from', url);
    const flags = fromCollector.slice(fromCollector.indexOf("TCP segments by flag (the collector's"));
    expect(flags).toMatch(new RegExp(`^SYN\\s+${afterReset.ingress.SYN}\\s+${afterReset.egress.SYN}$`, 'm'));
    expect(flags).toMatch(new RegExp(`^RST\\s+${afterReset.ingress.RST}\\s+${afterReset.egress.RST}$`, 'm'));
    // Reading is one nftables netlink dump, no `nft` process: it works where nft is not even on the PATH.
    const withoutNft = parseSnapshotJson(
      link.a.exec(
        'env',
        'PATH=/nonexistent',
        process.execPath,
        COLLECTOR_CLI,
        'snapshot',
        '--json',
        '--sources',
        'tcp_flags',
      ),
    );
    expect(withoutNft.sources[0]).toEqual(expect.objectContaining({ name: 'tcp_flags', up: true }));
    expect(
      withoutNft.samples.tcpFlagCounters?.find(
        (sample) => sample.labels[LABEL.flag] === 'SYN' && sample.labels[LABEL.direction] === 'egress',
      )?.value,
    ).toBe(afterReset.egress.SYN);
    expect(scrape(url)).toEqual(afterReset);
    // The scrapes read the dumps the prefetches made off the main thread: a failure there falls back with this warning.
    // The scrapes above ran synchronously: the collector's output is read once this test yields to the event loop.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(log()).not.toMatch(/off the main thread failed/);

    await stopWith(child, 'SIGTERM');
    expect(kappieTables(link.a)).toEqual([]);
    // Without a serving collector there is nothing to read, and a snapshot says so instead of installing a table.
    const alone = link.a.snapshot('--sources', 'tcp_flags').sources[0];
    expect(alone).toEqual(expect.objectContaining({ name: 'tcp_flags', up: false }));
    expect(alone?.reason).toContain('kappie serve');
    expect(kappieTables(link.a)).toEqual([]);
  });

  it('removes the table on SIGINT', async () => {
    const { child, url } = await startCollector();
    scrape(url);
    expect(kappieTables(link.a)).toHaveLength(1);
    await stopWith(child, 'SIGINT');
    expect(kappieTables(link.a)).toEqual([]);
  });

  /** Waits until the namespace has `count` kappie tables (the kernel removes an owned table as its owner exits). */
  async function tablesBecome(ns: Namespace, count: number): Promise<string[]> {
    for (let i = 0; i < 50 && kappieTables(ns).length !== count; i++) await new Promise((r) => setTimeout(r, 100));
    return kappieTables(ns);
  }

  it('after SIGKILL the kernel removes the table it owned; the next start counts from zero', async () => {
    const first = await startCollector();
    scrape(first.url); // the first gathering installs the table
    expect(link.a.exec('nft', 'list', 'table', 'inet', NFT_TABLE_NAME)).toMatch(/^\s*flags owner$/m);
    tcpConnections(link.a, link.bAddr4, OPEN_PORT, 3, 'close');
    expect(scrape(first.url).egress.SYN).toBe(3);
    await stopWith(first.child, 'SIGKILL');
    // Its owner, the collector's nft session, ended with it: nothing is left behind.
    expect(await tablesBecome(link.a, 0)).toEqual([]);

    const second = await startCollector();
    const fresh = scrape(second.url);
    expect(kappieTables(link.a)).toHaveLength(1);
    expect(fresh.egress.SYN).toBe(0);
    tcpConnections(link.a, link.bAddr4, OPEN_PORT, 4, 'close');
    expect(scrape(second.url).egress.SYN).toBe(4);
    await stopWith(second.child, 'SIGTERM');
    expect(kappieTables(link.a)).toEqual([]);
  });

  it('replaces a stale table nobody owns (an older collector left it)', async () => {
    link.a.exec('nft', 'add', 'table', 'inet', NFT_TABLE_NAME);
    link.a.exec('nft', 'add', 'counter', 'inet', NFT_TABLE_NAME, 'stale');
    const { child, url } = await startCollector();
    expect(scrape(url).egress.SYN).toBe(0);
    const table = link.a.exec('nft', 'list', 'table', 'inet', NFT_TABLE_NAME);
    expect(table).toMatch(/^\s*flags owner$/m);
    expect(table).not.toContain('counter stale');
    await stopWith(child, 'SIGTERM');
    expect(kappieTables(link.a)).toEqual([]);
  });

  it('a second collector with the same --nft-table never replaces a live one’s table, and says why', async () => {
    const first = await startCollector();
    tcpConnections(link.a, link.bAddr4, OPEN_PORT, 3, 'close');
    const counted = scrape(first.url);
    expect(counted.egress.SYN).toBe(3);

    port += 1;
    const second = link.a.spawn(process.execPath, [
      COLLECTOR_CLI,
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--sources',
      'tcp_flags,sockstat',
    ]);
    const down = await waitForOutput(
      second,
      /source tcp_flags is down: [^"]*owned by another live process[^"]*--nft-table[^"]*"/,
    );
    // As root: no hint that a capability is missing (the kernel's EPERM is ownership here, not permission).
    expect(down).not.toMatch(/source tcp_flags is down: [^"]*CAP_NET_ADMIN/);
    const metrics = link.a.fetchText(`http://127.0.0.1:${port}/metrics`);
    const up = metricName(METRICS.sourceUp);
    expect(metrics).toMatch(new RegExp(`^${up}\\{source="tcp_flags"[^}]*\\} 0$`, 'm'));
    expect(metrics).toMatch(new RegExp(`^${up}\\{source="sockstat"[^}]*\\} 1$`, 'm'));
    // The first collector's counters went on: same table, not reset.
    expect(scrape(first.url)).toEqual(counted);
    tcpConnections(link.a, link.bAddr4, OPEN_PORT, 2, 'close');
    expect(scrape(first.url).egress.SYN).toBe(5);

    // The second one stopping leaves the first one's table alone.
    await stopWith(second, 'SIGTERM');
    expect(kappieTables(link.a)).toHaveLength(1);
    expect(scrape(first.url).egress.SYN).toBe(5);
    await stopWith(first.child, 'SIGTERM');
    expect(kappieTables(link.a)).toEqual([]);
  });

  it('counts routed pod traffic once, where it leaves/enters the node, not on the pod-side veth', async () => {
    // pod --(vethpodN, a pod interface by the default --pod-interfaces)--> node --(uplink)--> remote
    const node = Namespace.create();
    const pod = Namespace.create();
    const remote = Namespace.create();
    const podLink = connect(pod, node, { aIf: 'eth0', bIf: `veth${port}` });
    const uplink = connect(node, remote);
    node.exec('sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    remote.ip('route', 'add', `${podLink.aAddr4}/32`, 'via', uplink.aAddr4);
    await startTcpServer(remote, uplink.bAddr4, OPEN_PORT);

    port += 1;
    const child = node.spawn(process.execPath, [COLLECTOR_CLI, 'serve', '--listen', `127.0.0.1:${port}`]);
    await waitForOutput(child, /ready: the sources are started/);
    const url = `http://127.0.0.1:${port}/metrics`;
    const before = flagCounts(node.fetchText(url));
    const connections = 6;
    tcpConnections(pod, uplink.bAddr4, OPEN_PORT, connections, 'close');
    const after = flagCounts(node.fetchText(url));
    expect(delta(after, before, 'egress', 'SYN')).toBe(connections); // leaving the uplink
    expect(delta(after, before, 'ingress', 'SYN')).toBe(0); // entering from the pod's veth: not counted
    expect(delta(after, before, 'ingress', 'SYNACK')).toBe(connections); // entering from the uplink
    expect(delta(after, before, 'egress', 'SYNACK')).toBe(0); // leaving towards the pod: not counted
    await stopWith(child, 'SIGTERM');
    expect(kappieTables(node)).toEqual([]);
  });

  it('follows the uplinks: after the default route moves, segments count on the new uplink only', async () => {
    const node = Namespace.create();
    const remote = Namespace.create();
    const remote2 = Namespace.create();
    const first = connect(node, remote); // node's default routes go via first.aIf
    const second = connect(remote2, node); // node's end is second.bIf, no route through it yet
    await startTcpServer(remote, first.bAddr4, OPEN_PORT);
    await startTcpServer(remote2, second.aAddr4, OPEN_PORT);
    port += 1;
    const child = node.spawn(process.execPath, [COLLECTOR_CLI, 'serve', '--listen', `127.0.0.1:${port}`]);
    await waitForOutput(child, /ready: the sources are started/);
    const url = `http://127.0.0.1:${port}/metrics`;
    const before = flagCounts(node.fetchText(url));
    tcpConnections(node, first.bAddr4, OPEN_PORT, 3, 'close');
    tcpConnections(node, second.aAddr4, OPEN_PORT, 2, 'close');
    const onFirst = flagCounts(node.fetchText(url));
    expect(delta(onFirst, before, 'egress', 'SYN')).toBe(3); // the uplink is first.aIf; second.bIf is not

    node.ip('-6', 'route', 'del', 'default');
    node.ip('route', 'replace', 'default', 'via', second.aAddr4);
    const moved = flagCounts(node.fetchText(url)); // this gathering moves the `uplinks` set
    tcpConnections(node, first.bAddr4, OPEN_PORT, 3, 'close');
    tcpConnections(node, second.aAddr4, OPEN_PORT, 4, 'close');
    const onSecond = flagCounts(node.fetchText(url));
    expect(delta(onSecond, moved, 'egress', 'SYN')).toBe(4);
    expect(delta(onSecond, moved, 'ingress', 'SYNACK')).toBe(4);
    expect(onSecond.egress.SYN).toBeGreaterThanOrEqual(onFirst.egress.SYN); // counters kept, not reset
    await stopWith(child, 'SIGTERM');
    expect(kappieTables(node)).toEqual([]);
  });

  it('without CAP_NET_ADMIN the source is down with the reason and the other sources work', async () => {
    port += 1;
    const child = link.a.spawn('setpriv', [
      '--bounding-set=-net_admin',
      '--',
      process.execPath,
      COLLECTOR_CLI,
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--sources',
      'tcp_flags,sockstat',
    ]);
    await waitForOutput(child, /source tcp_flags is down: nft: Operation not permitted[^"]*CAP_NET_ADMIN/);
    const metrics = link.a.fetchText(`http://127.0.0.1:${port}/metrics`);
    const up = metricName(METRICS.sourceUp);
    expect(metrics).toMatch(new RegExp(`^${up}\\{source="tcp_flags"[^}]*\\} 0$`, 'm'));
    expect(metrics).toMatch(new RegExp(`^${up}\\{source="sockstat"[^}]*\\} 1$`, 'm'));
    expect(metrics).toContain(`${metricName(METRICS.udpActiveSockets)}{`);
    expect(kappieTables(link.a)).toEqual([]);
    await stopWith(child, 'SIGTERM');
  });
});
