/**
 * /proc/net/snmp, /proc/net/netstat and /proc/net/snmp6: the kernel's protocol counters (three small files, O(1) in
 * sockets and interfaces). Fills kappie_tcp_connection_stats, kappie_ip_connection_stats and
 * kappie_udp_connection_stats{statistic_name}; which field goes where, and the default set, are in
 * snmp-statistics.ts.
 */
import { LABEL, type MetricKey } from '../../catalog';
import type { StatisticsSet } from '../../config';
import { ParseError } from '../../errors';
import type { Sample, Samples, Source } from '../../source';
import { parseCount, procfsLines } from './procfs-text';
import {
  DEFAULT_STATISTICS,
  GAUGE_FIELDS,
  SNMP6_PREFIX_FAMILY,
  TABLE_LINE_PLACEMENT,
  type ProtocolFamily,
} from './snmp-statistics';

/** Per line name (`Tcp`, `TcpExt`, ...), its fields in file order with their values. */
export type SnmpTables = Map<string, Map<string, number>>;

/** A value of /proc/net/snmp: counters are unsigned, but Tcp MaxConn is printed as -1. */
function parseSignedValue(word: string | undefined, file: string, what: string, lineNumber: number): number {
  if (word !== undefined && word.startsWith('-')) return -parseCount(word.slice(1), file, what, lineNumber);
  return parseCount(word, file, what, lineNumber);
}

/**
 * Parses /proc/net/snmp or /proc/net/netstat: pairs of lines `Name: field field ...` then `Name: value value ...`.
 * A pair whose names differ, or whose counts of fields and values differ, is an error: the values could not be
 * matched to their names.
 */
export function parseSnmpTables(text: string, file: string): SnmpTables {
  const lines = procfsLines(text, file);
  const tables: SnmpTables = new Map();
  const split = (line: string, lineNumber: number) => {
    const match = /^([A-Za-z0-9]+):((?: \S+)*)$/.exec(line);
    if (!match) {
      throw new ParseError(file, `expected "Name: words ...", got ${JSON.stringify(line.slice(0, 80))}`, lineNumber);
    }
    return { name: match[1]!, words: match[2]!.split(' ').slice(1) };
  };
  for (let index = 0; index < lines.length; index += 2) {
    const header = split(lines[index]!, index + 1);
    if (index + 1 >= lines.length) {
      throw new ParseError(file, `${header.name}: header line without its value line`, index + 1);
    }
    const values = split(lines[index + 1]!, index + 2);
    if (values.name !== header.name) {
      throw new ParseError(file, `header ${header.name} is followed by values of ${values.name}`, index + 2);
    }
    if (values.words.length !== header.words.length) {
      throw new ParseError(
        file,
        `${header.name}: ${header.words.length} field names but ${values.words.length} values`,
        index + 2,
      );
    }
    if (tables.has(header.name)) throw new ParseError(file, `${header.name} appears twice`, index + 1);
    const fields = new Map<string, number>();
    header.words.forEach((field, column) => {
      if (!/^[A-Za-z0-9_]+$/.test(field)) {
        throw new ParseError(file, `${header.name}: ${JSON.stringify(field)} is not a field name`, index + 1);
      }
      if (fields.has(field)) throw new ParseError(file, `${header.name} ${field} appears twice`, index + 1);
      fields.set(field, parseSignedValue(values.words[column], file, `${header.name} ${field}`, index + 2));
    });
    tables.set(header.name, fields);
  }
  return tables;
}

/** Parses /proc/net/snmp6: one `Name value` per line (the kernel pads with spaces and a tab). */
export function parseSnmp6(text: string, file = 'net/snmp6'): Map<string, number> {
  const fields = new Map<string, number>();
  procfsLines(text, file).forEach((line, index) => {
    const match = /^([A-Za-z0-9_]+)\s+(\S+)$/.exec(line);
    if (!match) {
      throw new ParseError(file, `expected "Name value", got ${JSON.stringify(line.slice(0, 80))}`, index + 1);
    }
    if (fields.has(match[1]!)) throw new ParseError(file, `${match[1]} appears twice`, index + 1);
    fields.set(match[1]!, parseCount(match[2], file, match[1]!, index + 1));
  });
  return fields;
}

