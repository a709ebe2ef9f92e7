/**
 * The kernel counters strategy of the drop source, for nodes where tracefs cannot be used (no privilege, no tracefs):
 * kappie_drop_count from the kernel's drop COUNTERS: interface drops (/proc/net/dev), softnet backlog drops
 * (/proc/net/softnet_stat), IP/UDP/TCP discards (/proc/net/snmp, snmp6, netstat) and conntrack drops
 * (/proc/net/stat/nf_conntrack), mapped to reasons and directions by COUNTER_REASONS below (the README's table).
 * Values are the kernel's totals, summed per (reason, direction): exported verbatim as counters.
 */
import { DIRECTION, LABEL, type Direction } from '../../../catalog';
import { counterOf, type NetDevInterface } from '../../../kernel/net-dev';
import type { SnmpTables } from '../../../kernel/net-snmp';
import type { Snmp6Counters } from '../../../kernel/net-snmp6';
import { readSoftnetStat, type SoftnetCpu } from '../../../kernel/net-softnet-stat';
import { readConntrackStat, type ConntrackStat } from '../../../kernel/nf-conntrack-stat';
import type { Sample } from '../../../source';
import { netDevOnce, netNetstatOnce, netSnmp6Once, netSnmpOnce, type GatheringFiles } from '../procfs-reads';

/** The parsed counters the table picks from; IPv6 and conntrack are undefined where the kernel has no such file. */
export interface CounterInputs {
  /** rx_dropped and tx_dropped of /proc/net/dev summed over every interface, packets. */
  readonly netDev: { rx: number; tx: number };
  /** softnet_stat's dropped column (backlog full) summed over the CPUs, packets. */
  readonly softnetDropped: number;
  readonly snmp: SnmpTables;
  readonly netstat: SnmpTables;
  readonly snmp6: Snmp6Counters | undefined;
  /** nf_conntrack's drop + insert_failed summed over the CPUs. */
  readonly conntrackDropped: number | undefined;
}

/** The kernel layer's parsed files this strategy reads (IPv6 and conntrack undefined where the kernel lacks them). */
export interface ParsedCounterFiles {
  readonly netDev: readonly NetDevInterface[];
  readonly softnet: readonly SoftnetCpu[];
  readonly snmp: SnmpTables;
  readonly netstat: SnmpTables;
  readonly snmp6: Snmp6Counters | undefined;
  readonly conntrack: ConntrackStat | undefined;
}

/** The sum of `value` over `items`, without an array of the values (1000 pod interfaces at every gathering). */
function sumOf<T>(items: readonly T[], value: (item: T) => number): number {
  let total = 0;
  for (let i = 0; i < items.length; i++) total += value(items[i]!);
  return total;
}

/** The sums the table picks from, out of the parsed files (pure). */
export function counterInputs(files: ParsedCounterFiles): CounterInputs {
  return {
    netDev: {
      rx: sumOf(files.netDev, (netdev) => counterOf(netdev, 'rx_dropped')),
      tx: sumOf(files.netDev, (netdev) => counterOf(netdev, 'tx_dropped')),
    },
    softnetDropped: sumOf(files.softnet, (cpu) => cpu.dropped),
    snmp: files.snmp,
    netstat: files.netstat,
    snmp6: files.snmp6,
    conntrackDropped:
      files.conntrack === undefined
        ? undefined
        : sumOf(files.conntrack.cpus, (cpu) => (cpu['drop'] ?? 0) + (cpu['insert_failed'] ?? 0)),
  };
}

/** One counter of the inputs, undefined when this kernel lacks it. */
type Pick = (inputs: CounterInputs) => number | undefined;
const snmp =
  (proto: string, name: string): Pick =>
  (i) =>
    i.snmp.get(proto)?.get(name);
const netstat =
  (proto: string, name: string): Pick =>
  (i) =>
    i.netstat.get(proto)?.get(name);
const snmp6 =
  (name: string): Pick =>
  (i) =>
    i.snmp6?.get(name);

/** A row of the documented table: the reason and direction the counters `picks` are summed into, and where from. */
export interface CounterReason {
  readonly reason: string;
  readonly direction: Direction;
  readonly from: string;
  readonly picks: readonly Pick[];
}

const row = (reason: string, direction: Direction, from: string, ...picks: Pick[]): CounterReason => ({
  reason,
  direction,
  from,
  picks,
});
const { ingress, egress, unknown } = DIRECTION;

