/**
 * Thin I/O for netlink dumps. Node.js has no AF_NETLINK sockets, so the socket is libc's, called through koffi (a
 * foreign function interface that needs no compiler). A dump is: open a socket of the family's protocol, send the
 * request, hand every received datagram to a pure parser until it says the dump is done, close the socket.
 *
 * A dump can also be made off the main thread (`dumpOffThread`): the kernel builds a dump's datagrams inside the
 * send and recv calls of whoever asks (the first one in send, each next one in the recv that took the previous), so
 * the walk of a large table (sock_diag's established hash: ~1 ms whatever the socket count) costs the calling thread
 * that long. Made by libuv's worker threads through koffi's asynchronous calls, the walk runs while the main thread
 * gathers the other sources.
 */
import * as os from 'node:os';
import { ParseError } from '../errors';
import { loadLibc, type Koffi } from './libc';
import { inNetNamespace, netNamespaceFile, showsOwnNamespace } from './net-namespace';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
/** recv() flag: return the datagram's real length even when it did not fit the buffer. */
const MSG_TRUNC = 0x20;
export const NETLINK_ROUTE = 0;
export const NETLINK_SOCK_DIAG = 4;
export const NETLINK_NETFILTER = 12;
/**
 * Receive buffer. The kernel builds dump datagrams of at most max(32 KiB, the largest single message) (netlink_dump;
 * for a link dump only when the request carries IFLA_EXT_MASK, see rtnetlink-link.ts' linkDumpRequest), so 64 KiB
 * holds one whole; a larger one (a link with hundreds of VFs or altnames) is an error, not a silently cut dump.
 */
const RECEIVE_BYTES = 1 << 16;

/**
 * Datagrams one recvmmsg call of an off-thread dump may take, and the buffer of each. The kernel builds a dump's
 * datagrams of at most 32 KiB once the reader has shown a buffer that large (netlink_recvmsg caps max_recvmsg_len
 * there) unless one message is larger (cb->min_dump_alloc: rtnetlink's links with many VFs, never sock_diag's
 * ~130-byte sockets), so 16 buffers of 32 KiB take ~4000 sockets per call (32364-byte datagrams of 124-132 bytes per
 * socket, measured); a larger dump takes several calls, each queued when the main thread has parsed the previous
 * batch. A datagram larger than its buffer is an error (MSG_TRUNC), never a cut dump.
 */
const BATCH_DATAGRAMS = 16;
const BATCH_BUFFER_BYTES = 1 << 15;
/** struct mmsghdr on a 64-bit Linux ABI: struct msghdr (56 bytes) then unsigned int msg_len, padded to 64. */
const MMSGHDR_BYTES = 64;
const MSGHDR_IOV = 16;
const MSGHDR_IOVLEN = 24;
const MMSGHDR_LEN = 56;
/** struct iovec: void *iov_base, size_t iov_len. */
const IOVEC_BYTES = 16;
/** recvmmsg flag: block for the first datagram only, then take what is queued (include/linux/socket.h). */
const MSG_WAITFORONE = 0x10000;
const SOL_SOCKET = 1;
/**
 * SO_RCVTIMEO with a struct timeval of two longs (asm-generic/socket.h, SO_RCVTIMEO_OLD): the value on x86-64 and
 * arm64; other architectures number it differently (ppc64 18, mips and sparc their own), so off-thread dumps are
 * made only on these two (OFF_THREAD_ARCHITECTURES), whose struct layouts this file writes too.
 */
const SO_RCVTIMEO = 20;
const OFF_THREAD_ARCHITECTURES: readonly string[] = ['x64', 'arm64'];
/**
 * How long an off-thread receive waits for a datagram: a safety net. The receive starts after the send returned (which
 * queued the dump's first datagram) and the kernel queues each next one within the recv that took the previous, so
 * only a request the kernel took and never answered waits this long.
 */
const OFF_THREAD_RECEIVE_TIMEOUT_SECONDS = 5;

/** The callback of a koffi asynchronous call: the C function's result, or why the call could not be made. */
type AsyncCallback = (error: unknown, result: unknown) => void;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  send(fd: number, buffer: Buffer, length: number, flags: number): number;
  recv(fd: number, buffer: Buffer, length: number, flags: number): number;
  close(fd: number): number;
  setns(fd: number, nstype: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, length: number): number;
  /** send(2) made by a libuv worker thread; `done` runs on the main thread with the byte count or -1. */
  sendOffThread(fd: number, buffer: Buffer, length: number, flags: number, done: AsyncCallback): void;
  /** recvmmsg(2) made by a libuv worker thread (no timeout argument); `done` gets the datagram count or -1. */
  recvmmsgOffThread(fd: number, vector: unknown, length: number, flags: number, done: AsyncCallback): void;
  errno(): number;
  readonly koffi: Koffi;
}

