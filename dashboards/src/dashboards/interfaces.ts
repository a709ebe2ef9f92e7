import { QUERIES } from '../queries';
import { UNIT, tablePanel, timeseriesPanel } from '../panels';
import type { DashboardDefinition } from '../dashboard-builder';
import { POD_INTERFACES_AGGREGATE } from '@kappie/collector/catalog';

const q = QUERIES.interfaces;

export const interfaces: DashboardDefinition = {
  file: 'interfaces.json',
  uid: 'kappie-interfaces',
  title: 'Kappie / Interfaces',
  description: 'Traffic, errors and drops per network interface and on the node uplinks.',
  extraVariables: ['interface'],
  items: [
    timeseriesPanel({
      title: 'Uplink throughput',
      description: 'Bits per second per node and direction on the uplink interfaces (those holding default routes).',
      query: q.uplinkThroughput,
      unit: UNIT.bitsPerSecond,
    }),
    timeseriesPanel({
      title: 'Uplink packets',
      description: 'Packets per second per node and direction on the uplink interfaces.',
      query: q.uplinkPackets,
      unit: UNIT.packetsPerSecond,
    }),
    { row: 'Per interface' },
    timeseriesPanel({
      title: 'Throughput by interface',
      description:
        'Bits per second received (rx) and sent (tx) per interface. Pod-side interfaces (veth, azv, lxc, ...) ' +
        `are summed into "${POD_INTERFACES_AGGREGATE}" unless the collector is told to keep them apart.`,
      query: q.throughputByInterface,
      unit: UNIT.bitsPerSecond,
    }),
    timeseriesPanel({
      title: 'Packets by interface',
      description: 'Packets per second received (rx) and sent (tx) per interface.',
      query: q.packetsByInterface,
      unit: UNIT.packetsPerSecond,
    }),
    timeseriesPanel({
      title: 'Errors by interface',
      description:
        'Error counters per second per interface: receive/transmit errors, frame (CRC/alignment), FIFO overruns, ' +
        'carrier losses and collisions.',
      query: q.errorsByInterface,
      unit: UNIT.perSecond,
    }),
    timeseriesPanel({
      title: 'Drops by interface',
      description: 'Packets per second the interface or its driver dropped (rx/tx dropped).',
      query: q.dropsByInterface,
      unit: UNIT.packetsPerSecond,
    }),
    tablePanel({
      title: 'Interface counters (time range)',
      description: 'Increase of every interface counter over the selected time range, one row per counter.',
      query: q.countersOverRange,
      unit: UNIT.count,
      valueColumn: 'increase',
      width: 24,
    }),
  ],
};
