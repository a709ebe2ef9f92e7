/**
 * TCP sockets on Windows: the IPv4 and IPv6 connection tables of GetExtendedTcpTable (TCP_TABLE_OWNER_PID_ALL,
 * listeners included), read once per gathering. Every row is counted by state (kappie_tcp_state), and the rows that
 * are not LISTEN and have a peer are keyed and ranked by the same code as on Linux (remote-peers.ts:
 * inbound sockets by remote address and local service port, outbound by remote address and remote port) into the
 * top-K peers plus "other" (kappie_tcp_connection_remote).
 */
import { LABEL, TCP_STATES, type TcpState } from '../../catalog';
import { addPeerSocket, ipv4RemoteKey, ipv6RemoteKey, newPeerTally, type PeerTally } from '../../remote-peers';
import type { Samples, Source } from '../../source';
import { tcpConnectionRemoteSamples } from '../tcp-connection-remote';
import { BinaryReader } from './binary-reader';
import { AF_INET, AF_INET6, createIpHelper, type AddressFamily, type IpHelper } from './iphlpapi';

/**
 * MIB_TCP_STATE (tcpmib.h) onto the catalog's state names (the Linux kernel's), so one dashboard query serves both.
 * DELETE_TCB (12) is a connection whose transmission control block is being deleted: it is over and holds no
 * connection any more, which is what Linux calls CLOSE, so it is counted there (CLOSED, 1, is the same state).
 */
export const WINDOWS_TCP_STATES: Readonly<Record<number, TcpState>> = {
  1: 'CLOSE', // MIB_TCP_STATE_CLOSED
  2: 'LISTEN',
  3: 'SYN_SENT',
  4: 'SYN_RECV', // MIB_TCP_STATE_SYN_RCVD
  5: 'ESTABLISHED', // MIB_TCP_STATE_ESTAB
  6: 'FIN_WAIT1',
  7: 'FIN_WAIT2',
  8: 'CLOSE_WAIT',
  9: 'CLOSING',
  10: 'LAST_ACK',
  11: 'TIME_WAIT',
  12: 'CLOSE', // MIB_TCP_STATE_DELETE_TCB
};
const WINDOWS_TCP_STATE_COUNT = 12;

/** Where a table's rows keep what is read of them (byte offsets within one row). */
export interface TcpRowLayout {
  readonly name: string;
  readonly rowSize: number;
  readonly stateOffset: number;
  readonly localPortOffset: number;
  /** The remote address: a DWORD (IPv4) or UCHAR[16] (IPv6), network byte order. */
  readonly remoteAddressOffset: number;
  readonly remotePortOffset: number;
}

/**
 * Row layouts on x64 (tcpmib.h, as Microsoft Learn declares MIB_TCPROW_OWNER_PID and MIB_TCP6ROW_OWNER_PID,
 * learn.microsoft.com/windows/win32/api/tcpmib/ns-tcpmib-mib_tcprow_owner_pid): the table is a DWORD dwNumEntries
 * followed by the rows at offset 4.
 * MIB_TCPROW_OWNER_PID: dwState, dwLocalAddr, dwLocalPort, dwRemoteAddr, dwRemotePort, dwOwningPid (6 DWORDs).
 * MIB_TCP6ROW_OWNER_PID: ucLocalAddr[16], dwLocalScopeId, dwLocalPort, ucRemoteAddr[16], dwRemoteScopeId,
 * dwRemotePort, dwState, dwOwningPid: the state is near the end, at byte 48.
 * Ports are DWORDs holding the port in network byte order in their first two bytes ("the upper 16 bits may contain
 * uninitialized data", MIB_TCPROW2 docs); addresses are in network byte order. The remote address and port of a
 * LISTEN row "have no meaning" (MIB_TCPROW_OWNER_PID docs), so they are never read.
 */
export const TCP_ROW_LAYOUT: Readonly<Record<AddressFamily, TcpRowLayout>> = {
  [AF_INET]: {
    name: 'MIB_TCPTABLE_OWNER_PID',
    rowSize: 24,
    stateOffset: 0,
    localPortOffset: 8,
    remoteAddressOffset: 12,
    remotePortOffset: 16,
  },
  [AF_INET6]: {
    name: 'MIB_TCP6TABLE_OWNER_PID',
    rowSize: 56,
    stateOffset: 48,
    localPortOffset: 20,
    remoteAddressOffset: 24,
    remotePortOffset: 44,
  },
};
const MIB_TCP_STATE_LISTEN = 2;
/**
 * The byte order the peer keys' address words are read in. Windows runs little-endian on every CPU it supports for
 * containers (x64, arm64), so the words are read little-endian, as the Linux readers do on such a CPU.
 */
export const WINDOWS_LITTLE_ENDIAN = true;
const TABLE_ROWS_OFFSET = 4;

export type TcpStateCounts = Record<TcpState, number>;

export function emptyTcpStateCounts(): TcpStateCounts {
  return Object.fromEntries(TCP_STATES.map((state) => [state, 0])) as TcpStateCounts;
}

/**
 * Counts the rows of one table by state, adding to `into` (so IPv4 and IPv6 sum into one set of counts). A row in a
 * state outside MIB_TCP_STATE 1..12 (tcpmib.h also declares a reserved 100) is not counted as any state: it is
 * added to `unknown` (MIB_TCP_STATE value -> rows) for the source's note, and every other row still counts.
 * With `peers`, the local port of every LISTEN row goes to its listening ports and every other row in a known state
 * with a peer (remote not 0.0.0.0:0 / [::]:0) to its peer sockets, keyed as remote-peers.ts says; a row in an
 * unknown state is no peer either.
 */
