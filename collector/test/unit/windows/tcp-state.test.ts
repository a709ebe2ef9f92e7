import fc from 'fast-check';
import { OTHER_REMOTE, TCP_STATES } from '../../../src/catalog';
import { resolveConfig } from '../../../src/config';
import { ParseError } from '../../../src/errors';
import { createHostFs } from '../../../src/kernel/host-fs';
import { newTcpSocketTally, tallyTcpTable } from '../../../src/kernel/tcp-table';
import { silentLogger } from '../../../src/log';
import { newPeerTally, servicePeerCounts, topRemotePeers, type PeerTally } from '../../../src/remote-peers';
import type { SourceContext } from '../../../src/source';
import { AF_INET, AF_INET6, type AddressFamily } from '../../../src/sources/windows/iphlpapi';
import {
  countTcpTableStates,
  createWindowsTcpStateSource,
  emptyTcpStateCounts,
  unknownStatesNote,
  WINDOWS_TCP_STATES,
} from '../../../src/sources/windows/tcp-state';
import { fixture } from '../../helpers/fixtures';
import { summariseSs } from '../../helpers/ss';
import { portField, tcp6TableOwnerPid, tcpTableOwnerPid, type TcpRow } from '../../helpers/windows-structs';

function context(flags: Record<string, string> = {}): SourceContext {
  const config = resolveConfig(flags, {});
  return { config, fs: createHostFs(config), log: silentLogger() };
}

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
    const samples = (await source.collect(context())).tcpState!;
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

/** The rows of a /proc/net/tcp{,6} table recorded on a little-endian Linux host, as Windows would list the sockets. */
function rowsOfProcTable(text: string): TcpRow[] {
  // Kernel state number (tcp_states.h: ESTABLISHED = 1 ... CLOSING = 11) -> MIB_TCP_STATE.
  const mibState = [0, 5, 3, 4, 6, 7, 11, 1, 8, 10, 2, 9];
  const addressBytes = (hex: string) => {
    const bytes: number[] = [];
    for (let i = 0; i < hex.length; i += 8) {
      const word = Number.parseInt(hex.slice(i, i + 8), 16);
      bytes.push(word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24);
    }
    return bytes;
  };
  return text
    .split('\n')
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [, local, remote, state] = line.trim().split(/\s+/) as [string, string, string, string];
      const [localHex, localPort] = local.split(':') as [string, string];
      const [remoteHex, remotePort] = remote.split(':') as [string, string];
      return {
        state: mibState[Number.parseInt(state, 16)]!,
        localAddress: addressBytes(localHex),
        // Garbage in the undefined upper half of every port field: only the first two bytes are the port.
        localPort: portField(Number.parseInt(localPort, 16), 0xbeef),
        remoteAddress: addressBytes(remoteHex),
        remotePort: portField(Number.parseInt(remotePort, 16), 0xcafe),
      };
    });
}

/** Peers as `address port` -> sockets, all of them (K large enough). */
function peersOf(tally: PeerTally): Map<string, number> {
  const summary = topRemotePeers(servicePeerCounts(tally), 1000, true);
  expect(summary.otherSockets).toBe(0);
  return new Map(summary.top.map((peer) => [`${peer.address} ${peer.port}`, peer.sockets]));
}

function tallyWindows(tables: readonly (readonly [AddressFamily, Buffer])[]): PeerTally {
  const peers = newPeerTally(true);
  for (const [family, bytes] of tables) countTcpTableStates(bytes, family, emptyTcpStateCounts(), new Map(), peers);
  return peers;
}

const v4 = (a: number, b: number, c: number, d: number) => [a, b, c, d];
const v6 = (...groups: number[]) => groups.flatMap((group) => [group >> 8, group & 0xff]);

