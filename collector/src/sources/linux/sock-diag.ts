/**
 * Thin I/O for a netlink SOCK_DIAG dump of TCP sockets: opens a NETLINK_SOCK_DIAG socket through libc (Node.js has no
 * AF_NETLINK sockets; koffi calls libc without compiling anything), sends one dump request per address family and
 * hands every received chunk to the pure parser in inet-diag.ts.
 *
 * The kernel walks the same socket tables as for /proc/net/tcp but copies ~88-byte binary records, many per recv(),
 * instead of formatting ~150 bytes of text per socket and returning one 4 KiB page per read().
 */
import { ParseError } from '../../errors';
import { AF_INET, AF_INET6, inetDiagDumpRequest, tallyInetDiagChunk } from './inet-diag';
import type { TcpSocketTally } from './tcp-table';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_SOCK_DIAG = 4;
const RECEIVE_BYTES = 1 << 16;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  send(fd: number, buffer: Buffer, length: number, flags: number): number;
  recv(fd: number, buffer: Buffer, length: number, flags: number): number;
  close(fd: number): number;
  errno(): number;
}

/** The part of koffi's API used here (loaded with require, so typed by hand). */
interface Koffi {
  load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
  errno(): number;
}

let libc: Libc | undefined;

/** libc's socket calls, loaded on first use (koffi is a native module: load it only where it is needed). */
function loadLibc(): Libc {
  if (libc) return libc;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require('koffi') as Koffi;
  const library = koffi.load('libc.so.6');
  const socket = library.func('int socket(int, int, int)');
  const send = library.func('long send(int, const void *, size_t, int)');
  const recv = library.func('long recv(int, void *, size_t, int)');
  const close = library.func('int close(int)');
  libc = {
    socket: (domain, type, protocol) => socket(domain, type, protocol) as number,
    send: (fd, buffer, length, flags) => Number(send(fd, buffer, length, flags)),
    recv: (fd, buffer, length, flags) => Number(recv(fd, buffer, length, flags)),
    close: (fd) => close(fd) as number,
    errno: () => koffi.errno(),
  };
  return libc;
}

/**
 * Adds every TCP socket of the collector's network namespace (IPv4 and IPv6) to `tally`. Throws when netlink
 * SOCK_DIAG is not available (no koffi, no libc, kernel without inet_diag) or the dump is malformed.
 */
export function tallySockDiag(tally: TcpSocketTally, littleEndian: boolean): void {
  const c = loadLibc();
  const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) throw new Error(`netlink SOCK_DIAG socket: errno ${c.errno()}`);
  try {
    const chunk = Buffer.allocUnsafe(RECEIVE_BYTES);
    for (const [sequence, family] of ([AF_INET, AF_INET6] as const).entries()) {
      const request = inetDiagDumpRequest(family, sequence + 1, littleEndian);
      if (c.send(fd, request, request.length, 0) !== request.length) {
        throw new Error(`netlink SOCK_DIAG send: errno ${c.errno()}`);
      }
      for (;;) {
        const received = c.recv(fd, chunk, chunk.length, 0);
        if (received <= 0) throw new ParseError('sock_diag', `recv returned ${received} (errno ${c.errno()})`);
        if (tallyInetDiagChunk(chunk, received, tally, littleEndian)) break;
      }
    }
  } finally {
    c.close(fd);
  }
}