/** The documented table (README, "Drops by reason"): reason, direction, and the counters summed into it. */
export const COUNTER_REASONS: readonly CounterReason[] = [
  row('NETDEV_RX_DROP', ingress, '/proc/net/dev rx drop (all interfaces)', (i) => i.netDev.rx),
  row('NETDEV_TX_DROP', egress, '/proc/net/dev tx drop (all interfaces)', (i) => i.netDev.tx),
  row('CPU_BACKLOG', ingress, 'softnet_stat dropped', (i) => i.softnetDropped),
  row('IP_INHDR', ingress, 'Ip InHdrErrors, Ip6InHdrErrors', snmp('Ip', 'InHdrErrors'), snmp6('Ip6InHdrErrors')),
  row(
    'IP_INADDRERRORS',
    ingress,
    'Ip InAddrErrors, Ip6InAddrErrors',
    snmp('Ip', 'InAddrErrors'),
    snmp6('Ip6InAddrErrors'),
  ),
  row(
    'IP_NOPROTO',
    ingress,
    'Ip InUnknownProtos, Ip6InUnknownProtos',
    snmp('Ip', 'InUnknownProtos'),
    snmp6('Ip6InUnknownProtos'),
  ),
  // IPv4's input no-route counter lives in /proc/net/netstat (IpExt), not beside InAddrErrors in /proc/net/snmp: a
  // received packet with no route while forwarding (ip_error on ENETUNREACH, then freed).
  row(
    'IP_INNOROUTES',
    ingress,
    'IpExt InNoRoutes, Ip6InNoRoutes',
    netstat('IpExt', 'InNoRoutes'),
    snmp6('Ip6InNoRoutes'),
  ),
  row('IP_INDISCARDS', ingress, 'Ip InDiscards, Ip6InDiscards', snmp('Ip', 'InDiscards'), snmp6('Ip6InDiscards')),
  row('IP_CSUM', ingress, 'IpExt InCsumErrors', netstat('IpExt', 'InCsumErrors')),
  row('IP_OUTDISCARDS', egress, 'Ip OutDiscards, Ip6OutDiscards', snmp('Ip', 'OutDiscards'), snmp6('Ip6OutDiscards')),
  row('IP_OUTNOROUTES', egress, 'Ip OutNoRoutes, Ip6OutNoRoutes', snmp('Ip', 'OutNoRoutes'), snmp6('Ip6OutNoRoutes')),
  row('NO_SOCKET', ingress, 'Udp NoPorts, Udp6NoPorts', snmp('Udp', 'NoPorts'), snmp6('Udp6NoPorts')),
  row(
    'SOCKET_RCVBUFF',
    ingress,
    'Udp RcvbufErrors, Udp6RcvbufErrors',
    snmp('Udp', 'RcvbufErrors'),
    snmp6('Udp6RcvbufErrors'),
  ),
  row(
    'UDP_CSUM',
    ingress,
    'Udp InCsumErrors, Udp6InCsumErrors',
    snmp('Udp', 'InCsumErrors'),
    snmp6('Udp6InCsumErrors'),
  ),
  row('TCP_CSUM', ingress, 'Tcp InCsumErrors', snmp('Tcp', 'InCsumErrors')),
  row('TCP_LISTEN_OVERFLOW', ingress, 'TcpExt ListenDrops', netstat('TcpExt', 'ListenDrops')),
  row('SOCKET_BACKLOG', ingress, 'TcpExt TCPBacklogDrop', netstat('TcpExt', 'TCPBacklogDrop')),
  row('PROTO_MEM', ingress, 'TcpExt TCPRcvQDrop', netstat('TcpExt', 'TCPRcvQDrop')),
  row('TCP_ZEROWINDOW', ingress, 'TcpExt TCPZeroWindowDrop', netstat('TcpExt', 'TCPZeroWindowDrop')),
  row('TCP_MINTTL', ingress, 'TcpExt TCPMinTTLDrop', netstat('TcpExt', 'TCPMinTTLDrop')),
  row('PFMEMALLOC', ingress, 'TcpExt PFMemallocDrop', netstat('TcpExt', 'PFMemallocDrop')),
  row('CONNTRACK_DROP', unknown, 'nf_conntrack stat drop + insert_failed', (i) => i.conntrackDropped),
];

/** One series per table row whose counters exist on this kernel (pure). */
export function counterDropSamples(inputs: CounterInputs): { reason: string; direction: Direction; value: number }[] {
  const rows: { reason: string; direction: Direction; value: number }[] = [];
  // Indexed loops, no intermediate arrays: stream mode's instance guard runs this at every gathering.
  for (let r = 0; r < COUNTER_REASONS.length; r++) {
    const row = COUNTER_REASONS[r]!;
    let value: number | undefined;
    for (let p = 0; p < row.picks.length; p++) {
      const picked = row.picks[p]!(inputs);
      if (picked !== undefined) value = (value ?? 0) + picked;
    }
    if (value !== undefined) rows.push({ reason: row.reason, direction: row.direction, value });
  }
  return rows;
}

/**
 * Reads the counter files under --proc-path, the ones other sources read too (net/dev, snmp, netstat, snmp6) once per
 * gathering (procfs-reads.ts). Throws read and parse errors (a required file missing or garbled).
 */
export function readCounterInputs(ctx: GatheringFiles): CounterInputs {
  return counterInputs({
    netDev: netDevOnce(ctx),
    softnet: readSoftnetStat(ctx.fs),
    snmp: netSnmpOnce(ctx),
    netstat: netNetstatOnce(ctx),
    snmp6: netSnmp6Once(ctx),
    conntrack: readConntrackStat(ctx.fs),
  });
}

/** kappie_drop_count from the kernel counters of the host, now. */
export function collectCounterDrops(ctx: GatheringFiles): Sample<'dropCount'>[] {
  return counterDropSamples(readCounterInputs(ctx)).map((row) => ({
    labels: { [LABEL.reason]: row.reason, [LABEL.direction]: row.direction },
    value: row.value,
  }));
}
