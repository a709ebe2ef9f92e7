/**
 * kappie_drop_count from the kernel's drop COUNTERS, for nodes where tracefs cannot be used (no privilege, no
 * tracefs): interface drops (/proc/net/dev), softnet backlog drops (/proc/net/softnet_stat), IP/UDP/TCP discards
 * (/proc/net/snmp, snmp6, netstat) and conntrack drops (/proc/net/stat/nf_conntrack), mapped to reasons and
 * directions by COUNTER_REASONS below (the README's table).
 *
 * Arbitration, so no drop is counted twice: this source fills kappie_drop_count ONLY while the tracefs source
 * (drop_reasons) is not counting drops, decided at every gathering from that source's state (it runs first in
 * SOURCES). Both sources are up together only as "tracefs counting, counters idle" (the status page says so).
 * Values are the kernel's totals, summed per (reason, direction): exported verbatim as counters.
 */
import { DIRECTION, LABEL, type Direction } from '../../catalog';
import { ParseError } from '../../errors';
import type { Source } from '../../source';
import { parseCount, procfsLines } from './procfs-text';
import { tracefsDropsActive } from './drop-reasons';

/** `/proc/net/dev`: rx and tx `drop` columns summed over every interface. */
export function parseNetDevDrops(text: string, file = 'net/dev'): { rx: number; tx: number } {
  const lines = procfsLines(text, file);
  if (lines.length < 2 || !lines[1]!.includes('|')) throw new ParseError(file, 'missing the two header lines');
  let rx = 0;
  let tx = 0;
  lines.slice(2).forEach((line, index) => {
    const colon = line.indexOf(':');
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (colon < 0 || fields.length < 16) {
      throw new ParseError(file, `expected "IFACE: 16 counters", got ${JSON.stringify(line.slice(0, 60))}`, index + 3);
    }
    rx += parseCount(fields[3], file, 'rx drop', index + 3);
    tx += parseCount(fields[11], file, 'tx drop', index + 3);
  });
  return { rx, tx };
}

function parseHex(word: string | undefined, file: string, what: string, line: number): number {
  if (word === undefined || !/^[0-9a-f]{1,13}$/.test(word)) {
    throw new ParseError(file, `${what}: expected a hex counter, got ${JSON.stringify(word ?? '')}`, line);
  }
  return Number.parseInt(word, 16);
}

/** `/proc/net/softnet_stat`: one line per CPU in hex, the 2nd column counts packets dropped (backlog full). */
export function parseSoftnetDrops(text: string, file = 'net/softnet_stat'): number {
  let dropped = 0;
  procfsLines(text, file).forEach((line, index) => {
    const fields = line.trim().split(/\s+/);
    dropped += parseHex(fields[1], file, 'dropped', index + 1);
  });
  return dropped;
}

/** `/proc/net/snmp` and `/proc/net/netstat`: pairs of `Proto: names...` / `Proto: values...` lines. */
export function parseSnmpPairs(text: string, file = 'net/snmp'): Record<string, Record<string, number>> {
  const lines = procfsLines(text, file);
  if (lines.length % 2 !== 0) throw new ParseError(file, 'odd number of lines: header and value lines must pair');
  const tables: Record<string, Record<string, number>> = {};
  for (let i = 0; i < lines.length; i += 2) {
    const names = lines[i]!.split(/\s+/).filter((w) => w !== '');
    const values = lines[i + 1]!.split(/\s+/).filter((w) => w !== '');
    const proto = names[0];
    if (!proto?.endsWith(':') || values[0] !== proto || names.length !== values.length) {
      throw new ParseError(file, `header and values of ${JSON.stringify(proto ?? '')} do not match`, i + 2);
    }
    const table: Record<string, number> = {};
    for (let k = 1; k < names.length; k += 1) {
      // Signed fields (Tcp MaxConn is -1) are not counters: skip them rather than invent a number.
      if (values[k]!.startsWith('-')) continue;
      table[names[k]!] = parseCount(values[k], file, `${proto} ${names[k]}`, i + 2);
    }
    tables[proto.slice(0, -1)] = table;
  }
  return tables;
}

/** `/proc/net/snmp6`: `Name value` lines. */
export function parseSnmp6(text: string, file = 'net/snmp6'): Record<string, number> {
  const values: Record<string, number> = {};
  procfsLines(text, file).forEach((line, index) => {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 2)
      throw new ParseError(file, `expected "Name value", got ${JSON.stringify(line)}`, index + 1);
    values[fields[0]!] = parseCount(fields[1], file, fields[0]!, index + 1);
  });
  return values;
}

