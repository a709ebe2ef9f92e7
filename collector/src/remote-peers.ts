/**
 * Remote TCP peers, platform-neutral: how a non-listening socket is keyed so that the set of keys stays bounded over
 * time, and the top-K of those keys. Every TCP table reader fills the same `PeerTally` (Linux: /proc/net/tcp{,6} in
 * kernel/tcp-table.ts and the netlink SOCK_DIAG dump in kernel/inet-diag.ts; Windows: the GetExtendedTcpTable rows
 * in sources/windows/tcp-state.ts), and `servicePeerCounts` and `topRemotePeers` turn it into peers, so
 * kappie_tcp_connection_remote means the same on every node.
 *
 * Keys are the address as the host's CPU holds it (see RemoteKey), so a reader's hot loop allocates nothing for an
 * IPv4 peer and only the K chosen peers are ever turned into text.
 */
import { ipv4FromWord, ipv6FromProcHex } from './kernel/proc-net-address';

/**
 * A remote peer as raw words. An address is read as 32-bit words from its network-order bytes in the CPU's byte
 * order (what /proc/net/tcp prints with `%08X`, what a little-endian reader of a netlink or Windows buffer gets).
 * IPv4 (and IPv4-mapped IPv6) is one number: the address word times 65536 plus the port. Any other IPv6 peer is the
 * /proc/net/tcp6 text of the four words and the port, `HHHHHHHH` x 4 `:PPPP`, uppercase hex.
 */
export type RemoteKey = number | string;

/**
 * Non-listening sockets that have a peer, one entry per socket in two parallel arrays: the peer's key and the
 * socket's local port. Whether a socket is inbound (its local port is a listening port) is only known once every
 * table was read, so the sockets are kept until `servicePeerCounts` folds them.
 */
export interface PeerSockets {
  readonly remotes: RemoteKey[];
  readonly localPorts: number[];
}

/** What a TCP table reader gathers for the peers, over one or more tables (IPv4 and IPv6 together). */
export interface PeerTally {
  /** Non-listening sockets with a peer; undefined when peers are not tallied. */
  readonly peers: PeerSockets | undefined;
  /** Local ports of the LISTEN sockets of every table read. */
  readonly listeningPorts: Set<number>;
}

/** An empty tally; `tallyPeers` false leaves `peers` undefined (only listening ports are kept). */
export function newPeerTally(tallyPeers: boolean): PeerTally {
  return { peers: tallyPeers ? { remotes: [], localPorts: [] } : undefined, listeningPorts: new Set() };
}

/** Records one non-listening socket with a peer (`remote`) on `localPort`. */
export function addPeerSocket(peers: PeerSockets, remote: RemoteKey, localPort: number): void {
  peers.remotes.push(remote);
  peers.localPorts.push(localPort);
}

/** The key of an IPv4 peer from its address word (read in the CPU's byte order) and port; undefined for 0.0.0.0:0. */
export function ipv4RemoteKey(word: number, port: number): RemoteKey | undefined {
  return word !== 0 || port !== 0 ? word * 65536 + port : undefined;
}

/**
 * The key of an IPv6 peer from its four address words (each read from network-order bytes in the CPU's byte order)
 * and port: an IPv4-mapped address (::ffff:a.b.c.d, a dual-stack socket talking IPv4) keys as the IPv4 peer, the
 * wildcard [::]:0 (an unconnected socket) as undefined.
 */
export function ipv6RemoteKey(
  w0: number,
  w1: number,
  w2: number,
  w3: number,
  port: number,
  littleEndian: boolean,
): RemoteKey | undefined {
  const mappedWord = littleEndian ? 0xffff0000 : 0x0000ffff;
  if (w0 === 0 && w1 === 0 && w2 === mappedWord) return w3 * 65536 + port;
  if (w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0 && port === 0) return undefined;
  return `${hex8(w0)}${hex8(w1)}${hex8(w2)}${hex8(w3)}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

function hex8(word: number): string {
  return word.toString(16).toUpperCase().padStart(8, '0');
}

/**
 * Sockets per peer and service, the key a series is made of, so that the set of keys stays bounded over time and not
 * only per scrape: an inbound socket (its local port is a port some LISTEN socket of the tally holds) counts under
 * the remote address and the LOCAL port, the service the client reached (the client's ephemeral port would make a
 * new key for every connection); any other socket under the remote address and the REMOTE port (the service this
 * host reached). Keys have the RemoteKey shape, so `topRemotePeers` reads them either way.
 */
export function servicePeerCounts(tally: PeerTally): Map<RemoteKey, number> {
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
 * The K peers with the most sockets (keys as `servicePeerCounts` gives them), and the sum of the rest. Equal counts
 * are ordered by the raw key, so the same sockets always give the same series. Only the chosen K are converted to
 * text; `littleEndian` is the byte order the keys' words were read in.
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
