/**
 * /proc/net/tcp and /proc/net/tcp6: sockets per state, and non-listening sockets per remote peer. A pure parser of the
 * bytes, and the thin read of both tables (`tallyTcpTables`).
 *
 * These files hold one ~150-byte line per socket (15 MB at 100k sockets), so the parser works on the bytes: no
 * string per line, no split. Per line it checks and reads only the columns it needs (the `sl` index, the local and
 * remote `ADDR:PORT`, the state) by walking their separators; the `sl` column widens past 9999 sockets, so nothing is
 * read at a fixed offset. A remote peer is counted under its raw kernel value (see RemoteKey); only the top-K are
 * turned into canonical addresses (see `topRemotePeers`).
 *
 * Anything unexpected is a ParseError naming the file and line: a truncated or garbled table never becomes a count.
 */
import { TCP_STATES, type TcpState } from '../catalog';
import { ParseError } from '../errors';
import type { HostFs } from './host-fs';
import { ipv4FromWord, ipv6FromProcHex } from './proc-net-address';

/**
 * A remote peer as the kernel wrote it. IPv4 (and IPv4-mapped IPv6) is one number: the raw 32-bit address word times
 * 65536 plus the port, so the hot loop allocates nothing for it. Other IPv6 peers are the table's hex `ADDR:PORT`.
 */
export type RemoteKey = number | string;

/**
 * Non-listening sockets that have a peer, one entry per socket in two parallel arrays: the peer as the kernel wrote it
 * and the socket's local port. Whether a socket is inbound (its local port is a listening port) is only known once
 * every table was read, so the sockets are kept until `servicePeerCounts` folds them.
 */
export interface PeerSockets {
  readonly remotes: RemoteKey[];
  readonly localPorts: number[];
}

/** Socket counts gathered over one or more tables. */
export interface TcpSocketTally {
  /** Sockets per state, indexed like TCP_STATES. */
  readonly states: number[];
  /** Non-listening sockets with a peer; undefined when peers are not tallied. */
  readonly peers: PeerSockets | undefined;
  /** Local ports of the LISTEN sockets of every table read (IPv4 and IPv6 together). */
  readonly listeningPorts: Set<number>;
}

export function newTcpSocketTally(tallyRemotes: boolean): TcpSocketTally {
  return {
    states: TCP_STATES.map(() => 0),
    peers: tallyRemotes ? { remotes: [], localPorts: [] } : undefined,
    listeningPorts: new Set(),
  };
}

/** Records one non-listening socket with a peer (`remote`) on `localPort`. */
export function addPeerSocket(peers: PeerSockets, remote: RemoteKey, localPort: number): void {
  peers.remotes.push(remote);
  peers.localPorts.push(localPort);
}

/**
 * Sockets per peer and service, the key a series is made of, so that the set of keys stays bounded over time and not
 * only per scrape: an inbound socket (its local port is a port some LISTEN socket of the tally holds) counts under
 * the remote address and the LOCAL port, the service the client reached (the client's ephemeral port would make a
 * new key for every connection); any other socket under the remote address and the REMOTE port (the service this
 * host reached). Keys have the RemoteKey shape, so `topRemotePeers` reads them either way.
 */
