import { LABEL, type MetricKey } from '../../src/catalog';
import type { Gathering } from '../../src/gatherer';
import type { SampleView } from '../../src/source';
import { DEFAULT_STATISTICS, type ProtocolFamily } from '../../src/sources/linux/snmp-statistics';
import { cleanup, describeKernel, Namespace } from '../helpers/netns';

const FAMILY_METRIC: Record<ProtocolFamily, MetricKey> = {
  tcp: 'tcpConnectionStats',
  ip: 'ipConnectionStats',
  udp: 'udpConnectionStats',
};
/** The /proc/net/snmp and netstat lines whose fields we export under their bare names. */
const BARE_LINES: Record<ProtocolFamily, string[]> = { tcp: ['Tcp', 'TcpExt'], ip: ['Ip', 'IpExt'], udp: ['Udp'] };

function statistics(gathering: Gathering, family: ProtocolFamily): Map<string, number> {
  return new Map(
    ((gathering.samples[FAMILY_METRIC[family]] ?? []) as readonly SampleView[]).map((s) => [
      s.labels[LABEL.statisticName]!,
      s.value,
    ]),
  );
}

/** `nstat -asz`: every kernel counter, absolute, zeros included, without touching nstat's history file. */
function nstat(ns: Namespace): Map<string, number> {
  const counters = new Map<string, number>();
  for (const line of ns.exec('nstat', '-asz').split('\n')) {
    const match = /^(\S+)\s+(\d+)/.exec(line);
    if (match) counters.set(match[1]!, Number(match[2]));
  }
  return counters;
}

/** nstat's name of one of our statistics: the line name in front, unless the name already carries it. */
function nstatName(theirs: Map<string, number>, family: ProtocolFamily, name: string): string | undefined {
  return [name, ...BARE_LINES[family].map((line) => line + name)].find((candidate) => theirs.has(candidate));
}

/** Sends `count` UDP datagrams to a closed port of `address` from inside the namespace. */
function udpToClosedPort(ns: Namespace, address: string, count: number): void {
  const script = `
    const socket = require('node:dgram').createSocket(${JSON.stringify(address.includes(':') ? 'udp6' : 'udp4')});
    let left = ${count};
    const next = () => (left-- > 0 ? socket.send('x', 9, ${JSON.stringify(address)}, next) : socket.close());
    next();`;
  ns.exec(process.execPath, '-e', script);
}

/** Tries `count` TCP connections to a closed port: each is an active open that fails on the peer's reset. */
function tcpToClosedPort(ns: Namespace, count: number): void {
  const script = `
    let left = ${count};
    const next = () => { if (left-- > 0) require('node:net').connect(9, '127.0.0.1').on('error', next); };
    next();`;
  ns.exec(process.execPath, '-e', script);
}

describeKernel('snmp source in a network namespace', () => {
  let ns: Namespace;
  beforeAll(() => {
    ns = Namespace.create();
  });
  afterAll(cleanup);

  it('counts datagrams to closed ports and refused connections exactly', () => {
    const before = ns.snapshot('--sources', 'snmp');
    udpToClosedPort(ns, '127.0.0.1', 7);
    udpToClosedPort(ns, '::1', 5);
    tcpToClosedPort(ns, 4);
    const after = ns.snapshot('--sources', 'snmp');
    const grew = (family: ProtocolFamily, name: string) =>
      statistics(after, family).get(name)! - statistics(before, family).get(name)!;
    expect(grew('udp', 'NoPorts')).toBe(7);
    expect(grew('udp', 'Udp6NoPorts')).toBe(5);
    expect(grew('udp', 'OutDatagrams')).toBe(7);
    expect(grew('udp', 'Udp6OutDatagrams')).toBe(5);
    expect(grew('tcp', 'ActiveOpens')).toBe(4);
    expect(grew('tcp', 'AttemptFails')).toBe(4);
    expect(grew('tcp', 'OutRsts')).toBe(4);
    for (const family of ['tcp', 'ip', 'udp'] as const) {
      expect(new Set(statistics(after, family).keys())).toEqual(new Set(DEFAULT_STATISTICS[family]));
    }
  });

  it('matches nstat -az read around it, for every counter, and exports no gauge', () => {
    udpToClosedPort(ns, '127.0.0.1', 3);
    const theirsBefore = nstat(ns);
    const ours = ns.snapshot('--sources', 'snmp', '--statistics', 'all');
    const theirsAfter = nstat(ns);
    let compared = 0;
    for (const family of ['tcp', 'ip', 'udp'] as const) {
      for (const [name, value] of statistics(ours, family)) {
        const theirName = nstatName(theirsAfter, family, name);
        expect([family, name, theirName !== undefined]).toEqual([family, name, true]);
        const inRange = value >= theirsBefore.get(theirName!)! && value <= theirsAfter.get(theirName!)!;
        expect([name, value, inRange]).toEqual([name, value, true]);
        compared += 1;
      }
    }
    // Every counter nstat knows, except the gauges, is one of ours.
    const gauges = [
      'TcpRtoAlgorithm',
      'TcpRtoMin',
      'TcpRtoMax',
      'TcpMaxConn',
      'TcpCurrEstab',
      'IpForwarding',
      'IpDefaultTTL',
      'MPTcpExtMPCurrEstab',
    ];
    expect(compared).toBe([...theirsAfter.keys()].filter((name) => !gauges.includes(name)).length);
    expect(statistics(ours, 'tcp').has('CurrEstab')).toBe(false);
    expect(statistics(ours, 'ip').has('Forwarding')).toBe(false);
  });
});
