/**
 * NIC driver statistics through the ethtool ioctl, on veths in namespaces this test creates, compared with what
 * `ethtool -S` prints for the same interface: the uplink and nothing else by default, the device below a stacked
 * uplink, the per-interface cap, the pod-side rule, the collector's own network namespace only, and with
 * `--proc-path /proc/<pid>` the namespace of that process, as every other family reads it.
 */
import { spawnSync } from 'node:child_process';
import { LABEL } from '../../src/catalog';
import type { Gathering } from '../../src/gatherer';
import { parseEthtoolStatistics } from '../helpers/ethtool-text';
import { cleanup, connect, describeKernel, Namespace, uniqueName, type Link } from '../helpers/netns';

const hasEthtool = spawnSync('sh', ['-c', 'command -v ethtool'], { stdio: 'ignore' }).status === 0;
if (!hasEthtool) {
  // eslint-disable-next-line no-console
  console.warn('skipping the ethtool kernel tests: ethtool is not installed (apt-get install ethtool)');
}

/** The driver statistics the ethtool source gathered, by interface, in gathering order. */
function driverStatistics(gathering: Gathering): Map<string, Map<string, bigint>> {
  const result = new Map<string, Map<string, bigint>>();
  for (const sample of gathering.samples.interfaceStats ?? []) {
    const name = sample.labels[LABEL.interfaceName]!;
    const stats = result.get(name) ?? new Map<string, bigint>();
    stats.set(sample.labels[LABEL.statisticName]!, BigInt(sample.value));
    result.set(name, stats);
  }
  return result;
}

function ethtoolSource(gathering: Gathering) {
  return gathering.sources.find((s) => s.name === 'ethtool')!;
}

