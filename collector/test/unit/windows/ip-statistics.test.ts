import fc from 'fast-check';
import { resolveConfig } from '../../../src/config';
import { ParseError } from '../../../src/errors';
import { createHostFs } from '../../../src/kernel/host-fs';
import { silentLogger } from '../../../src/log';
import type { SourceContext } from '../../../src/source';
import { IP_DEFAULT_STATISTICS } from '../../../src/sources/linux/snmp-statistics';
import { AF_INET, AF_INET6, type AddressFamily } from '../../../src/sources/windows/iphlpapi';
import {
  createWindowsIpStatisticsSource,
  decodeIcmpStatistics,
  decodeIpStatistics,
} from '../../../src/sources/windows/ip-statistics';
import { mibIcmpEx, mibIpStatsLh, type IcmpStats, type IpStats } from '../../helpers/windows-structs';

/** Every member a different value, so a field read from the wrong offset shows. */
const ipStats: IpStats = {
  forwarding: 1,
  defaultTTL: 128,
  inReceives: 1001,
  inHdrErrors: 1002,
  inAddrErrors: 1003,
  forwDatagrams: 1004,
  inUnknownProtos: 1005,
  inDiscards: 1006,
  inDelivers: 1007,
  outRequests: 1008,
  routingDiscards: 1009,
  outDiscards: 1010,
  outNoRoutes: 1011,
  reasmTimeout: 60,
  reasmReqds: 1013,
  reasmOks: 1014,
  reasmFails: 1015,
  fragOks: 1016,
  fragFails: 1017,
  fragCreates: 1018,
  numIf: 7,
  numAddr: 9,
  numRoutes: 21,
};

function context(flags: Record<string, string> = {}): SourceContext {
  const config = resolveConfig(flags, {});
  return { config, fs: createHostFs(config), log: silentLogger() };
}

describe('decodeIpStatistics', () => {
  it('reads the MIB_IPSTATS_LH counters under the names of Linux Ip (IPv4), settings and table sizes left out', () => {
    const bytes = mibIpStatsLh(ipStats);
    expect(bytes.length).toBe(92);
    expect(Object.fromEntries(decodeIpStatistics(bytes, AF_INET))).toEqual({
      InReceives: 1001,
      InHdrErrors: 1002,
      InAddrErrors: 1003,
      ForwDatagrams: 1004,
      InUnknownProtos: 1005,
      InDiscards: 1006,
      InDelivers: 1007,
      OutRequests: 1008,
      OutDiscards: 1010,
      OutNoRoutes: 1011,
      ReasmReqds: 1013,
      ReasmOKs: 1014,
      ReasmFails: 1015,
      FragOKs: 1016,
      FragFails: 1017,
      FragCreates: 1018,
    });
  });

  it('names the IPv6 counters as Linux snmp6 does (forwarded datagrams are Ip6OutForwDatagrams)', () => {
    const decoded = decodeIpStatistics(mibIpStatsLh(ipStats), AF_INET6);
    expect(decoded.get('Ip6InReceives')).toBe(1001);
    expect(decoded.get('Ip6OutForwDatagrams')).toBe(1004);
    expect(decoded.get('Ip6ReasmOKs')).toBe(1014);
    expect(decoded.get('Ip6FragCreates')).toBe(1018);
    expect([...decoded.keys()].every((name) => name.startsWith('Ip6'))).toBe(true);
    expect(decoded.size).toBe(16);
  });

  it('rejects a struct shorter than its 92 documented bytes', () => {
    expect(() => decodeIpStatistics(mibIpStatsLh(ipStats).subarray(0, 91), AF_INET)).toThrow(
      new ParseError('MIB_IPSTATS_LH', 'truncated: the 92-byte struct needs bytes 0..92 but the buffer has 91'),
    );
  });
});

