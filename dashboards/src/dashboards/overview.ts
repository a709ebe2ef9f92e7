import { MappingType, type ValueMapping } from '@grafana/grafana-foundation-sdk/dashboard';
import { QUERIES } from '../queries';
import { UNIT, statPanel, tablePanel, textPanel, timeseriesPanel } from '../panels';
import type { DashboardDefinition } from '../dashboard-builder';
import { LABEL } from '@kappie/collector/catalog';

const q = QUERIES.overview;

const UP_DOWN: ValueMapping[] = [
  {
    type: MappingType.ValueToText,
    options: { '1': { text: 'up', color: 'green', index: 0 }, '0': { text: 'DOWN', color: 'red', index: 1 } },
  },
];

export const overview: DashboardDefinition = {
  file: 'overview.json',
  uid: 'kappie-overview',
  title: 'Kappie / Overview',
  description: 'Cluster and node network health at a glance: traffic, drops, TCP connections and collector health.',
  extraVariables: [],
  items: [
    textPanel(
      'About',
      'Node-level network metrics from the Kappie collector. Pick a cluster, OS and nodes above; the ' +
        '**Drops**, **TCP** and **Interfaces** dashboards (links, top right) go deeper. Panels marked ' +
        '*Linux nodes only* stay empty for Windows nodes and say so.',
      24,
      2,
    ),
    statPanel({
      title: 'Nodes reporting',
      description: 'Collectors currently scraped (one kappie_build_info series per node).',
      query: q.nodesReporting,
      unit: UNIT.count,
    }),
    statPanel({
      title: 'Collector sources down',
      description:
        'Sources that failed their last gathering (kappie_source_up == 0), summed over the selected nodes. ' +
        'The "Collector health" table below names them; the collector log and its status page say why.',
      query: q.sourcesDown,
      unit: UNIT.count,
      thresholds: [
        { value: null, color: 'green' },
        { value: 1, color: 'red' },
      ],
    }),
    statPanel({
      title: 'Uplink throughput',
      description: 'Bits per second received (ingress) and sent (egress) on the nodes\u2019 uplink interfaces.',
      query: q.throughput,
      unit: UNIT.bitsPerSecond,
      width: 8,
    }),
    statPanel({
      title: 'Dropped packets',
      description: 'Packets per second the selected nodes dropped, all reasons and directions.',
      query: q.dropRate,
      unit: UNIT.packetsPerSecond,
      thresholds: [
        { value: null, color: 'green' },
        { value: 1, color: 'orange' },
        { value: 100, color: 'red' },
      ],
    }),
    statPanel({
      title: 'Established TCP connections',
      description: 'TCP sockets in state ESTABLISHED (IPv4 and IPv6) on the selected nodes.',
      query: q.establishedConnections,
      unit: UNIT.sockets,
    }),
    { row: 'Traffic and drops' },
    timeseriesPanel({
      title: 'Uplink throughput by node',
      description: 'Bits per second per node and direction on the uplink interfaces (those holding default routes).',
      query: q.throughputByNode,
      unit: UNIT.bitsPerSecond,
    }),
    timeseriesPanel({
      title: 'Dropped packets by node',
      description: 'Packets per second dropped per node, all reasons. The Drops dashboard breaks them down by reason.',
      query: q.dropsByNode,
      unit: UNIT.packetsPerSecond,
    }),
    timeseriesPanel({
      title: 'Established TCP connections by node',
      description: 'TCP sockets in state ESTABLISHED per node.',
      query: q.establishedByNode,
      unit: UNIT.sockets,
      width: 24,
    }),
    { row: 'Collector health' },
    tablePanel({
      title: 'Nodes',
      description: 'One row per collector: its version, OS, architecture and kernel.',
      query: q.nodeInventory,
      unit: UNIT.none,
      valueColumn: 'reporting',
      hiddenColumns: ['Value'],
    }),
    tablePanel({
      title: 'Collector health',
      description: 'Each source of each collector: up when its last gathering succeeded.',
      query: q.sourceHealth,
      unit: UNIT.none,
      valueColumn: 'state',
      mappings: UP_DOWN,
    }),
    timeseriesPanel({
      title: 'Source collection duration (slowest node)',
      description: 'Seconds each source took in its last gathering, the maximum over the selected nodes.',
      query: q.collectionDuration,
      unit: UNIT.seconds,
    }),
    timeseriesPanel({
      title: 'Lost events',
      description:
        'Events per second a streaming source could not count (kernel ring buffer overruns, parse failures). ' +
        `Anything above zero means the drop counts of that ${LABEL.nodeName} are a lower bound.`,
      query: q.lostEvents,
      unit: UNIT.perSecond,
    }),
  ],
};
