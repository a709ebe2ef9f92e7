/**
 * What iproute2's `ss -tanH` says about TCP sockets (it reads them over netlink, not /proc/net/tcp): the independent
 * oracle the TCP table parser is checked against.
 */
import type { TcpState } from '../../src/catalog';

const SS_STATE: Record<string, TcpState> = {
  ESTAB: 'ESTABLISHED',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT',
  UNCONN: 'CLOSE',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
};

export interface SsSummary {
  readonly states: Partial<Record<TcpState, number>>;
  /**
   * Sockets per `address port` of their peer (IPv4-mapped IPv6 as IPv4); wildcard peers left out. The port is the
   * service: the local port for a socket whose local port some LISTEN socket holds (inbound), else the peer's port.
   */
  readonly peers: Map<string, number>;
}

/** Summarises `ss -tanH` output (columns: state, recv-q, send-q, local, peer). */
export function summariseSs(text: string): SsSummary {
  const states: Partial<Record<TcpState, number>> = {};
  const peers = new Map<string, number>();
  const rows = text
    .split('\n')
    .map((line) => ({ line, columns: line.trim().split(/\s+/) }))
    .filter(({ columns }) => columns.length >= 5);
  const portOf = (endpoint: string) => endpoint.slice(endpoint.lastIndexOf(':') + 1);
  const listeningPorts = new Set(
    rows.filter(({ columns }) => columns[0] === 'LISTEN').map(({ columns }) => portOf(columns[3]!)),
  );
  for (const { line, columns } of rows) {
    const state = SS_STATE[columns[0]!];
    if (state === undefined) throw new Error(`unknown ss state in ${JSON.stringify(line)}`);
    states[state] = (states[state] ?? 0) + 1;
    const peer = columns[4]!;
    if (state === 'LISTEN' || peer.endsWith(':*')) continue;
    const colon = peer.lastIndexOf(':');
    const address = peer
      .slice(0, colon)
      .replace(/^\[|\]$/g, '')
      .replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
    const localPort = portOf(columns[3]!);
    const key = `${address} ${listeningPorts.has(localPort) ? localPort : peer.slice(colon + 1)}`;
    peers.set(key, (peers.get(key) ?? 0) + 1);
  }
  return { states, peers };
}
