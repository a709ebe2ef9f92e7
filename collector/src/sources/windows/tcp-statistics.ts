/**
 * TCP protocol counters on Windows: GetTcpStatisticsEx2 (MIB_TCPSTATS2, Windows 10 1709 / Server 2016 and later)
 * where present, else GetTcpStatisticsEx (MIB_TCPSTATS_LH), for IPv4 and IPv6. Fills kappie_tcp_connection_stats
 * with the counters named as Windows names the struct fields, without the dw/dw64 prefix (ActiveOpens, InSegs, ...):
 * the RFC 1213 names, which are also the names of Linux's /proc/net/snmp Tcp line.
 *
 * IPv4 and IPv6 are SUMMED into one series per statistic: Linux's Tcp counters already cover both families, so the
 * same query means the same thing on both OSes, and the metric has no family label to put them apart.
 * CurrEstab and NumConns are left out: they are gauges of open connections (kappie_tcp_state has them by state), and
 * RtoAlgorithm/RtoMin/RtoMax/MaxConn are settings, not counts.
 */
import { LABEL } from '../../catalog';
import { MonotonicSumBySeries } from '../../monotonic-sum';
import type { Source } from '../../source';
import { BinaryReader } from './binary-reader';
import {
  AF_INET,
  AF_INET6,
  createIpHelper,
  MIB_TCPSTATS2_SIZE,
  MIB_TCPSTATS_LH_SIZE,
  type IpHelper,
  type TcpStatisticsBytes,
} from './iphlpapi';

export const TCP_STATISTIC_NAMES = [
  'ActiveOpens',
  'PassiveOpens',
  'AttemptFails',
  'EstabResets',
  'InSegs',
  'OutSegs',
  'RetransSegs',
  'InErrs',
  'OutRsts',
] as const;
export type TcpStatisticName = (typeof TCP_STATISTIC_NAMES)[number];

interface Field {
  readonly offset: number;
  readonly bits: 32 | 64;
}

/** The first four counters, DWORDs after the four RTO/MaxConn DWORDs, at the same offsets in both layouts. */
const OPEN_AND_RESET_FIELDS = {
  ActiveOpens: { offset: 16, bits: 32 },
  PassiveOpens: { offset: 20, bits: 32 },
  AttemptFails: { offset: 24, bits: 32 },
  EstabResets: { offset: 28, bits: 32 },
} as const satisfies Readonly<Record<string, Field>>;

/**
 * Field offsets on x64. MIB_TCPSTATS_LH is 15 DWORDs. MIB_TCPSTATS2 has the same first 9 DWORDs, then 4 bytes of
 * padding so that the two DWORD64 segment counters are 8-byte aligned, then DWORDs again.
 */
export const TCP_STATS_LAYOUTS: Readonly<
  Record<TcpStatisticsBytes['layout'], { size: number; fields: Readonly<Record<TcpStatisticName, Field>> }>
> = {
  MIB_TCPSTATS_LH: {
    size: MIB_TCPSTATS_LH_SIZE,
    fields: {
      ...OPEN_AND_RESET_FIELDS,
      InSegs: { offset: 36, bits: 32 },
      OutSegs: { offset: 40, bits: 32 },
      RetransSegs: { offset: 44, bits: 32 },
      InErrs: { offset: 48, bits: 32 },
      OutRsts: { offset: 52, bits: 32 },
    },
  },
  MIB_TCPSTATS2: {
    size: MIB_TCPSTATS2_SIZE,
    fields: {
      ...OPEN_AND_RESET_FIELDS,
      InSegs: { offset: 40, bits: 64 },
      OutSegs: { offset: 48, bits: 64 },
      RetransSegs: { offset: 56, bits: 32 },
      InErrs: { offset: 60, bits: 32 },
      OutRsts: { offset: 64, bits: 32 },
    },
  },
};

export interface TcpStatistic {
  readonly name: TcpStatisticName;
  readonly value: number;
  /** 32-bit counters wrap at 2^32; the collector widens them (see newTcpStatisticSums). */
  readonly bits: 32 | 64;
}

/** Decodes one MIB_TCPSTATS2 or MIB_TCPSTATS_LH buffer. */
export function decodeTcpStatistics(input: TcpStatisticsBytes): TcpStatistic[] {
  const layout = TCP_STATS_LAYOUTS[input.layout];
  const reader = new BinaryReader(input.bytes, input.layout);
  reader.require(0, layout.size, `the ${layout.size}-byte struct`);
  return TCP_STATISTIC_NAMES.map((name) => {
    const { offset, bits } = layout.fields[name];
    const value = bits === 64 ? reader.u64(offset, name) : reader.u32(offset, name);
    return { name, value, bits };
  });
}

/**
 * The totals per statistic over the two families (the members, which never go away), as counters that never go down:
 * one MonotonicSumBySeries read modulo 2^32, so a 32-bit counter is carried across its wrap (at a few Gbit/s InSegs
 * wraps in hours). The 64-bit InSegs/OutSegs of MIB_TCPSTATS2 go through the same sum: their growth is exact while
 * fewer than 2^32 segments pass between two gatherings (over an hour at 10 Gbit/s of full-size segments), and a
 * family answered in the other layout one time (GetTcpStatisticsEx2 failing once) adds its real growth instead of its
 * whole value again.
 */
export function newTcpStatisticSums(): MonotonicSumBySeries<TcpStatisticName> {
  return new MonotonicSumBySeries<TcpStatisticName>({ counterBits: 32 });
}

/** Adds one gathering (family -> its statistics) to `sums` and returns the node total of each statistic. */
export function tcpStatisticTotals(
  perFamily: ReadonlyMap<string, readonly TcpStatistic[]>,
  sums: MonotonicSumBySeries<TcpStatisticName>,
): Map<TcpStatisticName, number> {
  const readings = new Map(
    [...perFamily].map(([family, statistics]) => [family, new Map(statistics.map((s) => [s.name, s.value]))]),
  );
  return sums.update(readings);
}

/** The windows_tcp_statistics source; `ipHelper` reads the statistics (its own IP Helper by default). */
export function createWindowsTcpStatisticsSource(
  ipHelper: Pick<IpHelper, 'readTcpStatistics'> = createIpHelper(),
): Source {
  let sums = newTcpStatisticSums();
  return {
    name: 'windows_tcp_statistics',
    description: 'GetTcpStatisticsEx2 (else GetTcpStatisticsEx), IPv4 + IPv6: TCP protocol counters',
    platforms: ['windows'],
    metrics: ['tcpConnectionStats'],
    async collect() {
      const perFamily = new Map([
        ['ipv4', decodeTcpStatistics(await ipHelper.readTcpStatistics(AF_INET))],
        ['ipv6', decodeTcpStatistics(await ipHelper.readTcpStatistics(AF_INET6))],
      ]);
      return {
        tcpConnectionStats: [...tcpStatisticTotals(perFamily, sums)].map(([name, value]) => ({
          labels: { [LABEL.statisticName]: name },
          value,
        })),
      };
    },
    stop() {
      sums = newTcpStatisticSums();
      return Promise.resolve();
    },
  };
}
