/**
 * IP and ICMP protocol counters on Windows: GetIpStatisticsEx (MIB_IPSTATS_LH) and GetIcmpStatisticsEx
 * (MIB_ICMP_EX_XPSP1) for IPv4 and IPv6. Fills kappie_ip_connection_stats under the names Linux gives the same
 * counters (/proc/net/snmp Ip, Icmp and IcmpMsg, /proc/net/snmp6 Ip6 and Icmp6), so one query serves both OSes:
 * `InReceives` and `Ip6InReceives`, `IcmpInErrors` and `Icmp6InErrors`, `IcmpMsgInType3` and `Icmp6InType1`.
 *
 * The MIB_IPSTATS_LH fields are RFC 1213's / RFC 4293's ipSystemStats objects, which Linux's Ip line also counts.
 * The fields left out, because Linux has no counter meaning the same thing, are in IP_FIELDS_LEFT_OUT with the reason.
 */
import { LABEL } from '../../catalog';
import type { Source } from '../../source';
import { IP_DEFAULT_STATISTICS } from '../linux/snmp-statistics';
import { BinaryReader } from './binary-reader';
import {
  AF_INET,
  AF_INET6,
  createIpHelper,
  MIB_ICMP_EX_SIZE,
  MIB_IPSTATS_LH_SIZE,
  type AddressFamily,
  type IpHelper,
} from './iphlpapi';
import { newProtocolStatisticSums, selectStatistics, type StatisticValues } from './protocol-statistics';

/**
 * The exported MIB_IPSTATS_LH fields: byte offset on x64 (the struct is 23 DWORDs in the order ipmib.h declares them,
 * learn.microsoft.com/windows/win32/api/ipmib/ns-ipmib-mib_ipstats_lh, so a field's offset is 4 x its position), the IPv4 name (Linux's Ip line) and the IPv6 name (Linux's snmp6).
 * ForwDatagrams is Ip6OutForwDatagrams in snmp6 (RFC 2465 ipv6IfStatsOutForwDatagrams, the same count).
 */
export const IP_STATISTIC_FIELDS: readonly { field: string; offset: number; ipv4: string; ipv6: string }[] = [
  { field: 'dwInReceives', offset: 8, ipv4: 'InReceives', ipv6: 'Ip6InReceives' },
  { field: 'dwInHdrErrors', offset: 12, ipv4: 'InHdrErrors', ipv6: 'Ip6InHdrErrors' },
  { field: 'dwInAddrErrors', offset: 16, ipv4: 'InAddrErrors', ipv6: 'Ip6InAddrErrors' },
  { field: 'dwForwDatagrams', offset: 20, ipv4: 'ForwDatagrams', ipv6: 'Ip6OutForwDatagrams' },
  { field: 'dwInUnknownProtos', offset: 24, ipv4: 'InUnknownProtos', ipv6: 'Ip6InUnknownProtos' },
  { field: 'dwInDiscards', offset: 28, ipv4: 'InDiscards', ipv6: 'Ip6InDiscards' },
  { field: 'dwInDelivers', offset: 32, ipv4: 'InDelivers', ipv6: 'Ip6InDelivers' },
  { field: 'dwOutRequests', offset: 36, ipv4: 'OutRequests', ipv6: 'Ip6OutRequests' },
  // dwRoutingDiscards (40) and dwReasmTimeout (52) are left out: see IP_FIELDS_LEFT_OUT.
  { field: 'dwOutDiscards', offset: 44, ipv4: 'OutDiscards', ipv6: 'Ip6OutDiscards' },
  { field: 'dwOutNoRoutes', offset: 48, ipv4: 'OutNoRoutes', ipv6: 'Ip6OutNoRoutes' },
  { field: 'dwReasmReqds', offset: 56, ipv4: 'ReasmReqds', ipv6: 'Ip6ReasmReqds' },
  { field: 'dwReasmOks', offset: 60, ipv4: 'ReasmOKs', ipv6: 'Ip6ReasmOKs' },
  { field: 'dwReasmFails', offset: 64, ipv4: 'ReasmFails', ipv6: 'Ip6ReasmFails' },
  { field: 'dwFragOks', offset: 68, ipv4: 'FragOKs', ipv6: 'Ip6FragOKs' },
  { field: 'dwFragFails', offset: 72, ipv4: 'FragFails', ipv6: 'Ip6FragFails' },
  { field: 'dwFragCreates', offset: 76, ipv4: 'FragCreates', ipv6: 'Ip6FragCreates' },
];

/** The MIB_IPSTATS_LH fields not exported, and why: Linux has no counter meaning the same thing (README, generated). */
export const IP_FIELDS_LEFT_OUT: Readonly<Record<string, string>> = {
  dwForwarding: 'a setting (Linux leaves its Ip Forwarding out too)',
  dwDefaultTTL: 'a setting (Linux leaves its Ip DefaultTTL out too)',
  dwRoutingDiscards: 'routing entries discarded (RFC 1213 ipRoutingDiscards), not datagrams; Linux has no such count',
  dwReasmTimeout:
    'the time allowed for the fragments of a datagram to arrive (a setting), while Linux ReasmTimeout counts reassemblies that timed out',
  dwNumIf: 'the number of interfaces (a gauge)',
  dwNumAddr: 'the number of addresses (a gauge)',
  dwNumRoutes: 'the number of routes (a gauge)',
};

