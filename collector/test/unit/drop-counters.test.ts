import fc from 'fast-check';
import { ParseError } from '../../src/errors';
import {
  parseConntrackDrops,
  parseNetDevDrops,
  parseSnmp6,
  parseSnmpPairs,
  parseSoftnetDrops,
} from '../../src/sources/linux/drop-counters';
import { COUNTER_REASONS, counterDropSamples, type CounterInputs } from '../../src/sources/linux/drops/counters';
import { fixture } from '../helpers/fixtures';

const recorded = (name: string) => fixture(`linux/drops/${name}`);

function recordedInputs(): CounterInputs {
  return {
    netDev: parseNetDevDrops(recorded('dev')),
    softnetDropped: parseSoftnetDrops(recorded('softnet_stat')),
    snmp: parseSnmpPairs(recorded('snmp')),
    netstat: parseSnmpPairs(recorded('netstat'), 'net/netstat'),
    snmp6: parseSnmp6(recorded('snmp6')),
    conntrackDropped: parseConntrackDrops(recorded('nf_conntrack')),
  };
}

describe('drop counters', () => {
  it('reads the recorded procfs files', () => {
    const inputs = recordedInputs();
    expect(inputs.snmp['Udp']!['NoPorts']).toEqual(expect.any(Number));
    expect(inputs.netstat['TcpExt']!['ListenDrops']).toEqual(expect.any(Number));
    expect(inputs.snmp6!['Udp6NoPorts']).toEqual(expect.any(Number));
    expect(inputs.conntrackDropped).toBe(0);
  });

  it('maps every table row whose counters exist, summing IPv4 and IPv6', () => {
    const inputs = recordedInputs();
    const rows = counterDropSamples(inputs);
    expect(rows.map((r) => r.reason)).toEqual(COUNTER_REASONS.map((r) => r.reason));
    const noSocket = rows.find((r) => r.reason === 'NO_SOCKET')!;
    expect(noSocket).toEqual({
      reason: 'NO_SOCKET',
      direction: 'ingress',
      value: inputs.snmp['Udp']!['NoPorts']! + inputs.snmp6!['Udp6NoPorts']!,
    });
    const withoutV6 = counterDropSamples({ ...inputs, snmp6: undefined, conntrackDropped: undefined });
    expect(withoutV6.find((r) => r.reason === 'NO_SOCKET')!.value).toBe(inputs.snmp['Udp']!['NoPorts']);
    expect(withoutV6.some((r) => r.reason === 'CONNTRACK_DROP' || r.reason === 'IP_INNOROUTES')).toBe(false);
  });

  it('reads hex per-CPU columns of softnet_stat and nf_conntrack', () => {
    expect(parseSoftnetDrops('00000526 0000000a 00000000\n0000d453 00000010 00000004\n')).toBe(26);
    const conntrack =
      'entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop\n' +
      '00000000  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000002 00000010 00000005\n' +
      '00000000  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000001 00000001 00000000\n';
    expect(parseConntrackDrops(conntrack)).toBe(0x10 + 2 + 1 + 1);
  });

  it('names the file and line it cannot read', () => {
    expect(() => parseSnmpPairs('Udp: NoPorts\nUdp: x\n', 'net/snmp')).toThrow(/Udp: NoPorts/);
    expect(() => parseSnmpPairs('Udp: NoPorts\n', 'net/snmp')).toThrow(ParseError);
    expect(() => parseSoftnetDrops('zz\n')).toThrow(/dropped/);
    expect(() => parseNetDevDrops('x\n')).toThrow(/header/);
  });

  it('fuzz: every parser returns numbers or throws ParseError', () => {
    const parsers = [parseNetDevDrops, parseSoftnetDrops, parseSnmpPairs, parseSnmp6, parseConntrackDrops];
    fc.assert(
      fc.property(fc.constantFrom(...parsers), fc.string({ maxLength: 200 }), (parse, text) => {
        try {
          parse(text);
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
        }
      }),
    );
    for (const [name, parse] of [
      ['dev', parseNetDevDrops],
      ['snmp', parseSnmpPairs],
      ['snmp6', parseSnmp6],
    ] as const) {
      const text = recorded(name);
      fc.assert(
        fc.property(fc.integer({ min: 1, max: text.length - 1 }), (cut) => {
          const truncated = text.slice(0, cut);
          if (!truncated.endsWith('\n')) expect(() => parse(truncated)).toThrow(ParseError);
        }),
      );
    }
  });
});
