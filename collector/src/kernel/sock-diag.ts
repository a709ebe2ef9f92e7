/**
 * Thin I/O for a netlink SOCK_DIAG dump of TCP sockets on a NETLINK_SOCK_DIAG socket (netlink-socket.ts), every
 * received datagram handed to the pure parser in inet-diag.ts.
 *
 * The kernel walks the same socket tables as for /proc/net/tcp but copies ~88-byte binary records, many per recv(),
 * instead of formatting ~150 bytes of text per socket and returning one 4 KiB page per read().
 *
 * The walk itself has a fixed cost that does not depend on how many sockets there are: every bucket of the
 * established hash (sized from RAM at boot, 262144 buckets on an 8-23 GB machine: ~1 ms per walk here) is visited.
 * SOCK_DIAG_BY_FAMILY needs one walk per address family; the TCPDIAG_GETSOCK request walks once for both, so it is
 * tried first, and a kernel that refuses it (the compatibility path removed or not built) gets the two
 * per-family requests from then on.
 */
import {
  AF_INET,
  AF_INET6,
  inetDiagBothFamiliesDumpRequest,
  inetDiagDumpRequest,
  SOCK_DIAG_BY_FAMILY,
  tallyInetDiagChunk,
  TCPDIAG_GETSOCK,
} from './inet-diag';
import { NLMSG_ERROR } from './netlink';
import { NETLINK_SOCK_DIAG, type Netlink, type NetlinkChunkHandler } from './netlink-socket';
import type { TcpSocketTally } from './tcp-table';

/** How a reader asks: one request for both families, or one per family. */
export type SockDiagRequestKind = 'both-families' | 'per-family';

export interface SockDiagReader {
  /**
   * Adds every TCP socket of the collector's network namespace (IPv4 and IPv6) to `tally`. Throws when netlink
   * SOCK_DIAG is not available (no koffi, no libc, kernel without inet_diag) or the dump is malformed.
   */
  tally(tally: TcpSocketTally, littleEndian: boolean): void;
  /**
   * The same tally with the both-families dump made by worker threads (Netlink.dumpOffThread): the kernel's walk of
   * the socket tables runs while the main thread does other work. Resolves when `tally` is complete. Rejects like
   * dumpOffThread; `tally` is then partial, to be thrown away. Per-family requests (a kernel that refused the
   * both-families one) are made on the calling thread, as tally() makes them.
   */
  tallyOffThread(tally: TcpSocketTally, littleEndian: boolean): Promise<void>;
  /** The request kind the next tally uses. */
  requestKind(): SockDiagRequestKind;
}

/**
 * A reader over `netlink` that starts with `first` (default: one walk for both families) and moves to per-family
 * requests for good when the kernel answers the both-families request with an error before any socket.
 */
export function createSockDiagReader(netlink: Netlink, first: SockDiagRequestKind = 'both-families'): SockDiagReader {
  let kind = first;
  /**
   * The chunk handler of the both-families dump; `refused()` tells afterwards whether the kernel answered it with an
   * error before any socket (then nothing was tallied).
   */
  const bothFamiliesHandler = (tally: TcpSocketTally, littleEndian: boolean) => {
    let refused = false;
    const onChunk: NetlinkChunkHandler = (chunk, length, first) => {
      const type = length >= 6 ? (littleEndian ? chunk.readUInt16LE(4) : chunk.readUInt16BE(4)) : 0;
      if (first && type === NLMSG_ERROR) return (refused = true);
      return tallyInetDiagChunk(chunk, length, tally, littleEndian, TCPDIAG_GETSOCK);
    };
    return { onChunk, refused: () => refused };
  };
  const tallyPerFamily = (tally: TcpSocketTally, littleEndian: boolean) => {
    kind = 'per-family';
    const requests = ([AF_INET, AF_INET6] as const).map((family, index) =>
      inetDiagDumpRequest(family, index + 1, littleEndian),
    );
    netlink.dump(NETLINK_SOCK_DIAG, 'sock_diag', requests, (chunk, length) =>
      tallyInetDiagChunk(chunk, length, tally, littleEndian, SOCK_DIAG_BY_FAMILY),
    );
  };
  return {
    tally(tally, littleEndian) {
      if (kind === 'both-families') {
        const handler = bothFamiliesHandler(tally, littleEndian);
        netlink.dump(
          NETLINK_SOCK_DIAG,
          'sock_diag',
          [inetDiagBothFamiliesDumpRequest(1, littleEndian)],
          handler.onChunk,
        );
        if (!handler.refused()) return;
      }
      tallyPerFamily(tally, littleEndian);
    },
    async tallyOffThread(tally, littleEndian) {
      if (kind === 'both-families') {
        const handler = bothFamiliesHandler(tally, littleEndian);
        const request = inetDiagBothFamiliesDumpRequest(1, littleEndian);
        await netlink.dumpOffThread(NETLINK_SOCK_DIAG, 'sock_diag', request, handler.onChunk);
        if (!handler.refused()) return;
      }
      tallyPerFamily(tally, littleEndian);
    },
    requestKind: () => kind,
  };
}