/** Decodes one MIB_IPSTATS_LH (92 bytes; a ParseError when shorter) into counters by their Linux name. */
export function decodeIpStatistics(bytes: Uint8Array, family: AddressFamily): Map<string, number> {
  const reader = new BinaryReader(bytes, 'MIB_IPSTATS_LH');
  reader.require(0, MIB_IPSTATS_LH_SIZE, `the ${MIB_IPSTATS_LH_SIZE}-byte struct`);
  return new Map(
    IP_STATISTIC_FIELDS.map(({ field, offset, ipv4, ipv6 }) => [
      family === AF_INET ? ipv4 : ipv6,
      reader.u32(offset, field),
    ]),
  );
}

/**
 * MIBICMPSTATS_EX_XPSP1 (learn.microsoft.com/windows/win32/api/ipmib/ns-ipmib-mibicmpstats_ex_xpsp1): DWORD dwMsgs,
 * DWORD dwErrors, DWORD rgdwTypeCount[256], 1032 bytes. MIB_ICMP_EX_XPSP1, what GetIcmpStatisticsEx fills, is
 * icmpInStats then icmpOutStats ("one ... for incoming ICMP messages, the other ... for outgoing").
 */
const ICMP_STATS_SIZE = MIB_ICMP_EX_SIZE / 2;
const ICMP_TYPES = 256;
const ICMP_TYPE_COUNTS_OFFSET = 8;

/**
 * Decodes one MIB_ICMP_EX_XPSP1 (2064 bytes; a ParseError when shorter) into counters by their Linux name:
 * dwMsgs and dwErrors are RFC 1213's icmpInMsgs/icmpInErrors and icmpOutMsgs/icmpOutErrors (`IcmpInMsgs`,
 * `IcmpOutErrors`, ... for IPv4, `Icmp6InMsgs`, ... for IPv6); rgdwTypeCount[t] counts messages of ICMP type t,
 * Linux's IcmpMsg InType<t>/OutType<t> (`IcmpMsgInType3`) and snmp6 Icmp6InType<t> (`Icmp6OutType135`). As Linux
 * prints them, only types with a count above zero are listed.
 */
export function decodeIcmpStatistics(bytes: Uint8Array, family: AddressFamily): Map<string, number> {
  const reader = new BinaryReader(bytes, 'MIB_ICMP_EX_XPSP1');
  reader.require(0, MIB_ICMP_EX_SIZE, `the ${MIB_ICMP_EX_SIZE}-byte struct`);
  const [prefix, typePrefix] = family === AF_INET ? ['Icmp', 'IcmpMsg'] : ['Icmp6', 'Icmp6'];
  const values = new Map<string, number>();
  for (const [direction, base] of [
    ['In', 0],
    ['Out', ICMP_STATS_SIZE],
  ] as const) {
    values.set(`${prefix}${direction}Msgs`, reader.u32InRange(base));
    values.set(`${prefix}${direction}Errors`, reader.u32InRange(base + 4));
    for (let type = 0; type < ICMP_TYPES; type++) {
      const count = reader.u32InRange(base + ICMP_TYPE_COUNTS_OFFSET + type * 4);
      if (count > 0) values.set(`${typePrefix}${direction}Type${type}`, count);
    }
  }
  return values;
}

const FAMILIES = [
  ['ipv4', AF_INET],
  ['ipv6', AF_INET6],
] as const;

/** The windows_ip_statistics source; `ipHelper` reads the statistics (its own IP Helper by default). */
export function createWindowsIpStatisticsSource(
  ipHelper: Pick<IpHelper, 'readIpStatistics' | 'readIcmpStatistics'> = createIpHelper(),
): Source {
  let sums = newProtocolStatisticSums();
  return {
    name: 'windows_ip_statistics',
    description: 'GetIpStatisticsEx and GetIcmpStatisticsEx (IPv4 and IPv6): IP and ICMP protocol counters',
    platforms: ['windows'],
    metrics: ['ipConnectionStats'],
    async collect(ctx) {
      const readings = new Map<string, StatisticValues>();
      for (const [member, family] of FAMILIES) {
        const values = new Map([
          ...decodeIpStatistics(await ipHelper.readIpStatistics(family), family),
          ...decodeIcmpStatistics(await ipHelper.readIcmpStatistics(family), family),
        ]);
        readings.set(member, selectStatistics(values, ctx.config.statistics, IP_DEFAULT_STATISTICS));
      }
      return {
        ipConnectionStats: [...sums.update(readings)].map(([name, value]) => ({
          labels: { [LABEL.statisticName]: name },
          value,
        })),
      };
    },
    stop() {
      sums = newProtocolStatisticSums();
      return Promise.resolve();
    },
  };
}
