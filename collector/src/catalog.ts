/**
 * THE metric catalog: every metric Kappie exports, with its type, labels, help text and the platforms that report it.
 *
 * Pure data on purpose (no Node imports): the collector, the dashboards, the Grafana plugin and the README's metric
 * table all read these definitions, so a renamed metric or label breaks a build or a test, never a user's dashboard.
 * Names are the AKS Network Observability names without their prefix; the prefix (`kappie_` by default,
 * `networkobservability_` with --compat retina, whose other differences are in compat-retina.ts) is applied by
 * `metricName()`.
 */

export type Platform = 'linux' | 'windows';
export type MetricType = 'counter' | 'gauge';

/** Every label name used by any metric, spelled once. */
export const LABEL = {
  direction: 'direction',
  reason: 'reason',
  state: 'state',
  address: 'address',
  port: 'port',
  statisticName: 'statistic_name',
  flag: 'flag',
  interfaceName: 'interface_name',
  source: 'source',
  version: 'version',
  os: 'os',
  arch: 'arch',
  kernel: 'kernel',
  /** Set on every series: the downward API's NODE_NAME, else the hostname. */
  nodeName: 'node_name',
  /** Set on every series only when configured, so a scraper that adds its own `cluster` does not clash. */
  cluster: 'cluster',
} as const;
export type LabelName = (typeof LABEL)[keyof typeof LABEL];

export const DIRECTION = { ingress: 'ingress', egress: 'egress', unknown: 'unknown' } as const;
export type Direction = (typeof DIRECTION)[keyof typeof DIRECTION];

/** TCP states, named as the kernel's tcp_states.h and Windows' MIB_TCP_STATE both know them. */
export const TCP_STATES = [
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
] as const;
export type TcpState = (typeof TCP_STATES)[number];

export const TCP_FLAGS = ['SYN', 'SYNACK', 'ACK', 'FIN', 'RST', 'PSH', 'URG', 'ECE', 'CWR'] as const;
export type TcpFlag = (typeof TCP_FLAGS)[number];

/** `interface_name` of the one series that sums every pod-side interface (veth*, azv*, lxc*, ...) by default. */
export const POD_INTERFACES_AGGREGATE = 'pod_interfaces';
/** `address`/`port` of the series that sums every remote peer outside the top-K. */
export const OTHER_REMOTE = 'other';

export interface MetricDefinition {
  /** Name without the prefix, e.g. `drop_count`. */
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  /** Labels besides node_name and cluster, in the order they are written. */
  readonly labels: readonly LabelName[];
  readonly platforms: readonly Platform[];
  /** Where the values come from on each platform, for the README and the plugin's help texts. */
  readonly origin: Partial<Record<Platform, string>>;
  /** Unit of the value, for dashboards (Grafana unit ids). */
  readonly unit: 'packets' | 'bytes' | 'sockets' | 'short' | 'seconds' | 'bool';
}

function define<const T extends MetricDefinition>(definition: T): T {
  return definition;
}

