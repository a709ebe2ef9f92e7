/**
 * TCP sockets by state on Windows: the IPv4 and IPv6 connection tables of GetExtendedTcpTable
 * (TCP_TABLE_OWNER_PID_ALL, listeners included), counted per state. Fills kappie_tcp_state.
 */
import { LABEL, TCP_STATES, type TcpState } from '../../catalog';
import type { Source } from '../../source';
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

/**
 * Row layouts on x64 (iprtrmib.h / tcpmib.h): the table is a DWORD dwNumEntries followed by the rows at offset 4.
 * MIB_TCPROW_OWNER_PID: dwState, dwLocalAddr, dwLocalPort, dwRemoteAddr, dwRemotePort, dwOwningPid (6 DWORDs).
 * MIB_TCP6ROW_OWNER_PID: ucLocalAddr[16], dwLocalScopeId, dwLocalPort, ucRemoteAddr[16], dwRemoteScopeId,
 * dwRemotePort, dwState, dwOwningPid: the state is near the end, at byte 48.
 */
export const TCP_ROW_LAYOUT: Readonly<Record<AddressFamily, { rowSize: number; stateOffset: number; name: string }>> = {
  [AF_INET]: { rowSize: 24, stateOffset: 0, name: 'MIB_TCPTABLE_OWNER_PID' },
  [AF_INET6]: { rowSize: 56, stateOffset: 48, name: 'MIB_TCP6TABLE_OWNER_PID' },
};
const TABLE_ROWS_OFFSET = 4;

export type TcpStateCounts = Record<TcpState, number>;

export function emptyTcpStateCounts(): TcpStateCounts {
  return Object.fromEntries(TCP_STATES.map((state) => [state, 0])) as TcpStateCounts;
}

/**
 * Counts the rows of one table by state, adding to `into` (so IPv4 and IPv6 sum into one set of counts). A row in a
 * state outside MIB_TCP_STATE 1..12 (tcpmib.h also declares a reserved 100) is not counted as any state: it is
 * added to `unknown` (MIB_TCP_STATE value -> rows) for the source's note, and every other row still counts.
 */
export function countTcpTableStates(
  bytes: Uint8Array,
  family: AddressFamily,
  into: TcpStateCounts = emptyTcpStateCounts(),
  unknown: Map<number, number> = new Map(),
): TcpStateCounts {
  const layout = TCP_ROW_LAYOUT[family];
  const reader = new BinaryReader(bytes, layout.name);
  const entries = reader.u32(0, 'dwNumEntries');
  reader.require(TABLE_ROWS_OFFSET, entries * layout.rowSize, `${entries} rows of ${layout.rowSize} bytes`);
  // Count by MIB_TCP_STATE number first (a table can hold 100k rows), then name the states.
  const byValue = new Array<number>(WINDOWS_TCP_STATE_COUNT + 1).fill(0);
  for (let row = 0; row < entries; row++) {
    const value = reader.u32InRange(TABLE_ROWS_OFFSET + row * layout.rowSize + layout.stateOffset);
    if (value < 1 || value > WINDOWS_TCP_STATE_COUNT) unknown.set(value, (unknown.get(value) ?? 0) + 1);
    else byValue[value]! += 1;
  }
  byValue.forEach((count, value) => {
    const state = WINDOWS_TCP_STATES[value];
    if (state !== undefined) into[state] += count;
  });
  return into;
}

/** The note for rows in unknown states: "3 rows in unknown MIB_TCP_STATE 100 not counted". */
export function unknownStatesNote(unknown: ReadonlyMap<number, number>): string | undefined {
  if (unknown.size === 0) return undefined;
  const rows = [...unknown.values()].reduce((sum, count) => sum + count, 0);
  return `${rows} TCP rows in unknown MIB_TCP_STATE ${[...unknown.keys()].sort((a, b) => a - b).join(', ')} not counted`;
}

/** The Windows TCP state source; `ipHelper` reads the tables (its own IP Helper by default). */
export function createWindowsTcpStateSource(ipHelper: Pick<IpHelper, 'readTcpTable'> = createIpHelper()): Source {
  let note: string | undefined;
  return {
    name: 'windows_tcp_state',
    description: 'GetExtendedTcpTable (IPv4 and IPv6): TCP sockets by state',
    platforms: ['windows'],
    metrics: ['tcpState'],
    async collect() {
      const counts = emptyTcpStateCounts();
      const unknown = new Map<number, number>();
      countTcpTableStates(await ipHelper.readTcpTable(AF_INET), AF_INET, counts, unknown);
      countTcpTableStates(await ipHelper.readTcpTable(AF_INET6), AF_INET6, counts, unknown);
      note = unknownStatesNote(unknown);
      return {
        tcpState: TCP_STATES.map((state) => ({ labels: { [LABEL.state]: state }, value: counts[state] })),
      };
    },
    note: () => note,
    stop() {
      note = undefined;
      return Promise.resolve();
    },
  };
}