export function servicePeerCounts(tally: TcpSocketTally): Map<RemoteKey, number> {
  const counts = new Map<RemoteKey, number>();
  const peers = tally.peers;
  if (peers === undefined) return counts;
  const { listeningPorts } = tally;
  for (let i = 0; i < peers.remotes.length; i++) {
    const remote = peers.remotes[i]!;
    const localPort = peers.localPorts[i]!;
    const key = listeningPorts.has(localPort) ? withPort(remote, localPort) : remote;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** `key` with its port replaced by `port`. */
function withPort(key: RemoteKey, port: number): RemoteKey {
  if (typeof key === 'number') return Math.floor(key / 65536) * 65536 + port;
  return key.slice(0, key.length - 4) + port.toString(16).toUpperCase().padStart(4, '0');
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

/**
 * Value of `digits` (at most 8) uppercase hex digits at `at`, or -1 if any byte is not one. Never reads past a
 * newline (not a hex digit), and the table is known to end with one, so it never runs off the end.
 */
function readHex(bytes: Uint8Array, at: number, digits: number): number {
  let value = 0;
  for (let i = at; i < at + digits; i++) {
    const digit = HEX_VALUE[bytes[i]!]!;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

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
  let line = 1;
  const fail = (detail: string): never => {
    throw new ParseError(file, detail, line);
  };
  if (length === 0) fail('empty: expected the "  sl  local_address ..." header');
  if (bytes[length - 1] !== NEWLINE) {
    throw new ParseError(file, 'does not end with a newline: the text is truncated');
  }
  for (let i = 0; i < HEADER_START.length; i++) {
    if (bytes[i] !== HEADER_START[i]) fail('expected the "  sl  local_address ..." header');
  }
  const ipv6 = options.family === 'tcp6';
  const addressDigits = ipv6 ? 32 : 8;
  // The third word of ::ffff:a.b.c.d as the kernel prints it (bytes 00 00 ff ff read as a native u32).
  const mappedWord = options.littleEndian ? 0xffff0000 : 0x0000ffff;
  const { states, peers, listeningPorts } = tally;
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  /** Checks `HEX{addressDigits}:HEX{4}` at `at`; returns the index after it. */
  const skipAddressPort = (at: number, what: string): number => {
    for (let i = at; i < at + addressDigits; i += 8) {
      if (readHex(bytes, i, 8) < 0) fail(`${what}: expected ${addressDigits} uppercase hex digits`);
    }
    if (bytes[at + addressDigits] !== COLON) fail(`${what}: expected ":" after the address`);
    if (readHex(bytes, at + addressDigits + 1, 4) < 0) fail(`${what}: expected a 4-digit hex port`);
    return at + addressDigits + 5;
  };

  let lineStart = buffer.indexOf(NEWLINE) + 1;
  while (lineStart < length) {
    line += 1;
    let at = lineStart;
    while (bytes[at] === SPACE) at++;
    const slStart = at;
    while (bytes[at]! >= ZERO && bytes[at]! <= NINE) at++;
    if (at === slStart || bytes[at] !== COLON || bytes[at + 1] !== SPACE) fail('expected "<sl>: " at the start');
    const localStart = at + 2;
    at = skipAddressPort(localStart, 'local address');
    if (bytes[at] !== SPACE) fail('expected a space after the local address');
    const remoteStart = at + 1;
    at = skipAddressPort(remoteStart, 'remote address');
    if (bytes[at] !== SPACE || bytes[at + 3] !== SPACE) fail('expected a two-digit state after the remote address');
    const stateNumber = readHex(bytes, at + 1, 2);
    if (stateNumber < 0 || KERNEL_STATE_BY_NUMBER[stateNumber] === undefined) {
      fail(`unknown TCP state ${JSON.stringify(String.fromCharCode(bytes[at + 1]!, bytes[at + 2]!))}`);
    }
    const stateIndex = stateNumber - 1;
    states[stateIndex]! += 1;
    const localPort = readHex(bytes, localStart + addressDigits + 1, 4);
    if (stateIndex === LISTEN_INDEX) listeningPorts.add(localPort);
    else if (peers !== undefined) {
      const port = readHex(bytes, remoteStart + addressDigits + 1, 4);
      let key: RemoteKey | undefined;
      if (!ipv6) {
        const word = readHex(bytes, remoteStart, 8);
        if (word !== 0 || port !== 0) key = word * 65536 + port;
      } else {
        const w0 = readHex(bytes, remoteStart, 8);
        const w1 = readHex(bytes, remoteStart + 8, 8);
        const w2 = readHex(bytes, remoteStart + 16, 8);
        const w3 = readHex(bytes, remoteStart + 24, 8);
        if (w0 === 0 && w1 === 0 && w2 === mappedWord) key = w3 * 65536 + port;
        else if (w0 !== 0 || w1 !== 0 || w2 !== 0 || w3 !== 0 || port !== 0) key = latin1(bytes, remoteStart, at);
      }
      // key undefined: a wildcard remote (0...0:0000), an unconnected socket with no peer.
      if (key !== undefined) addPeerSocket(peers, key, localPort);
    }
    // The rest of the line is not needed: jump to its end (a native search is far cheaper than a JS loop here).
    lineStart = buffer.indexOf(NEWLINE, at + 4) + 1;
  }
}

/**
 * Reads /proc/net/tcp and /proc/net/tcp6 as bytes and adds their sockets to `tally`. tcp6 is absent on a kernel
 * without IPv6; tcp missing is an error (ENOENT).
 */
export function tallyTcpTables(fs: HostFs, tally: TcpSocketTally, littleEndian: boolean): void {
  tallyTcpTable(fs.readProcBytes('net/tcp'), 'net/tcp', { family: 'tcp', littleEndian }, tally);
  const v6 = fs.readProcBytesIfExists('net/tcp6');
  if (v6 !== undefined) tallyTcpTable(v6, 'net/tcp6', { family: 'tcp6', littleEndian }, tally);
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
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
 * The K peers with the most sockets (keys as `servicePeerCounts` gives them), and the sum of the rest. Equal counts are ordered by the kernel's hex key, so
 * the same sockets always give the same series. Only the chosen K are converted to text.
 */
export function topRemotePeers(
  remotes: ReadonlyMap<RemoteKey, number>,
  k: number,
  littleEndian: boolean,
): RemotePeerSummary {
  const chosen = selectTop(remotes, k);
  let total = 0;
  for (const sockets of remotes.values()) total += sockets;
  let topTotal = 0;
  const top = chosen.map(([key, sockets]) => {
    topTotal += sockets;
    if (typeof key === 'number') {
      return { address: ipv4FromWord(Math.floor(key / 65536), littleEndian), port: key % 65536, sockets };
    }
    return {
      address: ipv6FromProcHex(key.slice(0, 32), littleEndian),
      port: Number.parseInt(key.slice(33), 16),
      sockets,
    };
  });
  return { top, otherSockets: total - topTotal };
}

type Entry = readonly [key: RemoteKey, sockets: number];

/** True when `a` ranks before `b`: more sockets, then IPv4 before IPv6, then the smaller raw key. */
function ranksBefore(a: Entry, b: Entry): boolean {
  if (a[1] !== b[1]) return a[1] > b[1];
  const [keyA, keyB] = [a[0], b[0]];
  if (typeof keyA !== typeof keyB) return typeof keyA === 'number';
  return keyA < keyB;
}

/**
 * The best `k` entries in rank order, in O(n log k): a heap of the best seen so far whose root is the worst of them.
 */
function selectTop(entries: ReadonlyMap<RemoteKey, number>, k: number): Entry[] {
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
