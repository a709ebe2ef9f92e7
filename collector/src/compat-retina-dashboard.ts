/**
 * What Retina's published node dashboard ("Kubernetes / Networking / Clusters", grafana.com 18814; in Retina's
 * repository deploy/grafana-dashboards/clusters.json, read at commit 532c5aa2) queries, panel by panel, as facts:
 * the metric, the label values, the aggregation. And what each panel shows with Kappie in `--compat retina` mode.
 *
 * The README's panel table is generated from this list, and the stack test builds every panel's query from it and
 * runs it against a real Prometheus scraping the real collector: a guarantee written here is a tested one.
 *
 * Every panel filters on `cluster="$cluster"` and `instance=~"$Nodes"` unless said otherwise; the variables are
 * `cluster` = label_values(up, cluster) and `Nodes` = label_values(up{cluster="$cluster"}, instance) (multi, All).
 */
import type { MetricKey } from './catalog';

/** A label matcher of a panel's query: label, operator, value. */
export type PanelMatcher = readonly [label: string, operator: '=' | '=~' | '!~', value: string];

/** Something a panel needs that not every node has. */
export type PanelNeed =
  /** Dropped bytes: Linux kprobe events and hist triggers (the drop_reasons source's drop_bytes). */
  | { readonly kind: 'kprobe-hist' }
  /** A NIC driver statistic (ethtool -S) matching `statistic`, which only some drivers have. */
  | { readonly kind: 'driver-statistic'; readonly statistic: RegExp; readonly drivers: string };

export interface RetinaPanel {
  readonly row: 'Fleet View' | 'Traffic' | 'Drops' | 'Connections' | 'Interfaces/Nodes';
  /** The panel title; the eight untitled stat panels are named by what they show. */
  readonly title: string;
  readonly metric: MetricKey;
  /** Label matchers besides cluster and instance. */
  readonly matchers: readonly PanelMatcher[];
  /** rate() over $__rate_interval (the counter families), or the raw value (socket counts). */
  readonly rate: boolean;
  /** sum by (this label), or sum() when absent. */
  readonly by?: string;
  /** The query ends with `> 0`: the panel shows only series that moved. */
  readonly positiveOnly: boolean;
  /** A table (instant query) rather than a graph. */
  readonly instant: boolean;
  /** Whether the query filters on cluster="$cluster" and instance=~"$Nodes". */
  readonly filters: { readonly cluster: boolean; readonly nodes: boolean };
  /** "Packets Dropped by Reason" adds the rx_dropped and tx_dropped interface statistics as two more reasons. */
  readonly interfaceDropsAsReasons?: boolean;
  /** What the panel shows with Kappie in compat mode, and on which nodes. */
  readonly kappie: string;
  readonly needs?: PanelNeed;
}

const ALL = { cluster: true, nodes: true } as const;
const FORWARD = 'bytes or packets through the node uplinks (Linux /proc/net/dev, Windows GetIfTable2)';
const DROPS =
  'packets the node dropped, by the kernel drop reason (Linux skb:kfree_skb; Windows Hyper-V and VFP counters)';
const DROP_BYTES: PanelNeed = { kind: 'kprobe-hist' };
const DROP_BYTES_NODES = 'Linux nodes whose kernel has kprobe events and hist triggers; empty on Windows';

/** A Traffic panel: the rate of `metric` (bytes or packets) through the node uplinks in `direction`, graphed. */
function trafficPanel(
  title: string,
  direction: 'egress' | 'ingress',
  metric: 'forwardBytes' | 'forwardCount',
): RetinaPanel {
  return {
    row: 'Traffic',
    title,
    metric,
    matchers: [['direction', '=', direction]],
    rate: true,
    positiveOnly: false,
    instant: false,
    filters: ALL,
    kappie: `${FORWARD}, every node`,
  };
}

