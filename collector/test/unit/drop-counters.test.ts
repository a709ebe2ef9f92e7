import { parseNetDev as parseNetDevBytes } from '../../src/kernel/net-dev';
import { NET_NETSTAT_SECTIONS, NET_SNMP_SECTIONS, parseSnmpTables } from '../../src/kernel/net-snmp';
import { parseSnmp6 } from '../../src/kernel/net-snmp6';
import { parseSoftnetStat } from '../../src/kernel/net-softnet-stat';
import { parseConntrackStat } from '../../src/kernel/nf-conntrack-stat';
import {
  COUNTER_REASONS,
  counterDropSamples,
  counterInputs,
  type CounterInputs,
} from '../../src/sources/linux/drops/counters';
import { fixture } from '../helpers/fixtures';

/** The parser given a test's text as its UTF-8 bytes (the file holds bytes). */
const parseNetDev = (text: string, file?: string) => parseNetDevBytes(Buffer.from(text, 'utf8'), file);

const recorded = (name: string) => fixture(`linux/drops/${name}`);

/** The recorded files through the kernel layer's parsers (the ones the strategy reads with). */
function recordedInputs(): CounterInputs {
  return counterInputs({
    netDev: parseNetDev(recorded('dev')),
    softnet: parseSoftnetStat(recorded('softnet_stat')),
    snmp: parseSnmpTables(recorded('snmp'), 'net/snmp', NET_SNMP_SECTIONS),
    netstat: parseSnmpTables(recorded('netstat'), 'net/netstat', NET_NETSTAT_SECTIONS),
    snmp6: parseSnmp6(recorded('snmp6')),
    conntrack: parseConntrackStat(recorded('nf_conntrack')),
  });
}

describe('drop counters', () => {
  it('reads the recorded procfs files', () => {
    const inputs = recordedInputs();
    expect(inputs.snmp.get('Udp')!.get('NoPorts')).toEqual(expect.any(Number));
    expect(inputs.netstat.get('TcpExt')!.get('ListenDrops')).toEqual(expect.any(Number));
    expect(inputs.snmp6!.get('Udp6NoPorts')).toEqual(expect.any(Number));
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
      value: inputs.snmp.get('Udp')!.get('NoPorts')! + inputs.snmp6!.get('Udp6NoPorts')!,
    });
    const withoutV6 = counterDropSamples({ ...inputs, snmp6: undefined, conntrackDropped: undefined });
    expect(withoutV6.find((r) => r.reason === 'NO_SOCKET')!.value).toBe(inputs.snmp.get('Udp')!.get('NoPorts'));
    expect(withoutV6.some((r) => r.reason === 'CONNTRACK_DROP')).toBe(false);
    // IPv4's input no-route drops are IpExt InNoRoutes (/proc/net/netstat): the row stays without IPv6.
    expect(withoutV6.find((r) => r.reason === 'IP_INNOROUTES')!.value).toBe(
      inputs.netstat.get('IpExt')!.get('InNoRoutes'),
    );
  });

  it('sums softnet_stat dropped and nf_conntrack drop + insert_failed over the CPUs', () => {
    const conntrack =
      'entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop\n' +
      '00000000  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000002 00000010 00000005\n' +
      '00000000  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000001 00000001 00000000\n';
    const softnet =
      '00000526 0000000a 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000\n' +
      '0000d453 00000010 00000004 00000000 00000000 00000000 00000000 00000000 00000000 00000000\n';
    const inputs = counterInputs({
      netDev: [],
      softnet: parseSoftnetStat(softnet),
      snmp: new Map(),
      netstat: new Map(),
      snmp6: undefined,
      conntrack: parseConntrackStat(conntrack),
    });
    expect(inputs.softnetDropped).toBe(0x0a + 0x10);
    expect(inputs.conntrackDropped).toBe(0x10 + 2 + 1 + 1);
  });
});
