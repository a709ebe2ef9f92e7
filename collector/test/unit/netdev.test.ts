import { LABEL, POD_INTERFACES_AGGREGATE } from '../../src/catalog';
import { DEFAULT_POD_INTERFACES } from '../../src/config';
import type { SampleView } from '../../src/source';
import {
  counterOf,
  NETDEV_STATISTICS,
  parseNetDev as parseNetDevBytes,
  type NetDevInterface,
} from '../../src/kernel/net-dev';
import { interfaceSelection, newPodSums, interfaceStatsSamples } from '../../src/sources/linux/netdev';
import { fixture } from '../helpers/fixtures';
import { netdevText } from '../helpers/net-dev-text';

/** The parser given a test's text as its UTF-8 bytes (the file holds bytes). */
const parseNetDev = (text: string, file?: string) => parseNetDevBytes(Buffer.from(text, 'utf8'), file);

function selection(overrides: Partial<Parameters<typeof interfaceSelection>[0]> = {}) {
  return interfaceSelection({
    interfaceInclude: [],
    interfaceExclude: [],
    podInterfaces: DEFAULT_POD_INTERFACES,
    perPodInterfaceStats: false,
    ...overrides,
  });
}

/** value of (interface, statistic) among samples. */
function valueOf(samples: readonly SampleView[], interfaceName: string, statistic: string): number | undefined {
  return samples.find(
    (s) => s.labels[LABEL.interfaceName] === interfaceName && s.labels[LABEL.statisticName] === statistic,
  )?.value;
}

/** name -> ifindex for `interfaces`, numbered in file order from 1 as the kernel numbers a fresh namespace's. */
function ifindexes(interfaces: readonly NetDevInterface[]): Map<string, number> {
  return new Map(interfaces.map(({ name }, i) => [name, i + 1]));
}

