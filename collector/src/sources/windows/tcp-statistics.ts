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
import type { Source } from '../../source';
import { BinaryReader } from './binary-reader';
import { addReading, MonotonicSums } from './counter-sums';
import {
  AF_INET,
  AF_INET6,
  MIB_TCPSTATS2_SIZE,
  MIB_TCPSTATS_LH_SIZE,
  readTcpStatistics,
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
      ActiveOpens: { offset: 16, bits: 32 },
      PassiveOpens: { offset: 20, bits: 32 },
      AttemptFails: { offset: 24, bits: 32 },
      EstabResets: { offset: 28, bits: 32 },
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
      ActiveOpens: { offset: 16, bits: 32 },
      PassiveOpens: { offset: 20, bits: 32 },
      AttemptFails: { offset: 24, bits: 32 },
      EstabResets: { offset: 28, bits: 32 },
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
  /** 32-bit counters wrap at 2^32; the collector widens them (see counter-sums.ts). */
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
 * Node totals per statistic over the families, as counters that never go down: 32-bit values are widened across
 * their wrap at 2^32 (at a few Gbit/s InSegs wraps in hours), 64-bit ones are taken as they are.
 */
export class TcpStatisticTotals {
  private readonly narrow = new MonotonicSums('wrap32');
  private readonly wide = new MonotonicSums('restart');

  update(perFamily: ReadonlyMap<string, readonly TcpStatistic[]>): Map<TcpStatisticName, number> {
    const narrow = new Map<string, Map<string, number>>();
    const wide = new Map<string, Map<string, number>>();
    for (const [family, statistics] of perFamily) {
      for (const { name, value, bits } of statistics) addReading(bits === 32 ? narrow : wide, name, family, value);
    }
    // A statistic is 32-bit in one layout and 64-bit in the other; both sums start at zero and add up.
    const totals = new Map<TcpStatisticName, number>();
    for (const sums of [this.narrow.update(narrow), this.wide.update(wide)]) {
      for (const [name, total] of sums) {
        totals.set(name as TcpStatisticName, (totals.get(name as TcpStatisticName) ?? 0) + total);
      }
    }
    return totals;
  }
}

const totals = new TcpStatisticTotals();

export const windowsTcpStatisticsSource: Source = {
  name: 'windows_tcp_statistics',
  description: 'GetTcpStatisticsEx2 (else GetTcpStatisticsEx), IPv4 + IPv6: TCP protocol counters',
  platforms: ['windows'],
  metrics: ['tcpConnectionStats'],
  async collect() {
    const perFamily = new Map([
      ['ipv4', decodeTcpStatistics(await readTcpStatistics(AF_INET))],
      ['ipv6', decodeTcpStatistics(await readTcpStatistics(AF_INET6))],
    ]);
    return {
      tcpConnectionStats: [...totals.update(perFamily)].map(([name, value]) => ({
        labels: { [LABEL.statisticName]: name },
        value,
      })),
    };
  },
};
