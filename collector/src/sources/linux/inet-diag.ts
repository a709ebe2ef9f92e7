/**
 * Pure parser of a netlink SOCK_DIAG dump of TCP sockets (what `ss -tan` and node_exporter's tcpstat read): the same
 * tally as tcp-table.ts makes from /proc/net/tcp{,6}, from binary messages the kernel did not have to format as text.
 *
 * Layouts (include/uapi/linux/netlink.h, inet_diag.h): every message starts with `struct nlmsghdr` (len u32, type u16,
 * flags u16, seq u32, pid u32), padded to 4 bytes. A dump answers with SOCK_DIAG_BY_FAMILY messages each holding one
 * `struct inet_diag_msg` (72 bytes), and ends with NLMSG_DONE; NLMSG_ERROR carries a negative errno.
 */
import { TCP_STATES } from '../../catalog';
import { ParseError } from '../../errors';
import type { RemoteKey, TcpSocketTally } from './tcp-table';

export const NLMSG_HEADER_BYTES = 16;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const SOCK_DIAG_BY_FAMILY = 20;
export const INET_DIAG_MSG_BYTES = 72;
export const AF_INET = 2;
export const AF_INET6 = 10;
const IPPROTO_TCP = 6;
const NLM_F_REQUEST = 0x1;
const NLM_F_DUMP = 0x300;
/** Every state bit, 1 << ESTABLISHED ... 1 << NEW_SYN_RECV (request sockets are reported as SYN_RECV). */
const ALL_STATES = 0x1ffe;

// Offsets in struct inet_diag_msg: family u8, state u8, timer u8, retrans u8, then struct inet_diag_sockid:
// sport be16, dport be16, src 4 x be32, dst 4 x be32, if u32, cookie 2 x u32.
const STATE = 1;
const DPORT = 6;
const DST = 24;

const LISTEN_INDEX = TCP_STATES.indexOf('LISTEN');

/** The request that dumps every TCP socket of one address family (nlmsghdr + struct inet_diag_req_v2, 72 bytes). */
export function inetDiagDumpRequest(
  family: typeof AF_INET | typeof AF_INET6,
  sequence: number,
  littleEndian: boolean,
): Buffer {
  // Netlink headers and the request's integers are in host byte order.
  const request = Buffer.alloc(NLMSG_HEADER_BYTES + 56);
  const u32 = (value: number, at: number) =>
    littleEndian ? request.writeUInt32LE(value, at) : request.writeUInt32BE(value, at);
  const u16 = (value: number, at: number) =>
    littleEndian ? request.writeUInt16LE(value, at) : request.writeUInt16BE(value, at);
  u32(request.length, 0);
  u16(SOCK_DIAG_BY_FAMILY, 4);
  u16(NLM_F_REQUEST | NLM_F_DUMP, 6);
  u32(sequence, 8);
  request.writeUInt8(family, NLMSG_HEADER_BYTES);
  request.writeUInt8(IPPROTO_TCP, NLMSG_HEADER_BYTES + 1);
  u32(ALL_STATES, NLMSG_HEADER_BYTES + 4);
  return request;
}

/**
 * Adds the sockets of one received chunk (`length` bytes of `bytes`) to `tally`; returns true once the dump's
 * NLMSG_DONE was seen. Throws a ParseError on a malformed message or a kernel error.
 */
export function tallyInetDiagChunk(
  bytes: Buffer,
  length: number,
  tally: TcpSocketTally,
  littleEndian: boolean,
): boolean {
  const fail = (detail: string): never => {
    throw new ParseError('sock_diag', detail);
  };
  // Host byte order: netlink headers, and the address words read the way /proc/net/tcp prints them.
  const readWord = littleEndian ? (at: number) => bytes.readUInt32LE(at) : (at: number) => bytes.readUInt32BE(at);
  const readHalf = littleEndian ? (at: number) => bytes.readUInt16LE(at) : (at: number) => bytes.readUInt16BE(at);
  const mappedWord = littleEndian ? 0xffff0000 : 0x0000ffff;
  const { states, remotes } = tally;
  let at = 0;
  while (at < length) {
    if (at + NLMSG_HEADER_BYTES > length) fail(`message header cut at byte ${at} of ${length}`);
    const messageLength = readWord(at);
    const type = readHalf(at + 4);
    if (messageLength < NLMSG_HEADER_BYTES || at + messageLength > length) {
      fail(`message length ${messageLength} at byte ${at} does not fit the ${length} received`);
    }
    if (type === NLMSG_DONE) return true;
    if (type === NLMSG_ERROR) {
      const errno = messageLength >= NLMSG_HEADER_BYTES + 4 ? -(readWord(at + NLMSG_HEADER_BYTES) | 0) : 0;
      fail(`the kernel answered the dump with error ${errno}`);
    }
    if (type !== SOCK_DIAG_BY_FAMILY) fail(`unexpected message type ${type}`);
    if (messageLength < NLMSG_HEADER_BYTES + INET_DIAG_MSG_BYTES) fail(`inet_diag_msg of ${messageLength} bytes`);
    const message = at + NLMSG_HEADER_BYTES;
    const family = bytes[message];
    const state = bytes[message + STATE]!;
    if (state < 1 || state > TCP_STATES.length) fail(`unknown TCP state ${state}`);
    if (family !== AF_INET && family !== AF_INET6) fail(`unknown address family ${family}`);
    states[state - 1]! += 1;

    if (remotes !== undefined && state - 1 !== LISTEN_INDEX) {
      const port = bytes.readUInt16BE(message + DPORT);
      // Address words read as native integers: the same numbers /proc/net/tcp prints, so keys match tcp-table.ts.
      const w0 = readWord(message + DST);
      let key: RemoteKey | undefined;
      if (family === AF_INET) {
        if (w0 !== 0 || port !== 0) key = w0 * 65536 + port;
      } else {
        const w1 = readWord(message + DST + 4);
        const w2 = readWord(message + DST + 8);
        const w3 = readWord(message + DST + 12);
        if (w0 === 0 && w1 === 0 && w2 === mappedWord) key = w3 * 65536 + port;
        else if (w0 !== 0 || w1 !== 0 || w2 !== 0 || w3 !== 0 || port !== 0) {
          key = `${hex8(w0)}${hex8(w1)}${hex8(w2)}${hex8(w3)}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
        }
      }
      if (key !== undefined) {
        remotes.set(key, (remotes.get(key) ?? 0) + 1);
        tally.peerSockets += 1;
      }
    }
    at += (messageLength + 3) & ~3;
  }
  return false;
}

function hex8(word: number): string {
  return word.toString(16).toUpperCase().padStart(8, '0');
}
