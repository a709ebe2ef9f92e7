/**
 * THE panel set: every panel the Kappie dashboards and the Grafana app's pages show, defined once — title, what it
 * says, its PromQL, legend, unit, the catalog metrics it reads (which decide the Linux-only rule, see platforms.ts)
 * and why it can be empty. The dashboards (dashboard-builder.ts, with Grafana's foundation SDK) and the app
 * (grafana-plugin/src/scenes, with Scenes) both render these objects; tests check that every panel of either comes
 * from here, by identity.
 *
 * Pure data, no Grafana SDK: the app bundles this module into the browser.
 *
 * Conventions: counters are exported verbatim, so they are read through rate()/increase() over `$__rate_interval`
 * (or `$__range` for "over the whole time range" tables); throughput is in bits per second, as network engineers
 * read it; every selector carries the cluster and node matchers of `variables.ts`. Drop panels use the drop reason
 * classes (collector/src/drop-reason-classes.ts): "packet loss" is the classes flagged `lost`; the others have panels
 * of their own.
 */
import {
  LABEL,
  METRICS,
  OTHER_REMOTE,
  POD_INTERFACES_AGGREGATE,
  TCP_FLAGS,
  TCP_STATES,
  metricName,
  type MetricKey,
  type TcpFlag,
  type TcpState,
} from '@kappie/collector/catalog';
import { DROP_CLASS_LABEL, LOSS_CLASSES, reasonRegex, withDropClass } from '@kappie/collector/drop-reason-classes';
import { BUILTIN, VARIABLE, selector } from './variables';

/** Grafana unit ids the panels use. */
export const UNIT = {
  bitsPerSecond: 'bps',
  bytesPerSecond: 'Bps',
  packetsPerSecond: 'pps',
  /** Events of mixed kinds per second (TCP counters count segments, connections and timeouts). */
  perSecond: 'cps',
  count: 'short',
  sockets: 'short',
  seconds: 's',
  bytes: 'decbytes',
  ratio: 'percentunit',
  /** A millisecond timestamp shown as "5 minutes ago". */
  timeAgo: 'dateTimeFromNow',
  none: 'none',
} as const;
export type Unit = (typeof UNIT)[keyof typeof UNIT];

export type Visualization = 'stat' | 'timeseries' | 'table' | 'bargauge';

/** A stat threshold step: the colour from `value` up (`null`: the base colour). */
export interface ThresholdStep {
  readonly value: number | null;
  readonly color: string;
}

/** A table's presentation: the value column's header, columns to hide, texts for exact values. */
export interface TableOptions {
  readonly valueColumn: string;
  readonly hiddenColumns?: readonly string[];
  readonly valueText?: Readonly<Record<string, { readonly text: string; readonly color: string }>>;
}

export interface PanelDefinition {
  readonly title: string;
  /** What the panel shows and how to read it; the Linux-only note and metric origins are appended (platforms.ts). */
  readonly description: string;
  readonly visualization: Visualization;
  /** PromQL with Grafana variables ($cluster, $node, $__rate_interval, ...) still in place. */
  readonly expr: string;
  /** Grafana legend format, e.g. `{{reason}}`. */
  readonly legend: string;
  /** The catalog metrics the expression reads. */
  readonly metrics: readonly MetricKey[];
  /** `instant` for tables, stats and bar gauges (one value per series); `range` for time series. */
  readonly kind: 'range' | 'instant';
  /** Grafana unit id of what the panel shows. */
  readonly unit: Unit;
  /** Shown when the query returns nothing, saying why; undefined: the Linux-only or generic text (platforms.ts). */
  readonly noData?: string;
  /** Stats and bar gauges: always set (NEUTRAL_THRESHOLDS when the value has no good or bad level). */
  readonly thresholds?: readonly ThresholdStep[];
  /** Time series only: stack the series (parts of one whole). */
  readonly stacked?: boolean;
  readonly table?: TableOptions;
  /** The query is empty on a healthy system (a list of problems): tests do not require data from it. */
  readonly emptyWhenHealthy?: boolean;
}

type Content = Omit<PanelDefinition, 'kind' | 'metrics'>;

/**
 * The thresholds of a stat or bar gauge that has no good or bad level (a count, a throughput): one step in Grafana's
 * neutral "text" colour. Both visualizations colour their values by thresholds, and without any Grafana applies its
 * default (base green, red from 80), which would show 81 established connections or 1 kb/s of traffic in red.
 */
export const NEUTRAL_THRESHOLDS: readonly ThresholdStep[] = [{ value: null, color: 'text' }];

/** The thresholds of a count of things that are wrong (nodes not reporting, sources down): green at 0, red from 1. */
const RED_FROM_ONE: readonly ThresholdStep[] = [
  { value: null, color: 'green' },
  { value: 1, color: 'red' },
];

