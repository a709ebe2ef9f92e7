import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DIRECTION, LABEL, metricName, METRICS, POD_INTERFACES_AGGREGATE } from '../../src/catalog';
import type { SampleView } from '../../src/source';
import {
  cleanup,
  COLLECTOR_CLI,
  connect,
  describeKernel,
  Namespace,
  uniqueName,
  waitForOutput,
  type Link,
} from '../helpers/netns';
import { interfaceStatsByName } from '../helpers/interface-stats';

/** What `ip -j -s -s link` reports per interface (rtnetlink IFLA_STATS64, the raw kernel counters). */
interface IpLinkStats {
  ifname: string;
  stats64: { rx: Record<string, number>; tx: Record<string, number> };
}

function ipLinkStats(ns: Namespace): Map<string, IpLinkStats['stats64']> {
  const links = JSON.parse(ns.exec('ip', '-j', '-s', '-s', 'link', 'show')) as IpLinkStats[];
  return new Map(links.map((link) => [link.ifname.replace(/@.*$/, ''), link.stats64]));
}

/**
 * Our statistic names as computed from ip's raw counters: /proc/net/dev folds some counters together
 * (net/core/net-procfs.c), and this checks we name and document that correctly.
 */
function expectedFromIp(stats: IpLinkStats['stats64']): Record<string, number> {
  const rx = (key: string) => stats.rx[key] ?? 0;
  const tx = (key: string) => stats.tx[key] ?? 0;
  return {
    rx_bytes: rx('bytes'),
    rx_packets: rx('packets'),
    rx_errors: rx('errors'),
    rx_dropped: rx('dropped') + rx('missed_errors'),
    rx_fifo_errors: rx('fifo_errors'),
    rx_frame_errors: rx('length_errors') + rx('over_errors') + rx('crc_errors') + rx('frame_errors'),
    rx_compressed: rx('compressed'),
    multicast: rx('multicast'),
    tx_bytes: tx('bytes'),
    tx_packets: tx('packets'),
    tx_errors: tx('errors'),
    tx_dropped: tx('dropped'),
    tx_fifo_errors: tx('fifo_errors'),
    collisions: tx('collisions'),
    tx_carrier_errors: tx('carrier_errors') + tx('aborted_errors') + tx('window_errors') + tx('heartbeat_errors'),
    tx_compressed: tx('compressed'),
    rx_missed_errors: rx('missed_errors'),
    rx_crc_errors: rx('crc_errors'),
    rx_nohandler: rx('nohandler'),
  };
}

function byDirection(samples: readonly SampleView[] | undefined, direction: string): number | undefined {
  return samples?.find((s) => s.labels[LABEL.direction] === direction)?.value;
}

// An ICMP echo of `size` data bytes is size + 8 (ICMP) + 20 (IPv4) + 14 (Ethernet) bytes on a veth.
const PING_SIZE = 1000;
const PING_FRAME = PING_SIZE + 8 + 20 + 14;