/** A koffi function's asynchronous form: the same arguments, then a callback. */
type WithAsync = ((...args: unknown[]) => unknown) & { async(...args: unknown[]): void };

/** libc's socket calls (koffi is a native module: it is loaded only when a dump is first made). */
function loadSocketCalls(): Libc {
  const { koffi, libc: library } = loadLibc();
  const socket = library.func('int socket(int, int, int)');
  const send = library.func('long send(int, const void *, size_t, int)') as WithAsync;
  const recv = library.func('long recv(int, void *, size_t, int)');
  const close = library.func('int close(int)');
  const setns = library.func('int setns(int, int)');
  const setsockopt = library.func('int setsockopt(int, int, int, const void *, unsigned int)');
  const recvmmsg = library.func('int recvmmsg(int, void *, unsigned int, int, void *)') as WithAsync;
  return {
    socket: (domain, type, protocol) => socket(domain, type, protocol) as number,
    send: (fd, buffer, length, flags) => Number(send(fd, buffer, length, flags)),
    recv: (fd, buffer, length, flags) => Number(recv(fd, buffer, length, flags)),
    close: (fd) => close(fd) as number,
    setns: (fd, nstype) => setns(fd, nstype) as number,
    setsockopt: (fd, level, name, value, length) => setsockopt(fd, level, name, value, length) as number,
    sendOffThread: (fd, buffer, length, flags, done) => send.async(fd, buffer, length, flags, done),
    recvmmsgOffThread: (fd, vector, length, flags, done) => recvmmsg.async(fd, vector, length, flags, null, done),
    errno: () => koffi.errno(),
    koffi,
  };
}

/**
 * The memory of off-thread receives: BATCH_DATAGRAMS struct mmsghdr, their struct iovec and their receive buffers in
 * one native allocation (koffi.alloc: worker threads write it while JavaScript runs, so it must not be a buffer V8
 * could move or free), 512 KiB made once per client and kept for the process's life. Only the pages the kernel
 * writes become resident.
 */
interface BatchArea {
  /** The native pointer to the mmsghdr vector (the start of the allocation), as recvmmsg takes it. */
  readonly vector: unknown;
  /** The allocation as a Buffer: headers first, then the iovecs, then the buffers. */
  readonly memory: Buffer;
  /** Each receive buffer as a Buffer of its own (a subarray of `memory`), made once. */
  readonly chunks: readonly Buffer[];
  /** msg_len, the length a recvmmsg call stored for datagram `index` of the batch (host byte order). */
  readonly receivedLength: (index: number) => number;
  /** True while an off-thread receive owns the area (a client makes one off-thread dump at a time). */
  busy: boolean;
}

/** Allocates and links a BatchArea; throws on a platform whose struct layout this file does not know. */
function createBatchArea(koffi: Koffi): BatchArea {
  if (!OFF_THREAD_ARCHITECTURES.includes(process.arch) || koffi.sizeof('void *') !== 8) {
    throw new Error(`off-thread netlink dumps are made on ${OFF_THREAD_ARCHITECTURES.join(' and ')} only`);
  }
  const iovecsAt = BATCH_DATAGRAMS * MMSGHDR_BYTES;
  const buffersAt = iovecsAt + BATCH_DATAGRAMS * IOVEC_BYTES;
  const size = buffersAt + BATCH_DATAGRAMS * BATCH_BUFFER_BYTES;
  const vector = koffi.alloc('uint8_t', size);
  const address = koffi.address(vector);
  const memory = Buffer.from(koffi.view(vector, size));
  memory.fill(0, 0, buffersAt);
  const littleEndian = os.endianness() === 'LE';
  const writePointer = (value: bigint, at: number) =>
    littleEndian ? memory.writeBigUInt64LE(value, at) : memory.writeBigUInt64BE(value, at);
  const chunks: Buffer[] = [];
  for (let i = 0; i < BATCH_DATAGRAMS; i++) {
    const header = i * MMSGHDR_BYTES;
    const iovec = iovecsAt + i * IOVEC_BYTES;
    const buffer = buffersAt + i * BATCH_BUFFER_BYTES;
    writePointer(address + BigInt(iovec), header + MSGHDR_IOV);
    writePointer(1n, header + MSGHDR_IOVLEN);
    writePointer(address + BigInt(buffer), iovec);
    writePointer(BigInt(BATCH_BUFFER_BYTES), iovec + 8);
    chunks.push(memory.subarray(buffer, buffer + BATCH_BUFFER_BYTES));
  }
  const receivedLength = (index: number) =>
    littleEndian
      ? memory.readUInt32LE(index * MMSGHDR_BYTES + MMSGHDR_LEN)
      : memory.readUInt32BE(index * MMSGHDR_BYTES + MMSGHDR_LEN);
  return { vector, memory, chunks, receivedLength, busy: false };
}