function panel(content: Content, ...metrics: MetricKey[]): PanelDefinition {
  const coloredByThresholds = content.visualization === 'stat' || content.visualization === 'bargauge';
  const thresholds = content.thresholds ?? (coloredByThresholds ? NEUTRAL_THRESHOLDS : undefined);
  return {
    ...content,
    ...(thresholds ? { thresholds } : {}),
    kind: content.visualization === 'timeseries' ? 'range' : 'instant',
    metrics,
  };
}

const name = (key: MetricKey) => metricName(METRICS[key]);
const rate = (key: MetricKey, ...matchers: string[]) =>
  `rate(${selector(name(key), ...matchers)}[${BUILTIN.rateInterval}])`;
const increaseOverRange = (key: MetricKey, ...matchers: string[]) =>
  `increase(${selector(name(key), ...matchers)}[${BUILTIN.range}])`;
const sumBy = (labels: readonly string[], expr: string) => `sum by (${labels.join(', ')}) (${expr})`;
const legend = (...labels: string[]) => labels.map((label) => `{{${label}}}`).join(' ');
const matchRegex = (label: string, pattern: string) => `${label}=~"${pattern}"`;
const notMatchRegex = (label: string, pattern: string) => `${label}!~"${pattern}"`;
const equals = (label: string, value: string) => `${label}="${value}"`;
const matchVariable = (label: string, variable: string) => `${label}=~"$${variable}"`;

const reasonVariable = matchVariable(LABEL.reason, VARIABLE.reason);
const interfaceVariable = matchVariable(LABEL.interfaceName, VARIABLE.interface);
const osVariable = matchVariable(LABEL.os, VARIABLE.os);
const ESTABLISHED: TcpState = 'ESTABLISHED';
const LISTEN: TcpState = 'LISTEN';
/** Sockets opening or closing: every state but the steady ones. A pile-up here is a handshake or teardown problem. */
const TRANSITIONAL_STATES = TCP_STATES.filter((state) => state !== ESTABLISHED && state !== LISTEN);
/** Flags that mean connections being opened or refused. */
const CONNECTION_FLAGS: readonly TcpFlag[] = TCP_FLAGS.filter((flag) => flag === 'SYN' || flag === 'RST');

/** `reason=~"<every reason of a loss class>"`: the drops that mean packet loss. */
export const LOSS_REASONS = matchRegex(LABEL.reason, reasonRegex(LOSS_CLASSES));
const NOT_LOSS_REASONS = notMatchRegex(LABEL.reason, reasonRegex(LOSS_CLASSES));

/**
 * `statistic_name` values of kappie_interface_stats, as regexes, one per kind of counter. The names are the sysfs
 * statistics names Linux writes (and the Windows source reuses): rx_bytes, rx_errors, rx_fifo_errors,
 * rx_frame_errors, rx_missed_errors, rx_crc_errors, tx_carrier_errors, collisions, rx_dropped, ...
 */
export const INTERFACE_STATISTICS = {
  bytes: '(rx|tx)_bytes',
  packets: '(rx|tx)_packets',
  /** Every error counter, and collisions (which has no rx_/tx_ prefix). */
  errors: '(rx|tx)_.*errors|collisions',
  drops: '(rx|tx)_dropped',
} as const;

/** `statistic_name` regexes of kappie_ip_connection_stats (Ip, IpExt, Icmp, Ip6, Icmp6 field names). */
export const IP_STATISTICS = {
  /** Bytes (IpExt InOctets/OutOctets, Ip6InOctets/Ip6OutOctets). */
  octets: '(Ip6)?(In|Out)Octets',
  /** Datagrams received, delivered, sent and forwarded, and ICMP messages. */
  packets: '(Ip6)?(InReceives|InDelivers|OutRequests|ForwDatagrams|OutForwDatagrams)|Icmp6?(In|Out)Msgs',
  /** Errors, discards, no-route, reassembly and fragmentation failures. */
  errors: '.*(Errors|Discards|NoRoutes|Fails|UnknownProtos|TruncatedPkts)',
} as const;

/** `statistic_name` regexes of kappie_udp_connection_stats (Udp, UdpLite, Udp6, UdpLite6 field names). */
export const UDP_STATISTICS = {
  datagrams: '.*(In|Out)Datagrams',
  /** Datagrams to closed ports, buffer, checksum and memory errors. */
  errors: '.*(NoPorts|Errors)',
} as const;

/** TCP counters an operator looks at first: retransmissions, resets, timeouts, listen queue overflows, aborts. */
export const TCP_TROUBLE_STATISTICS = '(?i).*(retrans|rst|reset|timeout|listen|overflow|abort).*';

/** kappie_tcp_connection_stats names of the retransmission ratio (Linux Tcp: and Windows GetTcpStatisticsEx2). */
export const TCP_RETRANSMIT_STATISTICS = { retransmitted: 'RetransSegs', sent: 'OutSegs' } as const;

