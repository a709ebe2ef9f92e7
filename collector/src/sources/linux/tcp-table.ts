/**
 * Pure parser of /proc/net/tcp and /proc/net/tcp6: sockets per state, and non-listening sockets per remote peer.
 *
 * These files hold one ~150-byte line per socket (15 MB at 100k sockets), so the parser works on the bytes: no
 * string per line, no split. Per line it checks and reads only the columns it needs (the `sl` index, the local and
 * remote `ADDR:PORT`, the state) by walking their separators; the `sl` column widens past 9999 sockets, so nothing is
 * read at a fixed offset. A remote peer is counted under its raw hex text; only the top-K are turned into canonical
 * addresses (see `topRemotePeers`).
 *
 * Anything unexpected is a ParseError naming the file and line: a truncated or garbled table never becomes a count.
 */
import { TCP_STATES, type TcpState } from '../../catalog';
import { ParseError } from '../../errors';
import { ipv4FromProcHex, ipv4MappedPrefix, ipv6FromProcHex } from './proc-net-address';

/** Socket counts gathered over one or more tables. */
export interface TcpSocketTally {
  /** Sockets per state, indexed like TCP_STATES. */
  readonly states: number[];
  /**
   * Non-listening sockets per remote peer, keyed by the kernel's hex `ADDR:PORT` (8 hex digits for IPv4 and for
   * IPv4-mapped IPv6, 32 for IPv6); undefined when peers are not tallied.
   */
  readonly remotes: Map<string, number> | undefined;
  /** How many sockets were counted in `remotes` (the sum of its values). */
  peerSockets: number;
}

export function newTcpSocketTally(tallyRemotes: boolean): TcpSocketTally {
  return { states: TCP_STATES.map(() => 0), remotes: tallyRemotes ? new Map() : undefined, peerSockets: 0 };
}

/**
 * The kernel's state numbers (include/net/tcp_states.h: ESTABLISHED = 1 ... CLOSING = 11) are TCP_STATES in order.
 * TCP_NEW_SYN_RECV (12) is printed as SYN_RECV by the kernel, so 1..11 is everything a table can hold.
 */
const KERNEL_STATE_BY_NUMBER: readonly (TcpState | undefined)[] = [undefined, ...TCP_STATES];
const LISTEN_INDEX = TCP_STATES.indexOf('LISTEN');

const NEWLINE = 0x0a;
const SPACE = 0x20;
const COLON = 0x3a;
const ZERO = 0x30;
const NINE = 0x39;

/** Value of each byte as an uppercase hex digit (the kernel prints `%X`), or -1. */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[ZERO + i] = i;
for (let i = 0; i < 6; i++) HEX_VALUE[0x41 + i] = 10 + i;

const HEADER_START = Buffer.from('  sl  local_address ', 'latin1');

export interface TcpTableOptions {
  /** 'tcp' for /proc/net/tcp, 'tcp6' for /proc/net/tcp6: sets the address width. */
  readonly family: 'tcp' | 'tcp6';
  /** Byte order of the CPU that wrote the table (os.endianness() === 'LE' on the host). */
  readonly littleEndian: boolean;
}

/**
 * Adds the sockets of one table to `tally`. Throws a ParseError (and leaves `tally` partly filled: discard it) when
 * the text is not a whole, well-formed table.
 */
