import fc from 'fast-check';
import { TCP_STATES, type TcpState } from '../../../src/catalog';
import { ParseError } from '../../../src/errors';
import { ipv4FromProcHex, ipv6FromProcHex } from '../../../src/kernel/proc-net-address';
import {
  newTcpSocketTally,
  tallyTcpTable,
  servicePeerCounts,
  topRemotePeers,
  type TcpSocketTally,
  type TcpTableOptions,
} from '../../../src/kernel/tcp-table';
import { fixture } from '../../helpers/fixtures';
import { summariseSs } from '../../helpers/ss';

const LE = { littleEndian: true } as const;
const V4: TcpTableOptions = { family: 'tcp', ...LE };
const V6: TcpTableOptions = { family: 'tcp6', ...LE };

/** Tallies recorded tables `<prefix>.tcp` and `<prefix>.tcp6`. */
function tallyRecorded(prefix: string): TcpSocketTally {
  const tally = newTcpSocketTally(true);
  tallyTcpTable(Buffer.from(fixture(`linux/${prefix}.tcp`), 'latin1'), `${prefix}.tcp`, V4, tally);
  tallyTcpTable(Buffer.from(fixture(`linux/${prefix}.tcp6`), 'latin1'), `${prefix}.tcp6`, V6, tally);
  return tally;
}

function statesOf(tally: TcpSocketTally): Record<TcpState, number> {
  return Object.fromEntries(TCP_STATES.map((state, index) => [state, tally.states[index]!])) as Record<
    TcpState,
    number
  >;
}

function peersOf(tally: TcpSocketTally): Map<string, number> {
  const summary = topRemotePeers(servicePeerCounts(tally), 1000, true);
  expect(summary.otherSockets).toBe(0);
  return new Map(summary.top.map((peer) => [`${peer.address} ${peer.port}`, peer.sockets]));
}

const V4_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const V6_HEADER =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const TAIL = '00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 100 0 0 10 0';

function v4Line(sl: number, remote: string, state: string): string {
  return `${String(sl).padStart(4)}: 0100007F:1F90 ${remote} ${state} ${TAIL}\n`;
}

describe('tallyTcpTable on tables recorded from network namespaces', () => {
  it.each(['tcp-netns-a', 'tcp-netns-b'])('%s: states and peers equal what ss read at the same moment', (prefix) => {
    const tally = tallyRecorded(prefix);
    const ss = summariseSs(fixture(`linux/${prefix}.ss`));
    for (const state of TCP_STATES) expect([state, statesOf(tally)[state]]).toEqual([state, ss.states[state] ?? 0]);
    expect(peersOf(tally)).toEqual(ss.peers);
    expect(tally.peers!.remotes.length).toBe([...ss.peers.values()].reduce((a, b) => a + b, 0));
  });

  it('counts every state of the client side exactly (IPv4 and IPv6)', () => {
    expect(statesOf(tallyRecorded('tcp-netns-a'))).toEqual({
      ESTABLISHED: 7,
      SYN_SENT: 2,
      SYN_RECV: 0,
      FIN_WAIT1: 0,
      FIN_WAIT2: 2,
      TIME_WAIT: 3,
      CLOSE: 0,
      CLOSE_WAIT: 0,
      LAST_ACK: 0,
      LISTEN: 2,
      CLOSING: 0,
    });
  });

  it('shows IPv4-mapped IPv6 peers as IPv4, merged with the same peer over IPv4', () => {
    // The server side: inbound sockets under the client's address and the listening port (8081 is a dual-stack
    // listener, its IPv4 clients are IPv4-mapped IPv6 sockets).
    const peers = peersOf(tallyRecorded('tcp-netns-b'));
    expect(peers).toEqual(
      new Map([
        ['198.18.77.1 8080', 3],
        ['198.18.77.1 8081', 2],
        ['198.18.77.1 8082', 2],
        ['fd00:6b61:77::1 8080', 2],
      ]),
    );
    // The peer's blackholed SYNs, IPv4 and IPv6, are peers too.
    const client = peersOf(tallyRecorded('tcp-netns-a'));
    expect(client.get('198.18.78.2 443')).toBe(1);
    expect(client.get('fd00:6b61:78::2 443')).toBe(1);
    expect(client.get('198.18.77.2 8080')).toBe(5); // 3 established + 2 TIME_WAIT
  });

  it('reads the host table and an IPv6 table holding only its header', () => {
    const tally = tallyRecorded('tcp-host');
    const lines = fixture('linux/tcp-host.tcp').split('\n').length - 2;
    expect(tally.states.reduce((a, b) => a + b, 0)).toBe(lines);
    expect(statesOf(tally).LISTEN).toBeGreaterThanOrEqual(1);
  });
});