/**
 * Lost packets per second grouped by `by`, with 0 (not a missing series) for groups whose drops are all of other
 * classes: a node with drop counters and no loss shows a flat 0, a node without drop counters shows nothing.
 */
const lossRate = (by: readonly string[], ...extra: string[]) =>
  `${sumBy(by, rate('dropCount', ...extra, LOSS_REASONS))} or 0 * ${sumBy(by, rate('dropCount', ...extra))}`;

const statistic = (pattern: string) => matchRegex(LABEL.statisticName, pattern);
const perInterface = (pattern: string, ...extra: string[]) =>
  sumBy(
    [LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName],
    rate('interfaceStats', interfaceVariable, statistic(pattern), ...extra),
  );
const retransmitRatio = (by: readonly string[]) =>
  `${sumBy(by, rate('tcpConnectionStats', equals(LABEL.statisticName, TCP_RETRANSMIT_STATISTICS.retransmitted)))}` +
  ` / ${sumBy(by, rate('tcpConnectionStats', equals(LABEL.statisticName, TCP_RETRANSMIT_STATISTICS.sent)))}`;

/** Nodes whose kappie_build_info was scraped during the time range and is gone now (collector vanished or failing). */
const stoppedNodes = (value: string) =>
  `${value} unless on (${LABEL.cluster}, ${LABEL.nodeName}) ` +
  `max by (${LABEL.cluster}, ${LABEL.nodeName}) (${selector(name('buildInfo'), osVariable)})`;

const POD_INTERFACES_NOTE =
  `"${POD_INTERFACES_AGGREGATE}" sums the node side of every pod's veth (or azv, lxc, cali) interface: its rx is ` +
  'what the pods sent, its tx what they received.';
const HOST_NAMESPACE_NOTE =
  "These counters cover the node's own network namespace (the host and hostNetwork pods), not the pods' namespaces.";
const LOSS_NOTE =
  'Packet loss counts the drop reasons of the classes congestion, policy, no path and damaged; socket housekeeping, ' +
  'traffic for closed ports and TCP state checks are on their own panels (the README lists every reason).';

const UP_DOWN_TEXT = {
  '1': { text: 'up', color: 'green' },
  '0': { text: 'DOWN', color: 'red' },
} as const;

