import { QUERIES } from '../queries';
import { UNIT, topBarsPanel, timeseriesPanel } from '../panels';
import type { DashboardDefinition } from '../dashboard-builder';

const q = QUERIES.drops;

export const drops: DashboardDefinition = {
  file: 'drops.json',
  uid: 'kappie-drops',
  title: 'Kappie / Drops',
  description: 'Packets and bytes the nodes dropped, by kernel drop reason, direction and node.',
  extraVariables: ['reason'],
  items: [
    timeseriesPanel({
      title: 'Dropped packets by reason',
      description:
        'Packets per second dropped, by drop reason. On Linux the reason is the kernel\u2019s skb drop reason ' +
        '(from the running kernel\u2019s own table) or, on kernels without it, the dropping function.',
      query: q.packetsByReason,
      unit: UNIT.packetsPerSecond,
      stacked: true,
    }),
    timeseriesPanel({
      title: 'Dropped packets by direction',
      description: 'Packets per second dropped on the ingress and egress paths (unknown when the path cannot tell).',
      query: q.packetsByDirection,
      unit: UNIT.packetsPerSecond,
      stacked: true,
    }),
    topBarsPanel({
      title: 'Top 10 drop reasons (time range)',
      description: 'Packets dropped over the whole selected time range, by reason and direction, largest first.',
      query: q.topReasons,
      unit: UNIT.count,
    }),
    timeseriesPanel({
      title: 'Dropped bytes by reason',
      description:
        'Bytes per second dropped, by reason, where a kernel facility counts dropped bytes (netfilter counters on ' +
        'Linux; on Windows only where the OS counts them). Fewer reasons than the packet panel is expected.',
      query: q.bytesByReason,
      unit: UNIT.bytesPerSecond,
      stacked: true,
    }),
    timeseriesPanel({
      title: 'Dropped packets by node',
      description: 'Packets per second dropped per node, the reasons chosen above.',
      query: q.packetsByNode,
      unit: UNIT.packetsPerSecond,
    }),
    timeseriesPanel({
      title: 'Interface drop counters',
      description:
        'Per-interface drop counters (rx/tx dropped) per second: packets the NIC or driver discarded, which the ' +
        'kernel drop reasons above may not see.',
      query: q.interfaceDrops,
      unit: UNIT.packetsPerSecond,
    }),
  ],
};
