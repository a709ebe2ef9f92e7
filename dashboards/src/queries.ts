/**
 * Every PromQL expression the Kappie dashboards run, one named query per panel, built from the metric catalog.
 *
 * The dashboards (and the Grafana app plugin's pages) import these, so a query is written once. Each query says
 * which catalog metrics it reads: the stack test uses that to require data from every query whose metrics the running
 * collector exports, and the dashboards use the metrics' `platforms` to mark Linux-only panels.
 *
 * Conventions: counters are exported verbatim, so they are read through rate()/increase() over `$__rate_interval`
 * (or `$__range` for "over the whole time range" tables); throughput is shown in bits per second, as network
 * engineers read it; every selector carries the cluster and node matchers of `variables.ts`.
 */
import { LABEL, METRICS, OTHER_REMOTE, metricName, type MetricKey, type TcpState } from '@kappie/collector/catalog';
import { BUILTIN, VARIABLE, selector } from './variables';

export interface PanelQuery {
  /** PromQL with Grafana variables ($cluster, $node, $__rate_interval, ...) still in place. */
  readonly expr: string;
  /** Grafana legend format, e.g. `{{reason}}`. */
  readonly legend: string;
  /** The catalog metrics the expression reads. */
  readonly metrics: readonly MetricKey[];
  /** `instant` for tables and stats that show one value per series; `range` for time series. */
  readonly kind: 'range' | 'instant';
}

const name = (key: MetricKey) => metricName(METRICS[key]);
const rate = (key: MetricKey, ...matchers: string[]) =>
  `rate(${selector(name(key), ...matchers)}[${BUILTIN.rateInterval}])`;
const increaseOverRange = (key: MetricKey, ...matchers: string[]) =>
  `increase(${selector(name(key), ...matchers)}[${BUILTIN.range}])`;
const by = (...labels: string[]) => `by (${labels.join(', ')})`;
const legend = (...labels: string[]) => labels.map((label) => `{{${label}}}`).join(' ');

function range(expr: string, legendFormat: string, ...metrics: MetricKey[]): PanelQuery {
  return { expr, legend: legendFormat, metrics, kind: 'range' };
}
function instant(expr: string, legendFormat: string, ...metrics: MetricKey[]): PanelQuery {
  return { expr, legend: legendFormat, metrics, kind: 'instant' };
}

const reasonMatcher = `${LABEL.reason}=~"$${VARIABLE.reason}"`;
const interfaceMatcher = `${LABEL.interfaceName}=~"$${VARIABLE.interface}"`;
const osMatcher = `${LABEL.os}=~"$${VARIABLE.os}"`;
const ESTABLISHED: TcpState = 'ESTABLISHED';

/**
 * `statistic_name` values of kappie_interface_stats, as regexes: the /proc/net/dev columns (and GetIfTable2's
 * equivalents) with an rx_/tx_ prefix. Written as regexes on purpose so `rx_errs`/`rx_errors` and
 * `rx_drop`/`rx_dropped` spellings both match: what matters to the panel is the kind of counter.
 */
export const INTERFACE_STATISTICS = {
  bytes: '(rx|tx)_bytes',
  packets: '(rx|tx)_packets',
  /** errs plus the specific error columns: frame/fifo/carrier errors, collisions. */
  errors: '(rx|tx)_.*(err|frame|fifo|carrier|colls).*',
  drops: '(rx|tx)_.*drop.*',
} as const;

/** TCP counters an operator looks at first: retransmissions, resets, timeouts, listen queue overflows. */
export const TCP_TROUBLE_STATISTICS = '(?i).*(retrans|rst|reset|timeout|listen|overflow|abort).*';

const statistic = (pattern: string) => `${LABEL.statisticName}=~"${pattern}"`;

