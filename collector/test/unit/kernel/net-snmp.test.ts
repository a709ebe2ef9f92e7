import { ParseError } from '../../../src/errors';
import {
  NET_NETSTAT_SECTIONS,
  NET_SNMP_SECTIONS,
  parseSnmpTables,
  type SnmpHeaders,
} from '../../../src/kernel/net-snmp';
import { fixture } from '../../helpers/fixtures';
import { assertKeptStateChangesNothing, assertParsesOrRejects } from '../../helpers/parser-fuzz';

const HOSTS = ['host', 'veth', 'nov6', 'manyveth'] as const;
const sectionsOf = (file: string) => (file.endsWith('netstat') ? NET_NETSTAT_SECTIONS : NET_SNMP_SECTIONS);
const recorded = (host: string) => ({
  snmp: parseSnmpTables(fixture(`linux/net/${host}/snmp`), 'net/snmp', NET_SNMP_SECTIONS),
  netstat: parseSnmpTables(fixture(`linux/net/${host}/netstat`), 'net/netstat', NET_NETSTAT_SECTIONS),
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
    expect(recorded('veth').snmp.get('Icmp')!.get('OutMsgs')).toBeGreaterThanOrEqual(3);
  });

  it('requires the sections the kernel always prints, and names the missing ones', () => {
    expect(() => parseSnmpTables('', 'net/snmp', NET_SNMP_SECTIONS)).toThrow(
      new ParseError(
        'net/snmp',
        'no Ip, Icmp, Tcp, Udp section (the kernel always prints them: the text is cut short or not this file)',
      ),
    );
    const snmp = fixture('linux/net/veth/snmp');
    const withoutTcp = snmp.replace(/^Tcp:.*\n^Tcp:.*\n/m, '');
    expect(() => parseSnmpTables(withoutTcp, 'net/snmp', NET_SNMP_SECTIONS)).toThrow(/no Tcp section/);
    const netstat = fixture('linux/net/veth/netstat');
    expect(() =>
      parseSnmpTables(netstat.split('\n').slice(0, 2).join('\n') + '\n', 'net/netstat', NET_NETSTAT_SECTIONS),
    ).toThrow(/no IpExt section/);
  });

  it('does not require IcmpMsg (printed once an ICMP type is counted), UdpLite (gone in 7.1) or MPTcpExt', () => {
    const snmp = fixture('linux/net/veth/snmp').replace(/^(IcmpMsg|UdpLite):.*\n/gm, '');
    expect([...parseSnmpTables(snmp, 'net/snmp', NET_SNMP_SECTIONS).keys()]).toEqual(['Ip', 'Icmp', 'Tcp', 'Udp']);
    const netstat = fixture('linux/net/veth/netstat').replace(/^MPTcpExt:.*\n/gm, '');
    expect([...parseSnmpTables(netstat, 'net/netstat', NET_NETSTAT_SECTIONS).keys()]).toEqual(['TcpExt', 'IpExt']);
  });

  it('rejects a header/value count mismatch, mismatched names, a lone header', () => {
    expect(() => parseSnmpTables('Tcp: A B\nTcp: 1\n', 'net/snmp', [])).toThrow(
      new ParseError('net/snmp', 'Tcp: 2 field names but 1 values', 2),
    );
    expect(() => parseSnmpTables('Tcp: A\nTcp: 1 2\n', 'f', [])).toThrow(ParseError);
    expect(() => parseSnmpTables('Tcp: A\nUdp: 1\n', 'f', [])).toThrow(/followed by values of Udp/);
    expect(() => parseSnmpTables('Tcp: A\n', 'f', [])).toThrow(/without its value line/);
    expect(() => parseSnmpTables('Tcp: A A\nTcp: 1 2\n', 'f', [])).toThrow(/twice/);
    expect(() => parseSnmpTables('Tcp: A\nTcp: 1\nTcp: A\nTcp: 1\n', 'f', [])).toThrow(/twice/);
    expect(() => parseSnmpTables('Tcp: A\nTcp: 1x\n', 'f', [])).toThrow(ParseError);
    expect(new Map(parseSnmpTables('Tcp: A B\nTcp: -1 2\n', 'f', []).get('Tcp'))).toEqual(
      new Map([
        ['A', -1],
        ['B', 2],
      ]),
    );
  });

  it('reads up to 15 digits directly, checks longer values and odd field names word by word', () => {
    expect(new Map(parseSnmpTables('Tcp: A B\nTcp: 999999999999999 -1\n', 'f', []).get('Tcp'))).toEqual(
      new Map([
        ['A', 999_999_999_999_999],
        ['B', -1],
      ]),
    );
    expect(parseSnmpTables('Tcp: A\nTcp: 9007199254740991\n', 'f', []).get('Tcp')!.get('A')).toBe(2 ** 53 - 1);
    expect(() => parseSnmpTables('Tcp: A B\nTcp: 1 9007199254740993\n', 'f', [])).toThrow(
      new ParseError('f', 'Tcp B: 9007199254740993 is beyond 2^53 and cannot be exported exactly', 2),
    );
    expect(() => parseSnmpTables('Tcp: A B-C\nTcp: 1 2\n', 'f', [])).toThrow(
      new ParseError('f', 'Tcp: "B-C" is not a field name', 1),
    );
    expect(() => parseSnmpTables('Tcp: A\nTcp: 1-2\n', 'f', [])).toThrow(/Tcp A: expected a non-negative integer/);
    expect(new Map(parseSnmpTables('Tcp:\nTcp:\n', 'f', []).get('Tcp'))).toEqual(new Map());
  });

  it('gives the same tables with the headers of earlier parses, and parses a header again when its text changed', () => {
    const headers: SnmpHeaders = new Map();
    for (const host of HOSTS) {
      for (const [file, sections] of [
        ['netstat', NET_NETSTAT_SECTIONS],
        ['snmp', NET_SNMP_SECTIONS],
      ] as const) {
        const text = fixture(`linux/net/${host}/${file}`);
        const alone = parseSnmpTables(text, file, sections);
        for (let i = 0; i < 2; i++) {
          const reused = parseSnmpTables(text, file, sections, headers);
          expect([...reused.keys()]).toEqual([...alone.keys()]);
          for (const [name, fields] of alone) expect([...reused.get(name)!]).toEqual([...fields]);
        }
      }
    }
    const renamed = parseSnmpTables('Tcp: A C\nTcp: 1 2\n', 'f', [], headers);
    expect([...parseSnmpTables('Tcp: A B\nTcp: 3 4\n', 'f', [], headers).get('Tcp')!]).toEqual([
      ['A', 3],
      ['B', 4],
    ]);
    expect([...renamed.get('Tcp')!]).toEqual([
      ['A', 1],
      ['C', 2],
    ]);
    expect(() => parseSnmpTables('Tcp: A A\nTcp: 1 2\n', 'f', [], headers)).toThrow(/Tcp A appears twice/);
  });

  it.each(HOSTS.flatMap((h) => [`linux/net/${h}/snmp`, `linux/net/${h}/netstat`]))(
    'never crashes or invents numbers on arbitrary input or truncations of %s (fuzz)',
    (file) => {
      const text = fixture(file);
      const whole = parseSnmpTables(text, file, sectionsOf(file));
      assertParsesOrRejects(
        text,
        (input) => parseSnmpTables(input, file, []),
        (parsed, isPrefix) => {
          for (const [line, fields] of parsed) {
            for (const value of fields.values()) expect(Number.isSafeInteger(value)).toBe(true);
            if (isPrefix) expect(fields).toEqual(whole.get(line));
          }
        },
      );
      // The same inputs with the headers of every earlier parse kept: the same tables as a parse alone, or the same error.
      const headers: SnmpHeaders = new Map();
      assertKeptStateChangesNothing(
        text,
        (input) => parseSnmpTables(input, file, []),
        (input) => parseSnmpTables(input, file, [], headers),
        (tables) => [...tables].map(([line, fields]) => [line, [...fields]]),
      );
    },
  );
});