describe('tallyTcpTable on edge cases', () => {
  it('reads the sl column however wide it grows', () => {
    const tally = newTcpSocketTally(true);
    const text = V4_HEADER + v4Line(9999, '0200007F:0050', '01') + v4Line(123456, '0200007F:0050', '01');
    tallyTcpTable(Buffer.from(text), 'tcp', V4, tally);
    expect(tally.states[0]).toBe(2);
    expect(peersOf(tally)).toEqual(new Map([['127.0.0.2 80', 2]]));
  });

  it('leaves listeners and wildcard remotes out of the peers', () => {
    const tally = newTcpSocketTally(true);
    const text = V4_HEADER + v4Line(0, '00000000:0000', '0A') + v4Line(1, '00000000:0000', '07');
    tallyTcpTable(Buffer.from(text), 'tcp', V4, tally);
    expect(tally.peers!.remotes.length).toBe(0);
    expect(statesOf(tally)).toMatchObject({ LISTEN: 1, CLOSE: 1 });
  });

  it.each([
    ['00', 'state 0 does not exist'],
    ['0C', 'NEW_SYN_RECV is printed as SYN_RECV by the kernel'],
    ['FF', 'out of range'],
    ['0a', 'lowercase hex is not what the kernel prints'],
  ])('rejects state %s (%s) naming the line', (state) => {
    const text = V4_HEADER + v4Line(0, '0200007F:0050', '01') + v4Line(1, '0200007F:0050', state);
    expect(() => tallyTcpTable(Buffer.from(text), 'net/tcp', V4, newTcpSocketTally(true))).toThrow(
      new ParseError('net/tcp', `unknown TCP state ${JSON.stringify(state)}`, 3),
    );
  });

  it('rejects a missing header, an IPv6 line in an IPv4 table, a missing final newline', () => {
    const tally = newTcpSocketTally(true);
    expect(() => tallyTcpTable(Buffer.from(v4Line(0, '0200007F:0050', '01')), 'tcp', V4, tally)).toThrow(/header/);
    expect(() => tallyTcpTable(Buffer.from(fixture('linux/tcp-netns-b.tcp6')), 'tcp', V4, tally)).toThrow(ParseError);
    expect(() => tallyTcpTable(Buffer.from(V4_HEADER.trimEnd()), 'tcp', V4, tally)).toThrow(/truncated/);
    expect(() => tallyTcpTable(Buffer.alloc(0), 'tcp', V4, tally)).toThrow(/empty/);
    expect(() => tallyTcpTable(Buffer.from(V6_HEADER + '   0: 0\n'), 'tcp6', V6, tally)).toThrow(/local address/);
  });
});