/** `/proc/net/stat/nf_conntrack`: a header, then one hex line per CPU; drops are `drop` and `insert_failed`. */
export function parseConntrackDrops(text: string, file = 'net/stat/nf_conntrack'): number {
  const lines = procfsLines(text, file);
  const header = lines[0]?.trim().split(/\s+/) ?? [];
  const columns = ['drop', 'insert_failed'].map((name) => header.indexOf(name));
  if (columns.some((column) => column < 0)) throw new ParseError(file, 'header lacks drop or insert_failed', 1);
  let dropped = 0;
  lines.slice(1).forEach((line, index) => {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== header.length) throw new ParseError(file, 'row and header differ in length', index + 2);
    for (const column of columns) dropped += parseHex(fields[column], file, header[column]!, index + 2);
  });
  return dropped;
}

export interface CounterInputs {
  readonly netDev: { rx: number; tx: number };
  readonly softnetDropped: number;
  readonly snmp: Record<string, Record<string, number>>;
  readonly netstat: Record<string, Record<string, number>>;
  readonly snmp6: Record<string, number> | undefined;
  readonly conntrackDropped: number | undefined;
}

type Pick = (inputs: CounterInputs) => number | undefined;
const snmp =
  (proto: string, name: string): Pick =>
  (i) =>
    i.snmp[proto]?.[name];
const netstat =
  (proto: string, name: string): Pick =>
  (i) =>
    i.netstat[proto]?.[name];
const snmp6 =
  (name: string): Pick =>
  (i) =>
    i.snmp6?.[name];

/** The documented table: reason, direction, and the counters summed into it. */
export const COUNTER_REASONS: ReadonlyArray<{
  readonly reason: string;
  readonly direction: Direction;
  readonly from: string;
  readonly picks: readonly Pick[];
}> = [
  {
    reason: 'NETDEV_RX_DROP',
    direction: DIRECTION.ingress,
    from: '/proc/net/dev rx drop (all interfaces)',
    picks: [(i) => i.netDev.rx],
  },
  {
    reason: 'NETDEV_TX_DROP',
    direction: DIRECTION.egress,
    from: '/proc/net/dev tx drop (all interfaces)',
    picks: [(i) => i.netDev.tx],
  },
  {
    reason: 'CPU_BACKLOG',
    direction: DIRECTION.ingress,
    from: 'softnet_stat dropped',
    picks: [(i) => i.softnetDropped],
  },
  {
    reason: 'IP_INHDR',
    direction: DIRECTION.ingress,
    from: 'Ip InHdrErrors, Ip6InHdrErrors',
    picks: [snmp('Ip', 'InHdrErrors'), snmp6('Ip6InHdrErrors')],
  },
  {
    reason: 'IP_INADDRERRORS',
    direction: DIRECTION.ingress,
    from: 'Ip InAddrErrors, Ip6InAddrErrors',
    picks: [snmp('Ip', 'InAddrErrors'), snmp6('Ip6InAddrErrors')],
  },
  {
    reason: 'IP_NOPROTO',
    direction: DIRECTION.ingress,
    from: 'Ip InUnknownProtos, Ip6InUnknownProtos',
    picks: [snmp('Ip', 'InUnknownProtos'), snmp6('Ip6InUnknownProtos')],
  },
  { reason: 'IP_INNOROUTES', direction: DIRECTION.ingress, from: 'Ip6InNoRoutes', picks: [snmp6('Ip6InNoRoutes')] },
  {
    reason: 'IP_INDISCARDS',
    direction: DIRECTION.ingress,
    from: 'Ip InDiscards, Ip6InDiscards',
    picks: [snmp('Ip', 'InDiscards'), snmp6('Ip6InDiscards')],
  },
  {
    reason: 'IP_CSUM',
    direction: DIRECTION.ingress,
    from: 'IpExt InCsumErrors',
    picks: [netstat('IpExt', 'InCsumErrors')],
  },
  {
    reason: 'IP_OUTDISCARDS',
    direction: DIRECTION.egress,
    from: 'Ip OutDiscards, Ip6OutDiscards',
    picks: [snmp('Ip', 'OutDiscards'), snmp6('Ip6OutDiscards')],
  },
  {
    reason: 'IP_OUTNOROUTES',
    direction: DIRECTION.egress,
    from: 'Ip OutNoRoutes, Ip6OutNoRoutes',
    picks: [snmp('Ip', 'OutNoRoutes'), snmp6('Ip6OutNoRoutes')],
  },
  {
    reason: 'NO_SOCKET',
    direction: DIRECTION.ingress,
    from: 'Udp NoPorts, Udp6NoPorts',
    picks: [snmp('Udp', 'NoPorts'), snmp6('Udp6NoPorts')],
  },
  {
    reason: 'SOCKET_RCVBUFF',
    direction: DIRECTION.ingress,
    from: 'Udp RcvbufErrors, Udp6RcvbufErrors',
    picks: [snmp('Udp', 'RcvbufErrors'), snmp6('Udp6RcvbufErrors')],
  },
  {
    reason: 'UDP_CSUM',
    direction: DIRECTION.ingress,
    from: 'Udp InCsumErrors, Udp6InCsumErrors',
    picks: [snmp('Udp', 'InCsumErrors'), snmp6('Udp6InCsumErrors')],
  },
  { reason: 'TCP_CSUM', direction: DIRECTION.ingress, from: 'Tcp InCsumErrors', picks: [snmp('Tcp', 'InCsumErrors')] },
  {
    reason: 'TCP_LISTEN_OVERFLOW',
    direction: DIRECTION.ingress,
    from: 'TcpExt ListenDrops',
    picks: [netstat('TcpExt', 'ListenDrops')],
  },
  {
    reason: 'SOCKET_BACKLOG',
    direction: DIRECTION.ingress,
    from: 'TcpExt TCPBacklogDrop',
    picks: [netstat('TcpExt', 'TCPBacklogDrop')],
  },
  {
    reason: 'PROTO_MEM',
    direction: DIRECTION.ingress,
    from: 'TcpExt TCPRcvQDrop',
    picks: [netstat('TcpExt', 'TCPRcvQDrop')],
  },
  {
    reason: 'TCP_ZEROWINDOW',
    direction: DIRECTION.ingress,
    from: 'TcpExt TCPZeroWindowDrop',
    picks: [netstat('TcpExt', 'TCPZeroWindowDrop')],
  },
  {
    reason: 'TCP_MINTTL',
    direction: DIRECTION.ingress,
    from: 'TcpExt TCPMinTTLDrop',
    picks: [netstat('TcpExt', 'TCPMinTTLDrop')],
  },
  {
    reason: 'PFMEMALLOC',
    direction: DIRECTION.ingress,
    from: 'TcpExt PFMemallocDrop',
    picks: [netstat('TcpExt', 'PFMemallocDrop')],
  },
  {
    reason: 'CONNTRACK_DROP',
    direction: DIRECTION.unknown,
    from: 'nf_conntrack stat drop + insert_failed',
    picks: [(i) => i.conntrackDropped],
  },
];

