import { NET_NETSTAT_SECTIONS, NET_SNMP_SECTIONS, parseSnmpTables } from '../../src/kernel/net-snmp';
import { parseSnmp6 } from '../../src/kernel/net-snmp6';
import { createStatisticNames, protocolSamples, protocolStatistics } from '../../src/sources/linux/snmp';
import { DEFAULT_STATISTICS, GAUGE_FIELDS } from '../../src/sources/linux/snmp-statistics';
import { fixture } from '../helpers/fixtures';

const recorded = (host: string) => ({
  snmp: parseSnmpTables(fixture(`linux/net/${host}/snmp`), 'net/snmp', NET_SNMP_SECTIONS),
  netstat: parseSnmpTables(fixture(`linux/net/${host}/netstat`), 'net/netstat', NET_NETSTAT_SECTIONS),
  snmp6: parseSnmp6(fixture(`linux/net/${host}/snmp6`)),
});

describe('protocolStatistics', () => {
  it('finds every default statistic in the files of this kernel (no typo, no missing counterpart)', () => {
    const { snmp, netstat, snmp6 } = recorded('host');
    const all = protocolStatistics(snmp, netstat, snmp6, 'all');
    for (const family of ['tcp', 'ip', 'udp'] as const) {
      for (const name of DEFAULT_STATISTICS[family])
        expect([family, name, all[family].has(name)]).toEqual([family, name, true]);
    }
    const defaults = protocolStatistics(snmp, netstat, snmp6, 'default');
    for (const family of ['tcp', 'ip', 'udp'] as const) {
      expect(new Set(defaults[family].keys())).toEqual(new Set(DEFAULT_STATISTICS[family]));
    }
  });

  it('exports every counter with all, named as documented, and never a gauge', () => {
    const { snmp, netstat, snmp6 } = recorded('veth');
    const all = protocolStatistics(snmp, netstat, snmp6, 'all');
    expect(all.tcp.get('RetransSegs')).toBe(snmp.get('Tcp')!.get('RetransSegs'));
    expect(all.tcp.get('TCPSynRetrans')).toBe(netstat.get('TcpExt')!.get('TCPSynRetrans'));
    expect(all.tcp.get('MPTcpExtDataCsumErr')).toBe(netstat.get('MPTcpExt')!.get('DataCsumErr'));
    expect(all.ip.get('InNoRoutes')).toBe(netstat.get('IpExt')!.get('InNoRoutes'));
    expect(all.ip.get('IcmpOutMsgs')).toBe(snmp.get('Icmp')!.get('OutMsgs'));
    expect(all.ip.get('IcmpMsgOutType8')).toBe(3);
    expect(all.ip.get('Ip6InNoRoutes')).toBe(snmp6.get('Ip6InNoRoutes'));
    expect(all.ip.get('Icmp6OutEchos')).toBe(3);
    expect(all.udp.get('Udp6NoPorts')).toBe(snmp6.get('Udp6NoPorts'));
    expect(all.udp.get('UdpLiteInErrors')).toBe(snmp.get('UdpLite')!.get('InErrors'));
    expect(all.udp.get('UdpLite6InErrors')).toBe(snmp6.get('UdpLite6InErrors'));
    for (const [line, fields] of Object.entries(GAUGE_FIELDS)) {
      for (const field of fields) {
        const prefix = line === 'MPTcpExt' ? 'MPTcpExt' : '';
        expect(all.tcp.has(prefix + field) || all.ip.has(prefix + field)).toBe(false);
      }
    }
    const total =
      [...snmp.values(), ...netstat.values()].reduce((n, fields) => n + fields.size, 0) +
      snmp6.size -
      Object.values(GAUGE_FIELDS).flat().length;
    expect(all.tcp.size + all.ip.size + all.udp.size).toBe(total);
  });

  it('works without IPv6, and rejects negative counters and name clashes', () => {
    const snmp = parseSnmpTables('Tcp: MaxConn InSegs\nTcp: -1 5\n', 'f', []);
    expect(protocolStatistics(snmp, new Map(), undefined, 'all').tcp).toEqual(new Map([['InSegs', 5]]));
    const negative = parseSnmpTables('Udp: NoPorts\nUdp: -3\n', 'f', []);
    expect(() => protocolStatistics(negative, new Map(), undefined, 'all')).toThrow(/negative/);
    const clash = parseSnmpTables('TcpExt: InSegs\nTcpExt: 1\n', 'f', []);
    expect(() => protocolStatistics(snmp, clash, undefined, 'all')).toThrow(/exported twice/);
  });
  it('gives the same samples with the names kept from earlier gatherings, reusing their label objects', () => {
    const { snmp, netstat, snmp6 } = recorded('veth');
    const alone = protocolSamples(protocolStatistics(snmp, netstat, snmp6, 'all'));
    const names = createStatisticNames();
    const first = protocolSamples(protocolStatistics(snmp, netstat, snmp6, 'all', names), names);
    const second = protocolSamples(protocolStatistics(snmp, netstat, snmp6, 'all', names), names);
    expect(first).toEqual(alone);
    expect(second).toEqual(alone);
    expect(second.ipConnectionStats!.map((sample) => sample.labels)).toEqual(
      first.ipConnectionStats!.map((sample) => sample.labels),
    );
    first.ipConnectionStats!.forEach((sample, i) => expect(second.ipConnectionStats![i]!.labels).toBe(sample.labels));
    expect(alone.ipConnectionStats!.some((sample) => sample.labels.statistic_name === 'IcmpInErrors')).toBe(true);
  });
});
