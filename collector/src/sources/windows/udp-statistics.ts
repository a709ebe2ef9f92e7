/**
 * UDP protocol counters on Windows: GetUdpStatisticsEx2 (MIB_UDPSTATS2, Windows 10 1709 / Server 2016 and later)
 * where present, else GetUdpStatisticsEx (MIB_UDPSTATS), for IPv4 and IPv6. Fills kappie_udp_connection_stats under
 * the names Linux gives the same counters (RFC 4113's udpInDatagrams, udpNoPorts, udpInErrors, udpOutDatagrams):
 * `InDatagrams`, `NoPorts`, `InErrors`, `OutDatagrams` for IPv4 (Linux's /proc/net/snmp Udp line) and
 * `Udp6InDatagrams`, ... for IPv6 (Linux's /proc/net/snmp6). dwInErrors "does not include the value contained by
 * the dwNoPorts member", as RFC 4113 defines udpInErrors ("for reasons other than the lack of an application at the
 * destination port").
 *
 * Left out: see UDP_FIELDS_LEFT_OUT. Linux's RcvbufErrors, SndbufErrors, InCsumErrors and MemErrors have no Windows
 * field.
 */
import { LABEL } from '../../catalog';
import type { Source } from '../../source';
import { UDP_DEFAULT_STATISTICS } from '../linux/snmp-statistics';
import { BinaryReader } from './binary-reader';
import {
  AF_INET,
  AF_INET6,
  createIpHelper,
  MIB_UDPSTATS2_SIZE,
  MIB_UDPSTATS_SIZE,
  type AddressFamily,
  type IpHelper,
  type UdpStatisticsBytes,
} from './iphlpapi';
import { newProtocolStatisticSums, selectStatistics, type StatisticValues } from './protocol-statistics';

export const UDP_STATISTIC_NAMES = ['InDatagrams', 'NoPorts', 'InErrors', 'OutDatagrams'] as const;

/** The MIB_UDPSTATS / MIB_UDPSTATS2 fields not exported, and why (README, generated). */
export const UDP_FIELDS_LEFT_OUT: Readonly<Record<string, string>> = {
  dwNumAddrs:
    'the number of entries in the UDP listener table (a gauge; the table itself is kappie_udp_active_sockets)',
};
export type UdpStatisticName = (typeof UDP_STATISTIC_NAMES)[number];

interface Field {
  readonly offset: number;
  readonly bits: 32 | 64;
}

/**
 * Field offsets on x64, from the declarations in udpmib.h (learn.microsoft.com/windows/win32/api/udpmib/
 * ns-udpmib-mib_udpstats and ns-udpmib-mib_udpstats2). MIB_UDPSTATS is 5 DWORDs. MIB_UDPSTATS2
 * is DWORD64 dw64InDatagrams, DWORD dwNoPorts, DWORD dwInErrors, DWORD64 dw64OutDatagrams, DWORD dwNumAddrs: the
 * second DWORD64 falls on an 8-byte boundary with no padding, and the struct is padded to 32 bytes. The MIB_UDPSTATS2
 * offsets are computed from the declaration and natural alignment, not observed on Windows.
 */
export const UDP_STATS_LAYOUTS: Readonly<
  Record<UdpStatisticsBytes['layout'], { size: number; fields: Readonly<Record<UdpStatisticName, Field>> }>
> = {
  MIB_UDPSTATS: {
    size: MIB_UDPSTATS_SIZE,
    fields: {
      InDatagrams: { offset: 0, bits: 32 },
      NoPorts: { offset: 4, bits: 32 },
      InErrors: { offset: 8, bits: 32 },
      OutDatagrams: { offset: 12, bits: 32 },
    },
  },
  MIB_UDPSTATS2: {
    size: MIB_UDPSTATS2_SIZE,
    fields: {
      InDatagrams: { offset: 0, bits: 64 },
      NoPorts: { offset: 8, bits: 32 },
      InErrors: { offset: 12, bits: 32 },
      OutDatagrams: { offset: 16, bits: 64 },
    },
  },
};

/**
 * Decodes one MIB_UDPSTATS2 or MIB_UDPSTATS buffer (a ParseError when shorter than the struct) into counters by
 * their Linux name for `family`: bare for IPv4, `Udp6` in front for IPv6.
 */
export function decodeUdpStatistics(input: UdpStatisticsBytes, family: AddressFamily): Map<string, number> {
  const layout = UDP_STATS_LAYOUTS[input.layout];
  const reader = new BinaryReader(input.bytes, input.layout);
  reader.require(0, layout.size, `the ${layout.size}-byte struct`);
  const prefix = family === AF_INET ? '' : 'Udp6';
  return new Map(
    UDP_STATISTIC_NAMES.map((name) => {
      const { offset, bits } = layout.fields[name];
      return [`${prefix}${name}`, bits === 64 ? reader.u64(offset, name) : reader.u32(offset, name)];
    }),
  );
}

const FAMILIES = [
  ['ipv4', AF_INET],
  ['ipv6', AF_INET6],
] as const;

/** The windows_udp_statistics source; `ipHelper` reads the statistics (its own IP Helper by default). */
export function createWindowsUdpStatisticsSource(
  ipHelper: Pick<IpHelper, 'readUdpStatistics'> = createIpHelper(),
): Source {
  let sums = newProtocolStatisticSums();
  return {
    name: 'windows_udp_statistics',
    description: 'GetUdpStatisticsEx2 (else GetUdpStatisticsEx), IPv4 and IPv6: UDP protocol counters',
    platforms: ['windows'],
    metrics: ['udpConnectionStats'],
    async collect(ctx) {
      const readings = new Map<string, StatisticValues>();
      for (const [member, family] of FAMILIES) {
        const values = decodeUdpStatistics(await ipHelper.readUdpStatistics(family), family);
        readings.set(member, selectStatistics(values, ctx.config.statistics, UDP_DEFAULT_STATISTICS));
      }
      return {
        udpConnectionStats: [...sums.update(readings)].map(([name, value]) => ({
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
