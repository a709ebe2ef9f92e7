/**
 * The Prometheus recording and alert rules, built from the metric catalog so that every metric and label name in
 * every expression is a catalog name. `deploy/prometheus/rules/*.yml` are generated from here and committed (a test
 * fails when they are stale; `npm run generate -w deploy` rewrites them).
 *
 * Recording rule names follow Prometheus' level:metric:operations convention: `node_name:<metric>:rate5m` keeps the
 * node, `cluster:<metric>:rate5m` sums the nodes of a cluster.
 *
 * Drops: `kappie_drop_count_lost` records only the reasons of the loss classes of the drop reason table
 * (collector/src/drop-reason-classes.ts: congestion, policy, no path, damaged), and the drop alert looks at those
 * only; socket housekeeping and traffic for closed ports drop packets all day on a healthy node.
 * `kappie_drop_count_by_class` records every drop with its `drop_class`.
 */
import { LABEL, METRICS, metricName, type LabelName, type MetricDefinition } from '@kappie/collector/catalog';
import { DROP_CLASS_LABEL, LOSS_CLASSES, reasonRegex, withDropClass } from '@kappie/collector/drop-reason-classes';
import { stringify } from 'yaml';

/** The scrape job name every configuration in deploy/ uses (static, Kubernetes pod discovery, Azure ama-metrics). */
export const SCRAPE_JOB = 'kappie';

/**
 * statistic_name values the rules select. They are the kernel's own counter names (Linux /proc/net/snmp `Tcp:` and
 * /proc/net/netstat `TcpExt:` columns, /sys/class/net/<if>/statistics file names), which the collector passes through.
 */
export const STATISTIC = {
  /** Segments retransmitted (Tcp: RetransSegs). */
  tcpRetransmittedSegments: 'RetransSegs',
  /** Segments sent (Tcp: OutSegs), the denominator of the retransmit ratio. */
  tcpSentSegments: 'OutSegs',
  /** Connections dropped because a listen queue (accept backlog) was full (TcpExt: ListenOverflows). */
  tcpListenOverflows: 'ListenOverflows',
  /** SYNs dropped at a listening socket, overflows included (TcpExt: ListenDrops). */
  tcpListenDrops: 'ListenDrops',
  /** Interface error counters (sysfs statistics names). */
  interfaceErrors: ['rx_errors', 'tx_errors'],
} as const;

/** Alert thresholds, in one place so operators can read what fires when. */
export const THRESHOLDS = {
  /** A drop reason of a loss class alerts above this many packets per second on a node ... */
  dropRateMinPerSecond: 10,
  /** ... and when that is this many times its average over the previous hour. */
  dropRateSpikeFactor: 5,
  /** Retransmitted / sent segments above this ratio ... */
  retransmitRatio: 0.05,
  /** ... on a node sending at least this many segments per second (an idle node's ratio says nothing). */
  retransmitMinSegmentsPerSecond: 10,
  /** Interface errors per second. */
  interfaceErrorsPerSecond: 1,
} as const;

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
}
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}
export interface RuleGroup<R> {
  readonly name: string;
  readonly interval?: string;
  readonly rules: readonly R[];
}

const RATE_WINDOW = '5m';

function by(...labels: LabelName[]): string {
  return `by (${labels.join(', ')})`;
}

function selector(definition: MetricDefinition, matchers: Partial<Record<LabelName | 'job', string>> = {}): string {
  const parts = Object.entries(matchers).map(([label, value]) =>
    value.includes('|') ? `${label}=~"${value}"` : `${label}="${value}"`,
  );
  return `${metricName(definition)}${parts.length > 0 ? `{${parts.join(', ')}}` : ''}`;
}

/** The names of the recorded series, so alerts and dashboards refer to them without spelling them. */
export function nodeRate(definition: MetricDefinition, suffix = ''): string {
  return `${LABEL.nodeName}:${metricName(definition)}${suffix}:rate${RATE_WINDOW}`;
}
export function clusterRate(definition: MetricDefinition, suffix = ''): string {
  return `${LABEL.cluster}:${metricName(definition)}${suffix}:rate${RATE_WINDOW}`;
}

export const RECORDED = {
  nodeForwardPackets: nodeRate(METRICS.forwardCount),
  nodeForwardBytes: nodeRate(METRICS.forwardBytes),
  nodeDropPackets: nodeRate(METRICS.dropCount),
  nodeDropBytes: nodeRate(METRICS.dropBytes),
  /** Lost packets (loss classes only) per node and direction. */
  nodeLostPackets: nodeRate(METRICS.dropCount, '_lost'),
  /** Every drop per node, by drop_class. */
  nodeDropPacketsByClass: nodeRate(METRICS.dropCount, '_by_class'),
  nodeTcpFlags: nodeRate(METRICS.tcpFlagCounters),
  nodeTcpRetransmits: nodeRate(METRICS.tcpConnectionStats, '_retransmitted_segments'),
  nodeTcpSentSegments: nodeRate(METRICS.tcpConnectionStats, '_sent_segments'),
  nodeTcpListenOverflows: nodeRate(METRICS.tcpConnectionStats, '_listen_overflows'),
  nodeInterfaceErrors: nodeRate(METRICS.interfaceStats, '_errors'),
  clusterForwardPackets: clusterRate(METRICS.forwardCount),
  clusterForwardBytes: clusterRate(METRICS.forwardBytes),
  clusterDropPackets: clusterRate(METRICS.dropCount),
  clusterDropBytes: clusterRate(METRICS.dropBytes),
  clusterLostPackets: clusterRate(METRICS.dropCount, '_lost'),
  clusterTcpFlags: clusterRate(METRICS.tcpFlagCounters),
  clusterTcpRetransmits: clusterRate(METRICS.tcpConnectionStats, '_retransmitted_segments'),
  clusterTcpSentSegments: clusterRate(METRICS.tcpConnectionStats, '_sent_segments'),
} as const;

