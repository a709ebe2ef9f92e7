import { ParseError } from '../../../src/errors';
import { createSnmp6Names, parseSnmp6 } from '../../../src/kernel/net-snmp6';
import { fixture } from '../../helpers/fixtures';
import { assertKeptStateChangesNothing, assertParsesOrRejects } from '../../helpers/parser-fuzz';

const HOSTS = ['host', 'veth', 'nov6', 'manyveth'] as const;

describe('parseSnmp6', () => {
  it('reads every Name value line', () => {
    const snmp6 = parseSnmp6(fixture('linux/net/host/snmp6'));
    expect(snmp6.size).toBe(fixture('linux/net/host/snmp6').split('\n').length - 1);
    expect(snmp6.has('Ip6InNoRoutes')).toBe(true);
    expect(() => parseSnmp6('Ip6InReceives 1 2\n')).toThrow(ParseError);
    expect(() => parseSnmp6('Ip6InReceives -1\n')).toThrow(ParseError);
    expect(() => parseSnmp6('A 1\nA 2\n')).toThrow(/twice/);
  });

  it('reads the padded lines up to 15 digits directly, checks longer values word by word', () => {
    const groups = 'Icmp6InMsgs 1\nUdp6NoPorts 2\n';
    const padded = (name: string, value: string) => `${name.padEnd(32)}\t${value}\n${groups}`;
    expect(parseSnmp6(padded('Ip6InReceives', '999999999999999')).get('Ip6InReceives')).toBe(999_999_999_999_999);
    expect(parseSnmp6(padded('Ip6InReceives', '9007199254740991')).get('Ip6InReceives')).toBe(2 ** 53 - 1);
    expect(() => parseSnmp6(padded('Ip6InReceives', '9007199254740993'))).toThrow(
      new ParseError('net/snmp6', 'Ip6InReceives: 9007199254740993 is beyond 2^53 and cannot be exported exactly', 1),
    );
    expect(() => parseSnmp6(padded('Ip6-InReceives', '1'))).toThrow(/expected "Name value"/);
  });

  it('counts the pings recorded in a namespace', () => {
    expect(parseSnmp6(fixture('linux/net/veth/snmp6')).get('Icmp6OutEchos')).toBe(3);
  });

  it('requires the Ip6, Icmp6 and Udp6 counters, not UdpLite6 (gone in 7.1)', () => {
    expect(() => parseSnmp6('')).toThrow(/no Ip6, Icmp6, Udp6 counters/);
    const text = fixture('linux/net/veth/snmp6');
    const without = (prefix: string) =>
      text
        .split('\n')
        .filter((line) => !line.startsWith(prefix))
        .join('\n');
    expect(() => parseSnmp6(without('Udp6'))).toThrow(/no Udp6 counters/);
    expect(() => parseSnmp6(without('Icmp6'))).toThrow(/no Icmp6 counters/);
    expect(parseSnmp6(without('UdpLite6')).has('Udp6NoPorts')).toBe(true);
  });

  it.each(HOSTS.map((h) => `linux/net/${h}/snmp6`))(
    'never crashes or invents numbers on arbitrary input or truncations of %s (fuzz)',
    (file) => {
      const text = fixture(file);
      const whole = parseSnmp6(text);
      assertParsesOrRejects(text, parseSnmp6, (parsed, isPrefix) => {
        for (const [name, value] of parsed) {
          expect(Number.isSafeInteger(value)).toBe(true);
          if (isPrefix) expect(value).toBe(whole.get(name));
        }
      });
      // The same inputs with the names of every earlier parse kept: the same result as a parse alone, or the same error.
      const kept = createSnmp6Names();
      assertKeptStateChangesNothing(
        text,
        (input) => parseSnmp6(input, file),
        (input) => parseSnmp6(input, file, kept),
        (counters) => [...counters],
      );
    },
  );
});