function trafficStats(): RetinaPanel[] {
  const panels: RetinaPanel[] = [];
  for (const direction of ['egress', 'ingress'] as const) {
    for (const [metric, unit] of [
      ['forwardBytes', 'bytes'],
      ['forwardCount', 'packets'],
    ] as const) {
      for (const reducer of ['max', 'min']) {
        panels.push(
          trafficPanel(
            `${direction[0]!.toUpperCase()}${direction.slice(1)} ${unit} (${reducer}, stat)`,
            direction,
            metric,
          ),
        );
      }
    }
  }
  return panels;
}

/**
 * A Fleet View panel: the rate of `metric` summed by cluster, on every cluster (the row does not filter on
 * `$cluster`); `instant` for the table of current values, a graph otherwise.
 */
function fleetPanel(
  title: string,
  metric: MetricKey,
  instant: boolean,
  kappie: string,
  { nodesFilter = true, needs }: { nodesFilter?: boolean; needs?: PanelNeed } = {},
): RetinaPanel {
  return {
    row: 'Fleet View',
    title,
    metric,
    matchers: [],
    rate: true,
    by: 'cluster',
    positiveOnly: false,
    instant,
    filters: { cluster: false, nodes: nodesFilter },
    kappie,
    ...(needs === undefined ? {} : { needs }),
  };
}