export function tallyTcpTable(bytes: Uint8Array, file: string, options: TcpTableOptions, tally: TcpSocketTally): void {
  const length = bytes.length;
  const fail = (line: number, detail: string): never => {
    throw new ParseError(file, detail, line);
  };
  if (length === 0) fail(1, 'empty: expected the "  sl  local_address ..." header');
  if (bytes[length - 1] !== NEWLINE) {
    throw new ParseError(file, 'does not end with a newline: the text is truncated');
  }
  for (let i = 0; i < HEADER_START.length; i++) {
    if (bytes[i] !== HEADER_START[i]) fail(1, 'expected the "  sl  local_address ..." header');
  }
  const addressDigits = options.family === 'tcp' ? 8 : 32;
  const mappedPrefix =
    options.family === 'tcp6' ? Buffer.from(ipv4MappedPrefix(options.littleEndian), 'latin1') : undefined;
  const { states, remotes } = tally;
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  let lineStart = buffer.indexOf(NEWLINE) + 1;
  let line = 1;
  // Bytes of `HEX{digits}:HEX{4}`, checked; returns the index after it.
  const expectAddressPort = (at: number, end: number, what: string): number => {
    const portEnd = at + addressDigits + 5;
    if (portEnd > end) fail(line, `${what}: line too short`);
    for (let i = at; i < portEnd; i++) {
      if (i === at + addressDigits) {
        if (buffer[i] !== COLON) fail(line, `${what}: expected ":" after ${addressDigits} hex digits`);
      } else if (HEX_VALUE[buffer[i]!]! < 0) {
        fail(line, `${what}: expected uppercase hex, got ${JSON.stringify(String.fromCharCode(buffer[i]!))}`);
      }
    }
    return portEnd;
  };

  while (lineStart < length) {
    line += 1;
    const lineEnd = buffer.indexOf(NEWLINE, lineStart);
    let at = lineStart;
    while (at < lineEnd && buffer[at] === SPACE) at++;
    const slStart = at;
    while (at < lineEnd && buffer[at]! >= ZERO && buffer[at]! <= NINE) at++;
    if (at === slStart || buffer[at] !== COLON || buffer[at + 1] !== SPACE) {
      fail(line, 'expected "<sl>: " at the start of the line');
    }
    at = expectAddressPort(at + 2, lineEnd, 'local address');
    if (buffer[at] !== SPACE) fail(line, 'expected a space after the local address');
    const remoteStart = at + 1;
    const remoteEnd = expectAddressPort(remoteStart, lineEnd, 'remote address');
    at = remoteEnd;
    if (buffer[at] !== SPACE || at + 3 >= lineEnd || buffer[at + 3] !== SPACE) {
      fail(line, 'expected a two-digit state after the remote address');
    }
    const high = HEX_VALUE[buffer[at + 1]!]!;
    const low = HEX_VALUE[buffer[at + 2]!]!;
    const stateNumber = high < 0 || low < 0 ? -1 : high * 16 + low;
    if (KERNEL_STATE_BY_NUMBER[stateNumber] === undefined) {
      fail(line, `unknown TCP state ${JSON.stringify(buffer.toString('latin1', at + 1, at + 3))}`);
    }
    const stateIndex = stateNumber - 1;
    states[stateIndex]! += 1;

    if (remotes !== undefined && stateIndex !== LISTEN_INDEX && !isWildcard(buffer, remoteStart, remoteEnd)) {
      const key =
        mappedPrefix !== undefined && buffer.compare(mappedPrefix, 0, 24, remoteStart, remoteStart + 24) === 0
          ? buffer.toString('latin1', remoteStart + 24, remoteEnd)
          : buffer.toString('latin1', remoteStart, remoteEnd);
      remotes.set(key, (remotes.get(key) ?? 0) + 1);
      tally.peerSockets += 1;
    }
    lineStart = lineEnd + 1;
  }
}

/** `0...0:0000`: an unconnected socket (a listener) has no peer. */
function isWildcard(buffer: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = buffer[i];
    if (byte !== ZERO && byte !== COLON) return false;
  }
  return true;
}

export interface RemotePeer {
  /** Canonical text: dotted quad, or RFC 5952 IPv6 (IPv4-mapped addresses as IPv4). */
  readonly address: string;
  readonly port: number;
  readonly sockets: number;
}

export interface RemotePeerSummary {
  /** At most K peers, most sockets first. */
  readonly top: RemotePeer[];
  /** Sockets of every other peer. */
  readonly otherSockets: number;
}

/**
 * The K peers with the most sockets, and the sum of the rest. Equal counts are ordered by the kernel's hex key, so
 * the same sockets always give the same series. Only the chosen K are converted to text.
 */
export function topRemotePeers(
  remotes: ReadonlyMap<string, number>,
  k: number,
  littleEndian: boolean,
): RemotePeerSummary {
  const chosen = selectTop(remotes, k);
  let total = 0;
  for (const sockets of remotes.values()) total += sockets;
  let topTotal = 0;
  const top = chosen.map(([key, sockets]) => {
    topTotal += sockets;
    const colon = key.indexOf(':');
    const hex = key.slice(0, colon);
    return {
      address: hex.length === 8 ? ipv4FromProcHex(hex, littleEndian) : ipv6FromProcHex(hex, littleEndian),
      port: Number.parseInt(key.slice(colon + 1), 16),
      sockets,
    };
  });
  return { top, otherSockets: total - topTotal };
}

type Entry = readonly [key: string, sockets: number];

/** True when `a` ranks before `b`: more sockets, then the smaller key. */
function ranksBefore(a: Entry, b: Entry): boolean {
  return a[1] !== b[1] ? a[1] > b[1] : a[0] < b[0];
}

/**
 * The best `k` entries in rank order, in O(n log k): a heap of the best seen so far whose root is the worst of them.
 */
function selectTop(entries: ReadonlyMap<string, number>, k: number): Entry[] {
  if (k <= 0) return [];
  const heap: Entry[] = [];
  const siftDown = (from: number) => {
    let at = from;
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let worst = at;
      if (left < heap.length && ranksBefore(heap[worst]!, heap[left]!)) worst = left;
      if (right < heap.length && ranksBefore(heap[worst]!, heap[right]!)) worst = right;
      if (worst === at) return;
      [heap[at], heap[worst]] = [heap[worst]!, heap[at]!];
      at = worst;
    }
  };
  for (const entry of entries) {
    if (heap.length < k) {
      heap.push(entry);
      let at = heap.length - 1;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!ranksBefore(heap[parent]!, heap[at]!)) break;
        [heap[at], heap[parent]] = [heap[parent]!, heap[at]!];
        at = parent;
      }
    } else if (ranksBefore(entry, heap[0]!)) {
      heap[0] = entry;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (ranksBefore(a, b) ? -1 : 1));
}
