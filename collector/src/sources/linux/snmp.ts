/**
 * kappie_tcp_connection_stats, kappie_ip_connection_stats and kappie_udp_connection_stats{statistic_name} from
 * /proc/net/snmp, /proc/net/netstat and /proc/net/snmp6 (read and parsed by kernel/net-snmp.ts and net-snmp6.ts): the
 * kernel's protocol counters, three small files, O(1) in sockets and interfaces. Which field goes where, and the
 * default set, are in snmp-statistics.ts. A file missing a section the kernel always prints takes the source down
 * with the missing sections named (kernel/net-snmp.ts says which are required and why).
 */
import { LABEL, type MetricKey } from '../../catalog';
import type { StatisticsSet } from '../../config';
import { ParseError } from '../../errors';
import type { SnmpTables } from '../../kernel/net-snmp';
import type { Snmp6Counters } from '../../kernel/net-snmp6';
import type { Sample, Samples, Source } from '../../source';
import {
  DEFAULT_STATISTICS,
  GAUGE_FIELDS,
  SNMP6_PREFIX_FAMILY,
  TABLE_LINE_PLACEMENT,
  type ProtocolFamily,
} from './snmp-statistics';
import { netNetstatOnce, netSnmp6Once, netSnmpOnce } from './procfs-reads';

export type ProtocolStatistics = Record<ProtocolFamily, Map<string, number>>;

/** The default set of each family as a set, for the lookups of every gathering (made once, never changed). */
const DEFAULT_SETS: Readonly<Record<ProtocolFamily, ReadonlySet<string>>> = {
  tcp: new Set(DEFAULT_STATISTICS.tcp),
  ip: new Set(DEFAULT_STATISTICS.ip),
  udp: new Set(DEFAULT_STATISTICS.udp),
};

/** The family of a /proc/net/snmp6 name by its prefix (SNMP6_PREFIX_FAMILY), undefined for none. */
function snmp6Family(name: string): ProtocolFamily | undefined {
  // Indexed reads, not `const [prefix, family] = ...`: array destructuring runs the iterator protocol, and without
  // TurboFan each step is an object (called for every snmp6 name at every gathering).
  for (let i = 0; i < SNMP6_PREFIX_FAMILY.length; i++) {
    const placement = SNMP6_PREFIX_FAMILY[i]!;
    if (name.startsWith(placement[0])) return placement[1];
  }
  return undefined;
}

/** A statistic's labels (`statistic_name`), the same object for every sample of that statistic. */
type StatisticLabels = Sample<(typeof FAMILY_METRIC)[ProtocolFamily]>['labels'];

/**
 * What the snmp source keeps between gatherings so that a gathering makes no string or label object for a name seen
 * before (without TurboFan each was garbage at every gathering): the exported name of each prefixed field (`Icmp` +
 * `InErrors`), and each statistic's labels. Both are bounded by the kernel's field names.
 */
export interface StatisticNames {
  /** Per prefix, per field, prefix + field. */
  readonly prefixed: Map<string, Map<string, string>>;
  readonly labels: Map<string, StatisticLabels>;
}

export function createStatisticNames(): StatisticNames {
  return { prefixed: new Map(), labels: new Map() };
}

/** `prefix + field`, from `names` when made before. */
function prefixedName(names: StatisticNames, prefix: string, field: string): string {
  let byField = names.prefixed.get(prefix);
  if (byField === undefined) names.prefixed.set(prefix, (byField = new Map()));
  let name = byField.get(field);
  if (name === undefined) byField.set(field, (name = prefix + field));
  return name;
}

/**
 * Sorts the counters of the three files into the families, named and filtered as snmp-statistics.ts says: gauge
 * fields left out, lines of no family left out, and with `default` only the default set. Runs at every gathering:
 * Map.forEach and indexed loops rather than for-of, whose iterator results are garbage without TurboFan (--no-opt).
 */
export function protocolStatistics(
  snmp: SnmpTables,
  netstat: SnmpTables,
  snmp6: Snmp6Counters | undefined,
  set: StatisticsSet,
  names: StatisticNames = createStatisticNames(),
): ProtocolStatistics {
  const result: ProtocolStatistics = { tcp: new Map(), ip: new Map(), udp: new Map() };
  const put = (family: ProtocolFamily, name: string, value: number, file: string) => {
    if (set === 'default' && !DEFAULT_SETS[family].has(name)) return;
    if (result[family].has(name)) {
      throw new ParseError(file, `${name} would be exported twice in the ${family} family (kernel added a clash)`);
    }
    if (value < 0) throw new ParseError(file, `${name}: counter is negative (${value})`);
    result[family].set(name, value);
  };
  const putTables = (tables: SnmpTables, file: string) =>
    tables.forEach((fields, line) => {
      const placement = TABLE_LINE_PLACEMENT[line];
      if (!placement) return;
      const { family, prefix } = placement;
      const gauges = GAUGE_FIELDS[line] ?? [];
      fields.forEach((value, field) => {
        if (!gauges.includes(field))
          put(family, prefix === '' ? field : prefixedName(names, prefix, field), value, file);
      });
    });
  putTables(snmp, 'net/snmp');
  putTables(netstat, 'net/netstat');
  snmp6?.forEach((value, name) => {
    const family = snmp6Family(name);
    if (family) put(family, name, value, 'net/snmp6');
  });
  return result;
}

const FAMILY_METRIC = {
  tcp: 'tcpConnectionStats',
  ip: 'ipConnectionStats',
  udp: 'udpConnectionStats',
} as const satisfies Record<ProtocolFamily, MetricKey>;

/** The samples of each family's metric, one per statistic in the family's order; labels from `names`. */
export function protocolSamples(statistics: ProtocolStatistics, names = createStatisticNames()): Samples {
  return {
    [FAMILY_METRIC.tcp]: familySamples(statistics.tcp, names),
    [FAMILY_METRIC.ip]: familySamples(statistics.ip, names),
    [FAMILY_METRIC.udp]: familySamples(statistics.udp, names),
  };
}

/**
 * One sample per statistic, made at the family's size; Map.forEach rather than for-of, whose iterator results are
 * garbage without TurboFan.
 */
function familySamples(
  statistics: ReadonlyMap<string, number>,
  names: StatisticNames,
): Sample<(typeof FAMILY_METRIC)[ProtocolFamily]>[] {
  const list = new Array<Sample<(typeof FAMILY_METRIC)[ProtocolFamily]>>(statistics.size);
  let at = 0;
  statistics.forEach((value, name) => {
    let labels = names.labels.get(name);
    if (labels === undefined) names.labels.set(name, (labels = { [LABEL.statisticName]: name }));
    list[at++] = { labels, value };
  });
  return list;
}

/** The snmp source (the kernel keeps the totals; the source keeps only the names it made, StatisticNames). */
export function createSnmpSource(): Source {
  const names = createStatisticNames();
  return {
    name: 'snmp',
    description: '/proc/net/snmp, netstat, snmp6: TCP, IP and UDP protocol counters',
    platforms: ['linux'],
    metrics: ['tcpConnectionStats', 'ipConnectionStats', 'udpConnectionStats'],
    collect(ctx) {
      // Parsed once per gathering, with the drops source (procfs-reads.ts); net/snmp6 is absent without IPv6.
      const statistics = protocolStatistics(
        netSnmpOnce(ctx),
        netNetstatOnce(ctx),
        netSnmp6Once(ctx),
        ctx.config.statistics,
        names,
      );
      return protocolSamples(statistics, names);
    },
  };
}