describe('tallyTcpTable fuzzing', () => {
  const recorded = ['tcp-netns-a.tcp', 'tcp-netns-a.tcp6', 'tcp-netns-b.tcp6', 'tcp-host.tcp'];

  it('gives a ParseError or whole counts on arbitrary text, never a crash', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ maxLength: 300 }).map((s) => V4_HEADER + s),
        ),
        (text) => {
          const tally = newTcpSocketTally(true);
          try {
            tallyTcpTable(Buffer.from(text, 'latin1'), 'tcp', V4, tally);
            expect(tally.states.reduce((a, b) => a + b, 0)).toBe(text.split('\n').length - 2);
          } catch (error) {
            expect(error).toBeInstanceOf(ParseError);
          }
        },
      ),
    );
  });

  it.each(recorded)(
    '%s cut anywhere: a ParseError, or (at a line end) exactly the sockets of the whole lines',
    (name) => {
      const text = fixture(`linux/${name}`);
      const options = name.endsWith('6') ? V6 : V4;
      fc.assert(
        fc.property(fc.integer({ min: 0, max: text.length - 1 }), (cut) => {
          const truncated = text.slice(0, cut);
          const tally = newTcpSocketTally(true);
          if (truncated.endsWith('\n')) {
            tallyTcpTable(Buffer.from(truncated, 'latin1'), name, options, tally);
            expect(tally.states.reduce((a, b) => a + b, 0)).toBe(truncated.split('\n').length - 2);
          } else {
            expect(() => tallyTcpTable(Buffer.from(truncated, 'latin1'), name, options, tally)).toThrow(ParseError);
          }
        }),
      );
    },
  );

  it.each(recorded)('%s with one byte changed: a ParseError or the same number of sockets', (name) => {
    const text = fixture(`linux/${name}`);
    const options = name.endsWith('6') ? V6 : V4;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: text.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const bytes = Buffer.from(text, 'latin1');
        bytes[at] = byte;
        const tally = newTcpSocketTally(true);
        try {
          tallyTcpTable(bytes, name, options, tally);
          expect(tally.states.reduce((a, b) => a + b, 0)).toBe(bytes.toString('latin1').split('\n').length - 2);
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
        }
      }),
    );
  });
});

/** A generated socket line: remote peer (maybe wildcard) and state. */
const socketLine = fc.record({
  remote: fc.oneof(
    fc.constant('00000000:0000'),
    fc
      .tuple(fc.constantFrom('0100007F', '0200007F', '014D12C6', 'FFFFFFFF'), fc.constantFrom('0050', '01BB', 'FFFF'))
      .map(([address, port]) => `${address}:${port}`),
  ),
  state: fc.integer({ min: 1, max: TCP_STATES.length }),
});

describe('top-K remote peers and "other"', () => {
  it('the series sum to the non-listening sockets with a peer, top-K at most K, ranked, deterministic', () => {
    fc.assert(
      fc.property(fc.array(socketLine, { maxLength: 60 }), fc.integer({ min: 0, max: 8 }), (lines, k) => {
        const text =
          V4_HEADER +
          lines
            .map((line, index) => v4Line(index, line.remote, line.state.toString(16).toUpperCase().padStart(2, '0')))
            .join('');
        const tally = newTcpSocketTally(true);
        tallyTcpTable(Buffer.from(text), 'tcp', V4, tally);
        const withPeer = lines.filter(
          (line) => TCP_STATES[line.state - 1] !== 'LISTEN' && line.remote !== '00000000:0000',
        ).length;
        const summary = topRemotePeers(servicePeerCounts(tally), k, true);
        expect(summary.top.reduce((sum, peer) => sum + peer.sockets, 0) + summary.otherSockets).toBe(withPeer);
        expect(summary.top.length).toBe(Math.min(k, servicePeerCounts(tally).size));
        for (let i = 1; i < summary.top.length; i++) {
          expect(summary.top[i - 1]!.sockets).toBeGreaterThanOrEqual(summary.top[i]!.sockets);
        }
        const smallestTop = summary.top.at(-1)?.sockets ?? Infinity;
        const chosen = new Set(summary.top.map((peer) => `${peer.address} ${peer.port}`));
        for (const [key, sockets] of peersOf(tally)) {
          if (!chosen.has(key)) expect(sockets).toBeLessThanOrEqual(smallestTop);
        }
        // The same peers inserted in another order give the same answer.
        const reversed = new Map([...servicePeerCounts(tally).entries()].reverse());
        expect(topRemotePeers(reversed, k, true)).toEqual(summary);
      }),
    );
  });
});

