/**
 * Thin I/O for a netlink SOCK_DIAG dump of TCP sockets: one dump request per address family on a NETLINK_SOCK_DIAG
 * socket (netlink-socket.ts), every received datagram handed to the pure parser in inet-diag.ts.
 *
 * The kernel walks the same socket tables as for /proc/net/tcp but copies ~88-byte binary records, many per recv(),
 * instead of formatting ~150 bytes of text per socket and returning one 4 KiB page per read().
 */
import { AF_INET, AF_INET6, inetDiagDumpRequest, tallyInetDiagChunk } from './inet-diag';
import { NETLINK_SOCK_DIAG, type Netlink } from './netlink-socket';
import type { TcpSocketTally } from './tcp-table';

/**
 * Adds every TCP socket of the collector's network namespace (IPv4 and IPv6) to `tally`. Throws when netlink
 * SOCK_DIAG is not available (no koffi, no libc, kernel without inet_diag) or the dump is malformed.
 */
export function tallySockDiag(netlink: Netlink, tally: TcpSocketTally, littleEndian: boolean): void {
  const requests = ([AF_INET, AF_INET6] as const).map((family, index) =>
    inetDiagDumpRequest(family, index + 1, littleEndian),
  );
  netlink.dump(NETLINK_SOCK_DIAG, 'sock_diag', requests, (chunk, length) =>
    tallyInetDiagChunk(chunk, length, tally, littleEndian),
  );
}
