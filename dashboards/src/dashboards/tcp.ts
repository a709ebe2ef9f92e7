import { QUERIES } from '../queries';
import { UNIT, tablePanel, textPanel, timeseriesPanel, LINUX_ONLY_NO_VALUE } from '../panels';
import type { DashboardDefinition } from '../dashboard-builder';

const q = QUERIES.tcp;

export const tcp: DashboardDefinition = {
  file: 'tcp.json',
  uid: 'kappie-tcp',
  title: 'Kappie / TCP',
  description: 'TCP socket states, segments by flag, TCP/IP/UDP protocol counters and the busiest remote peers.',
  extraVariables: [],
  items: [
    timeseriesPanel({
      title: 'TCP sockets by state',
      description: 'TCP sockets (IPv4 and IPv6) in each state. A growing TIME_WAIT or CLOSE_WAIT is worth a look.',
      query: q.socketsByState,
      unit: UNIT.sockets,
      stacked: true,
    }),
    timeseriesPanel({
      title: 'TCP segments by flag',
      description: 'TCP segments per second seen with each flag, per direction. RST and SYN rates show churn.',
      query: q.segmentsByFlag,
      unit: UNIT.packetsPerSecond,
    }),
    timeseriesPanel({
      title: 'Retransmits, resets, timeouts, listen overflows',
      description:
        'The TCP counters operators check first, per second: retransmitted segments, resets sent and received, ' +
        'timeouts, listen queue overflows and drops, aborts.',
      query: q.troubleStatistics,
      unit: UNIT.perSecond,
    }),
    tablePanel({
      title: 'All TCP counters (time range)',
      description: 'Increase of every exported TCP counter over the selected time range.',
      query: q.allStatistics,
      unit: UNIT.count,
      valueColumn: 'increase',
    }),
    { row: 'Linux nodes only' },
    textPanel(
      'Linux nodes only',
      `The panels below read Linux-only sources (/proc/net/tcp, /proc/net/snmp, /proc/net/sockstat). ` +
        `With only Windows nodes selected they show "${LINUX_ONLY_NO_VALUE}".`,
      24,
      2,
    ),
    tablePanel({
      title: 'Top 10 remote peers',
      description:
        'Remote address and port with the most non-listening TCP sockets on the selected nodes (the collector ' +
        'keeps the top peers per node and sums the rest into one "other" series, left out here).',
      query: q.topRemotePeers,
      unit: UNIT.sockets,
      valueColumn: 'sockets',
    }),
    timeseriesPanel({
      title: 'TCP sockets by remote address and node',
      description: 'Non-listening TCP sockets per remote address per node, "other" included.',
      query: q.remotePeersByNode,
      unit: UNIT.sockets,
    }),
    timeseriesPanel({
      title: 'IP counters',
      description: 'IP protocol counters per second: no-route, header and address errors, discards.',
      query: q.ipStatistics,
      unit: UNIT.perSecond,
    }),
    timeseriesPanel({
      title: 'UDP counters',
      description:
        'UDP protocol counters per second: datagrams to closed ports, receive/send buffer errors, checksum errors.',
      query: q.udpStatistics,
      unit: UNIT.perSecond,
    }),
    timeseriesPanel({
      title: 'UDP sockets in use',
      description: 'UDP sockets (IPv4 and IPv6) open on each node.',
      query: q.udpActiveSockets,
      unit: UNIT.sockets,
      width: 24,
    }),
  ],
};