export const QUERIES = {
  overview: {
    nodesReporting: instant(`count(${selector(name('buildInfo'), osMatcher)})`, 'nodes', 'buildInfo'),
    sourcesDown: instant(`count(${selector(name('sourceUp'))} == 0) or vector(0)`, 'sources down', 'sourceUp'),
    throughput: instant(
      `8 * sum ${by(LABEL.direction)} (${rate('forwardBytes')})`,
      legend(LABEL.direction),
      'forwardBytes',
    ),
    dropRate: instant(`sum(${rate('dropCount')})`, 'dropped packets/s', 'dropCount'),
    establishedConnections: instant(
      `sum(${selector(name('tcpState'), `${LABEL.state}="${ESTABLISHED}"`)})`,
      'established',
      'tcpState',
    ),
    throughputByNode: range(
      `8 * sum ${by(LABEL.nodeName, LABEL.direction)} (${rate('forwardBytes')})`,
      legend(LABEL.nodeName, LABEL.direction),
      'forwardBytes',
    ),
    dropsByNode: range(`sum ${by(LABEL.nodeName)} (${rate('dropCount')})`, legend(LABEL.nodeName), 'dropCount'),
    establishedByNode: range(
      `sum ${by(LABEL.nodeName)} (${selector(name('tcpState'), `${LABEL.state}="${ESTABLISHED}"`)})`,
      legend(LABEL.nodeName),
      'tcpState',
    ),
    nodeInventory: instant(
      `max ${by(LABEL.cluster, LABEL.nodeName, LABEL.os, LABEL.arch, LABEL.kernel, LABEL.version)} (${selector(name('buildInfo'), osMatcher)})`,
      legend(LABEL.nodeName),
      'buildInfo',
    ),
    sourceHealth: instant(
      `min ${by(LABEL.nodeName, LABEL.source)} (${selector(name('sourceUp'))})`,
      legend(LABEL.nodeName, LABEL.source),
      'sourceUp',
    ),
    collectionDuration: range(
      `max ${by(LABEL.source)} (${selector(name('sourceCollectionDuration'))})`,
      legend(LABEL.source),
      'sourceCollectionDuration',
    ),
    lostEvents: range(
      `sum ${by(LABEL.nodeName, LABEL.source)} (${rate('sourceLostEvents')})`,
      legend(LABEL.nodeName, LABEL.source),
      'sourceLostEvents',
    ),
  },
  drops: {
    packetsByReason: range(
      `sum ${by(LABEL.reason)} (${rate('dropCount', reasonMatcher)})`,
      legend(LABEL.reason),
      'dropCount',
    ),
    packetsByDirection: range(
      `sum ${by(LABEL.direction)} (${rate('dropCount', reasonMatcher)})`,
      legend(LABEL.direction),
      'dropCount',
    ),
    topReasons: instant(
      `topk(10, sum ${by(LABEL.reason, LABEL.direction)} (${increaseOverRange('dropCount', reasonMatcher)}))`,
      legend(LABEL.reason, LABEL.direction),
      'dropCount',
    ),
    bytesByReason: range(
      `sum ${by(LABEL.reason)} (${rate('dropBytes', reasonMatcher)})`,
      legend(LABEL.reason),
      'dropBytes',
    ),
    packetsByNode: range(
      `sum ${by(LABEL.nodeName)} (${rate('dropCount', reasonMatcher)})`,
      legend(LABEL.nodeName),
      'dropCount',
    ),
    interfaceDrops: range(
      `sum ${by(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName)} (${rate('interfaceStats', statistic(INTERFACE_STATISTICS.drops))})`,
      legend(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName),
      'interfaceStats',
    ),
  },
  tcp: {
    socketsByState: range(`sum ${by(LABEL.state)} (${selector(name('tcpState'))})`, legend(LABEL.state), 'tcpState'),
    segmentsByFlag: range(
      `sum ${by(LABEL.flag, LABEL.direction)} (${rate('tcpFlagCounters')})`,
      legend(LABEL.flag, LABEL.direction),
      'tcpFlagCounters',
    ),
    troubleStatistics: range(
      `sum ${by(LABEL.statisticName)} (${rate('tcpConnectionStats', statistic(TCP_TROUBLE_STATISTICS))})`,
      legend(LABEL.statisticName),
      'tcpConnectionStats',
    ),
    allStatistics: instant(
      `sum ${by(LABEL.statisticName)} (${increaseOverRange('tcpConnectionStats')})`,
      legend(LABEL.statisticName),
      'tcpConnectionStats',
    ),
    topRemotePeers: instant(
      `topk(10, sum ${by(LABEL.address, LABEL.port)} (${selector(name('tcpConnectionRemote'), `${LABEL.address}!="${OTHER_REMOTE}"`)}))`,
      legend(LABEL.address, LABEL.port),
      'tcpConnectionRemote',
    ),
    remotePeersByNode: range(
      `sum ${by(LABEL.nodeName, LABEL.address)} (${selector(name('tcpConnectionRemote'))})`,
      legend(LABEL.nodeName, LABEL.address),
      'tcpConnectionRemote',
    ),
    ipStatistics: range(
      `sum ${by(LABEL.statisticName)} (${rate('ipConnectionStats')})`,
      legend(LABEL.statisticName),
      'ipConnectionStats',
    ),
    udpStatistics: range(
      `sum ${by(LABEL.statisticName)} (${rate('udpConnectionStats')})`,
      legend(LABEL.statisticName),
      'udpConnectionStats',
    ),
    udpActiveSockets: range(
      `sum ${by(LABEL.nodeName)} (${selector(name('udpActiveSockets'))})`,
      legend(LABEL.nodeName),
      'udpActiveSockets',
    ),
  },
  interfaces: {
    uplinkThroughput: range(
      `8 * sum ${by(LABEL.nodeName, LABEL.direction)} (${rate('forwardBytes')})`,
      legend(LABEL.nodeName, LABEL.direction),
      'forwardBytes',
    ),
    uplinkPackets: range(
      `sum ${by(LABEL.nodeName, LABEL.direction)} (${rate('forwardCount')})`,
      legend(LABEL.nodeName, LABEL.direction),
      'forwardCount',
    ),
    throughputByInterface: range(
      `8 * sum ${by(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName)} (${rate('interfaceStats', interfaceMatcher, statistic(INTERFACE_STATISTICS.bytes))})`,
      legend(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName),
      'interfaceStats',
    ),
    packetsByInterface: range(
      `sum ${by(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName)} (${rate('interfaceStats', interfaceMatcher, statistic(INTERFACE_STATISTICS.packets))})`,
      legend(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName),
      'interfaceStats',
    ),
    errorsByInterface: range(
      `sum ${by(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName)} (${rate('interfaceStats', interfaceMatcher, statistic(INTERFACE_STATISTICS.errors))})`,
      legend(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName),
      'interfaceStats',
    ),
    dropsByInterface: range(
      `sum ${by(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName)} (${rate('interfaceStats', interfaceMatcher, statistic(INTERFACE_STATISTICS.drops))})`,
      legend(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName),
      'interfaceStats',
    ),
    countersOverRange: instant(
      `sum ${by(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName)} (${increaseOverRange('interfaceStats', interfaceMatcher)})`,
      legend(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName),
      'interfaceStats',
    ),
  },
} as const satisfies Record<string, Record<string, PanelQuery>>;

export type DashboardKey = keyof typeof QUERIES;

/** Every query with a dotted id (`drops.topReasons`), for tests and tools that walk them all. */
export function allQueries(): { id: string; query: PanelQuery }[] {
  return Object.entries(QUERIES).flatMap(([dashboard, queries]) =>
    Object.entries(queries).map(([key, query]) => ({ id: `${dashboard}.${key}`, query: query as PanelQuery })),
  );
}
