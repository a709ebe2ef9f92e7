/**
 * `promtool test rules` unit tests for the generated rules, written with catalog names and rendered to the YAML
 * promtool reads. Input series use a 1 minute interval: `a+bxN` is N+1 samples starting at a, growing by b per minute,
 * so a counter growing by 60 per sample grows by 1 per second.
 */
import { LABEL, METRICS, metricName, type MetricDefinition } from '@kappie/collector/catalog';
import { DROP_CLASS_LABEL } from '@kappie/collector/drop-reason-classes';
import { ALERT_RULES, RECORDED, SCRAPE_JOB, STATISTIC, THRESHOLDS } from '../../src/rules';

const { cluster, nodeName, direction, reason, statisticName, interfaceName, source } = LABEL;
const CLUSTER = 'aks-test';

function series(name: string, labels: Record<string, string>): string {
  const body = Object.entries(labels)
    .map(([label, value]) => `${label}="${value}"`)
    .join(',');
  return `${name}{${body}}`;
}
function metric(definition: MetricDefinition, labels: Record<string, string>): string {
  return series(metricName(definition), { job: SCRAPE_JOB, [cluster]: CLUSTER, ...labels });
}
/** Per-minute counter increase for a rate in per second. */
const perMinute = (perSecond: number) => perSecond * 60;

interface PromqlExpectation {
  expr: string;
  eval_time: string;
  exp_samples: { labels: string; value: number }[];
}
interface AlertExpectation {
  alertname: string;
  eval_time: string;
  exp_alerts: { exp_labels: Record<string, string>; exp_annotations?: Record<string, string> }[];
}
interface PromtoolTest {
  name: string;
  interval: string;
  input_series: { series: string; values: string }[];
  promql_expr_test?: PromqlExpectation[];
  alert_rule_test?: AlertExpectation[];
}

/** Alerts firing at a time, as ALERTS series (labels only; annotations are checked in the collector-down case). */
function firing(alertname: string, eval_time: string, labelSets: Record<string, string>[]): PromqlExpectation {
  const severity = ALERT_RULES.flatMap((group) => group.rules).find((rule) => rule.alert === alertname)?.labels
    .severity;
  if (!severity) throw new Error(`no alert rule ${alertname}`);
  return {
    expr: `ALERTS{alertname="${alertname}",alertstate="firing"}`,
    eval_time,
    exp_samples: labelSets.map((labels) => ({
      labels: series('ALERTS', { alertname, alertstate: 'firing', severity, ...labels }),
      value: 1,
    })),
  };
}

