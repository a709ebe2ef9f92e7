import fc from 'fast-check';
import { TCP_STATES } from '../../../src/catalog';
import { ParseError } from '../../../src/errors';
import { AF_INET, AF_INET6 } from '../../../src/sources/windows/iphlpapi';
import {
  countTcpTableStates,
  createWindowsTcpStateSource,
  emptyTcpStateCounts,
  unknownStatesNote,
  WINDOWS_TCP_STATES,
} from '../../../src/sources/windows/tcp-state';
import { tcp6TableOwnerPid, tcpTableOwnerPid } from '../../helpers/windows-structs';

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

describe('countTcpTableStates', () => {
  it('counts IPv4 rows (MIB_TCPROW_OWNER_PID) by state, every MIB_TCP_STATE mapped', () => {
    const rows = [2, 2, 5, 5, 5, 11, 3, 4, 6, 7, 8, 9, 10, 1, 12].map((state) => ({ state }));
    const counts = countTcpTableStates(tcpTableOwnerPid(rows), AF_INET);
    expect(counts).toEqual({
      ...emptyTcpStateCounts(),
      LISTEN: 2,
      ESTABLISHED: 3,
      TIME_WAIT: 1,
      SYN_SENT: 1,
      SYN_RECV: 1,
      FIN_WAIT1: 1,
      FIN_WAIT2: 1,
      CLOSE_WAIT: 1,
      CLOSING: 1,
      LAST_ACK: 1,
      // CLOSED (1) and DELETE_TCB (12): both are connections that are over.
      CLOSE: 2,
    });
  });

  it('reads the state of IPv6 rows from the end of the row (MIB_TCP6ROW_OWNER_PID), not the start', () => {
    // Ports and pids that would be read as states 2 and 5 if the decoder read the wrong field.
    const rows = [{ state: 11, localPort: 2, remotePort: 5, pid: 5 }, { state: 2 }];
    expect(countTcpTableStates(tcp6TableOwnerPid(rows), AF_INET6)).toEqual({
      ...emptyTcpStateCounts(),
      TIME_WAIT: 1,
      LISTEN: 1,
    });
  });

  it('sums IPv4 and IPv6 into one set of counts', () => {
    const counts = emptyTcpStateCounts();
    countTcpTableStates(tcpTableOwnerPid([{ state: 5 }, { state: 2 }]), AF_INET, counts);
    countTcpTableStates(tcp6TableOwnerPid([{ state: 5 }]), AF_INET6, counts);
    expect(counts.ESTABLISHED).toBe(2);
    expect(counts.LISTEN).toBe(1);
  });

  it('maps onto the catalog states only, and reports every state even at zero', () => {
    for (const state of Object.values(WINDOWS_TCP_STATES)) expect(TCP_STATES).toContain(state);
    const counts = countTcpTableStates(tcpTableOwnerPid([]), AF_INET);
    expect(Object.keys(counts).sort()).toEqual([...TCP_STATES].sort());
    expect(total(counts)).toBe(0);
  });

  it('accepts the spare bytes of a buffer sized larger than the rows (the size probe leaves headroom)', () => {
    const table = Buffer.concat([tcpTableOwnerPid([{ state: 5 }]), Buffer.alloc(4096)]);
    expect(countTcpTableStates(table, AF_INET).ESTABLISHED).toBe(1);
  });

  it('counts the known states of a table holding a row in the reserved MIB_TCP_STATE 100, and notes that row', () => {
    const unknown = new Map<number, number>();
    const counts = countTcpTableStates(
      tcpTableOwnerPid([{ state: 5 }, { state: 100 }, { state: 2 }, { state: 0 }]),
      AF_INET,
      emptyTcpStateCounts(),
      unknown,
    );
    expect(counts.ESTABLISHED).toBe(1);
    expect(counts.LISTEN).toBe(1);
    expect(total(counts)).toBe(2);
    expect([...unknown]).toEqual([
      [100, 1],
      [0, 1],
    ]);
    expect(unknownStatesNote(unknown)).toBe('2 TCP rows in unknown MIB_TCP_STATE 0, 100 not counted');
    expect(unknownStatesNote(new Map())).toBeUndefined();
  });

  it('keeps every tcp_state series of the source when one row is in an unknown state', async () => {
    const source = createWindowsTcpStateSource({
      readTcpTable: async (family) =>
        family === AF_INET ? tcpTableOwnerPid([{ state: 5 }, { state: 100 }]) : tcp6TableOwnerPid([{ state: 5 }]),
    });
    const samples = (await source.collect({} as never)).tcpState!;
    expect(samples).toHaveLength(TCP_STATES.length);
    expect(samples.find((sample) => sample.labels['state'] === 'ESTABLISHED')?.value).toBe(2);
    expect(source.note?.()).toBe('1 TCP rows in unknown MIB_TCP_STATE 100 not counted');
  });

  it('rejects truncated tables with a ParseError', () => {
    expect(() => countTcpTableStates(Buffer.alloc(3), AF_INET)).toThrow(/truncated: dwNumEntries/);
    const full = tcp6TableOwnerPid([{ state: 5 }, { state: 5 }]);
    expect(() => countTcpTableStates(full.subarray(0, full.length - 1), AF_INET6)).toThrow(/truncated/);
  });

  it('counts exactly the rows of any table, or throws a ParseError when cut short (fuzz)', () => {
    const rows = fc.array(
      fc.record({ state: fc.integer({ min: 1, max: 12 }), localPort: fc.nat(0xffffffff), pid: fc.nat(0xffffffff) }),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(rows, fc.boolean(), fc.nat(), (rowList, v6, cutSeed) => {
        const family = v6 ? AF_INET6 : AF_INET;
        const bytes = v6 ? tcp6TableOwnerPid(rowList) : tcpTableOwnerPid(rowList);
        expect(total(countTcpTableStates(bytes, family))).toBe(rowList.length);
        const cut = cutSeed % bytes.length;
        expect(() => countTcpTableStates(bytes.subarray(0, cut), family)).toThrow(ParseError);
      }),
    );
  });

  it('never crashes on arbitrary bytes: a ParseError or counts that add up to dwNumEntries (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, v6) => {
        try {
          const unknown = new Map<number, number>();
          const counts = countTcpTableStates(bytes, v6 ? AF_INET6 : AF_INET, emptyTcpStateCounts(), unknown);
          const unknownRows = [...unknown.values()].reduce((a, b) => a + b, 0);
          expect(total(counts) + unknownRows).toBe(Buffer.from(bytes).readUInt32LE(0));
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
        }
      }),
    );
  });
});