describe('interfaceStatsSamples', () => {
  it('sums the pod interfaces of a recorded node into one interface_name', () => {
    const interfaces = parseNetDev(fixture('linux/net/manyveth/dev'));
    const samples = interfaceStatsSamples(interfaces, new Map(), selection(), newPodSums(), ifindexes(interfaces));
    const names = new Set(samples.map((s) => s.labels[LABEL.interfaceName]));
    // lo, peer0, the 200 kq* peers (not pod-named), and the aggregate.
    expect(names.has(POD_INTERFACES_AGGREGATE)).toBe(true);
    expect([...names].some((n) => n!.startsWith('veth'))).toBe(false);
    expect(names.size).toBe(203);
    for (const statistic of NETDEV_STATISTICS) {
      const expected = interfaces
        .filter((i) => /^(veth|azv|lxc|cali)/.test(i.name))
        .reduce((sum, i) => sum + counterOf(i, statistic), 0);
      expect(valueOf(samples, POD_INTERFACES_AGGREGATE, statistic)).toBe(expected);
    }
  });

  it('reports pod interfaces one by one with perPodInterfaceStats', () => {
    const interfaces = parseNetDev(fixture('linux/net/manyveth/dev'));
    const samples = interfaceStatsSamples(
      interfaces,
      new Map(),
      selection({ perPodInterfaceStats: true }),
      newPodSums(),
      new Map(),
    );
    expect(new Set(samples.map((s) => s.labels[LABEL.interfaceName])).size).toBe(402);
    expect(samples).toHaveLength(402 * NETDEV_STATISTICS.length);
  });

  it('applies include and exclude before aggregation', () => {
    const interfaces = parseNetDev(netdevText({ lo: 1, eth0: 2, eth1: 3, veth1: 10, veth2: 20, cali1: 40 }));
    const only = interfaceStatsSamples(
      interfaces,
      new Map(),
      selection({ interfaceInclude: ['eth*', 'veth*'], interfaceExclude: ['eth1', 'veth2'] }),
      newPodSums(),
      ifindexes(interfaces),
    );
    expect(new Set(only.map((s) => s.labels[LABEL.interfaceName]))).toEqual(
      new Set(['eth0', POD_INTERFACES_AGGREGATE]),
    );
    expect(valueOf(only, POD_INTERFACES_AGGREGATE, 'rx_bytes')).toBe(10);
  });

  it('adds sysfs extras to the interfaces that have them', () => {
    const interfaces = parseNetDev(netdevText({ eth0: 2 }));
    const samples = interfaceStatsSamples(
      interfaces,
      new Map([['eth0', { rx_missed_errors: 7 }]]),
      selection(),
      newPodSums(),
      ifindexes(interfaces),
    );
    expect(valueOf(samples, 'eth0', 'rx_missed_errors')).toBe(7);
    expect(samples).toHaveLength(NETDEV_STATISTICS.length + 1);
  });

  it('keeps the pod aggregate a counter when pods come and go, and drops it when none is left', () => {
    const sums = newPodSums();
    // The system's interfaces by name (each gathering's ifindex map holds exactly the listed ones).
    const system = new Map([
      ['eth0', 2],
      ['veth1', 5],
      ['veth2', 6],
      ['veth3', 7],
    ]);
    const gather = (interfaces: Record<string, number>) =>
      valueOf(
        interfaceStatsSamples(
          parseNetDev(netdevText(interfaces)),
          new Map(),
          selection(),
          sums,
          new Map(Object.keys(interfaces).map((name) => [name, system.get(name)!])),
        ),
        POD_INTERFACES_AGGREGATE,
        'tx_bytes',
      );
    expect(gather({ eth0: 1, veth1: 100, veth2: 50 })).toBe(150);
    expect(gather({ eth0: 1, veth1: 110 })).toBe(160); // veth2 deleted: its 50 stay counted, never subtracted
    expect(gather({ eth0: 1, veth1: 110, veth3: 5 })).toBe(165); // a new pod counts from its creation
    system.set('veth1', 8);
    expect(gather({ eth0: 1, veth1: 3 })).toBe(168); // veth1 recreated under the same name: a new ifindex
    expect(gather({ eth0: 1 })).toBeUndefined(); // no pod interface: no series
    system.set('veth1', 9);
    expect(gather({ eth0: 1, veth1: 4 })).toBe(172);
  });

  it('keys pod interfaces by ifindex: a renamed pod veth adds its growth, not its lifetime again', () => {
    const sums = newPodSums();
    const gather = (name: string, txPackets: number) =>
      valueOf(
        interfaceStatsSamples(
          parseNetDev(netdevText({ eth0: 1, [name]: txPackets })),
          new Map(),
          selection(),
          sums,
          new Map([
            ['eth0', 2],
            [name, 5],
          ]),
        ),
        POD_INTERFACES_AGGREGATE,
        'tx_packets',
      );
    expect(gather('veth1a2b', 43)).toBe(43);
    // Renamed (ip link set veth1a2b name veth9f8e), one packet since: 44, where keying by name gave 43 + 44.
    expect(gather('veth9f8e', 44)).toBe(44);
  });

  it('leaves out of the sum a pod interface without an ifindex (deleted since /proc/net/dev was read)', () => {
    const interfaces = parseNetDev(netdevText({ veth1: 10, veth2: 20 }));
    const samples = interfaceStatsSamples(interfaces, new Map(), selection(), newPodSums(), new Map([['veth1', 4]]));
    expect(valueOf(samples, POD_INTERFACES_AGGREGATE, 'rx_bytes')).toBe(10);
  });

  it('forgets nothing in a gathering where an ifindex was missing: the veth may have been renamed in between', () => {
    const sums = newPodSums();
    const gather = (interfaces: Record<string, number>, ifindexes: [string, number][]) =>
      valueOf(
        interfaceStatsSamples(parseNetDev(netdevText(interfaces)), new Map(), selection(), sums, new Map(ifindexes)),
        POD_INTERFACES_AGGREGATE,
        'rx_bytes',
      );
    expect(
      gather({ eth0: 1, veth1: 10, veth2: 20 }, [
        ['eth0', 2],
        ['veth1', 4],
        ['veth2', 5],
      ]),
    ).toBe(30);
    // veth2 renamed to veth9 after /proc/net/dev was read and before its ifindex was: no ifindex for it this time.
    expect(
      gather({ eth0: 1, veth1: 11, veth2: 20 }, [
        ['eth0', 2],
        ['veth1', 4],
      ]),
    ).toBe(31);
    expect(
      gather({ eth0: 1, veth1: 11, veth9: 21 }, [
        ['eth0', 2],
        ['veth1', 4],
        ['veth9', 5],
      ]),
    ).toBe(32);
  });
});