const { cluster, nodeName, direction, reason, flag, interfaceName, statisticName, source } = LABEL;

/** `reason=~"..."` of every reason of a loss class. */
const LOSS_REASONS = `${reason}=~"${reasonRegex(LOSS_CLASSES)}"`;

function rateSum(definition: MetricDefinition, labels: LabelName[], matchers = {}): string {
  return `sum ${by(...labels)} (rate(${selector(definition, matchers)}[${RATE_WINDOW}]))`;
}

export const RECORDING_RULES: RuleGroup<RecordingRule>[] = [
  {
    name: 'kappie-node-rates',
    rules: [
      { record: RECORDED.nodeForwardPackets, expr: rateSum(METRICS.forwardCount, [cluster, nodeName, direction]) },
      { record: RECORDED.nodeForwardBytes, expr: rateSum(METRICS.forwardBytes, [cluster, nodeName, direction]) },
      { record: RECORDED.nodeDropPackets, expr: rateSum(METRICS.dropCount, [cluster, nodeName, reason, direction]) },
      { record: RECORDED.nodeDropBytes, expr: rateSum(METRICS.dropBytes, [cluster, nodeName, reason, direction]) },
      {
        record: RECORDED.nodeLostPackets,
        expr: `sum ${by(cluster, nodeName, direction)} (${RECORDED.nodeDropPackets}{${LOSS_REASONS}})`,
      },
      {
        record: RECORDED.nodeDropPacketsByClass,
        expr: `sum by (${cluster}, ${nodeName}, ${DROP_CLASS_LABEL}) (${withDropClass(RECORDED.nodeDropPackets)})`,
      },
      { record: RECORDED.nodeTcpFlags, expr: rateSum(METRICS.tcpFlagCounters, [cluster, nodeName, flag, direction]) },
      {
        record: RECORDED.nodeTcpRetransmits,
        expr: rateSum(METRICS.tcpConnectionStats, [cluster, nodeName], {
          [statisticName]: STATISTIC.tcpRetransmittedSegments,
        }),
      },
      {
        record: RECORDED.nodeTcpSentSegments,
        expr: rateSum(METRICS.tcpConnectionStats, [cluster, nodeName], { [statisticName]: STATISTIC.tcpSentSegments }),
      },
      {
        record: RECORDED.nodeTcpListenOverflows,
        expr: rateSum(METRICS.tcpConnectionStats, [cluster, nodeName], {
          [statisticName]: STATISTIC.tcpListenOverflows,
        }),
      },
      {
        record: RECORDED.nodeInterfaceErrors,
        expr: rateSum(METRICS.interfaceStats, [cluster, nodeName, interfaceName, statisticName], {
          [statisticName]: STATISTIC.interfaceErrors.join('|'),
        }),
      },
    ],
  },
  {
    name: 'kappie-cluster-rates',
    rules: [
      {
        record: RECORDED.clusterForwardPackets,
        expr: `sum ${by(cluster, direction)} (${RECORDED.nodeForwardPackets})`,
      },
      { record: RECORDED.clusterForwardBytes, expr: `sum ${by(cluster, direction)} (${RECORDED.nodeForwardBytes})` },
      {
        record: RECORDED.clusterDropPackets,
        expr: `sum ${by(cluster, reason, direction)} (${RECORDED.nodeDropPackets})`,
      },
      { record: RECORDED.clusterDropBytes, expr: `sum ${by(cluster, reason, direction)} (${RECORDED.nodeDropBytes})` },
      { record: RECORDED.clusterLostPackets, expr: `sum ${by(cluster, direction)} (${RECORDED.nodeLostPackets})` },
      { record: RECORDED.clusterTcpFlags, expr: `sum ${by(cluster, flag, direction)} (${RECORDED.nodeTcpFlags})` },
      { record: RECORDED.clusterTcpRetransmits, expr: `sum ${by(cluster)} (${RECORDED.nodeTcpRetransmits})` },
      { record: RECORDED.clusterTcpSentSegments, expr: `sum ${by(cluster)} (${RECORDED.nodeTcpSentSegments})` },
    ],
  },
];

/** Lost packets per node and reason: the loss classes only (housekeeping never alerts). */
const dropsByReason = `sum ${by(cluster, nodeName, reason)} (${RECORDED.nodeDropPackets}{${LOSS_REASONS}})`;