export const RETINA_DASHBOARD_PANELS: readonly RetinaPanel[] = [
  fleetPanel('Current Traffic by Cluster', 'forwardBytes', true, `${FORWARD}, every node`),
  fleetPanel('Bytes Forwarded by Cluster', 'forwardBytes', false, `${FORWARD}, every node`),
  fleetPanel('Current Dropped Traffic by Cluster', 'dropBytes', true, `dropped bytes: ${DROP_BYTES_NODES}`, {
    needs: DROP_BYTES,
  }),
  fleetPanel('Bytes Dropped by Cluster', 'dropBytes', false, `dropped bytes: ${DROP_BYTES_NODES}`, {
    needs: DROP_BYTES,
  }),
  fleetPanel('Packets Dropped By Cluster', 'dropCount', false, `${DROPS}, every node`, { nodesFilter: false }),
  ...trafficStats(),
  ...(['egress', 'ingress'] as const).flatMap((direction) =>
    (
      [
        ['forwardBytes', 'Bytes'],
        ['forwardCount', 'Packets'],
      ] as const
    ).map(([metric, unit]) =>
      trafficPanel(`${direction === 'egress' ? 'Egress' : 'Ingress'} ${unit}`, direction, metric),
    ),
  ),
  ...(
    [
      ['egress', 'drops on the transmit path'],
      ['ingress', 'drops on the receive path (forwarded packets included)'],
      [
        'unknown',
        'drops whose kernel location names no path (datagrams still queued on a closing socket, for example): far fewer than Retina files there',
      ],
    ] as const
  ).map(([direction, what]): RetinaPanel => ({
    row: 'Drops',
    title: `Packets Dropped - ${direction[0]!.toUpperCase()}${direction.slice(1)}`,
    metric: 'dropCount',
    matchers: [['direction', '=', direction]],
    rate: true,
    positiveOnly: false,
    instant: false,
    filters: ALL,
    kappie: `${what}, every node that had one`,
  })),
  {
    row: 'Drops',
    title: 'Bytes Dropped by Reason',
    metric: 'dropBytes',
    matchers: [],
    rate: true,
    by: 'reason',
    positiveOnly: true,
    instant: false,
    filters: ALL,
    kappie: `dropped bytes by kernel drop reason while drops happen: ${DROP_BYTES_NODES}`,
    needs: DROP_BYTES,
  },
  {
    row: 'Drops',
    title: 'Packets Dropped by Reason',
    metric: 'dropCount',
    matchers: [],
    rate: true,
    by: 'reason',
    positiveOnly: true,
    instant: false,
    filters: ALL,
    interfaceDropsAsReasons: true,
    kappie:
      'the kernel drop reasons (NO_SOCKET, NETFILTER_DROP, QDISC_DROP, ...) while drops happen, plus rx_dropped and tx_dropped of every interface (/proc/net/dev)',
  },
  {
    row: 'Drops',
    title: 'Bytes Dropped by Node',
    metric: 'dropBytes',
    matchers: [],
    rate: true,
    by: 'instance',
    positiveOnly: true,
    instant: false,
    filters: ALL,
    kappie: `dropped bytes per node while drops happen: ${DROP_BYTES_NODES}`,
    needs: DROP_BYTES,
  },
  {
    row: 'Drops',
    title: 'Packets Dropped by Node',
    metric: 'dropCount',
    matchers: [],
    rate: true,
    by: 'instance',
    positiveOnly: true,
    instant: false,
    filters: ALL,
    kappie: `${DROPS} per node while drops happen`,
  },
  {
    row: 'Connections',
    title: 'TCP Active Connections by State',
    metric: 'tcpState',
    matchers: [],
    rate: false,
    by: 'state',
    positiveOnly: false,
    instant: false,
    filters: ALL,
    kappie: 'TCP sockets per state, IPv4 and IPv6 (CLOSE where Retina writes an empty state), every node',
  },
  {
    row: 'Connections',
    title: 'TCP Active Connections by Remote Addr',
    metric: 'tcpConnectionRemote',
    matchers: [['address', '!~', '127.0.0.1|0.0.0.0']],
    rate: false,
    by: 'address',
    positiveOnly: false,
    instant: false,
    filters: ALL,
    kappie:
      'non-listening TCP sockets per remote address, the top-K peers and "other" (Retina writes one "AllIPs" series), Linux and Windows nodes',
  },
  {
    row: 'Connections',
    title: 'TCP Connection Timeouts',
    metric: 'tcpConnectionStats',
    matchers: [['statistic_name', '=', 'tcptimeouts']],
    rate: true,
    positiveOnly: false,
    instant: false,
    filters: ALL,
    kappie: 'TcpExt TCPTimeouts (retransmission timeouts), Linux nodes',
  },
  {
    row: 'Connections',
    title: 'TCP Connection Resets',
    metric: 'tcpConnectionStats',
    matchers: [['statistic_name', '=', 'resetcount']],
    rate: true,
    positiveOnly: false,
    instant: false,
    filters: ALL,
    kappie: 'Tcp EstabResets (established connections reset), Linux and Windows nodes',
  },
  {
    row: 'Connections',
    title: 'TCP Connection Reorders',
    metric: 'tcpConnectionStats',
    matchers: [['statistic_name', '=', 'tcptsreorder']],
    rate: true,
    positiveOnly: false,
    instant: false,
    filters: ALL,
    kappie: 'TcpExt TCPTSReorder (reordering detected by timestamps), Linux nodes',
  },
  {
    row: 'Connections',
    title: 'Windows TCP Packets',
    metric: 'tcpFlagCounters',
    matchers: [],
    rate: true,
    positiveOnly: false,
    instant: false,
    filters: ALL,
    kappie:
      'TCP segments of every flag (nine flags, where Retina counts SYN, SYN-ACK, FIN and RST), Linux (nftables) and Windows (VFP) nodes',
  },
  {
    row: 'Connections',
    title: 'Windows TCP RST Packets',
    metric: 'tcpFlagCounters',
    matchers: [['flag', '=', 'rst']],
    rate: true,
    positiveOnly: false,
    instant: false,
    filters: ALL,
    kappie: 'TCP segments with RST, Linux (nftables) and Windows (VFP) nodes',
  },
  {
    row: 'Connections',
    title: 'Windows TCP SYN-ACK Packets',
    metric: 'tcpFlagCounters',
    matchers: [['flag', '=', 'synack']],
    rate: true,
    positiveOnly: false,
    instant: false,
    filters: ALL,
    kappie: 'TCP segments with SYN and ACK, Linux (nftables) and Windows (VFP) nodes',
  },
  {
    row: 'Connections',
    title: 'UDP Connections',
    metric: 'udpConnectionStats',
    matchers: [['statistic_name', '=', 'active']],
    rate: false,
    positiveOnly: false,
    instant: false,
    filters: ALL,
    kappie: 'UDP sockets in use, IPv4 and IPv6 (Linux /proc/net/sockstat{,6}, Windows GetExtendedUdpTable), every node',
  },
  ...(['rx', 'tx'] as const).map((side): RetinaPanel => ({
    row: 'Interfaces/Nodes',
    title: `${side.toUpperCase()} Packets by Interface`,
    metric: 'interfaceStats',
    matchers: [['statistic_name', '=', `${side}_packets`]],
    rate: true,
    by: 'interface_name',
    positiveOnly: false,
    instant: false,
    filters: ALL,
    kappie: `${side}_packets of every interface, pod-side ones summed into "pod_interfaces" (Retina writes one "all_interfaces" series), Linux and Windows nodes`,
  })),
  {
    row: 'Interfaces/Nodes',
    title: 'Rx Cache Full error',
    metric: 'interfaceStats',
    matchers: [['statistic_name', '=~', 'rx[0-9]+_cache_full']],
    rate: true,
    by: 'instance',
    positiveOnly: true,
    instant: false,
    filters: ALL,
    kappie:
      'the mlx5 driver statistic rx<N>_cache_full of the uplink or its accelerated-networking VF (ethtool source), while it grows',
    needs: {
      kind: 'driver-statistic',
      statistic: /^rx[0-9]+_cache_full$/,
      drivers:
        "mlx5_core (Mellanox ConnectX VFs of Azure accelerated networking), on kernels before mlx5's RX page cache gave way to page_pool",
    },
  },
  {
    row: 'Interfaces/Nodes',
    title: 'Tx No Op Errors',
    metric: 'interfaceStats',
    matchers: [['statistic_name', '=~', 'tx[0-9]+_nop']],
    rate: true,
    by: 'instance',
    positiveOnly: true,
    instant: false,
    filters: ALL,
    kappie: 'the mlx5 driver statistic tx<N>_nop of the uplink or its VF (ethtool source), while it grows',
    needs: {
      kind: 'driver-statistic',
      statistic: /^tx[0-9]+_nop$/,
      drivers: 'mlx5_core (Mellanox ConnectX VFs of Azure accelerated networking)',
    },
  },
  ...(['rx', 'tx'] as const).map((side): RetinaPanel => ({
    row: 'Interfaces/Nodes',
    title: `Dropped ${side === 'rx' ? 'Rx' : 'Tx'} Packets`,
    metric: 'interfaceStats',
    matchers: [['statistic_name', '=', `${side}_dropped`]],
    rate: true,
    by: 'instance',
    positiveOnly: true,
    instant: false,
    filters: ALL,
    kappie: `${side}_dropped of every interface (/proc/net/dev; Windows GetIfTable2 discards) while it grows`,
  })),
  {
    row: 'Interfaces/Nodes',
    title: 'Rx Comp Full Errors',
    metric: 'interfaceStats',
    matchers: [['statistic_name', '=', 'rx_comp_full']],
    rate: true,
    by: 'instance',
    positiveOnly: true,
    instant: false,
    filters: ALL,
    kappie:
      'a driver statistic rx_comp_full if a NIC driver had one (no Linux driver names a statistic so; hv_netvsc has rx_comp_busy): empty',
    needs: {
      kind: 'driver-statistic',
      statistic: /^rx_comp_full$/,
      drivers: "no Linux driver known (hv_netvsc's similar statistic is rx_comp_busy)",
    },
  },
  {
    row: 'Interfaces/Nodes',
    title: 'Tx Send Full Errors',
    metric: 'interfaceStats',
    matchers: [['statistic_name', '=', 'tx_send_full']],
    rate: true,
    by: 'instance',
    positiveOnly: true,
    instant: false,
    filters: ALL,
    kappie: 'the hv_netvsc driver statistic tx_send_full of an Azure VM uplink (ethtool source), while it grows',
    needs: {
      kind: 'driver-statistic',
      statistic: /^tx_send_full$/,
      drivers: 'hv_netvsc (the synthetic NIC of Hyper-V and Azure VMs)',
    },
  },
];

/** The dashboard's template variables, as queries on `up`. */
export const RETINA_DASHBOARD_VARIABLES = {
  cluster: { metric: 'up', label: 'cluster' },
  Nodes: { metric: 'up', label: 'instance', filteredByCluster: true },
} as const;
