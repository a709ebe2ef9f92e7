/**
 * What the Windows IP and UDP statistics sources share: their counters are the IP Helper's 32-bit DWORDs (MIB_IPSTATS,
 * MIB_ICMP_EX and MIB_UDPSTATS have no 64-bit variant, MIB_UDPSTATS2 only for two of its fields), exported under the
 * names Linux gives the same counters and filtered by --statistics the way the Linux snmp source is.
 */
import type { StatisticsSet } from '../../config';
import { MonotonicSumBySeries } from '../../monotonic-sum';

/** One address family's counters by statistic_name. */
export type StatisticValues = ReadonlyMap<string, number>;

/**
 * Totals per statistic over the address families (the members: `ipv4`, `ipv6`, which never go away), as counters that
 * never go down: one MonotonicSumBySeries read modulo 2^32, so a DWORD is carried across its wrap (InReceives wraps
 * in minutes at a few Gbit/s), and a 64-bit value read in another layout one time (GetUdpStatisticsEx2 failing once)
 * adds its real growth rather than its whole value again, as for the TCP statistics. A series a family does not
 * report in one gathering (an ICMP type at zero) keeps its total and adds nothing.
 */
export function newProtocolStatisticSums(): MonotonicSumBySeries {
  return new MonotonicSumBySeries({ counterBits: 32 });
}

/**
 * The counters of `values` that `set` exports: all of them, or with `default` those of `defaults` (the Linux
 * snmp source's default set of the same metric, so --statistics selects the same names on both OSes).
 */
export function selectStatistics(
  values: StatisticValues,
  set: StatisticsSet,
  defaults: readonly string[],
): Map<string, number> {
  if (set === 'all') return new Map(values);
  const wanted = new Set(defaults);
  return new Map([...values].filter(([name]) => wanted.has(name)));
}
