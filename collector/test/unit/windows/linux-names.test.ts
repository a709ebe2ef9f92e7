/**
 * The Windows protocol counters are exported under names Linux gives the same counters: every name a Windows source
 * can export is one the Linux snmp source exports from the files of a real kernel (recorded under
 * test/fixtures/linux/net), in the same metric. A typo (`ReasmOks` for `ReasmOKs`), a family prefix left out or an
 * ICMP type named another way fails here.
 */
import { NET_NETSTAT_SECTIONS, NET_SNMP_SECTIONS, parseSnmpTables } from '../../../src/kernel/net-snmp';
import { parseSnmp6 } from '../../../src/kernel/net-snmp6';
import { protocolStatistics } from '../../../src/sources/linux/snmp';
import { AF_INET, AF_INET6 } from '../../../src/sources/windows/iphlpapi';
import { decodeIcmpStatistics, decodeIpStatistics } from '../../../src/sources/windows/ip-statistics';
import { decodeTcpStatistics } from '../../../src/sources/windows/tcp-statistics';
import { decodeUdpStatistics } from '../../../src/sources/windows/udp-statistics';
import { fixture } from '../../helpers/fixtures';
import { mibIcmpEx, mibIpStatsLh, mibTcpStatsLh, mibUdpStats2, type IpStats } from '../../helpers/windows-structs';

const linux = protocolStatistics(
  parseSnmpTables(fixture('linux/net/host/snmp'), 'net/snmp', NET_SNMP_SECTIONS),
  parseSnmpTables(fixture('linux/net/host/netstat'), 'net/netstat', NET_NETSTAT_SECTIONS),
  parseSnmp6(fixture('linux/net/host/snmp6')),
  'all',
);

const ones = Object.fromEntries(
  [
    'forwarding',
    'defaultTTL',
    'inReceives',
    'inHdrErrors',
    'inAddrErrors',
    'forwDatagrams',
    'inUnknownProtos',
    'inDiscards',
    'inDelivers',
    'outRequests',
    'routingDiscards',
    'outDiscards',
    'outNoRoutes',
    'reasmTimeout',
    'reasmReqds',
    'reasmOks',
    'reasmFails',
    'fragOks',
    'fragFails',
    'fragCreates',
    'numIf',
    'numAddr',
    'numRoutes',
  ].map((field) => [field, 1]),
) as unknown as IpStats;

/** The ICMP types Linux printed a count for, per direction, from names such as IcmpMsgInType3 or Icmp6OutType135. */
function linuxIcmpTypes(typePrefix: string): { in: Record<number, number>; out: Record<number, number> } {
  const types = { in: {} as Record<number, number>, out: {} as Record<number, number> };
  for (const name of linux.ip.keys()) {
    const match = new RegExp(`^${typePrefix}(In|Out)Type(\\d+)$`).exec(name);
    if (match) types[match[1] === 'In' ? 'in' : 'out'][Number(match[2])] = 1;
  }
  return types;
}

describe('Windows statistic names are the Linux names', () => {
  it('IP (MIB_IPSTATS_LH), IPv4 and IPv6', () => {
    for (const family of [AF_INET, AF_INET6] as const) {
      for (const name of decodeIpStatistics(mibIpStatsLh(ones), family).keys()) {
        expect([name, linux.ip.has(name)]).toEqual([name, true]);
      }
    }
  });

  it.each([
    ['IPv4', AF_INET, 'IcmpMsg'],
    ['IPv6', AF_INET6, 'Icmp6'],
  ] as const)(
    'ICMP (MIB_ICMP_EX_XPSP1), %s: messages, errors and every type the kernel counted',
    (_, family, prefix) => {
      const types = linuxIcmpTypes(prefix);
      expect(Object.keys(types.in).length + Object.keys(types.out).length).toBeGreaterThan(0);
      const decoded = [
        ...decodeIcmpStatistics(
          mibIcmpEx({ msgs: 1, errors: 1, types: types.in }, { msgs: 1, errors: 1, types: types.out }),
          family,
        ).keys(),
      ];
      for (const name of decoded) expect([name, linux.ip.has(name)]).toEqual([name, true]);
      const typeNames = (names: Iterable<string>) => [...names].filter((name) => /Type\d+$/.test(name)).sort();
      expect(typeNames(decoded)).toEqual(typeNames(linux.ip.keys()).filter((name) => name.startsWith(prefix)));
    },
  );

  it('UDP (MIB_UDPSTATS2), IPv4 and IPv6', () => {
    const bytes = mibUdpStats2({ inDatagrams: 1, noPorts: 1, inErrors: 1, outDatagrams: 1, numAddrs: 1 });
    for (const family of [AF_INET, AF_INET6] as const) {
      for (const name of decodeUdpStatistics({ layout: 'MIB_UDPSTATS2', bytes }, family).keys()) {
        expect([name, linux.udp.has(name)]).toEqual([name, true]);
      }
    }
  });

  it('TCP (MIB_TCPSTATS_LH)', () => {
    const stats = { activeOpens: 1, passiveOpens: 1, attemptFails: 1, estabResets: 1, currEstab: 1 };
    const bytes = mibTcpStatsLh({
      ...stats,
      inSegs: 1,
      outSegs: 1,
      retransSegs: 1,
      inErrs: 1,
      outRsts: 1,
      numConns: 1,
    });
    for (const { name } of decodeTcpStatistics({ layout: 'MIB_TCPSTATS_LH', bytes })) {
      expect([name, linux.tcp.has(name)]).toEqual([name, true]);
    }
  });
});