(hasEthtool ? describeKernel : describe.skip)('NIC driver statistics (ethtool ioctl) in network namespaces', () => {
  let a: Namespace;
  let b: Namespace;
  let link: Link;
  beforeAll(() => {
    a = Namespace.create();
    b = Namespace.create();
    link = connect(a, b);
  });
  afterAll(cleanup);

  const printed = (ns: Namespace, ifname: string) => parseEthtoolStatistics(ns.exec('ethtool', '-S', ifname));

  it('reads the uplink (the default-route veth) and only it, every statistic as ethtool -S prints it', () => {
    const gathering = a.snapshot('--sources', 'ethtool');
    expect(ethtoolSource(gathering)).toMatchObject({ up: true });
    const ours = driverStatistics(gathering);
    expect([...ours.keys()]).toEqual([link.aIf]);
    const theirs = printed(a, link.aIf);
    // veth: peer_ifindex, then per rx queue xdp and drop counters, per tx queue xdp_xmit counters.
    expect([...ours.get(link.aIf)!.keys()]).toEqual([...theirs.keys()]);
    expect(ours.get(link.aIf)).toEqual(theirs);
    expect(theirs.get('peer_ifindex')).toBeGreaterThan(0n);
  });

  it('reads the device below a stacked uplink (a macvlan on a veth), the driver that has statistics', () => {
    const c = Namespace.create();
    const lower = uniqueName('lw');
    const upper = uniqueName('up');
    c.ip('link', 'add', lower, 'type', 'veth', 'peer', 'name', uniqueName('kp'), 'netns', b.name);
    c.ip('link', 'add', upper, 'link', lower, 'type', 'macvlan');
    c.ip('link', 'set', lower, 'up');
    c.ip('link', 'set', upper, 'up');
    c.ip('addr', 'add', '198.19.88.1/24', 'dev', upper);
    c.ip('route', 'add', 'default', 'via', '198.19.88.2', 'dev', upper);
    const ours = driverStatistics(c.snapshot('--sources', 'ethtool'));
    // The macvlan (the route holder) has no driver statistics; the veth below it does.
    expect([...ours.keys()]).toEqual([lower]);
    expect(ours.get(lower)).toEqual(printed(c, lower));
    c.delete();
  });

  it('caps the statistics per interface in driver order and says how many it left out', () => {
    const wide = uniqueName('wd');
    a.ip('link', 'add', wide, 'numtxqueues', '4', 'numrxqueues', '4', 'type', 'veth', 'peer', 'name', uniqueName('kp'));
    const theirs = printed(a, wide);
    // 1 + 7 per rx queue + 2 per tx queue.
    expect(theirs.size).toBe(1 + 4 * 7 + 4 * 2);
    const all = driverStatistics(a.snapshot('--sources', 'ethtool', '--ethtool-interfaces', wide));
    expect(all.get(wide)).toEqual(theirs);
    const capped = a.snapshot('--sources', 'ethtool', '--ethtool-interfaces', wide, '--ethtool-max-statistics', '5');
    expect([...driverStatistics(capped).get(wide)!.keys()]).toEqual([...theirs.keys()].slice(0, 5));
    expect(ethtoolSource(capped).reason).toBe(`${wide}: ${theirs.size - 5} beyond --ethtool-max-statistics 5 left out`);
    const off = a.snapshot('--sources', 'ethtool', '--ethtool-max-statistics', '0');
    expect(driverStatistics(off).size).toBe(0);
    a.ip('link', 'delete', wide);
  });

  it('never reads pod-side interfaces unless per-pod statistics are on', () => {
    const pod = uniqueName('veth');
    a.ip('link', 'add', pod, 'type', 'veth', 'peer', 'name', uniqueName('kp'), 'netns', b.name);
    const skipped = a.snapshot('--sources', 'ethtool', '--ethtool-interfaces', pod);
    expect(driverStatistics(skipped).size).toBe(0);
    expect(ethtoolSource(skipped).reason).toMatch(/no interface to read/);
    const perPod = a.snapshot('--sources', 'ethtool', '--ethtool-interfaces', pod, '--per-pod-interface-stats');
    expect(driverStatistics(perPod).get(pod)).toEqual(printed(a, pod));
    a.ip('link', 'delete', pod);
  });

  it("reads its own namespace's interface, not another namespace's of the same name", () => {
    // Another namespace holds an interface named like a's uplink, with four queues where a's has one.
    const other = Namespace.create();
    other.ip('link', 'add', link.aIf, 'numrxqueues', '4', 'numtxqueues', '4', 'type', 'veth', 'peer', 'name', 'x0');
    expect(printed(other, link.aIf).size).toBe(37);
    const ours = driverStatistics(a.snapshot('--sources', 'ethtool', '--ethtool-interfaces', link.aIf));
    expect(ours.get(link.aIf)).toEqual(printed(a, link.aIf));
    expect(ours.get(link.aIf)!.size).toBe(10);
    // A name only the other namespace has is not found here.
    other.ip('link', 'set', 'x0', 'name', 'onlythere');
    expect(driverStatistics(a.snapshot('--sources', 'ethtool', '--ethtool-interfaces', 'onlythere')).size).toBe(0);
    other.delete();
  });

  it("with --proc-path /proc/<pid> reads that process's namespace: its uplink, through a socket opened there", () => {
    // b's uplink is the veth towards a; the collector runs in a (its sysfs shows a) and is pointed at b by a
    // process of b's: the uplink's name, its statistics and the socket must all come from b.
    b.ip('route', 'replace', 'default', 'via', link.aAddr4);
    const holder = b.spawn('sleep', ['600']);
    try {
      const gathering = a.snapshot('--sources', 'ethtool', '--proc-path', `/proc/${holder.pid}`);
      expect(ethtoolSource(gathering)).toMatchObject({ up: true });
      const ours = driverStatistics(gathering);
      expect([...ours.keys()]).toEqual([link.bIf]);
      expect(ours.get(link.bIf)).toEqual(printed(b, link.bIf));
    } finally {
      holder.kill('SIGKILL');
      b.ip('route', 'del', 'default');
    }
  });
});
