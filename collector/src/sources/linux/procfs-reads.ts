/**
 * The procfs files that several Linux sources read in the same gathering, each read and parsed once per gathering
 * through readOnce (source.ts), keyed by its file name:
 *  - /proc/net/dev: netdev, forward, tcp_flags, the drop counters;
 *  - /proc/net/snmp, netstat, snmp6: the snmp source, the drop counters, the drops source's instance guard (which
 *    sums the drop counters at every gathering of stream mode) and its untraced drops;
 *  - /proc/net/sockstat and sockstat6: the sockstat source and tcp_sockets (its socket count estimate);
 *  - /proc/net/route and ipv6_route, as the interfaces holding a default route: every source that follows the
 *    uplinks (uplinks.ts: netdev, forward, ethtool, tcp_flags), so they also agree within a gathering.
 * Without this, a stream-mode gathering parsed each of the three snmp files three times (~0.5 ms and ~0.3 MB of
 * garbage per copy at 1k sockets, bench/RESULTS.md). The values are shared by every caller of the gathering: read
 * them, never change them. A read or parse error reaches every caller of the gathering alike.
 */
import { NET_DEV_FILE, readNetDev, type NetDevInterface } from '../../kernel/net-dev';
import {
  NET_NETSTAT_FILE,
  NET_SNMP_FILE,
  readNetNetstat,
  readNetSnmp,
  type SnmpHeaders,
  type SnmpTables,
} from '../../kernel/net-snmp';
import { createSnmp6Names, NET_SNMP6_FILE, readNetSnmp6, type Snmp6Counters } from '../../kernel/net-snmp6';
import { readSockstat, type SockstatFiles } from '../../kernel/net-sockstat';
import {
  defaultRouteInterfaces,
  IPV4_ROUTE_FILE,
  IPV6_ROUTE_FILE,
  readIpv4Routes,
  readIpv6Routes,
} from '../../kernel/net-route';
import { keptAcrossGatherings, readOnce, type SourceContext } from '../../source';

/** What reading once per gathering needs: the host's files, and the gathering's shared reads (absent: no sharing). */
export type GatheringFiles = Pick<SourceContext, 'fs' | 'shared'>;

/** /proc/net/dev of this gathering (kernel/net-dev.ts: every interface's 16 counters). */
export function netDevOnce(ctx: GatheringFiles): readonly NetDevInterface[] {
  return readOnce(ctx, NET_DEV_FILE, () => readNetDev(ctx.fs));
}

/** /proc/net/snmp of this gathering (kernel/net-snmp.ts). */
export function netSnmpOnce(ctx: GatheringFiles): SnmpTables {
  return readOnce(ctx, NET_SNMP_FILE, () => readNetSnmp(ctx.fs, snmpHeaders(ctx, NET_SNMP_FILE)));
}

/** /proc/net/netstat of this gathering (kernel/net-snmp.ts). */
export function netNetstatOnce(ctx: GatheringFiles): SnmpTables {
  return readOnce(ctx, NET_NETSTAT_FILE, () => readNetNetstat(ctx.fs, snmpHeaders(ctx, NET_NETSTAT_FILE)));
}

/** The header lines of `file` parsed at earlier gatherings (kernel/net-snmp.ts, SnmpHeaders). */
function snmpHeaders(ctx: GatheringFiles, file: string): SnmpHeaders {
  return keptAcrossGatherings(ctx, `${file} headers`, (): SnmpHeaders => new Map());
}

/** /proc/net/snmp6 of this gathering (kernel/net-snmp6.ts), undefined on a kernel without IPv6. */
export function netSnmp6Once(ctx: GatheringFiles): Snmp6Counters | undefined {
  return readOnce(ctx, NET_SNMP6_FILE, () =>
    readNetSnmp6(ctx.fs, keptAcrossGatherings(ctx, `${NET_SNMP6_FILE} names`, createSnmp6Names)),
  );
}

/** /proc/net/sockstat and sockstat6 of this gathering (kernel/net-sockstat.ts). */
export function sockstatOnce(ctx: GatheringFiles): SockstatFiles {
  return readOnce(ctx, 'net/sockstat net/sockstat6', () => readSockstat(ctx.fs));
}

/** The interfaces holding an IPv4 or IPv6 default route of the main table in this gathering (kernel/net-route.ts). */
export function defaultRouteHoldersOnce(ctx: GatheringFiles): readonly string[] {
  return readOnce(ctx, `${IPV4_ROUTE_FILE} ${IPV6_ROUTE_FILE}`, () =>
    defaultRouteInterfaces(readIpv4Routes(ctx.fs), readIpv6Routes(ctx.fs)),
  );
}