describe('remote peers of the GetExtendedTcpTable rows (kappie_tcp_connection_remote)', () => {
  it.each(['tcp-netns-a', 'tcp-netns-b'])(
    '%s: the sockets recorded on Linux, listed as Windows rows, give the peers ss read and the Linux reader gives',
    (prefix) => {
      const tcp = fixture(`linux/${prefix}.tcp`);
      const tcp6 = fixture(`linux/${prefix}.tcp6`);
      const windows = tallyWindows([
        [AF_INET, tcpTableOwnerPid(rowsOfProcTable(tcp))],
        [AF_INET6, tcp6TableOwnerPid(rowsOfProcTable(tcp6))],
      ]);
      const linux = newTcpSocketTally(true);
      tallyTcpTable(Buffer.from(tcp, 'latin1'), 'tcp', { family: 'tcp', littleEndian: true }, linux);
      tallyTcpTable(Buffer.from(tcp6, 'latin1'), 'tcp6', { family: 'tcp6', littleEndian: true }, linux);
      expect(peersOf(windows)).toEqual(summariseSs(fixture(`linux/${prefix}.ss`)).peers);
      expect(topRemotePeers(servicePeerCounts(windows), 3, true)).toEqual(
        topRemotePeers(servicePeerCounts(linux), 3, true),
      );
    },
  );

  it('keys inbound sockets by the local service port and outbound ones by the remote port, IPv4 and IPv6 together', () => {
    const peers = tallyWindows([
      [
        AF_INET,
        tcpTableOwnerPid([
          // A listener on 8080: its remote fields have no meaning and hold garbage here.
          { state: 2, localPort: portField(8080), remoteAddress: v4(9, 9, 9, 9), remotePort: portField(9) },
          // Two clients of it from ephemeral ports: one series, port 8080.
          { state: 5, localPort: portField(8080), remoteAddress: v4(10, 0, 0, 2), remotePort: portField(50001) },
          { state: 11, localPort: portField(8080), remoteAddress: v4(10, 0, 0, 2), remotePort: portField(50002) },
          // Outbound to 10.0.0.1:443 from ephemeral ports, with garbage in the undefined upper port bytes.
          {
            state: 5,
            localPort: portField(49152, 0xffff),
            remoteAddress: v4(10, 0, 0, 1),
            remotePort: portField(443, 1),
          },
          { state: 8, localPort: portField(49153), remoteAddress: v4(10, 0, 0, 1), remotePort: portField(443) },
          // No peer: an unconnected socket (remote 0.0.0.0:0).
          { state: 1, localPort: portField(49154), remoteAddress: v4(0, 0, 0, 0), remotePort: 0 },
          // A row in the reserved state 100 is counted nowhere, not as a peer either.
          { state: 100, localPort: portField(49155), remoteAddress: v4(10, 0, 0, 3), remotePort: portField(22) },
        ]),
      ],
      [
        AF_INET6,
        tcp6TableOwnerPid([
          // A dual-stack socket talking IPv4 to 10.0.0.1:443: the same peer as over IPv4.
          {
            state: 5,
            localPort: portField(49160),
            remoteAddress: v6(0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001),
            remotePort: portField(443),
          },
          {
            state: 5,
            localPort: portField(49161),
            remoteAddress: v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
            remotePort: portField(443),
          },
          // An IPv6 client of the IPv4 listener's port: inbound too (listening ports of both tables count).
          {
            state: 5,
            localPort: portField(8080),
            remoteAddress: v6(0xfd00, 0, 0, 0, 0, 0, 0, 7),
            remotePort: portField(40000),
          },
          { state: 1, localPort: portField(49162), remoteAddress: v6(0, 0, 0, 0, 0, 0, 0, 0), remotePort: 0 },
        ]),
      ],
    ]);
    expect(peersOf(peers)).toEqual(
      new Map([
        ['10.0.0.1 443', 3],
        ['10.0.0.2 8080', 2],
        ['2001:db8::1 443', 1],
        ['fd00::7 8080', 1],
      ]),
    );
  });

  it('exports the top-K peers plus "other", and skips the peers above --tcp-scan-max-sockets, saying so', async () => {
    const rows: TcpRow[] = [1, 1, 1, 2, 2, 3].map((host, i) => ({
      state: 5,
      localPort: portField(50000 + i),
      remoteAddress: v4(10, 0, 0, host),
      remotePort: portField(443),
    }));
    const source = createWindowsTcpStateSource({
      readTcpTable: async (family) => (family === AF_INET ? tcpTableOwnerPid(rows) : tcp6TableOwnerPid([])),
    });
    const samples = await source.collect(context({ tcpRemoteTopK: '1' }));
    expect(samples.tcpConnectionRemote).toEqual([
      { labels: { address: '10.0.0.1', port: '443' }, value: 3 },
      { labels: { address: OTHER_REMOTE, port: OTHER_REMOTE }, value: 3 },
    ]);
    expect(source.note?.()).toBeUndefined();

    const capped = await source.collect(context({ tcpScanMaxSockets: '5' }));
    expect(capped.tcpConnectionRemote).toBeUndefined();
    expect(capped.tcpState!.find((sample) => sample.labels['state'] === 'ESTABLISHED')?.value).toBe(6);
    expect(source.note?.()).toBe('remote peers skipped: 6 sockets > --tcp-scan-max-sockets 5');
  });

  it('sums its series to the rows in a known state, not LISTEN, with a peer, for any rows (fuzz)', () => {
    const row = fc.record({
      state: fc.constantFrom(1, 2, 3, 5, 8, 11, 12, 100),
      localPort: fc.nat(0xffffffff),
      remotePort: fc.nat(0xffffffff),
      remoteAddress: fc.array(fc.constantFrom(0, 1, 10, 255), { minLength: 16, maxLength: 16 }),
    });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 30 }), fc.boolean(), fc.nat(25), (rows, ipv6, k) => {
        const family = ipv6 ? AF_INET6 : AF_INET;
        const listed = ipv6 ? rows : rows.map((r) => ({ ...r, remoteAddress: r.remoteAddress.slice(0, 4) }));
        const bytes = ipv6 ? tcp6TableOwnerPid(listed) : tcpTableOwnerPid(listed);
        const peers = tallyWindows([[family, bytes]]);
        const withPeer = listed.filter(
          (r) =>
            r.state !== 2 && r.state !== 100 && (r.remoteAddress.some((b) => b !== 0) || (r.remotePort & 0xffff) !== 0),
        ).length;
        const summary = topRemotePeers(servicePeerCounts(peers), k, true);
        expect(summary.top.length).toBeLessThanOrEqual(k);
        expect(summary.top.reduce((sum, peer) => sum + peer.sockets, summary.otherSockets)).toBe(withPeer);
      }),
    );
  });
});
