import fc from 'fast-check';
import { ParseError } from '../../src/errors';
import { parseSnmp6, parseSnmpTables, protocolStatistics } from '../../src/sources/linux/snmp';
import { DEFAULT_STATISTICS, GAUGE_FIELDS } from '../../src/sources/linux/snmp-statistics';
import { fixture } from '../helpers/fixtures';

const HOSTS = ['host', 'veth', 'nov6', 'manyveth'] as const;
const recorded = (host: string) => ({
  snmp: parseSnmpTables(fixture(`linux/net/${host}/snmp`), 'net/snmp'),
  netstat: parseSnmpTables(fixture(`linux/net/${host}/netstat`), 'net/netstat'),
  snmp6: parseSnmp6(fixture(`linux/net/${host}/snmp6`)),
});

describe('parseSnmpTables', () => {
  it('pairs header and value lines of recorded files', () => {
    const { snmp, netstat } = recorded('host');
    expect([...snmp.keys()]).toEqual(['Ip', 'Icmp', 'IcmpMsg', 'Tcp', 'Udp', 'UdpLite']);
    expect([...netstat.keys()]).toEqual(['TcpExt', 'IpExt', 'MPTcpExt']);
    expect(snmp.get('Tcp')!.get('MaxConn')).toBe(-1);
    expect(snmp.get('Tcp')!.get('RtoMax')).toBe(120000);
    expect(netstat.get('TcpExt')!.size).toBeGreaterThan(100);
  });

  it('counts the pings recorded in a namespace', () => {
    const { snmp, snmp6 } = recorded('veth');
    expect(snmp.get('Icmp')!.get('OutMsgs')).toBeGreaterThanOrEqual(3);
    expect(snmp6.get('Icmp6OutEchos')).toBe(3);
  });

  it('rejects a header/value count mismatch, mismatched names, a lone header', () => {
    expect(() => parseSnmpTables('Tcp: A B\nTcp: 1\n', 'net/snmp')).toThrow(
      new ParseError('net/snmp', 'Tcp: 2 field names but 1 values', 2),
    );
    expect(() => parseSnmpTables('Tcp: A\nTcp: 1 2\n', 'f')).toThrow(ParseError);
    expect(() => parseSnmpTables('Tcp: A\nUdp: 1\n', 'f')).toThrow(/followed by values of Udp/);
    expect(() => parseSnmpTables('Tcp: A\n', 'f')).toThrow(/without its value line/);
    expect(() => parseSnmpTables('Tcp: A A\nTcp: 1 2\n', 'f')).toThrow(/twice/);
    expect(() => parseSnmpTables('Tcp: A\nTcp: 1\nTcp: A\nTcp: 1\n', 'f')).toThrow(/twice/);
    expect(() => parseSnmpTables('Tcp: A\nTcp: 1x\n', 'f')).toThrow(ParseError);
    expect(parseSnmpTables('Tcp: A B\nTcp: -1 2\n', 'f').get('Tcp')).toEqual(
      new Map([
        ['A', -1],
        ['B', 2],
      ]),
    );
  });

  it.each(HOSTS.flatMap((h) => [`linux/net/${h}/snmp`, `linux/net/${h}/netstat`]))(
    'never crashes or invents numbers on arbitrary input or truncations of %s (fuzz)',
    (file) => {
      const text = fixture(file);
      const whole = parseSnmpTables(text, file);
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ maxLength: 300 }),
            fc.integer({ min: 0, max: text.length - 1 }).map((cut) => text.slice(0, cut)),
          ),
          (input) => {
            try {
              const parsed = parseSnmpTables(input, file);
              for (const [line, fields] of parsed) {
                for (const value of fields.values()) expect(Number.isSafeInteger(value)).toBe(true);
                if (text.startsWith(input)) expect(fields).toEqual(whole.get(line));
              }
            } catch (error) {
              expect(error).toBeInstanceOf(ParseError);
            }
          },
        ),
      );
    },
  );
});

describe('parseSnmp6', () => {
  it('reads every Name value line', () => {
    const snmp6 = parseSnmp6(fixture('linux/net/host/snmp6'));
    expect(snmp6.size).toBe(fixture('linux/net/host/snmp6').split('\n').length - 1);
    expect(snmp6.has('Ip6InNoRoutes')).toBe(true);
    expect(() => parseSnmp6('Ip6InReceives 1 2\n')).toThrow(ParseError);
    expect(() => parseSnmp6('Ip6InReceives -1\n')).toThrow(ParseError);
    expect(() => parseSnmp6('A 1\nA 2\n')).toThrow(/twice/);
  });

  it.each(HOSTS.map((h) => `linux/net/${h}/snmp6`))(
    'never crashes or invents numbers on arbitrary input or truncations of %s (fuzz)',
    (file) => {
      const text = fixture(file);
      const whole = parseSnmp6(text);
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ maxLength: 300 }),
            fc.integer({ min: 0, max: text.length - 1 }).map((cut) => text.slice(0, cut)),
          ),
          (input) => {
            try {
              const parsed = parseSnmp6(input);
              for (const [name, value] of parsed) {
                expect(Number.isSafeInteger(value)).toBe(true);
                if (text.startsWith(input)) expect(value).toBe(whole.get(name));
              }
            } catch (error) {
              expect(error).toBeInstanceOf(ParseError);
            }
          },
        ),
      );
    },
  );
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
    const snmp = parseSnmpTables('Tcp: MaxConn InSegs\nTcp: -1 5\n', 'f');
    expect(protocolStatistics(snmp, new Map(), undefined, 'all').tcp).toEqual(new Map([['InSegs', 5]]));
    const negative = parseSnmpTables('Udp: NoPorts\nUdp: -3\n', 'f');
    expect(() => protocolStatistics(negative, new Map(), undefined, 'all')).toThrow(/negative/);
    const clash = parseSnmpTables('TcpExt: InSegs\nTcpExt: 1\n', 'f');
    expect(() => protocolStatistics(snmp, clash, undefined, 'all')).toThrow(/exported twice/);
  });
});