/** One series per table row whose counters exist on this kernel. */
export function counterDropSamples(inputs: CounterInputs): { reason: string; direction: Direction; value: number }[] {
  const rows: { reason: string; direction: Direction; value: number }[] = [];
  for (const row of COUNTER_REASONS) {
    const values = row.picks.map((pick) => pick(inputs)).filter((v): v is number => v !== undefined);
    if (values.length === 0) continue;
    rows.push({ reason: row.reason, direction: row.direction, value: values.reduce((a, b) => a + b, 0) });
  }
  return rows;
}

export const dropCountersSource: Source = {
  name: 'drop_counters',
  description:
    'kernel drop counters (net/dev, softnet_stat, snmp, netstat, nf_conntrack): drops when tracefs is unusable',
  platforms: ['linux'],
  metrics: ['dropCount'],
  collect(ctx) {
    if (tracefsDropsActive()) return {};
    const conntrack = ctx.fs.readProcIfExists('net/stat/nf_conntrack');
    const snmp6Text = ctx.fs.readProcIfExists('net/snmp6');
    const inputs: CounterInputs = {
      netDev: parseNetDevDrops(ctx.fs.readProc('net/dev'), 'net/dev'),
      softnetDropped: parseSoftnetDrops(ctx.fs.readProc('net/softnet_stat'), 'net/softnet_stat'),
      snmp: parseSnmpPairs(ctx.fs.readProc('net/snmp'), 'net/snmp'),
      netstat: parseSnmpPairs(ctx.fs.readProc('net/netstat'), 'net/netstat'),
      snmp6: snmp6Text === undefined ? undefined : parseSnmp6(snmp6Text, 'net/snmp6'),
      conntrackDropped: conntrack === undefined ? undefined : parseConntrackDrops(conntrack, 'net/stat/nf_conntrack'),
    };
    return {
      dropCount: counterDropSamples(inputs).map((row) => ({
        labels: { [LABEL.reason]: row.reason, [LABEL.direction]: row.direction },
        value: row.value,
      })),
    };
  },
  note: () => (tracefsDropsActive() ? 'idle: drop_reasons (tracefs) is counting drops' : undefined),
};
