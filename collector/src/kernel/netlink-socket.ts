/**
 * Thin I/O for netlink dumps. Node.js has no AF_NETLINK sockets, so the socket is libc's, called through koffi (a
 * foreign function interface that needs no compiler). A dump is: open a socket of the family's protocol, send the
 * request, hand every received datagram to a pure parser until it says the dump is done, close the socket.
 */
import { ParseError } from '../errors';
import { loadLibc } from './libc';
import { inNetNamespace, netNamespaceFile } from './net-namespace';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
/** recv() flag: return the datagram's real length even when it did not fit the buffer. */
const MSG_TRUNC = 0x20;
export const NETLINK_ROUTE = 0;
export const NETLINK_SOCK_DIAG = 4;
export const NETLINK_NETFILTER = 12;
/**
 * Receive buffer. The kernel builds dump datagrams of at most max(32 KiB, the largest single message) (netlink_dump),
 * so 64 KiB holds one whole; a larger one (a link with hundreds of VFs, which we never ask for) is an error, not a
 * silently cut dump.
 */
const RECEIVE_BYTES = 1 << 16;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  send(fd: number, buffer: Buffer, length: number, flags: number): number;
  recv(fd: number, buffer: Buffer, length: number, flags: number): number;
  close(fd: number): number;
  setns(fd: number, nstype: number): number;
  errno(): number;
}

/** libc's socket calls (koffi is a native module: it is loaded only when a dump is first made). */
function loadSocketCalls(): Libc {
  const { koffi, libc: library } = loadLibc();
  const socket = library.func('int socket(int, int, int)');
  const send = library.func('long send(int, const void *, size_t, int)');
  const recv = library.func('long recv(int, void *, size_t, int)');
  const close = library.func('int close(int)');
  const setns = library.func('int setns(int, int)');
  return {
    socket: (domain, type, protocol) => socket(domain, type, protocol) as number,
    send: (fd, buffer, length, flags) => Number(send(fd, buffer, length, flags)),
    recv: (fd, buffer, length, flags) => Number(recv(fd, buffer, length, flags)),
    close: (fd) => close(fd) as number,
    setns: (fd, nstype) => setns(fd, nstype) as number,
    errno: () => koffi.errno(),
  };
}

/**
 * Receives one dump's datagrams: returns true once the dump is done. `first` is true for the first datagram
 * answering a request (where a kernel that refuses the request puts its NLMSG_ERROR).
 */
export type NetlinkChunkHandler = (bytes: Buffer, length: number, first: boolean) => boolean;

export interface Netlink {
  /**
   * Sends each request in turn on one socket of `protocol` (NETLINK_ROUTE, NETLINK_SOCK_DIAG) and feeds its
   * answer's datagrams to `onChunk` until it returns true. `what` names the facility in errors. Throws when netlink
   * is not available (no koffi, no libc, a kernel without the protocol) or a datagram did not fit the buffer.
   */
  dump(protocol: number, what: string, requests: readonly Buffer[], onChunk: NetlinkChunkHandler): void;
}

/** Where a netlink client's sockets answer from. */
export interface NetlinkOptions {
  /**
   * The proc root whose `net/` files the dumps must agree with (--proc-path): each socket is opened in the network
   * namespace that root shows (kernel/net-namespace.ts), e.g. the target's for `/proc/<pid>`. Absent: the
   * collector's own namespace.
   */
  readonly procPath?: string;
}

/**
 * A netlink client; libc is loaded on its first dump and kept by this instance (sources keep one each). With
 * `procPath`, every dump's socket is opened in the namespace that proc root shows, resolved again at each dump.
 */
export function createNetlink(options: NetlinkOptions = {}): Netlink {
  let libc: Libc | undefined;
  /**
   * The receive buffer, kept for the client's life: a new 64 KiB buffer per dump is an ArrayBuffer outside V8's heap
   * that each dump leaves for the garbage collector (several dumps per gathering). Dumps are synchronous, so one
   * buffer serves them all; a dump started from inside another's chunk handler gets a buffer of its own.
   */
  let idleChunk: Buffer | undefined;
  return {
    dump(protocol, what, requests, onChunk) {
      const c = (libc ??= loadSocketCalls());
      const open = () => c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
      const fd = options.procPath === undefined ? open() : inNetNamespace(c, netNamespaceFile(options.procPath), open);
      if (fd < 0) throw new Error(`netlink ${what} socket: errno ${c.errno()}`);
      const chunk = idleChunk ?? Buffer.allocUnsafe(RECEIVE_BYTES);
      idleChunk = undefined;
      try {
        for (const request of requests) {
          if (c.send(fd, request, request.length, 0) !== request.length) {
            throw new Error(`netlink ${what} send: errno ${c.errno()}`);
          }
          for (let first = true; ; first = false) {
            const received = c.recv(fd, chunk, chunk.length, MSG_TRUNC);
            if (received <= 0) throw new ParseError(what, `recv returned ${received} (errno ${c.errno()})`);
            if (received > chunk.length) {
              throw new ParseError(what, `a ${received}-byte datagram did not fit the ${chunk.length}-byte buffer`);
            }
            if (onChunk(chunk, received, first)) break;
          }
        }
      } finally {
        c.close(fd);
        idleChunk = chunk;
      }
    },
  };
}