export const ALERT_RULES: RuleGroup<AlertRule>[] = [
  {
    name: 'kappie-alerts',
    rules: [
      {
        alert: 'KappieCollectorDown',
        expr: `up{job="${SCRAPE_JOB}"} == 0`,
        for: '5m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Kappie collector {{ $labels.instance }} is not being scraped',
          description:
            'Prometheus has failed to scrape the Kappie collector on {{ $labels.node_name }} ({{ $labels.instance }}) for 5 minutes: that node has no network metrics.',
        },
      },
      {
        alert: 'KappieSourceDown',
        expr: `${selector(METRICS.sourceUp)} == 0`,
        for: '10m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Kappie source {{ $labels.source }} is down on {{ $labels.node_name }}',
          description:
            'The {{ $labels.source }} source has failed every gathering for 10 minutes; its metrics are missing. The reason is in the collector log and on its status page (/).',
        },
      },
      {
        alert: 'KappieSourceLosingEvents',
        expr: `rate(${selector(METRICS.sourceLostEvents)}[${RATE_WINDOW}]) > 0`,
        for: '15m',
        labels: { severity: 'info' },
        annotations: {
          summary: 'Kappie source {{ $labels.source }} on {{ $labels.node_name }} is losing events',
          description:
            'The {{ $labels.source }} source could not count {{ $value | humanize }} events per second (kernel ring buffer overruns): its counts are lower bounds.',
        },
      },
      {
        alert: 'KappieDropRateSpike',
        expr:
          `(${dropsByReason} > ${THRESHOLDS.dropRateMinPerSecond}) and ` +
          `(${dropsByReason} > ${THRESHOLDS.dropRateSpikeFactor} * ` +
          `(avg_over_time((${dropsByReason})[1h:1m] offset ${RATE_WINDOW}) or ${dropsByReason} * 0))`,
        // Short: a reason never seen in the previous hour has no baseline (counts as 0) only until its own first
        // samples age past the offset, about 5 minutes.
        for: '2m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Packet loss ({{ $labels.reason }}) spiking on {{ $labels.node_name }}',
          description: `{{ $value | humanize }} packets/s lost for reason {{ $labels.reason }} on {{ $labels.node_name }}: more than ${THRESHOLDS.dropRateMinPerSecond}/s and ${THRESHOLDS.dropRateSpikeFactor}x the previous hour's average. Only reasons of the loss classes (congestion, policy, no path, damaged) alert.`,
        },
      },
      {
        alert: 'KappieTcpListenOverflows',
        expr: `${RECORDED.nodeTcpListenOverflows} > 0`,
        for: '5m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'TCP listen queues overflowing on {{ $labels.node_name }}',
          description:
            '{{ $value | humanize }} connections/s are dropped because an accept queue is full: a server on this node accepts too slowly or its backlog is too small.',
        },
      },
      {
        alert: 'KappieTcpRetransmitRatioHigh',
        expr:
          `(${RECORDED.nodeTcpRetransmits} / ${RECORDED.nodeTcpSentSegments} > ${THRESHOLDS.retransmitRatio}) ` +
          `and ${RECORDED.nodeTcpSentSegments} > ${THRESHOLDS.retransmitMinSegmentsPerSecond}`,
        for: '15m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'High TCP retransmit ratio on {{ $labels.node_name }}',
          description: `{{ $value | humanizePercentage }} of the TCP segments sent by {{ $labels.node_name }} are retransmissions (more than ${THRESHOLDS.retransmitRatio * 100}%): packet loss on the path.`,
        },
      },
      {
        alert: 'KappieInterfaceErrors',
        expr: `${RECORDED.nodeInterfaceErrors} > ${THRESHOLDS.interfaceErrorsPerSecond}`,
        for: '10m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Interface {{ $labels.interface_name }} on {{ $labels.node_name }} reports errors',
          description:
            '{{ $labels.statistic_name }} grows by {{ $value | humanize }}/s on {{ $labels.interface_name }} ({{ $labels.node_name }}): a driver, cabling or virtual NIC problem.',
        },
      },
    ],
  },
];

// Labels named in the annotations above, checked by the catalog test like the expressions.
export const ANNOTATION_LABELS: readonly LabelName[] = [nodeName, source, reason, interfaceName, statisticName];

/** The generated rule files: path relative to deploy/, and content. */
export function generatedRuleFiles(): { file: string; content: string }[] {
  const header = (what: string) =>
    `# Kappie ${what}. GENERATED from deploy/src/rules.ts (metric and label names come from the catalog):\n` +
    `# do not edit; run \`npm run generate -w deploy\` after changing the source.\n`;
  const render = (what: string, groups: readonly RuleGroup<unknown>[]) =>
    header(what) + stringify({ groups }, { lineWidth: 0 });
  return [
    { file: 'prometheus/rules/kappie-recording-rules.yml', content: render('recording rules', RECORDING_RULES) },
    { file: 'prometheus/rules/kappie-alert-rules.yml', content: render('alert rules', ALERT_RULES) },
  ];
}