describeKernel('netdev and forward sources in network namespaces', () => {
  let a: Namespace;
  let b: Namespace;
  let link: Link;
  beforeAll(() => {
    a = Namespace.create();
    b = Namespace.create();
    link = connect(a, b);
  });
  afterAll(cleanup);

  it('counts known traffic in forward and interface counters, as ip -s -s link does at the same moment', () => {
    const before = a.snapshot('--sources', 'netdev,forward');
    const count = 25;
    a.exec('ping', '-c', String(count), '-i', '0.01', '-W', '2', '-q', '-s', String(PING_SIZE), link.bAddr4);
    const theirsBefore = ipLinkStats(a);
    const after = a.snapshot('--sources', 'netdev,forward');
    const theirsAfter = ipLinkStats(a);

    const grew = (key: 'forwardCount' | 'forwardBytes', direction: string) =>
      byDirection(after.samples[key], direction)! - byDirection(before.samples[key], direction)!;
    expect(grew('forwardCount', DIRECTION.egress)).toBeGreaterThanOrEqual(count);
    expect(grew('forwardBytes', DIRECTION.egress)).toBeGreaterThanOrEqual(count * PING_FRAME);
    expect(grew('forwardCount', DIRECTION.ingress)).toBeGreaterThanOrEqual(count);
    expect(grew('forwardBytes', DIRECTION.ingress)).toBeGreaterThanOrEqual(count * PING_FRAME);

    const ours = interfaceStatsByName(after);
    const oursBefore = interfaceStatsByName(before);
    expect(
      ours.get(link.aIf)!.get('tx_packets')! - oursBefore.get(link.aIf)!.get('tx_packets')!,
    ).toBeGreaterThanOrEqual(count);
    expect(ours.get(link.aIf)!.get('rx_bytes')! - oursBefore.get(link.aIf)!.get('rx_bytes')!).toBeGreaterThanOrEqual(
      count * PING_FRAME,
    );
    // Every counter, of every interface, between ip's two reads around ours.
    expect([...ours.keys()].sort()).toEqual([...theirsAfter.keys()].sort());
    for (const [name, stats] of ours) {
      const low = expectedFromIp(theirsBefore.get(name)!);
      const high = expectedFromIp(theirsAfter.get(name)!);
      expect([...stats.keys()].sort()).toEqual(Object.keys(low).sort());
      for (const [statistic, value] of stats) {
        expect([name, statistic, value >= low[statistic]! && value <= high[statistic]!]).toEqual([
          name,
          statistic,
          true,
        ]);
      }
    }
    // forward = the uplink's rx/tx (the default routes are via the veth).
    const uplink = ours.get(link.aIf)!;
    expect(byDirection(after.samples.forwardBytes, DIRECTION.ingress)).toBe(uplink.get('rx_bytes'));
    expect(byDirection(after.samples.forwardCount, DIRECTION.egress)).toBe(uplink.get('tx_packets'));
  });

  it('follows --uplink-interfaces, and with no default route has no forward series and says why', () => {
    const alone = Namespace.create();
    const gathering = alone.snapshot('--sources', 'forward');
    expect(gathering.samples.forwardCount).toBeUndefined();
    const status = gathering.sources.find((s) => s.name === 'forward')!;
    expect(status.up).toBe(true);
    expect(status.reason).toMatch(/no IPv4 or IPv6 default route/);
    const lo = alone.snapshot('--sources', 'forward', '--uplink-interfaces', 'lo');
    expect(lo.samples.forwardCount).toHaveLength(2);
    alone.delete();
  });

  it('finds the uplink from an IPv6 default route alone, and counts IPv6 traffic', () => {
    const c = Namespace.create();
    const d = Namespace.create();
    const v6link = connect(c, d);
    c.ip('route', 'del', 'default');
    expect(c.ip('-4', 'route', 'show', 'default').trim()).toBe('');
    const before = c.snapshot('--sources', 'forward');
    c.exec('ping', '-6', '-c', '5', '-i', '0.01', '-W', '2', '-q', '-s', String(PING_SIZE), v6link.bAddr6);
    const after = c.snapshot('--sources', 'forward');
    // IPv6 header 40 bytes, ICMPv6 8, Ethernet 14.
    const grew =
      byDirection(after.samples.forwardBytes, DIRECTION.egress)! -
      byDirection(before.samples.forwardBytes, DIRECTION.egress)!;
    expect(grew).toBeGreaterThanOrEqual(5 * (PING_SIZE + 8 + 40 + 14));
    c.delete();
    d.delete();
  });

  it('sums pod-side veths into one series, reports them one by one when asked, and forgets deleted ones', () => {
    const names = [0, 1, 2].map(() => uniqueName('veth'));
    for (const name of names) {
      a.ip('link', 'add', name, 'type', 'veth', 'peer', 'name', uniqueName('kp'), 'netns', b.name);
      a.ip('link', 'set', name, 'up');
    }
    const theirs = ipLinkStats(a);
    const gathering = a.snapshot('--sources', 'netdev');
    const ours = interfaceStatsByName(gathering);
    for (const name of names) expect(ours.has(name)).toBe(false);
    const aggregate = ours.get(POD_INTERFACES_AGGREGATE)!;
    // Counters of fresh, addressless veths can still move (IPv6 router solicitations): the sum is at least ip's.
    const summed = names.reduce((sum, name) => sum + theirs.get(name)!.tx.packets!, 0);
    expect(aggregate.get('tx_packets')).toBeGreaterThanOrEqual(summed);

    const perPod = interfaceStatsByName(a.snapshot('--sources', 'netdev', '--per-pod-interface-stats'));
    for (const name of names) expect(perPod.has(name)).toBe(true);
    expect(perPod.has(POD_INTERFACES_AGGREGATE)).toBe(false);

    a.ip('link', 'delete', names[0]!);
    const afterDelete = interfaceStatsByName(a.snapshot('--sources', 'netdev', '--per-pod-interface-stats'));
    expect(afterDelete.has(names[0]!)).toBe(false);
    expect(afterDelete.has(names[1]!)).toBe(true);
    for (const name of names.slice(1)) a.ip('link', 'delete', name);
    expect(interfaceStatsByName(a.snapshot('--sources', 'netdev')).has(POD_INTERFACES_AGGREGATE)).toBe(false);
  });

  it('names an interface as ip prints it (UTF-8), reads its sysfs counters, and selects it by a non-ASCII pattern', () => {
    const name = 'nét0';
    // Both ends in a: a node interface (a veth whose peer is in another namespace would be summed as a pod).
    a.ip('link', 'add', name, 'type', 'veth', 'peer', 'name', uniqueName('kp'));
    try {
      a.ip('link', 'set', name, 'up');
      expect(a.ip('-br', 'link', 'show', 'dev', name).split(/[\s@]/)[0]).toBe(name);
      const ours = interfaceStatsByName(a.snapshot('--sources', 'netdev', '--interface-include', 'n?t*'));
      expect([...ours.keys()]).toEqual([name]);
      const stats = ours.get(name)!;
      // rx_missed_errors, rx_crc_errors, rx_nohandler come from /sys/class/net/<name>/statistics.
      for (const statistic of ['rx_bytes', 'rx_missed_errors', 'rx_crc_errors', 'rx_nohandler']) {
        expect([statistic, stats.has(statistic)]).toEqual([statistic, true]);
      }
      const excluded = interfaceStatsByName(a.snapshot('--sources', 'netdev', '--interface-exclude', 'nét*'));
      expect(excluded.has(name)).toBe(false);
      expect(excluded.has('lo')).toBe(true);
    } finally {
      a.ip('link', 'delete', name);
    }
  });

  it('tells pod interfaces apart by the rtnetlink ifindex on a live procfs, without sysfs', () => {
    const pod = uniqueName('veth');
    a.ip('link', 'add', pod, 'type', 'veth', 'peer', 'name', uniqueName('kp'), 'netns', b.name);
    // A sysfs with an empty class/net (--sys-path must look like a sysfs: an empty directory is refused at start).
    const noSysfs = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-nosys-'));
    fs.mkdirSync(path.join(noSysfs, 'class', 'net'), { recursive: true });
    try {
      const gathering = a.snapshot('--sources', 'netdev', '--sys-path', noSysfs);
      expect(gathering.sources[0]).toMatchObject({ name: 'netdev', up: true, reason: undefined });
      expect(interfaceStatsByName(gathering).has(POD_INTERFACES_AGGREGATE)).toBe(true);
      // The counters /proc/net/dev lacks come from the link dump's IFLA_STATS64 here, not from sysfs files.
      const lo = interfaceStatsByName(gathering).get('lo')!;
      for (const statistic of ['rx_missed_errors', 'rx_crc_errors', 'rx_nohandler']) {
        expect([statistic, lo.get(statistic)]).toEqual([statistic, 0]);
      }
    } finally {
      fs.rmSync(noSysfs, { recursive: true, force: true });
      a.ip('link', 'delete', pod);
    }
  });

  it('leaves out interfaces matched by --interface-exclude', () => {
    const ours = interfaceStatsByName(a.snapshot('--sources', 'netdev', '--interface-exclude', `${link.aIf},nothing*`));
    expect(ours.has(link.aIf)).toBe(false);
    expect(ours.has('lo')).toBe(true);
    const only = interfaceStatsByName(a.snapshot('--sources', 'netdev', '--interface-include', link.aIf));
    expect([...only.keys()]).toEqual([link.aIf]);
  });

  it('drops the series of a deleted interface from /metrics of a running collector, the pod sum never falling', async () => {
    const dummy = uniqueName('kd');
    const pods = [0, 1].map(() => uniqueName('veth'));
    // A node-side (non-pod) interface; this kernel has no dummy driver, so a veth pair with both ends in a (a veth
    // whose peer is in another namespace is a pod interface by the kernel rule).
    a.ip('link', 'add', dummy, 'type', 'veth', 'peer', 'name', uniqueName('kp'));
    const podPeer = uniqueName('kp');
    a.ip('link', 'add', pods[0]!, 'type', 'veth', 'peer', 'name', podPeer, 'netns', b.name);
    a.ip('link', 'add', pods[1]!, 'type', 'veth', 'peer', 'name', uniqueName('kp'), 'netns', b.name);
    const server = a.spawn(process.execPath, [
      COLLECTOR_CLI,
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--sources',
      'netdev',
    ]);
    const port = /port (\d+)/.exec(await waitForOutput(server, /serving \/metrics on port \d+/))![1];
    const metrics = () => a.fetchText(`http://127.0.0.1:${port}/metrics`);
    const name = metricName(METRICS.interfaceStats);
    const podTxBytes = (text: string) =>
      Number(
        new RegExp(
          `^${name}\\{[^}]*interface_name="${POD_INTERFACES_AGGREGATE}"[^}]*statistic_name="tx_bytes"[^}]*\\} (\\d+)`,
          'm',
        ).exec(text)?.[1],
      );
    const first = metrics();
    expect(first).toContain(`interface_name="${dummy}"`);
    // Traffic on one pod veth, so deleting it would make a plain sum fall.
    a.ip('link', 'set', pods[0]!, 'up');
    a.ip('addr', 'add', '198.19.77.1/24', 'dev', pods[0]!);
    b.ip('addr', 'add', '198.19.77.2/24', 'dev', podPeer);
    b.ip('link', 'set', podPeer, 'up');
    a.exec('ping', '-c', '3', '-i', '0.01', '-W', '1', '198.19.77.2', '-q');
    const withTraffic = podTxBytes(metrics());
    expect(withTraffic).toBeGreaterThanOrEqual(3 * 98);
    a.ip('link', 'delete', dummy);
    a.ip('link', 'delete', pods[0]!);
    const second = metrics();
    expect(second).not.toContain(`interface_name="${dummy}"`);
    expect(second).toContain(`interface_name="${link.aIf}"`);
    expect(podTxBytes(second)).toBeGreaterThanOrEqual(withTraffic);
    server.kill('SIGTERM');
  });
});
