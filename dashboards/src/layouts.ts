/**
 * The four Kappie views — Overview, Drops, TCP, Interfaces — as ordered lists of panels from queries.ts, with row
 * headings and widths. The dashboards (dashboard-builder.ts) and the app's pages (grafana-plugin/src/scenes) are both
 * built from these lists, so a dashboard and its page show the same panels in the same order.
 *
 * Pure data, no Grafana SDK: the app bundles it.
 */
import { QUERIES, type DashboardKey, type PanelDefinition } from './queries';
import { LINUX_ONLY_NO_VALUE } from './platforms';
import type { ExtraVariable } from './variables';

export interface PanelItem {
  readonly panel: PanelDefinition;
  /** Grid width out of 24 (default 12; stats 4). */
  readonly width?: number;
  /** Grid height (default 8; stats 4). */
  readonly height?: number;
}
/** Starts a new row, with a heading. */
export interface RowItem {
  readonly row: string;
}
/** Markdown text (dashboards only: the app shows the same facts in panel descriptions). */
export interface TextItem {
  readonly text: string;
  readonly title: string;
  readonly width?: number;
  readonly height?: number;
}
export type LayoutItem = PanelItem | RowItem | TextItem;

export interface DashboardDefinition {
  readonly key: DashboardKey;
  /** File name under generated/. */
  readonly file: string;
  /** Stable: Grafana, the app plugin and `kappie dashboards push` update a dashboard by its uid. */
  readonly uid: string;
  readonly title: string;
  /** The app page's title and subtitle. */
  readonly pageTitle: string;
  readonly pageSubTitle: string;
  readonly description: string;
  /** Variables beyond datasource, cluster, os and node. */
  readonly extraVariables: readonly ExtraVariable[];
  readonly items: readonly LayoutItem[];
}

export const isPanelItem = (item: LayoutItem): item is PanelItem => 'panel' in item;
export const isRowItem = (item: LayoutItem): item is RowItem => 'row' in item;

const o = QUERIES.overview;
const d = QUERIES.drops;
const t = QUERIES.tcp;
const i = QUERIES.interfaces;
const stat = (panel: PanelDefinition, width = 4): PanelItem => ({ panel, width, height: 4 });
const full = (panel: PanelDefinition): PanelItem => ({ panel, width: 24 });

export const overview: DashboardDefinition = {
  key: 'overview',
  file: 'overview.json',
  uid: 'kappie-overview',
  title: 'Kappie / Overview',
  pageTitle: 'Overview',
  pageSubTitle: 'Cluster and node network health at a glance, and the fleet',
  description:
    'Cluster and node network health at a glance: traffic, packet loss, established connections, the fleet per ' +
    'cluster (nodes that stopped reporting, retransmission ratio) and collector health.',
  extraVariables: [],
  items: [
    {
      title: 'About',
      text:
        'Node-level network metrics from the Kappie collector. Pick a cluster, OS and nodes above; the ' +
        '**Drops**, **TCP** and **Interfaces** dashboards (links, top right) go deeper. **Packet loss** counts ' +
        'only drops that mean loss (congestion, policy, no path, damaged packets); socket housekeeping and ' +
        'traffic for closed ports are under *Drops by class*. Panels marked *Linux nodes only* stay empty for ' +
        'Windows nodes and say so.',
      width: 24,
      height: 3,
    },
    stat(o.nodesReporting),
    stat(o.nodesNotReporting),
    stat(o.sourcesDown),
    stat(o.throughput),
    stat(o.packetLoss),
    stat(o.establishedConnections),
    { row: 'Traffic and drops' },
    { panel: o.throughputByNode },
    { panel: o.lossByNode },
    { panel: o.dropsByClass },
    { panel: o.establishedByNode },
    { row: 'Fleet' },
    { panel: o.trafficByCluster },
    { panel: o.lossByCluster },
    { panel: o.retransmitRatioByCluster },
    { panel: o.stoppedNodes },
    { row: 'Collector health' },
    { panel: o.nodeInventory },
    { panel: o.sourceHealth },
    { panel: o.collectionDuration },
    { panel: o.lostEvents },
  ],
};

export const drops: DashboardDefinition = {
  key: 'drops',
  file: 'drops.json',
  uid: 'kappie-drops',
  title: 'Kappie / Drops',
  pageTitle: 'Drops',
  pageSubTitle: 'Packets the nodes dropped: loss by reason, and the drops that are not loss',
  description:
    'Packets and bytes the nodes dropped, by class (what the drop means), kernel drop reason, direction and node.',
  extraVariables: ['reason'],
  items: [
    { panel: d.dropsByClass },
    { panel: d.lossByReason },
    { panel: d.otherByReason },
    { panel: d.lossByDirection },
    { panel: d.topReasons },
    { panel: d.bytesByReason },
    { panel: d.lossByNode },
    { panel: d.interfaceDrops },
  ],
};

export const tcp: DashboardDefinition = {
  key: 'tcp',
  file: 'tcp.json',
  uid: 'kappie-tcp',
  title: 'Kappie / TCP',
  pageTitle: 'TCP',
  pageSubTitle: 'Socket states, flags, retransmissions, TCP, IP and UDP counters, and the busiest remote peers',
  description:
    'TCP socket states, segments by flag, retransmission ratio, TCP/IP/UDP protocol counters and the busiest ' +
    'remote peers, for the nodes\u2019 own network namespace.',
  extraVariables: [],
  items: [
    { panel: t.socketsByState },
    { panel: t.openingAndClosing },
    { panel: t.segmentsByFlag },
    { panel: t.connectionAttempts },
    { panel: t.troubleStatistics },
    { panel: t.retransmitRatioByNode },
    full(t.allStatistics),
    { row: 'Linux nodes only' },
    {
      title: 'Linux nodes only',
      text:
        'The panels below read Linux-only sources (/proc/net/tcp, /proc/net/snmp, /proc/net/sockstat). ' +
        `With only Windows nodes selected they show "${LINUX_ONLY_NO_VALUE}".`,
      width: 24,
      height: 2,
    },
    { panel: t.topRemotePeers },
    { panel: t.remotePeersByNode },
    { panel: t.ipTraffic },
    { panel: t.ipPackets },
    { panel: t.ipErrors },
    { panel: t.udpDatagrams },
    { panel: t.udpErrors },
    { panel: t.udpActiveSockets },
  ],
};

export const interfaces: DashboardDefinition = {
  key: 'interfaces',
  file: 'interfaces.json',
  uid: 'kappie-interfaces',
  title: 'Kappie / Interfaces',
  pageTitle: 'Interfaces',
  pageSubTitle: 'Uplink traffic, and bytes, errors and drops per interface',
  description: 'Traffic, errors and drops per network interface and on the node uplinks.',
  extraVariables: ['interface'],
  items: [
    { panel: o.throughputByNode },
    { panel: i.uplinkPackets },
    { row: 'Per interface' },
    { panel: i.throughputByInterface },
    { panel: i.packetsByInterface },
    { panel: i.errorsByInterface },
    { panel: i.dropsByInterface },
    { panel: i.bytesOverRange },
    { panel: i.countersOverRange },
  ],
};

/** Every view, in menu order. */
export const DASHBOARDS: readonly DashboardDefinition[] = [overview, drops, tcp, interfaces];

/** The panels of a view, in order. */
export function panelsOf(definition: DashboardDefinition): PanelDefinition[] {
  return definition.items.filter(isPanelItem).map((item) => item.panel);
}