export function countTcpTableStates(
  bytes: Uint8Array,
  family: AddressFamily,
  into: TcpStateCounts = emptyTcpStateCounts(),
  unknown: Map<number, number> = new Map(),
  peers?: PeerTally,
): TcpStateCounts {
  const layout = TCP_ROW_LAYOUT[family];
  const reader = new BinaryReader(bytes, layout.name);
  const entries = tcpTableRowCount(bytes, family);
  reader.require(TABLE_ROWS_OFFSET, entries * layout.rowSize, `${entries} rows of ${layout.rowSize} bytes`);
  // Count by MIB_TCP_STATE number first (a table can hold 100k rows), then name the states.
  const byValue = new Array<number>(WINDOWS_TCP_STATE_COUNT + 1).fill(0);
  for (let row = 0; row < entries; row++) {
    const start = TABLE_ROWS_OFFSET + row * layout.rowSize;
    const value = reader.u32InRange(start + layout.stateOffset);
    if (value < 1 || value > WINDOWS_TCP_STATE_COUNT) {
      unknown.set(value, (unknown.get(value) ?? 0) + 1);
      continue;
    }
    byValue[value]! += 1;
    if (peers !== undefined) tallyPeer(bytes, reader, start, layout, family, value, peers);
  }
  byValue.forEach((count, value) => {
    const state = WINDOWS_TCP_STATES[value];
    if (state !== undefined) into[state] += count;
  });
  return into;
}

/** dwNumEntries of a MIB_TCPTABLE_OWNER_PID or MIB_TCP6TABLE_OWNER_PID; a ParseError if the buffer is too short. */
export function tcpTableRowCount(bytes: Uint8Array, family: AddressFamily): number {
  return new BinaryReader(bytes, TCP_ROW_LAYOUT[family].name).u32(0, 'dwNumEntries');
}

/** Adds the row at `start` (in a known `state`) to `tally`: its port if it listens, else its peer if it has one. */
function tallyPeer(
  bytes: Uint8Array,
  reader: BinaryReader,
  start: number,
  layout: TcpRowLayout,
  family: AddressFamily,
  state: number,
  tally: PeerTally,
): void {
  const localPort = networkPort(bytes, start + layout.localPortOffset);
  if (state === MIB_TCP_STATE_LISTEN) {
    tally.listeningPorts.add(localPort);
    return;
  }
  if (tally.peers === undefined) return;
  const port = networkPort(bytes, start + layout.remotePortOffset);
  const address = start + layout.remoteAddressOffset;
  const key =
    family === AF_INET
      ? ipv4RemoteKey(reader.u32InRange(address), port)
      : ipv6RemoteKey(
          reader.u32InRange(address),
          reader.u32InRange(address + 4),
          reader.u32InRange(address + 8),
          reader.u32InRange(address + 12),
          port,
          WINDOWS_LITTLE_ENDIAN,
        );
  if (key !== undefined) addPeerSocket(tally.peers, key, localPort);
}

/** The port in a DWORD port field: its first two bytes, in network byte order (the upper two are not defined). */
function networkPort(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! * 256 + bytes[offset + 1]!;
}

/** The note for rows in unknown states: "3 rows in unknown MIB_TCP_STATE 100 not counted". */
export function unknownStatesNote(unknown: ReadonlyMap<number, number>): string | undefined {
  if (unknown.size === 0) return undefined;
  const rows = [...unknown.values()].reduce((sum, count) => sum + count, 0);
  return `${rows} TCP rows in unknown MIB_TCP_STATE ${[...unknown.keys()].sort((a, b) => a - b).join(', ')} not counted`;
}

/**
 * The Windows TCP socket source; `ipHelper` reads the tables (its own IP Helper by default). Both tables are read
 * before anything is counted, so the cap (--tcp-scan-max-sockets, as on Linux) is checked against their rows: above
 * it the peers are not tallied, kappie_tcp_connection_remote is absent and the note says so; the states still are.
 */
export function createWindowsTcpStateSource(ipHelper: Pick<IpHelper, 'readTcpTable'> = createIpHelper()): Source {
  let note: string | undefined;
  return {
    name: 'windows_tcp_state',
    description: 'GetExtendedTcpTable (IPv4 and IPv6): TCP sockets by state and the top remote peers',
    platforms: ['windows'],
    metrics: ['tcpState', 'tcpConnectionRemote'],
    async collect(ctx) {
      const { tcpRemoteTopK, tcpScanMaxSockets } = ctx.config;
      const tables = [
        [AF_INET, await ipHelper.readTcpTable(AF_INET)],
        [AF_INET6, await ipHelper.readTcpTable(AF_INET6)],
      ] as const;
      const rows = tables.reduce((sum, [family, bytes]) => sum + tcpTableRowCount(bytes, family), 0);
      const tallyPeers = rows <= tcpScanMaxSockets;
      const counts = emptyTcpStateCounts();
      const unknown = new Map<number, number>();
      const peers = newPeerTally(tallyPeers);
      for (const [family, bytes] of tables) countTcpTableStates(bytes, family, counts, unknown, peers);
      const skipped = tallyPeers
        ? undefined
        : `remote peers skipped: ${rows} sockets > --tcp-scan-max-sockets ${tcpScanMaxSockets}`;
      note = [unknownStatesNote(unknown), skipped].filter((part) => part !== undefined).join('; ') || undefined;
      const samples: Samples = {
        tcpState: TCP_STATES.map((state) => ({ labels: { [LABEL.state]: state }, value: counts[state] })),
      };
      const remote = tcpConnectionRemoteSamples(peers, tcpRemoteTopK, WINDOWS_LITTLE_ENDIAN);
      if (remote !== undefined) samples.tcpConnectionRemote = remote;
      return samples;
    },
    note: () => note,
    stop() {
      note = undefined;
      return Promise.resolve();
    },
  };
}