export const METRICS = {
  forwardCount: define({
    name: 'forward_count',
    type: 'counter',
    help: 'Packets received (ingress) and sent (egress) on the node uplink interfaces.',
    labels: [LABEL.direction],
    platforms: ['linux', 'windows'],
    origin: {
      linux:
        '/proc/net/dev rx/tx packets of the uplinks: default-route interfaces resolved through bridges and masters (rtnetlink), or --uplink-interfaces',
      windows: 'GetIfTable2 unicast+non-unicast packets of the uplink adapters',
    },
    unit: 'packets',
  }),
  forwardBytes: define({
    name: 'forward_bytes',
    type: 'counter',
    help: 'Bytes received (ingress) and sent (egress) on the node uplink interfaces.',
    labels: [LABEL.direction],
    platforms: ['linux', 'windows'],
    origin: {
      linux:
        '/proc/net/dev rx/tx bytes of the uplinks: default-route interfaces resolved through bridges and masters (rtnetlink), or --uplink-interfaces',
      windows: 'GetIfTable2 octets of the uplink adapters',
    },
    unit: 'bytes',
  }),
  dropCount: define({
    name: 'drop_count',
    type: 'counter',
    help: 'Packets dropped by the node, by the kernel drop reason and the direction of the path they died on.',
    labels: [LABEL.reason, LABEL.direction],
    platforms: ['linux', 'windows'],
    origin: {
      linux: 'skb:kfree_skb tracepoint (reason and location); without tracefs, kernel drop counters',
      windows: 'Hyper-V virtual network adapter drop reasons and VFP port counters',
    },
    unit: 'packets',
  }),
  dropBytes: define({
    name: 'drop_bytes',
    type: 'counter',
    help: 'Bytes dropped by the node, by reason and direction, where a kernel facility counts dropped bytes.',
    labels: [LABEL.reason, LABEL.direction],
    // Windows is not listed: the Hyper-V and VFP drop counters count packets, never bytes.
    platforms: ['linux'],
    origin: {
      linux:
        'a kprobe on the kernel drop function summed by a hist trigger, where the kernel has kprobe events and hist triggers (not on kernels without them)',
    },
    unit: 'bytes',
  }),
  tcpState: define({
    name: 'tcp_state',
    type: 'gauge',
    help: 'TCP sockets in each state (IPv4 and IPv6), every state present including zero.',
    labels: [LABEL.state],
    platforms: ['linux', 'windows'],
    origin: {
      linux: 'netlink SOCK_DIAG dump of TCP sockets, or /proc/net/tcp and /proc/net/tcp6 (--tcp-socket-reader)',
      windows: 'GetExtendedTcpTable (IPv4 and IPv6)',
    },
    unit: 'sockets',
  }),
  tcpConnectionRemote: define({
    name: 'tcp_connection_remote',
    type: 'gauge',
    help: 'Non-listening TCP sockets per remote address and port: the top-K peers plus one "other" series.',
    labels: [LABEL.address, LABEL.port],
    platforms: ['linux', 'windows'],
    origin: {
      linux:
        'netlink SOCK_DIAG dump of TCP sockets, or /proc/net/tcp and /proc/net/tcp6 (--tcp-socket-reader); skipped above --tcp-scan-max-sockets',
      windows: 'GetExtendedTcpTable (IPv4 and IPv6); skipped above --tcp-scan-max-sockets',
    },
    unit: 'sockets',
  }),
  tcpConnectionStats: define({
    name: 'tcp_connection_stats',
    type: 'counter',
    help: 'TCP protocol counters (retransmits, resets, listen overflows, timeouts, ...) by statistic name.',
    labels: [LABEL.statisticName],
    platforms: ['linux', 'windows'],
    origin: {
      linux: '/proc/net/snmp Tcp, /proc/net/netstat TcpExt and MPTcpExt',
      windows: 'GetTcpStatisticsEx2 (IPv4+IPv6) and VFP port TCP counters',
    },
    unit: 'short',
  }),
  tcpFlagCounters: define({
    name: 'tcp_flag_counters',
    type: 'counter',
    help: 'TCP segments seen by the node per flag and direction.',
    labels: [LABEL.flag, LABEL.direction],
    platforms: ['linux', 'windows'],
    origin: {
      linux:
        'nftables table "kappie" (inet; bridge for a bridge-port uplink): segments received and sent by the uplinks',
      windows: 'VFP port counters',
    },
    unit: 'packets',
  }),
  ipConnectionStats: define({
    name: 'ip_connection_stats',
    type: 'counter',
    help: 'IP protocol counters (no-route, header and address errors, discards, ...) by statistic name.',
    labels: [LABEL.statisticName],
    platforms: ['linux', 'windows'],
    origin: {
      linux: '/proc/net/snmp Ip and Icmp, /proc/net/netstat IpExt, /proc/net/snmp6 Ip6 and Icmp6',
      windows: 'GetIpStatisticsEx and GetIcmpStatisticsEx (IPv4 and IPv6)',
    },
    unit: 'short',
  }),
  udpConnectionStats: define({
    name: 'udp_connection_stats',
    type: 'counter',
    help: 'UDP protocol counters (no-port datagrams, buffer errors, checksum errors, ...) by statistic name.',
    labels: [LABEL.statisticName],
    platforms: ['linux', 'windows'],
    origin: {
      linux: '/proc/net/snmp Udp and UdpLite, /proc/net/snmp6 Udp6 and UdpLite6',
      windows: 'GetUdpStatisticsEx2, else GetUdpStatisticsEx (IPv4 and IPv6)',
    },
    unit: 'short',
  }),
  udpActiveSockets: define({
    name: 'udp_active_sockets',
    type: 'gauge',
    help: 'UDP sockets in use (IPv4 and IPv6).',
    labels: [],
    platforms: ['linux', 'windows'],
    origin: {
      linux: '/proc/net/sockstat and /proc/net/sockstat6',
      windows: 'GetExtendedUdpTable (IPv4 and IPv6)',
    },
    unit: 'sockets',
  }),
  interfaceStats: define({
    name: 'interface_stats',
    type: 'counter',
    help: 'Per-interface counters (bytes, packets, errors, drops, ...); pod-side interfaces summed into one series by default.',
    labels: [LABEL.interfaceName, LABEL.statisticName],
    platforms: ['linux', 'windows'],
    origin: {
      linux:
        "/proc/net/dev, plus sysfs statistics it lacks; the NIC driver's own statistics (ethtool -S) of the uplinks",
      windows: 'GetIfTable2',
    },
    unit: 'short',
  }),
  buildInfo: define({
    name: 'build_info',
    type: 'gauge',
    help: 'Always 1: the collector version, OS, architecture and kernel of this node.',
    labels: [LABEL.version, LABEL.os, LABEL.arch, LABEL.kernel],
    platforms: ['linux', 'windows'],
    origin: { linux: 'the collector itself', windows: 'the collector itself' },
    unit: 'short',
  }),
  sourceUp: define({
    name: 'source_up',
    type: 'gauge',
    help: '1 when the source gathered successfully in this scrape, 0 when it failed (the reason is logged and on the / page).',
    labels: [LABEL.source],
    platforms: ['linux', 'windows'],
    origin: { linux: 'the collector itself', windows: 'the collector itself' },
    unit: 'bool',
  }),
  sourceCollectionDuration: define({
    name: 'source_collection_duration_seconds',
    type: 'gauge',
    help: 'How long the gathering spent on the source in its last gathering (kernel work the source started ahead on another thread counts only while the gathering waited for it).',
    labels: [LABEL.source],
    platforms: ['linux', 'windows'],
    origin: { linux: 'the collector itself', windows: 'the collector itself' },
    unit: 'seconds',
  }),
  sourceLostEvents: define({
    name: 'source_lost_events_total',
    type: 'counter',
    help: 'Events a streaming source could not count (kernel ring buffer overruns, parse failures): never silently missing. Only for sources that can lose events.',
    labels: [LABEL.source],
    platforms: ['linux'],
    origin: {
      linux:
        'the drops source counting tracefs events (source drop_reasons): per-CPU ring buffer overruns and hist table Dropped; no series for sources that read counters',
    },
    unit: 'short',
  }),
} as const;

export type MetricKey = keyof typeof METRICS;
export const METRIC_KEYS = Object.keys(METRICS) as MetricKey[];

/** The data-plane metrics of the AKS catalog (the rest are the collector's own health). */
export const NETWORK_METRIC_KEYS: readonly MetricKey[] = [
  'forwardCount',
  'forwardBytes',
  'dropCount',
  'dropBytes',
  'tcpState',
  'tcpConnectionRemote',
  'tcpConnectionStats',
  'tcpFlagCounters',
  'ipConnectionStats',
  'udpConnectionStats',
  'udpActiveSockets',
  'interfaceStats',
];

export const DEFAULT_METRIC_PREFIX = 'kappie_';
/** The prefix Retina and the AKS add-on's public dashboards query. */
export const RETINA_METRIC_PREFIX = 'networkobservability_';

/** The full name on the wire. */
export function metricName(definition: Pick<MetricDefinition, 'name'>, prefix: string = DEFAULT_METRIC_PREFIX): string {
  return `${prefix}${definition.name}`;
}

/** Prometheus metric name rule: the prefix must keep every name valid. */
export const METRIC_PREFIX_PATTERN = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
