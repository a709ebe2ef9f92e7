/**
 * What each page shows: one entry per panel, with its PromQL (built from the catalog), its unit and the catalog
 * metrics it reads. The metrics decide on which platforms a panel can have data (a panel reading a Linux-only metric
 * is Linux-only), so the OS-aware behaviour needs no hand-kept list.
 */
import {
  DIRECTION,
  LABEL,
  METRICS,
  OTHER_REMOTE,
  TCP_FLAGS,
  TCP_STATES,
  type MetricKey,
  type Platform,
  type TcpFlag,
  type TcpState,
} from '@kappie/collector/catalog';
import {
  VARIABLE,
  anyOf,
  equals,
  increaseOverRange,
  legend,
  matchRegex,
  matchVariable,
  name,
  notEquals,
  rate,
  selector,
  sumBy,
} from './promql';

export type Visualization = 'timeseries' | 'stat' | 'table' | 'bargauge';

export interface PanelDefinition {
  readonly title: string;
  readonly description: string;
  readonly visualization: Visualization;
  /** Grafana unit id. */
  readonly unit: string;
  readonly expr: string;
  readonly legend: string;
  /** Instant queries for tables, stats and bar gauges (one value per series); range queries for time series. */
  readonly instant: boolean;
  readonly metrics: readonly MetricKey[];
}

export interface PageDefinition {
  readonly title: string;
  readonly subTitle: string;
  /** Extra variables the page needs besides cluster, OS and node. */
  readonly variables: readonly ('interface' | 'reason')[];
  /** Rows of panels, laid out side by side. */
  readonly rows: readonly (readonly PanelDefinition[])[];
}

function panel(
  definition: Omit<PanelDefinition, 'instant' | 'metrics'> & { instant?: boolean },
  ...metrics: MetricKey[]
): PanelDefinition {
  return { instant: definition.visualization !== 'timeseries', ...definition, metrics };
}

/** The platforms whose nodes can report every metric of a panel. */
export function panelPlatforms(definition: Pick<PanelDefinition, 'metrics'>): Platform[] {
  const all: Platform[] = ['linux', 'windows'];
  return all.filter((platform) =>
    definition.metrics.every((key) => (METRICS[key].platforms as readonly Platform[]).includes(platform)),
  );
}

export function isLinuxOnly(definition: Pick<PanelDefinition, 'metrics'>): boolean {
  const platforms = panelPlatforms(definition);
  return platforms.length === 1 && platforms[0] === 'linux';
}

/** Where the panel's values come from on Linux, from the catalog: the text shown when the panel is hidden. */
export function linuxOrigin(definition: Pick<PanelDefinition, 'metrics'>): string {
  return definition.metrics.map((key) => `${name(key)}: ${METRICS[key].origin.linux ?? 'Linux only'}`).join('; ');
}

const reason = matchVariable(LABEL.reason, VARIABLE.reason);
const iface = matchVariable(LABEL.interfaceName, VARIABLE.interface);
const ESTABLISHED: TcpState = 'ESTABLISHED';
const LISTEN: TcpState = 'LISTEN';
/** Sockets opening or closing: every state but the steady ones. A pile-up here is a handshake or teardown problem. */
const TRANSITIONAL_STATES = TCP_STATES.filter((state) => state !== ESTABLISHED && state !== LISTEN);
/** Flags that mean connections being opened or refused. */
const CONNECTION_FLAGS: readonly TcpFlag[] = TCP_FLAGS.filter((flag) => flag === 'SYN' || flag === 'RST');

/**
 * `statistic_name` values of kappie_interface_stats (the sysfs statistics names: `rx_errors`, `rx_fifo_errors`,
 * `tx_carrier_errors`, `collisions`, `rx_dropped`, ...) as regexes, one per kind of counter.
 */
export const INTERFACE_STATISTICS = {
  bytes: '(rx|tx)_bytes',
  packets: '(rx|tx)_packets',
  errors: '(rx|tx)_.*(err|frame|fifo|carrier).*|collisions',
  drops: '(rx|tx)_.*drop.*',
} as const;

/** TCP counters that mean trouble: retransmissions, resets, timeouts, listen queue overflows, aborts. */
export const TCP_TROUBLE_STATISTICS = '(?i).*(retrans|rst|reset|timeout|listen|overflow|abort).*';

const perInterface = (pattern: string) =>
  sumBy(
    [LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName],
    rate('interfaceStats', iface, matchRegex(LABEL.statisticName, pattern)),
  );