export const QUERIES = {
  overview: {
    nodesReporting: panel(
      {
        title: 'Nodes reporting',
        description: 'Collectors Prometheus scrapes now: one kappie_build_info series per node.',
        visualization: 'stat',
        expr: `count(${selector(name('buildInfo'), osVariable)})`,
        legend: 'nodes',
        unit: UNIT.count,
      },
      'buildInfo',
    ),
    nodesNotReporting: panel(
      {
        title: 'Nodes not reporting',
        description:
          'Nodes whose collector was scraped during the time range and is not now: the pod is gone, the node is ' +
          'down, or Prometheus cannot scrape it (up == 0). The "Nodes that stopped reporting" table names them.',
        visualization: 'stat',
        expr: `count(${stoppedNodes(
          `max by (${LABEL.cluster}, ${LABEL.nodeName}) (max_over_time(${selector(name('buildInfo'), osVariable)}[${BUILTIN.range}]))`,
        )}) or vector(0)`,
        legend: 'nodes not reporting',
        unit: UNIT.count,
        thresholds: RED_FROM_ONE,
      },
      'buildInfo',
    ),
    sourcesDown: panel(
      {
        title: 'Collector sources down',
        description:
          'Sources that failed their last gathering (kappie_source_up == 0), summed over the selected nodes. ' +
          'The "Collector health" table names them; the collector log and its status page say why.',
        visualization: 'stat',
        expr: `count(${selector(name('sourceUp'))} == 0) or vector(0)`,
        legend: 'sources down',
        unit: UNIT.count,
        thresholds: RED_FROM_ONE,
      },
      'sourceUp',
    ),
    throughput: panel(
      {
        title: 'Uplink throughput',
        description: 'Bits per second received (ingress) and sent (egress) on the nodes\u2019 uplink interfaces.',
        visualization: 'stat',
        expr: `8 * ${sumBy([LABEL.direction], rate('forwardBytes'))}`,
        legend: legend(LABEL.direction),
        unit: UNIT.bitsPerSecond,
      },
      'forwardBytes',
    ),
    packetLoss: panel(
      {
        title: 'Packet loss',
        description:
          `Packets per second the selected nodes lost: dropped for congestion, by policy, for lack of a path, or ` +
          `damaged. ${LOSS_NOTE} 0 while drops are counted and none of them is loss.`,
        visualization: 'stat',
        expr: `sum(${rate('dropCount', LOSS_REASONS)}) or 0 * sum(${rate('dropCount')})`,
        legend: 'lost packets/s',
        unit: UNIT.packetsPerSecond,
        thresholds: [
          { value: null, color: 'green' },
          { value: 1, color: 'orange' },
          { value: 100, color: 'red' },
        ],
      },
      'dropCount',
    ),
    establishedConnections: panel(
      {
        title: 'Established TCP connections',
        description: `TCP sockets in state ESTABLISHED (IPv4 and IPv6) on the selected nodes. ${HOST_NAMESPACE_NOTE}`,
        visualization: 'stat',
        expr: `sum(${selector(name('tcpState'), equals(LABEL.state, ESTABLISHED))})`,
        legend: 'established',
        unit: UNIT.sockets,
      },
      'tcpState',
    ),
    throughputByNode: panel(
      {
        title: 'Uplink throughput by node',
        description: 'Bits per second per node and direction on the uplink interfaces (those holding default routes).',
        visualization: 'timeseries',
        expr: `8 * ${sumBy([LABEL.nodeName, LABEL.direction], rate('forwardBytes'))}`,
        legend: legend(LABEL.nodeName, LABEL.direction),
        unit: UNIT.bitsPerSecond,
      },
      'forwardBytes',
    ),
    lossByNode: panel(
      {
        title: 'Packet loss by node',
        description: `Lost packets per second per node. ${LOSS_NOTE} The Drops dashboard breaks them down by reason.`,
        visualization: 'timeseries',
        expr: lossRate([LABEL.nodeName]),
        legend: legend(LABEL.nodeName),
        unit: UNIT.packetsPerSecond,
      },
      'dropCount',
    ),
    dropsByClass: panel(
      {
        title: 'Drops by class',
        description:
          'Every dropped packet per second, by what the drop means: congestion, policy, no path and damaged are ' +
          'packet loss; TCP state, not for this node, housekeeping and unclassified are not.',
        visualization: 'timeseries',
        expr: sumBy([DROP_CLASS_LABEL], withDropClass(sumBy([LABEL.reason], rate('dropCount')))),
        legend: legend(DROP_CLASS_LABEL),
        unit: UNIT.packetsPerSecond,
        stacked: true,
      },
      'dropCount',
    ),
    establishedByNode: panel(
      {
        title: 'Established TCP connections by node',
        description: `TCP sockets in state ESTABLISHED per node. ${HOST_NAMESPACE_NOTE}`,
        visualization: 'timeseries',
        expr: sumBy([LABEL.nodeName], selector(name('tcpState'), equals(LABEL.state, ESTABLISHED))),
        legend: legend(LABEL.nodeName),
        unit: UNIT.sockets,
      },
      'tcpState',
    ),
    trafficByCluster: panel(
      {
        title: 'Uplink traffic by cluster',
        description:
          'Bits per second in and out of the nodes\u2019 uplinks, per cluster (one unnamed series when the ' +
          'series carry no cluster label).',
        visualization: 'timeseries',
        expr: `8 * ${sumBy([LABEL.cluster, LABEL.direction], rate('forwardBytes'))}`,
        legend: legend(LABEL.cluster, LABEL.direction),
        unit: UNIT.bitsPerSecond,
      },
      'forwardBytes',
    ),
    lossByCluster: panel(
      {
        title: 'Packet loss by cluster',
        description: `Lost packets per second per cluster. ${LOSS_NOTE}`,
        visualization: 'timeseries',
        expr: lossRate([LABEL.cluster]),
        legend: `lost ${legend(LABEL.cluster)}`,
        unit: UNIT.packetsPerSecond,
      },
      'dropCount',
    ),
    retransmitRatioByCluster: panel(
      {
        title: 'TCP retransmission ratio by cluster',
        description:
          'Retransmitted TCP segments over segments sent (RetransSegs / OutSegs), per cluster. Above a few percent ' +
          'means loss on the paths TCP uses; an idle cluster\u2019s ratio says little.',
        visualization: 'timeseries',
        expr: retransmitRatio([LABEL.cluster]),
        legend: `retransmitted ${legend(LABEL.cluster)}`,
        unit: UNIT.ratio,
      },
      'tcpConnectionStats',
    ),
    stoppedNodes: panel(
      {
        title: 'Nodes that stopped reporting',
        description:
          'Nodes whose collector was scraped during the time range and is not now, with when it was last seen. ' +
          'Empty is good. A node stays listed until it is out of the time range.',
        visualization: 'table',
        expr: stoppedNodes(
          `1000 * max by (${LABEL.cluster}, ${LABEL.nodeName}) (max_over_time(timestamp(${selector(name('buildInfo'), osVariable)})[${BUILTIN.range}:]))`,
        ),
        legend: legend(LABEL.nodeName),
        unit: UNIT.timeAgo,
        table: { valueColumn: 'last seen' },
        noData: 'Every node seen in the time range still reports',
        emptyWhenHealthy: true,
      },
      'buildInfo',
    ),
    nodeInventory: panel(
      {
        title: 'Nodes',
        description: 'One row per collector: its version, OS, architecture and kernel.',
        visualization: 'table',
        expr: `max by (${LABEL.cluster}, ${LABEL.nodeName}, ${LABEL.os}, ${LABEL.arch}, ${LABEL.kernel}, ${LABEL.version}) (${selector(name('buildInfo'), osVariable)})`,
        legend: legend(LABEL.nodeName),
        unit: UNIT.none,
        table: { valueColumn: 'reporting', hiddenColumns: ['Value'] },
      },
      'buildInfo',
    ),
    sourceHealth: panel(
      {
        title: 'Collector health',
        description: 'Each source of each collector: up when its last gathering succeeded.',
        visualization: 'table',
        expr: `min by (${LABEL.nodeName}, ${LABEL.source}) (${selector(name('sourceUp'))})`,
        legend: legend(LABEL.nodeName, LABEL.source),
        unit: UNIT.none,
        table: { valueColumn: 'state', valueText: UP_DOWN_TEXT },
      },
      'sourceUp',
    ),
    collectionDuration: panel(
      {
        title: 'Source collection duration (slowest node)',
        description: 'Seconds each source took in its last gathering, the maximum over the selected nodes.',
        visualization: 'timeseries',
        expr: `max by (${LABEL.source}) (${selector(name('sourceCollectionDuration'))})`,
        legend: legend(LABEL.source),
        unit: UNIT.seconds,
      },
      'sourceCollectionDuration',
    ),
    lostEvents: panel(
      {
        title: 'Lost events',
        description:
          'Events per second a streaming source could not count (kernel ring buffer overruns, parse failures). ' +
          `Anything above zero means the drop counts of that ${LABEL.nodeName} are a lower bound.`,
        visualization: 'timeseries',
        expr: sumBy([LABEL.nodeName, LABEL.source], rate('sourceLostEvents')),
        legend: legend(LABEL.nodeName, LABEL.source),
        unit: UNIT.perSecond,
      },
      'sourceLostEvents',
    ),
  },
  drops: {
    dropsByClass: panel(
      {
        title: 'Dropped packets by class',
        description:
          'Packets per second dropped, by what the drop means (the README\u2019s drop reason table): congestion, ' +
          'policy, no path and damaged are packet loss; TCP state, not for this node, housekeeping and ' +
          'unclassified are not.',
        visualization: 'timeseries',
        expr: sumBy([DROP_CLASS_LABEL], withDropClass(sumBy([LABEL.reason], rate('dropCount', reasonVariable)))),
        legend: legend(DROP_CLASS_LABEL),
        unit: UNIT.packetsPerSecond,
        stacked: true,
      },
      'dropCount',
    ),
    lossByReason: panel(
      {
        title: 'Packet loss by reason',
        description:
          'Lost packets per second by drop reason: the reasons of the congestion, policy, no path and damaged ' +
          'classes. On Linux the reason is the kernel\u2019s skb drop reason (from the running kernel\u2019s own ' +
          'table) or, on kernels without it, derived from the dropping function.',
        visualization: 'timeseries',
        expr: sumBy([LABEL.reason], rate('dropCount', reasonVariable, LOSS_REASONS)),
        legend: legend(LABEL.reason),
        unit: UNIT.packetsPerSecond,
        stacked: true,
        noData: 'No packet loss: no drop of a loss class in the time range',
        emptyWhenHealthy: true,
      },
      'dropCount',
    ),
    otherByReason: panel(
      {
        title: 'Other drops by reason (not loss)',
        description:
          'Drops per second that are not packet loss, by class and reason: TCP state checks, traffic nobody here ' +
          'wants (closed ports, other hosts), socket housekeeping (queues purged on close, duplicates), and ' +
          'reasons the table does not know. High values are normal on busy nodes.',
        visualization: 'timeseries',
        expr: withDropClass(sumBy([LABEL.reason], rate('dropCount', reasonVariable, NOT_LOSS_REASONS))),
        legend: `${legend(DROP_CLASS_LABEL)}: ${legend(LABEL.reason)}`,
        unit: UNIT.packetsPerSecond,
      },
      'dropCount',
    ),
    lossByDirection: panel(
      {
        title: 'Packet loss by direction',
        description:
          'Lost packets per second on the ingress and egress paths (unknown when neither the reason nor the ' +
          'dropping function tells).',
        visualization: 'timeseries',
        expr: lossRate([LABEL.direction], reasonVariable),
        legend: legend(LABEL.direction),
        unit: UNIT.packetsPerSecond,
        stacked: true,
      },
      'dropCount',
    ),
    topReasons: panel(
      {
        title: 'Top 10 drop reasons (time range)',
        description:
          'Packets dropped over the whole selected time range, by reason, direction and class, largest first.',
        visualization: 'bargauge',
        expr: `topk(10, ${withDropClass(sumBy([LABEL.reason, LABEL.direction], increaseOverRange('dropCount', reasonVariable)))})`,
        legend: `${legend(LABEL.reason, LABEL.direction)} (${legend(DROP_CLASS_LABEL)})`,
        unit: UNIT.count,
      },
      'dropCount',
    ),
    bytesByReason: panel(
      {
        title: 'Dropped bytes by reason',
        description:
          'Bytes per second dropped, by reason. Only Linux kernels with kprobe events and hist triggers let the ' +
          'collector sum the length of dropped packets (a kprobe on the kernel drop function); other Linux ' +
          'kernels and every Windows node report dropped packets but never dropped bytes, so this panel can be ' +
          'empty while packets are dropped.',
        visualization: 'timeseries',
        expr: sumBy([LABEL.reason], rate('dropBytes', reasonVariable)),
        legend: legend(LABEL.reason),
        unit: UNIT.bytesPerSecond,
        stacked: true,
        noData:
          'No data: dropped bytes need a Linux kernel with kprobe events and hist triggers (Windows never counts them)',
      },
      'dropBytes',
    ),
    lossByNode: panel(
      {
        title: 'Packet loss by node',
        description: 'Lost packets per second per node, for the reasons chosen above.',
        visualization: 'timeseries',
        expr: lossRate([LABEL.nodeName], reasonVariable),
        legend: legend(LABEL.nodeName),
        unit: UNIT.packetsPerSecond,
      },
      'dropCount',
    ),
    interfaceDrops: panel(
      {
        title: 'Interface drop counters',
        description:
          'Per-interface drop counters (rx/tx dropped) per second: packets the NIC, the driver or the stack ' +
          `discarded at the interface, which the kernel drop reasons above may not see. ${POD_INTERFACES_NOTE}`,
        visualization: 'timeseries',
        expr: sumBy(
          [LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName],
          rate('interfaceStats', statistic(INTERFACE_STATISTICS.drops)),
        ),
        legend: legend(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName),
        unit: UNIT.packetsPerSecond,
      },
      'interfaceStats',
    ),
  },
  tcp: {
    socketsByState: panel(
      {
        title: 'TCP sockets by state',
        description:
          'TCP sockets (IPv4 and IPv6) in each state. A growing TIME_WAIT or CLOSE_WAIT is worth a look. ' +
          HOST_NAMESPACE_NOTE,
        visualization: 'timeseries',
        expr: sumBy([LABEL.state], selector(name('tcpState'))),
        legend: legend(LABEL.state),
        unit: UNIT.sockets,
        stacked: true,
      },
      'tcpState',
    ),
    openingAndClosing: panel(
      {
        title: 'Opening and closing sockets',
        description:
          'Sockets in handshake or teardown states per node; a pile-up points at SYN floods, unanswered ' +
          'connection attempts or slow closes.',
        visualization: 'timeseries',
        expr: sumBy(
          [LABEL.nodeName, LABEL.state],
          selector(name('tcpState'), matchRegex(LABEL.state, TRANSITIONAL_STATES.join('|'))),
        ),
        legend: legend(LABEL.nodeName, LABEL.state),
        unit: UNIT.sockets,
      },
      'tcpState',
    ),
    segmentsByFlag: panel(
      {
        title: 'TCP segments by flag',
        description: 'TCP segments per second seen with each flag, per direction. RST and SYN rates show churn.',
        visualization: 'timeseries',
        expr: sumBy([LABEL.flag, LABEL.direction], rate('tcpFlagCounters')),
        legend: legend(LABEL.flag, LABEL.direction),
        unit: UNIT.packetsPerSecond,
      },
      'tcpFlagCounters',
    ),
    connectionAttempts: panel(
      {
        title: 'Connection attempts and resets',
        description: 'SYN and RST segments per second on each node.',
        visualization: 'timeseries',
        expr: sumBy(
          [LABEL.nodeName, LABEL.flag],
          rate('tcpFlagCounters', matchRegex(LABEL.flag, CONNECTION_FLAGS.join('|'))),
        ),
        legend: legend(LABEL.nodeName, LABEL.flag),
        unit: UNIT.packetsPerSecond,
      },
      'tcpFlagCounters',
    ),
    troubleStatistics: panel(
      {
        title: 'Retransmits, resets, timeouts, listen overflows',
        description:
          'The TCP counters operators check first, per second: retransmitted segments, resets sent and received, ' +
          `timeouts, listen queue overflows and drops, aborts. ${HOST_NAMESPACE_NOTE}`,
        visualization: 'timeseries',
        expr: sumBy([LABEL.statisticName], rate('tcpConnectionStats', statistic(TCP_TROUBLE_STATISTICS))),
        legend: legend(LABEL.statisticName),
        unit: UNIT.perSecond,
      },
      'tcpConnectionStats',
    ),
    retransmitRatioByNode: panel(
      {
        title: 'TCP retransmission ratio by node',
        description:
          'Retransmitted TCP segments over segments sent (RetransSegs / OutSegs) per node: the share of what a ' +
          'node sends that it had to send again.',
        visualization: 'timeseries',
        expr: retransmitRatio([LABEL.nodeName]),
        legend: legend(LABEL.nodeName),
        unit: UNIT.ratio,
      },
      'tcpConnectionStats',
    ),
    allStatistics: panel(
      {
        title: 'All TCP counters (time range)',
        description: `Increase of every exported TCP counter over the selected time range. ${HOST_NAMESPACE_NOTE}`,
        visualization: 'table',
        expr: sumBy([LABEL.statisticName], increaseOverRange('tcpConnectionStats')),
        legend: legend(LABEL.statisticName),
        unit: UNIT.count,
        table: { valueColumn: 'increase' },
      },
      'tcpConnectionStats',
    ),
    topRemotePeers: panel(
      {
        title: 'Top 10 remote peers',
        description:
          'Remote address and port with the most non-listening TCP sockets on the selected nodes (the collector ' +
          'keeps the top peers per node and sums the rest into one "other" series, left out here).',
        visualization: 'table',
        expr: `topk(10, ${sumBy([LABEL.address, LABEL.port], selector(name('tcpConnectionRemote'), `${LABEL.address}!="${OTHER_REMOTE}"`))})`,
        legend: legend(LABEL.address, LABEL.port),
        unit: UNIT.sockets,
        table: { valueColumn: 'sockets' },
      },
      'tcpConnectionRemote',
    ),
    remotePeersByNode: panel(
      {
        title: 'TCP sockets by remote address and node',
        description: 'Non-listening TCP sockets per remote address per node, "other" included.',
        visualization: 'timeseries',
        expr: sumBy([LABEL.nodeName, LABEL.address], selector(name('tcpConnectionRemote'))),
        legend: legend(LABEL.nodeName, LABEL.address),
        unit: UNIT.sockets,
      },
      'tcpConnectionRemote',
    ),
    ipTraffic: panel(
      {
        title: 'IP traffic',
        description:
          'Bits per second IP received and sent (IpExt InOctets/OutOctets and their IPv6 counterparts). Windows ' +
          `counts IP datagrams but not IP bytes, so Windows nodes have no series here. ${HOST_NAMESPACE_NOTE}`,
        visualization: 'timeseries',
        expr: `8 * ${sumBy([LABEL.statisticName], rate('ipConnectionStats', statistic(IP_STATISTICS.octets)))}`,
        legend: legend(LABEL.statisticName),
        unit: UNIT.bitsPerSecond,
        noData: 'No data: IP byte counters exist on Linux only (Windows MIB_IPSTATS counts datagrams, not bytes)',
      },
      'ipConnectionStats',
    ),
    ipPackets: panel(
      {
        title: 'IP datagrams',
        description: 'IP datagrams per second received, delivered, sent and forwarded, and ICMP messages.',
        visualization: 'timeseries',
        expr: sumBy([LABEL.statisticName], rate('ipConnectionStats', statistic(IP_STATISTICS.packets))),
        legend: legend(LABEL.statisticName),
        unit: UNIT.packetsPerSecond,
      },
      'ipConnectionStats',
    ),
    ipErrors: panel(
      {
        title: 'IP errors and discards',
        description:
          'IP datagrams per second with header or address errors, unknown protocols, no route, discards, and ' +
          'failed reassembly or fragmentation; ICMP errors.',
        visualization: 'timeseries',
        expr: sumBy([LABEL.statisticName], rate('ipConnectionStats', statistic(IP_STATISTICS.errors))),
        legend: legend(LABEL.statisticName),
        unit: UNIT.packetsPerSecond,
      },
      'ipConnectionStats',
    ),
    udpDatagrams: panel(
      {
        title: 'UDP datagrams',
        description: `UDP datagrams per second received and sent (IPv4 and IPv6). ${HOST_NAMESPACE_NOTE}`,
        visualization: 'timeseries',
        expr: sumBy([LABEL.statisticName], rate('udpConnectionStats', statistic(UDP_STATISTICS.datagrams))),
        legend: legend(LABEL.statisticName),
        unit: UNIT.packetsPerSecond,
      },
      'udpConnectionStats',
    ),
    udpErrors: panel(
      {
        title: 'UDP errors',
        description:
          'UDP datagrams per second to closed ports (NoPorts), with receive/send buffer, checksum or memory errors ' +
          '(Windows counts NoPorts and InErrors only).',
        visualization: 'timeseries',
        expr: sumBy([LABEL.statisticName], rate('udpConnectionStats', statistic(UDP_STATISTICS.errors))),
        legend: legend(LABEL.statisticName),
        unit: UNIT.packetsPerSecond,
      },
      'udpConnectionStats',
    ),
    udpActiveSockets: panel(
      {
        title: 'UDP sockets in use',
        description: `UDP sockets (IPv4 and IPv6) open on each node. ${HOST_NAMESPACE_NOTE}`,
        visualization: 'timeseries',
        expr: sumBy([LABEL.nodeName], selector(name('udpActiveSockets'))),
        legend: legend(LABEL.nodeName),
        unit: UNIT.sockets,
      },
      'udpActiveSockets',
    ),
  },
  interfaces: {
    uplinkPackets: panel(
      {
        title: 'Uplink packets',
        description: 'Packets per second per node and direction on the uplink interfaces.',
        visualization: 'timeseries',
        expr: sumBy([LABEL.nodeName, LABEL.direction], rate('forwardCount')),
        legend: legend(LABEL.nodeName, LABEL.direction),
        unit: UNIT.packetsPerSecond,
      },
      'forwardCount',
    ),
    throughputByInterface: panel(
      {
        title: 'Throughput by interface',
        description: `Bits per second received (rx) and sent (tx) per interface. ${POD_INTERFACES_NOTE}`,
        visualization: 'timeseries',
        expr: `8 * ${perInterface(INTERFACE_STATISTICS.bytes)}`,
        legend: legend(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName),
        unit: UNIT.bitsPerSecond,
      },
      'interfaceStats',
    ),
    packetsByInterface: panel(
      {
        title: 'Packets by interface',
        description: `Packets per second received (rx) and sent (tx) per interface. ${POD_INTERFACES_NOTE}`,
        visualization: 'timeseries',
        expr: perInterface(INTERFACE_STATISTICS.packets),
        legend: legend(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName),
        unit: UNIT.packetsPerSecond,
      },
      'interfaceStats',
    ),
    errorsByInterface: panel(
      {
        title: 'Errors by interface',
        description:
          'Packets per second with errors per interface: receive/transmit errors and their parts (frame: ' +
          'CRC/alignment/length; FIFO overruns; missed: the NIC ring was full; carrier losses) and collisions.',
        visualization: 'timeseries',
        expr: perInterface(INTERFACE_STATISTICS.errors),
        legend: legend(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName),
        unit: UNIT.packetsPerSecond,
      },
      'interfaceStats',
    ),
    dropsByInterface: panel(
      {
        title: 'Drops by interface',
        description: `Packets per second the interface, its driver or the stack dropped there (rx/tx dropped). ${POD_INTERFACES_NOTE}`,
        visualization: 'timeseries',
        expr: perInterface(INTERFACE_STATISTICS.drops),
        legend: legend(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName),
        unit: UNIT.packetsPerSecond,
      },
      'interfaceStats',
    ),
    bytesOverRange: panel(
      {
        title: 'Interface bytes (time range)',
        description: `Bytes received (rx) and sent (tx) per interface over the selected time range. ${POD_INTERFACES_NOTE}`,
        visualization: 'table',
        expr: sumBy(
          [LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName],
          increaseOverRange('interfaceStats', interfaceVariable, statistic(INTERFACE_STATISTICS.bytes)),
        ),
        legend: legend(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName),
        unit: UNIT.bytes,
        table: { valueColumn: 'bytes' },
      },
      'interfaceStats',
    ),
    countersOverRange: panel(
      {
        title: 'Interface packet, error and drop counters (time range)',
        description:
          'Increase of every other interface counter (packets, errors, drops, ...) over the selected time range, ' +
          'one row per counter.',
        visualization: 'table',
        expr: sumBy(
          [LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName],
          increaseOverRange(
            'interfaceStats',
            interfaceVariable,
            notMatchRegex(LABEL.statisticName, INTERFACE_STATISTICS.bytes),
          ),
        ),
        legend: legend(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName),
        unit: UNIT.count,
        table: { valueColumn: 'increase' },
      },
      'interfaceStats',
    ),
  },
} as const satisfies Record<string, Record<string, PanelDefinition>>;

export type DashboardKey = keyof typeof QUERIES;

/** Every panel with a dotted id (`drops.topReasons`), for tests and tools that walk them all. */
export function allQueries(): { id: string; query: PanelDefinition }[] {
  return Object.entries(QUERIES).flatMap(([dashboard, queries]) =>
    Object.entries(queries).map(([key, query]) => ({ id: `${dashboard}.${key}`, query: query as PanelDefinition })),
  );
}

export { DROP_CLASS_LABEL };
export { LINUX_ONLY_NO_VALUE, describePanel, isLinuxOnly, linuxOrigin, noDataText, queryPlatforms } from './platforms';