export type ProtocolStatistics = Record<ProtocolFamily, Map<string, number>>;

/**
 * Sorts the counters of the three files into the families, named and filtered as snmp-statistics.ts says: gauge
 * fields left out, lines of no family left out, and with `default` only the default set.
 */
export function protocolStatistics(
  snmp: SnmpTables,
  netstat: SnmpTables,
  snmp6: ReadonlyMap<string, number> | undefined,
  set: StatisticsSet,
): ProtocolStatistics {
  const result: ProtocolStatistics = { tcp: new Map(), ip: new Map(), udp: new Map() };
  const wanted = {
    tcp: new Set(DEFAULT_STATISTICS.tcp),
    ip: new Set(DEFAULT_STATISTICS.ip),
    udp: new Set(DEFAULT_STATISTICS.udp),
  };
  const put = (family: ProtocolFamily, name: string, value: number, file: string) => {
    if (set === 'default' && !wanted[family].has(name)) return;
    if (result[family].has(name)) {
      throw new ParseError(file, `${name} would be exported twice in the ${family} family (kernel added a clash)`);
    }
    if (value < 0) throw new ParseError(file, `${name}: counter is negative (${value})`);
    result[family].set(name, value);
  };
  for (const [tables, file] of [
    [snmp, 'net/snmp'],
    [netstat, 'net/netstat'],
  ] as const) {
    for (const [line, fields] of tables) {
      const placement = TABLE_LINE_PLACEMENT[line];
      if (!placement) continue;
      const gauges = GAUGE_FIELDS[line] ?? [];
      for (const [field, value] of fields) {
        if (!gauges.includes(field)) put(placement.family, placement.prefix + field, value, file);
      }
    }
  }
  for (const [name, value] of snmp6 ?? []) {
    const family = SNMP6_PREFIX_FAMILY.find(([prefix]) => name.startsWith(prefix))?.[1];
    if (family) put(family, name, value, 'net/snmp6');
  }
  return result;
}

const FAMILY_METRIC = {
  tcp: 'tcpConnectionStats',
  ip: 'ipConnectionStats',
  udp: 'udpConnectionStats',
} as const satisfies Record<ProtocolFamily, MetricKey>;

export function protocolSamples(statistics: ProtocolStatistics): Samples {
  const samples: Samples = {};
  for (const family of ['tcp', 'ip', 'udp'] as const) {
    const list: Sample<(typeof FAMILY_METRIC)[typeof family]>[] = [];
    for (const [name, value] of statistics[family]) list.push({ labels: { [LABEL.statisticName]: name }, value });
    samples[FAMILY_METRIC[family]] = list;
  }
  return samples;
}

/** The snmp source (stateless: the kernel keeps the totals). */
export function createSnmpSource(): Source {
  return {
    name: 'snmp',
    description: '/proc/net/snmp, netstat, snmp6: TCP, IP and UDP protocol counters',
    platforms: ['linux'],
    metrics: ['tcpConnectionStats', 'ipConnectionStats', 'udpConnectionStats'],
    collect(ctx) {
      const snmp = parseSnmpTables(ctx.fs.readProc('net/snmp'), 'net/snmp');
      const netstat = parseSnmpTables(ctx.fs.readProc('net/netstat'), 'net/netstat');
      // Absent when the kernel runs without IPv6.
      const snmp6Text = ctx.fs.readProcIfExists('net/snmp6');
      const snmp6 = snmp6Text === undefined ? undefined : parseSnmp6(snmp6Text, 'net/snmp6');
      return protocolSamples(protocolStatistics(snmp, netstat, snmp6, ctx.config.statistics));
    },
  };
}