describe('decodeIcmpStatistics', () => {
  const incoming: IcmpStats = { msgs: 40, errors: 2, types: { 0: 11, 3: 25, 8: 4 } };
  const outgoing: IcmpStats = { msgs: 30, errors: 1, types: { 3: 20, 8: 10 } };

  it('reads both MIBICMPSTATS_EX halves of MIB_ICMP_EX_XPSP1 under the Linux Icmp and IcmpMsg names (IPv4)', () => {
    const bytes = mibIcmpEx(incoming, outgoing);
    expect(bytes.length).toBe(2064);
    expect(Object.fromEntries(decodeIcmpStatistics(bytes, AF_INET))).toEqual({
      IcmpInMsgs: 40,
      IcmpInErrors: 2,
      IcmpMsgInType0: 11,
      IcmpMsgInType3: 25,
      IcmpMsgInType8: 4,
      IcmpOutMsgs: 30,
      IcmpOutErrors: 1,
      IcmpMsgOutType3: 20,
      IcmpMsgOutType8: 10,
    });
  });

  it('names ICMPv6 as Linux snmp6 does, up to the last type (255)', () => {
    const decoded = decodeIcmpStatistics(
      mibIcmpEx({ msgs: 5, errors: 0, types: { 1: 1, 135: 4 } }, { msgs: 9, errors: 0, types: { 136: 8, 255: 1 } }),
      AF_INET6,
    );
    expect(Object.fromEntries(decoded)).toEqual({
      Icmp6InMsgs: 5,
      Icmp6InErrors: 0,
      Icmp6InType1: 1,
      Icmp6InType135: 4,
      Icmp6OutMsgs: 9,
      Icmp6OutErrors: 0,
      Icmp6OutType136: 8,
      Icmp6OutType255: 1,
    });
  });

  it('rejects a struct cut anywhere (fuzz)', () => {
    const bytes = mibIcmpEx(incoming, outgoing);
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), (cut) => {
        expect(() => decodeIcmpStatistics(bytes.subarray(0, cut), AF_INET)).toThrow(ParseError);
      }),
    );
  });
});

describe('windows_ip_statistics', () => {
  /** An IP Helper answering with the given IP statistics per family (same ICMP counts for both). */
  const helper = (ip: (family: AddressFamily) => IpStats) => ({
    readIpStatistics: async (family: AddressFamily) => mibIpStatsLh(ip(family)),
    readIcmpStatistics: async () => mibIcmpEx({ msgs: 3, errors: 1, types: { 3: 3 } }, { msgs: 2, errors: 0 }),
  });
  const value = (samples: { labels: Record<string, string>; value: number }[] | undefined, name: string) =>
    samples?.find((sample) => sample.labels['statistic_name'] === name)?.value;

  it('exports the default set of the Linux snmp source by default, every counter with --statistics all', async () => {
    const source = createWindowsIpStatisticsSource(helper(() => ipStats));
    const defaults = (await source.collect(context())).ipConnectionStats!;
    const names = defaults.map((sample) => sample.labels.statistic_name);
    expect(names.every((name) => (IP_DEFAULT_STATISTICS as readonly string[]).includes(name))).toBe(true);
    expect(names).toEqual(expect.arrayContaining(['InReceives', 'Ip6InReceives', 'IcmpInErrors', 'Icmp6OutMsgs']));
    expect(names).not.toContain('ReasmOKs');

    const all = (await createWindowsIpStatisticsSource(helper(() => ipStats)).collect(context({ statistics: 'all' })))
      .ipConnectionStats;
    expect(value(all, 'ReasmOKs')).toBe(1014);
    expect(value(all, 'IcmpMsgInType3')).toBe(3);
    expect(value(all, 'Icmp6InType3')).toBe(3);
  });

  it('carries the 32-bit counters across their wrap at 2^32 instead of falling back to a small number', async () => {
    let inReceives = 2 ** 32 - 10;
    const source = createWindowsIpStatisticsSource(helper(() => ({ ...ipStats, inReceives })));
    expect(value((await source.collect(context())).ipConnectionStats, 'InReceives')).toBe(2 ** 32 - 10);
    inReceives = 5;
    expect(value((await source.collect(context())).ipConnectionStats, 'InReceives')).toBe(2 ** 32 + 5);
  });

  it('keeps IPv4 and IPv6 apart, as Linux names them', async () => {
    const source = createWindowsIpStatisticsSource(
      helper((family) => ({ ...ipStats, inReceives: family === AF_INET ? 10 : 60 })),
    );
    const samples = (await source.collect(context())).ipConnectionStats;
    expect(value(samples, 'InReceives')).toBe(10);
    expect(value(samples, 'Ip6InReceives')).toBe(60);
  });
});