export function promtoolTests(): PromtoolTest[] {
  const node1 = { [nodeName]: 'node-1' };
  const node2 = { [nodeName]: 'node-2' };
  return [
    {
      name: 'forward rates per node and per cluster',
      interval: '1m',
      input_series: [
        { series: metric(METRICS.forwardCount, { ...node1, [direction]: 'ingress' }), values: `0+${perMinute(10)}x15` },
        { series: metric(METRICS.forwardCount, { ...node2, [direction]: 'ingress' }), values: `0+${perMinute(5)}x15` },
      ],
      promql_expr_test: [
        {
          expr: RECORDED.nodeForwardPackets,
          eval_time: '10m',
          exp_samples: [
            {
              labels: series(RECORDED.nodeForwardPackets, { [cluster]: CLUSTER, ...node1, [direction]: 'ingress' }),
              value: 10,
            },
            {
              labels: series(RECORDED.nodeForwardPackets, { [cluster]: CLUSTER, ...node2, [direction]: 'ingress' }),
              value: 5,
            },
          ],
        },
        {
          expr: RECORDED.clusterForwardPackets,
          eval_time: '10m',
          exp_samples: [
            {
              labels: series(RECORDED.clusterForwardPackets, { [cluster]: CLUSTER, [direction]: 'ingress' }),
              value: 15,
            },
          ],
        },
      ],
    },
    {
      name: 'a drop reason spiking alerts; a steady high drop rate does not',
      interval: '1m',
      input_series: [
        {
          // 1/s for 70 minutes, then 100/s: a spike.
          series: metric(METRICS.dropCount, { ...node1, [reason]: 'NETFILTER_DROP', [direction]: 'ingress' }),
          values: `0+${perMinute(1)}x70 ${perMinute(1) * 70 + perMinute(100)}+${perMinute(100)}x20`,
        },
        {
          // 50/s all along: high, but normal for this node.
          series: metric(METRICS.dropCount, { ...node2, [reason]: 'NO_SOCKET', [direction]: 'ingress' }),
          values: `0+${perMinute(50)}x90`,
        },
      ],
      promql_expr_test: [
        firing('KappieDropRateSpike', '65m', []),
        firing('KappieDropRateSpike', '85m', [{ [cluster]: CLUSTER, ...node1, [reason]: 'NETFILTER_DROP' }]),
      ],
    },
    {
      name: 'a new loss reason above the minimum rate alerts (no history to compare with)',
      interval: '1m',
      input_series: [
        {
          series: metric(METRICS.dropCount, { ...node1, [reason]: 'QDISC_DROP', [direction]: 'egress' }),
          values: `_x30 0+${perMinute(THRESHOLDS.dropRateMinPerSecond * 3)}x20`,
        },
      ],
      promql_expr_test: [
        firing('KappieDropRateSpike', '35m', [{ [cluster]: CLUSTER, ...node1, [reason]: 'QDISC_DROP' }]),
      ],
    },
    {
      name: 'drops that are not loss never alert, however sudden (socket churn, closed ports, TCP state, unknown)',
      interval: '1m',
      input_series: [
        ...['QUEUE_PURGE', 'NO_SOCKET', 'TCP_INVALID_SEQUENCE', 'NOT_SPECIFIED', 'SOME_FUTURE_REASON'].map((name) => ({
          series: metric(METRICS.dropCount, { ...node1, [reason]: name, [direction]: 'ingress' }),
          values: `0+${perMinute(1)}x60 ${perMinute(1) * 60 + perMinute(500)}+${perMinute(500)}x20`,
        })),
      ],
      promql_expr_test: [firing('KappieDropRateSpike', '75m', [])],
    },
    {
      name: 'lost packets and drops by class: loss classes only in _lost, unknown reasons unclassified',
      interval: '1m',
      input_series: [
        {
          series: metric(METRICS.dropCount, { ...node1, [reason]: 'NETFILTER_DROP', [direction]: 'ingress' }),
          values: `0+${perMinute(3)}x15`,
        },
        {
          series: metric(METRICS.dropCount, { ...node1, [reason]: 'TCP_LISTEN_OVERFLOW', [direction]: 'ingress' }),
          values: `0+${perMinute(2)}x15`,
        },
        {
          series: metric(METRICS.dropCount, { ...node1, [reason]: 'QUEUE_PURGE', [direction]: 'unknown' }),
          values: `0+${perMinute(40)}x15`,
        },
        {
          series: metric(METRICS.dropCount, { ...node1, [reason]: 'NO_SOCKET', [direction]: 'ingress' }),
          values: `0+${perMinute(20)}x15`,
        },
        {
          series: metric(METRICS.dropCount, { ...node1, [reason]: '0x10003', [direction]: 'ingress' }),
          values: `0+${perMinute(5)}x15`,
        },
      ],
      promql_expr_test: [
        {
          expr: RECORDED.nodeLostPackets,
          eval_time: '10m',
          exp_samples: [
            {
              labels: series(RECORDED.nodeLostPackets, { [cluster]: CLUSTER, ...node1, [direction]: 'ingress' }),
              value: 5,
            },
          ],
        },
        {
          expr: RECORDED.clusterLostPackets,
          eval_time: '10m',
          exp_samples: [
            { labels: series(RECORDED.clusterLostPackets, { [cluster]: CLUSTER, [direction]: 'ingress' }), value: 5 },
          ],
        },
        {
          expr: RECORDED.nodeDropPacketsByClass,
          eval_time: '10m',
          exp_samples: [
            ['policy', 3],
            ['congestion', 2],
            ['housekeeping', 40],
            ['not_for_node', 20],
            ['unclassified', 5],
          ].map(([dropClass, value]) => ({
            labels: series(RECORDED.nodeDropPacketsByClass, {
              [cluster]: CLUSTER,
              ...node1,
              [DROP_CLASS_LABEL]: dropClass as string,
            }),
            value: value as number,
          })),
        },
      ],
    },
    {
      name: 'retransmit ratio above the threshold alerts; below it or on an idle node it does not',
      interval: '1m',
      input_series: [
        // node-1: 1000 segments/s, 100 retransmitted (10%).
        {
          series: metric(METRICS.tcpConnectionStats, { ...node1, [statisticName]: STATISTIC.tcpSentSegments }),
          values: `0+${perMinute(1000)}x40`,
        },
        {
          series: metric(METRICS.tcpConnectionStats, { ...node1, [statisticName]: STATISTIC.tcpRetransmittedSegments }),
          values: `0+${perMinute(100)}x40`,
        },
        // node-2: 1000 segments/s, 10 retransmitted (1%).
        {
          series: metric(METRICS.tcpConnectionStats, { ...node2, [statisticName]: STATISTIC.tcpSentSegments }),
          values: `0+${perMinute(1000)}x40`,
        },
        {
          series: metric(METRICS.tcpConnectionStats, { ...node2, [statisticName]: STATISTIC.tcpRetransmittedSegments }),
          values: `0+${perMinute(10)}x40`,
        },
        // node-3: idle (1 segment/s), every one retransmitted.
        {
          series: metric(METRICS.tcpConnectionStats, {
            [nodeName]: 'node-3',
            [statisticName]: STATISTIC.tcpSentSegments,
          }),
          values: `0+${perMinute(1)}x40`,
        },
        {
          series: metric(METRICS.tcpConnectionStats, {
            [nodeName]: 'node-3',
            [statisticName]: STATISTIC.tcpRetransmittedSegments,
          }),
          values: `0+${perMinute(1)}x40`,
        },
      ],
      promql_expr_test: [
        firing('KappieTcpRetransmitRatioHigh', '10m', []),
        firing('KappieTcpRetransmitRatioHigh', '30m', [{ [cluster]: CLUSTER, ...node1 }]),
        {
          expr: RECORDED.clusterTcpRetransmits,
          eval_time: '30m',
          exp_samples: [{ labels: series(RECORDED.clusterTcpRetransmits, { [cluster]: CLUSTER }), value: 111 }],
        },
      ],
    },
    {
      name: 'listen overflows alert; an unchanged counter does not',
      interval: '1m',
      input_series: [
        {
          series: metric(METRICS.tcpConnectionStats, { ...node1, [statisticName]: STATISTIC.tcpListenOverflows }),
          values: `0+${perMinute(2)}x20`,
        },
        {
          series: metric(METRICS.tcpConnectionStats, { ...node2, [statisticName]: STATISTIC.tcpListenOverflows }),
          values: `1234x20`,
        },
      ],
      promql_expr_test: [firing('KappieTcpListenOverflows', '15m', [{ [cluster]: CLUSTER, ...node1 }])],
    },
    {
      name: 'interface errors alert per interface and statistic',
      interval: '1m',
      input_series: [
        {
          series: metric(METRICS.interfaceStats, { ...node1, [interfaceName]: 'eth0', [statisticName]: 'rx_errors' }),
          values: `0+${perMinute(5)}x20`,
        },
        // Packets are not errors.
        {
          series: metric(METRICS.interfaceStats, { ...node1, [interfaceName]: 'eth0', [statisticName]: 'rx_packets' }),
          values: `0+${perMinute(1e5)}x20`,
        },
      ],
      promql_expr_test: [
        firing('KappieInterfaceErrors', '18m', [
          { [cluster]: CLUSTER, ...node1, [interfaceName]: 'eth0', [statisticName]: 'rx_errors' },
        ]),
      ],
    },
    {
      name: 'a source down alerts after 10 minutes with the source named',
      interval: '1m',
      input_series: [
        { series: metric(METRICS.sourceUp, { ...node1, [source]: 'tcp_flags' }), values: '1x5 0x20' },
        { series: metric(METRICS.sourceUp, { ...node1, [source]: 'sockstat' }), values: '1x25' },
      ],
      promql_expr_test: [
        firing('KappieSourceDown', '12m', []),
        firing('KappieSourceDown', '20m', [{ job: SCRAPE_JOB, [cluster]: CLUSTER, ...node1, [source]: 'tcp_flags' }]),
      ],
    },
    {
      name: 'a collector that cannot be scraped alerts after 5 minutes, with readable annotations',
      interval: '1m',
      input_series: [
        { series: series('up', { job: SCRAPE_JOB, instance: '10.0.0.4:10093', ...node1 }), values: '1x3 0x10' },
      ],
      alert_rule_test: [
        { alertname: 'KappieCollectorDown', eval_time: '5m', exp_alerts: [] },
        {
          alertname: 'KappieCollectorDown',
          eval_time: '10m',
          exp_alerts: [
            {
              exp_labels: { severity: 'warning', job: SCRAPE_JOB, instance: '10.0.0.4:10093', ...node1 },
              exp_annotations: {
                summary: 'Kappie collector 10.0.0.4:10093 is not being scraped',
                description:
                  'Prometheus has failed to scrape the Kappie collector on node-1 (10.0.0.4:10093) for 5 minutes: that node has no network metrics.',
              },
            },
          ],
        },
      ],
    },
  ];
}