/** struct timeval { long tv_sec; long tv_usec; } of `seconds`, in host byte order. */
function timeval(seconds: number): Buffer {
  const value = Buffer.alloc(16);
  if (os.endianness() === 'LE') value.writeBigInt64LE(BigInt(seconds), 0);
  else value.writeBigInt64BE(BigInt(seconds), 0);
  return value;
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
  /**
   * One request's dump made by libuv's worker threads: send(2) and recvmmsg(2) (up to BATCH_DATAGRAMS datagrams per
   * call) run off the main thread, so the kernel's walk overlaps whatever JavaScript runs meanwhile; `onChunk` runs on
   * the main thread as each batch arrives. Resolves once `onChunk` returns true. Rejects when netlink is not
   * available, a datagram did not fit, `onChunk` threw, a call failed (with the worker thread's errno, which koffi
   * restores while the call's callback runs), or the client's previous
   * off-thread dump still holds its receive memory.
   */
  dumpOffThread(protocol: number, what: string, request: Buffer, onChunk: NetlinkChunkHandler): Promise<void>;
  /**
   * Closes the sockets the client keeps open between dumps (see createNetlink); a later dump opens new ones. Called
   * when the owning source stops. Never throws.
   */
  close(): void;
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
 * `procPath`, every dump's socket is opened in the namespace that proc root shows, resolved again at each dump,
 * unless it is the live procfs whose `net` follows `self` (showsOwnNamespace, checked once): then the socket is
 * opened where the thread is, the collector's own namespace (its main thread leaves it only inside inNetNamespace).
 *
 * Sockets of the own namespace are kept open between dumps, one per protocol and kind of dump (synchronous,
 * off-thread): socket(2) and close(2) (and an off-thread dump's setsockopt) cost 0.02-0.03 ms of the main thread per
 * dump without TurboFan, three or more dumps per gathering (measured for issue 17 on a 20-link dump). A socket is kept
 * only after a dump that ended cleanly, its last datagram holding NLMSG_DONE (or the kernel's one NLMSG_ERROR answer),
 * so nothing of it is left queued: the next dump reads only its own answer. A dump that failed in any way (a failed
 * call, a datagram that did not fit, a handler that threw, e.g. on a malformed message) closes its socket, whatever it
 * left unread going with it. An interrupted dump (NLM_F_DUMP_INTR) still ends with NLMSG_DONE, so its socket is kept;
 * the kernel starts each new dump request from the top of its table. A kept socket answers from the namespace it was
 * opened in: a client used on threads that switch namespaces (tests entering one with inNamespace) must `close()`
 * before using it in another.
 */
export function createNetlink(options: NetlinkOptions = {}): Netlink {
  let libc: Libc | undefined;
  /**
   * The receive buffer, kept for the client's life: a new 64 KiB buffer per dump is an ArrayBuffer outside V8's heap
   * that each dump leaves for the garbage collector (several dumps per gathering). Dumps are synchronous, so one
   * buffer serves them all; a dump started from inside another's chunk handler gets a buffer of its own.
   */
  let idleChunk: Buffer | undefined;
  let batchArea: BatchArea | undefined;
  /** The off-thread receive timeout as setsockopt takes it, made at the first off-thread dump. */
  let receiveTimeout: Buffer | undefined;
  /** Whether sockets open where the thread is (no procPath, or the live procfs): decided at the first dump. */
  let ownNamespace: boolean | undefined;
  /** Sockets kept after a clean synchronous dump, by protocol (own namespace only). */
  const keptSockets = new Map<number, number>();
  /** Sockets kept after a clean off-thread dump (their SO_RCVTIMEO set), by protocol (own namespace only). */
  const keptOffThreadSockets = new Map<number, number>();
  /** A kept socket of `protocol` from `kept`, taken out of it (a dump inside a handler then opens its own). */
  const takeKept = (kept: Map<number, number>, protocol: number): number | undefined => {
    const fd = kept.get(protocol);
    if (fd !== undefined) kept.delete(protocol);
    return fd;
  };
  /** Keeps `fd` after a clean dump when it is of the own namespace and none is kept already, else closes it. */
  const keepOrClose = (c: Libc, kept: Map<number, number>, protocol: number, fd: number, clean: boolean): void => {
    if (clean && ownNamespace === true && !kept.has(protocol)) kept.set(protocol, fd);
    else c.close(fd);
  };
  /** A socket of `protocol` in the namespace the client answers from; throws with errno when there is none. */
  const openSocket = (c: Libc, protocol: number, what: string): number => {
    const open = () => c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    const { procPath } = options;
    ownNamespace ??= procPath === undefined || showsOwnNamespace(procPath);
    const fd = ownNamespace ? open() : inNetNamespace(c, netNamespaceFile(procPath!), open);
    if (fd < 0) throw new Error(`netlink ${what} socket: errno ${c.errno()}`);
    return fd;
  };
  return {
    dumpOffThread(protocol, what, request, onChunk) {
      try {
        const c = (libc ??= loadSocketCalls());
        const area = (batchArea ??= createBatchArea(c.koffi));
        if (area.busy) throw new Error(`netlink ${what}: the previous off-thread dump still receives`);
        let fd = takeKept(keptOffThreadSockets, protocol);
        if (fd === undefined) {
          fd = openSocket(c, protocol, what);
          const timeout = (receiveTimeout ??= timeval(OFF_THREAD_RECEIVE_TIMEOUT_SECONDS));
          if (c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, timeout.length) !== 0) {
            const errno = c.errno();
            c.close(fd);
            throw new Error(`netlink ${what} SO_RCVTIMEO: errno ${errno}`);
          }
        }
        area.busy = true;
        const socket = fd;
        return receiveOffThread(c, socket, area, what, request, onChunk, (clean) =>
          keepOrClose(c, keptOffThreadSockets, protocol, socket, clean),
        );
      } catch (error) {
        return Promise.reject(error);
      }
    },
    dump(protocol, what, requests, onChunk) {
      const c = (libc ??= loadSocketCalls());
      const fd = takeKept(keptSockets, protocol) ?? openSocket(c, protocol, what);
      const chunk = idleChunk ?? Buffer.allocUnsafe(RECEIVE_BYTES);
      idleChunk = undefined;
      let clean = false;
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
        clean = true;
      } finally {
        keepOrClose(c, keptSockets, protocol, fd, clean);
        idleChunk = chunk;
      }
    },
    close() {
      for (const kept of [keptSockets, keptOffThreadSockets]) {
        for (const fd of kept.values()) libc?.close(fd);
        kept.clear();
      }
    },
  };
}

/**
 * Sends `request` on `fd`, then receives its dump into `area`, each call by a worker thread: the first recvmmsg is
 * queued when the send has returned (by then the kernel has queued the dump's first datagram, built inside the send),
 * each later batch when the main thread has handed the previous one to `onChunk`. One call at a time uses `fd`, and the
 * promise settles after `release(clean)` took `fd` back (clean: `onChunk` said the dump is done, so nothing of it is
 * left queued; the caller keeps or closes it) and the area is freed (the caller's next dump finds it free). A refused
 * send settles at once: a receive queued beside it would wait SO_RCVTIMEO (5 s per gathering) for an answer that never
 * comes. koffi reports a call it cannot make (a bad argument) through the callback, at once.
 */
function receiveOffThread(
  c: Libc,
  fd: number,
  area: BatchArea,
  what: string,
  request: Buffer,
  onChunk: NetlinkChunkHandler,
  release: (clean: boolean) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const finish = (error?: unknown) => {
      release(error === undefined);
      area.busy = false;
      if (error === undefined) resolve();
      else reject(error instanceof Error ? error : new Error(`netlink ${what}: ${String(error)}`));
    };
    let first = true;
    const receive = () =>
      c.recvmmsgOffThread(fd, area.vector, BATCH_DATAGRAMS, MSG_WAITFORONE | MSG_TRUNC, (error, result) => {
        const count = Number(result);
        if (error !== null && error !== undefined) return finish(error);
        if (count <= 0) return finish(new ParseError(what, `recvmmsg returned ${count} (errno ${c.errno()})`));
        try {
          for (let i = 0; i < count; i++) {
            // msg_len: with MSG_TRUNC, the datagram's real length even when it did not fit.
            const length = area.receivedLength(i);
            if (length > BATCH_BUFFER_BYTES) {
              throw new ParseError(what, `a ${length}-byte datagram did not fit the ${BATCH_BUFFER_BYTES}-byte buffer`);
            }
            const done = onChunk(area.chunks[i]!, length, first);
            first = false;
            if (done) return finish();
          }
          receive();
        } catch (parseError) {
          return finish(parseError);
        }
      });
    try {
      c.sendOffThread(fd, request, request.length, 0, (error, sent) => {
        if (error !== null && error !== undefined) return finish(new Error(`netlink ${what} send: ${String(error)}`));
        if (Number(sent) !== request.length) {
          return finish(new Error(`netlink ${what} send returned ${Number(sent)} (errno ${c.errno()})`));
        }
        try {
          receive();
        } catch (error) {
          finish(error); // koffi refused to queue the receive
        }
      });
    } catch (error) {
      finish(error); // no asynchronous call at all (a koffi without them): nothing was queued
    }
  });
}