describe('canonical addresses from /proc hex', () => {
  it('reads IPv4 in either byte order', () => {
    expect(ipv4FromProcHex('0100007F', true)).toBe('127.0.0.1');
    expect(ipv4FromProcHex('7F000001', false)).toBe('127.0.0.1');
    expect(ipv4FromProcHex('024D12C6', true)).toBe('198.18.77.2');
  });

  it('reads IPv6 and IPv4-mapped IPv6 in either byte order', () => {
    expect(ipv6FromProcHex('616B00FD000077000000000002000000', true)).toBe('fd00:6b61:77::2');
    expect(ipv6FromProcHex('FD006B61007700000000000000000002', false)).toBe('fd00:6b61:77::2');
    expect(ipv6FromProcHex('0000000000000000FFFF0000014D12C6', true)).toBe('198.18.77.1');
    expect(ipv6FromProcHex('00000000000000000000FFFFC6124D01', false)).toBe('198.18.77.1');
    expect(ipv6FromProcHex('00000000000000000000000001000000', true)).toBe('::1');
    expect(ipv6FromProcHex('00000000000000000000000000000000', true)).toBe('::');
  });

  it('writes IPv6 exactly as the WHATWG URL serialiser does (RFC 5952 compression)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
          minLength: 8,
          maxLength: 8,
        }),
        fc.boolean(),
        (groups, littleEndian) => {
          const bytes = Buffer.alloc(16);
          groups.forEach((group, index) => bytes.writeUInt16BE(group, index * 2));
          if (bytes.subarray(0, 12).equals(Buffer.from('00000000000000000000ffff', 'hex'))) return; // IPv4-mapped
          let hex = '';
          for (let word = 0; word < 4; word++) {
            const value = littleEndian ? bytes.readUInt32LE(word * 4) : bytes.readUInt32BE(word * 4);
            hex += value.toString(16).toUpperCase().padStart(8, '0');
          }
          const full = groups.map((group) => group.toString(16)).join(':');
          const expected = new URL(`http://[${full}]/`).hostname.slice(1, -1);
          expect(ipv6FromProcHex(hex, littleEndian)).toBe(expected);
        },
      ),
    );
  });
});

describe('peers keyed by service, bounded over time', () => {
  /** A line with its own local port (`local` as hex ADDR:PORT). */
  const line = (sl: number, local: string, remote: string, state: string) =>
    `${String(sl).padStart(4)}: ${local} ${remote} ${state} ${TAIL}\n`;

  it('counts inbound sockets under the client address and the listening port, whatever ephemeral port they use', () => {
    // A server on 10.0.0.1:443 (0100000A:01BB) and 200 connections from 10.0.0.2 (0200000A), each from its own
    // ephemeral port, in two generations (churn): the keys stay the same.
    const generation = (first: number) =>
      V4_HEADER +
      line(0, '0100000A:01BB', '00000000:0000', '0A') +
      Array.from({ length: 100 }, (_, i) =>
        line(i + 1, '0100000A:01BB', `0200000A:${(first + i).toString(16).toUpperCase()}`, '01'),
      ).join('');
    const keys = new Set<string>();
    for (const first of [40000, 50000]) {
      const tally = newTcpSocketTally(true);
      tallyTcpTable(Buffer.from(generation(first)), 'tcp', V4, tally);
      const peers = peersOf(tally);
      expect(peers).toEqual(new Map([['10.0.0.2 443', 100]]));
      for (const key of peers.keys()) keys.add(key);
    }
    expect([...keys]).toEqual(['10.0.0.2 443']);
  });

  it('counts outbound sockets under the remote address and port, and sees a listener in either table', () => {
    // 10.0.0.1 listens on [::]:8080 (tcp6); one IPv4-mapped inbound socket to it from 10.0.0.3:51000, and one
    // outbound IPv4 socket from ephemeral port 41000 to 10.0.0.9:5432.
    const v4 = V4_HEADER + line(0, '0100000A:A028', '0900000A:1538', '01');
    const v6 =
      V6_HEADER +
      `   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A ${TAIL}\n` +
      `   1: 0000000000000000FFFF00000100000A:1F90 0000000000000000FFFF00000300000A:C738 01 ${TAIL}\n`;
    const tally = newTcpSocketTally(true);
    tallyTcpTable(Buffer.from(v4), 'tcp', V4, tally);
    tallyTcpTable(Buffer.from(v6), 'tcp6', V6, tally);
    expect(peersOf(tally)).toEqual(
      new Map([
        ['10.0.0.3 8080', 1],
        ['10.0.0.9 5432', 1],
      ]),
    );
  });
});