export const PAGES = {
  overview: {
    title: 'Overview',
    subTitle: 'Cluster and node network health at a glance',
    variables: [],
    rows: [
      [
        panel(
          {
            title: 'Nodes reporting',
            description: 'Collectors whose kappie_build_info Prometheus scraped, for the chosen OS and nodes.',
            visualization: 'stat',
            unit: 'short',
            expr: `count(${selector('buildInfo', matchVariable(LABEL.os, VARIABLE.os))})`,
            legend: 'nodes',
          },
          'buildInfo',
        ),
        panel(
          {
            title: 'Sources down',
            description: 'Collector sources that failed their last gathering (kappie_source_up == 0).',
            visualization: 'stat',
            unit: 'short',
            expr: `count(${selector('sourceUp')} == 0) or vector(0)`,
            legend: 'sources down',
          },
          'sourceUp',
        ),
        panel(
          {
            title: 'Dropped packets',
            description: 'Packets the chosen nodes dropped per second, all reasons and directions.',
            visualization: 'stat',
            unit: 'pps',
            expr: `sum(${rate('dropCount')})`,
            legend: 'drops/s',
          },
          'dropCount',
        ),
      ],
      [
        panel(
          {
            title: 'Uplink throughput',
            description: 'Bits per second received (ingress) and sent (egress) on the node uplinks.',
            visualization: 'timeseries',
            unit: 'bps',
            expr: `8 * ${sumBy([LABEL.nodeName, LABEL.direction], rate('forwardBytes'))}`,
            legend: legend(LABEL.nodeName, LABEL.direction),
          },
          'forwardBytes',
        ),
        panel(
          {
            title: 'Drops by node',
            description: 'Dropped packets per second on each node.',
            visualization: 'timeseries',
            unit: 'pps',
            expr: sumBy([LABEL.nodeName], rate('dropCount')),
            legend: legend(LABEL.nodeName),
          },
          'dropCount',
        ),
      ],
      [
        panel(
          {
            title: 'Established TCP connections',
            description: 'Sockets in the ESTABLISHED state on each node.',
            visualization: 'timeseries',
            unit: 'short',
            expr: sumBy([LABEL.nodeName], selector('tcpState', equals(LABEL.state, ESTABLISHED))),
            legend: legend(LABEL.nodeName),
          },
          'tcpState',
        ),
        panel(
          {
            title: 'Collector sources',
            description: '1 when a source gathered successfully in its last scrape, 0 when it failed.',
            visualization: 'table',
            unit: 'bool',
            expr: `min by (${LABEL.nodeName}, ${LABEL.source}) (${selector('sourceUp')})`,
            legend: legend(LABEL.nodeName, LABEL.source),
          },
          'sourceUp',
        ),
      ],
    ],
  },
  drops: {
    title: 'Drops',
    subTitle: 'Packets the nodes dropped, by kernel drop reason and direction',
    variables: ['reason'],
    rows: [
      [
        panel(
          {
            title: 'Drops by reason',
            description: 'Dropped packets per second by drop reason.',
            visualization: 'timeseries',
            unit: 'pps',
            expr: sumBy([LABEL.reason], rate('dropCount', reason)),
            legend: legend(LABEL.reason),
          },
          'dropCount',
        ),
        panel(
          {
            title: 'Drops by direction',
            description: `Dropped packets per second, ${DIRECTION.ingress} and ${DIRECTION.egress}.`,
            visualization: 'timeseries',
            unit: 'pps',
            expr: sumBy([LABEL.direction], rate('dropCount', reason)),
            legend: legend(LABEL.direction),
          },
          'dropCount',
        ),
      ],
      [
        panel(
          {
            title: 'Top drop reasons',
            description: 'The ten reasons that dropped the most packets over the time range.',
            visualization: 'bargauge',
            unit: 'short',
            expr: `topk(10, ${sumBy([LABEL.reason, LABEL.direction], increaseOverRange('dropCount', reason))})`,
            legend: legend(LABEL.reason, LABEL.direction),
          },
          'dropCount',
        ),
        panel(
          {
            title: 'Dropped bytes by reason',
            description: 'Dropped bytes per second, where a kernel facility counts dropped bytes.',
            visualization: 'timeseries',
            unit: 'Bps',
            expr: sumBy([LABEL.reason], rate('dropBytes', reason)),
            legend: legend(LABEL.reason),
          },
          'dropBytes',
        ),
      ],
      [
        panel(
          {
            title: 'Drops by node',
            description: 'Dropped packets per second on each node, for the chosen reasons.',
            visualization: 'timeseries',
            unit: 'pps',
            expr: sumBy([LABEL.nodeName], rate('dropCount', reason)),
            legend: legend(LABEL.nodeName),
          },
          'dropCount',
        ),
      ],
    ],
  },
  tcp: {
    title: 'TCP',
    subTitle: 'Socket states, flags, TCP, IP and UDP counters, and the busiest remote peers',
    variables: [],
    rows: [
      [
        panel(
          {
            title: 'Sockets by state',
            description: 'TCP sockets (IPv4 and IPv6) in each state.',
            visualization: 'timeseries',
            unit: 'short',
            expr: sumBy([LABEL.state], selector('tcpState')),
            legend: legend(LABEL.state),
          },
          'tcpState',
        ),
        panel(
          {
            title: 'Opening and closing sockets',
            description: 'Sockets in handshake or teardown states; a pile-up points at SYN floods or slow closes.',
            visualization: 'timeseries',
            unit: 'short',
            expr: sumBy(
              [LABEL.nodeName, LABEL.state],
              selector('tcpState', matchRegex(LABEL.state, anyOf(TRANSITIONAL_STATES))),
            ),
            legend: legend(LABEL.nodeName, LABEL.state),
          },
          'tcpState',
        ),
      ],
      [
        panel(
          {
            title: 'Segments by flag',
            description: 'TCP segments per second by flag and direction.',
            visualization: 'timeseries',
            unit: 'pps',
            expr: sumBy([LABEL.flag, LABEL.direction], rate('tcpFlagCounters')),
            legend: legend(LABEL.flag, LABEL.direction),
          },
          'tcpFlagCounters',
        ),
        panel(
          {
            title: 'Connection attempts and resets',
            description: 'SYN and RST segments per second on each node.',
            visualization: 'timeseries',
            unit: 'pps',
            expr: sumBy(
              [LABEL.nodeName, LABEL.flag],
              rate('tcpFlagCounters', matchRegex(LABEL.flag, anyOf(CONNECTION_FLAGS))),
            ),
            legend: legend(LABEL.nodeName, LABEL.flag),
          },
          'tcpFlagCounters',
        ),
      ],
      [
        panel(
          {
            title: 'TCP trouble counters',
            description: 'Retransmissions, resets, timeouts and listen overflows per second.',
            visualization: 'timeseries',
            unit: 'short',
            expr: sumBy(
              [LABEL.statisticName],
              rate('tcpConnectionStats', matchRegex(LABEL.statisticName, TCP_TROUBLE_STATISTICS)),
            ),
            legend: legend(LABEL.statisticName),
          },
          'tcpConnectionStats',
        ),
        panel(
          {
            title: 'Top remote peers',
            description:
              'Remote addresses and ports with the most non-listening sockets (the "other" series excluded).',
            visualization: 'table',
            unit: 'short',
            expr: `topk(10, ${sumBy([LABEL.address, LABEL.port], selector('tcpConnectionRemote', notEquals(LABEL.address, OTHER_REMOTE)))})`,
            legend: legend(LABEL.address, LABEL.port),
          },
          'tcpConnectionRemote',
        ),
      ],
      [
        panel(
          {
            title: 'IP counters',
            description: 'IP protocol counters per second (no route, header and address errors, discards).',
            visualization: 'timeseries',
            unit: 'short',
            expr: sumBy([LABEL.statisticName], rate('ipConnectionStats')),
            legend: legend(LABEL.statisticName),
          },
          'ipConnectionStats',
        ),
        panel(
          {
            title: 'UDP sockets',
            description: 'UDP sockets in use on each node.',
            visualization: 'timeseries',
            unit: 'short',
            expr: sumBy([LABEL.nodeName], selector('udpActiveSockets')),
            legend: legend(LABEL.nodeName),
          },
          'udpActiveSockets',
        ),
      ],
    ],
  },
  interfaces: {
    title: 'Interfaces',
    subTitle: 'Uplink traffic, and bytes, errors and drops per interface',
    variables: ['interface'],
    rows: [
      [
        panel(
          {
            title: 'Uplink throughput',
            description: 'Bits per second on the interfaces holding the default routes.',
            visualization: 'timeseries',
            unit: 'bps',
            expr: `8 * ${sumBy([LABEL.nodeName, LABEL.direction], rate('forwardBytes'))}`,
            legend: legend(LABEL.nodeName, LABEL.direction),
          },
          'forwardBytes',
        ),
        panel(
          {
            title: 'Uplink packets',
            description: 'Packets per second on the interfaces holding the default routes.',
            visualization: 'timeseries',
            unit: 'pps',
            expr: sumBy([LABEL.nodeName, LABEL.direction], rate('forwardCount')),
            legend: legend(LABEL.nodeName, LABEL.direction),
          },
          'forwardCount',
        ),
      ],
      [
        panel(
          {
            title: 'Throughput by interface',
            description: 'Bits per second per interface; pod-side interfaces are summed into one series by default.',
            visualization: 'timeseries',
            unit: 'bps',
            expr: `8 * ${perInterface(INTERFACE_STATISTICS.bytes)}`,
            legend: legend(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName),
          },
          'interfaceStats',
        ),
        panel(
          {
            title: 'Packets by interface',
            description: 'Packets per second per interface.',
            visualization: 'timeseries',
            unit: 'pps',
            expr: perInterface(INTERFACE_STATISTICS.packets),
            legend: legend(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName),
          },
          'interfaceStats',
        ),
      ],
      [
        panel(
          {
            title: 'Errors by interface',
            description: 'Receive and transmit errors per second (frame, FIFO, carrier, collisions).',
            visualization: 'timeseries',
            unit: 'pps',
            expr: perInterface(INTERFACE_STATISTICS.errors),
            legend: legend(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName),
          },
          'interfaceStats',
        ),
        panel(
          {
            title: 'Drops by interface',
            description: 'Packets the interfaces dropped per second.',
            visualization: 'timeseries',
            unit: 'pps',
            expr: perInterface(INTERFACE_STATISTICS.drops),
            legend: legend(LABEL.nodeName, LABEL.interfaceName, LABEL.statisticName),
          },
          'interfaceStats',
        ),
      ],
    ],
  },
} as const satisfies Record<string, PageDefinition>;

export type PageKey = keyof typeof PAGES;
export const PAGE_KEYS = Object.keys(PAGES) as PageKey[];
