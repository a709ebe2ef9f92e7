/**
 * Pure parser of a netlink SOCK_DIAG dump of TCP sockets (what `ss -tan` and node_exporter's tcpstat read): the same
 * tally as tcp-table.ts makes from /proc/net/tcp{,6}, from binary messages the kernel did not have to format as text.
 *
 * Layouts (include/uapi/linux/inet_diag.h; message framing in netlink.ts): a dump answers with SOCK_DIAG_BY_FAMILY
 * messages each holding one `struct inet_diag_msg` (72 bytes), and ends with NLMSG_DONE.
 */
import { TCP_STATES } from '../catalog';
import { ParseError } from '../errors';
import {
  dataView,
  forEachNetlinkMessage,
  netlinkRequest,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NLMSG_HEADER_BYTES,
} from './netlink';
import { addPeerSocket, ipv4RemoteKey, ipv6RemoteKey, type RemoteKey } from '../remote-peers';
import type { TcpSocketTally } from './tcp-table';

export const SOCK_DIAG_BY_FAMILY = 20;
/**
 * The original inet_diag request (include/uapi/linux/inet_diag.h, `struct inet_diag_req`), still served by
 * sock_diag's compatibility path: it dumps with sdiag_family AF_UNSPEC, so ONE walk of the socket hash tables
 * returns IPv4 and IPv6 sockets alike (SOCK_DIAG_BY_FAMILY needs one request, one walk, per family). Replies carry
 * this type and the same `struct inet_diag_msg`.
 */
export const TCPDIAG_GETSOCK = 18;
/** sizeof(struct inet_diag_req): family, src_len, dst_len, ext (u8 each), inet_diag_sockid (48), states, dbs. */
const INET_DIAG_REQ_BYTES = 60;
export const INET_DIAG_MSG_BYTES = 72;
export const AF_INET = 2;
export const AF_INET6 = 10;
const IPPROTO_TCP = 6;
/** Every state bit, 1 << ESTABLISHED ... 1 << NEW_SYN_RECV (request sockets are reported as SYN_RECV). */
const ALL_STATES = 0x1ffe;

// Offsets in struct inet_diag_msg: family u8, state u8, timer u8, retrans u8, then struct inet_diag_sockid:
// sport be16, dport be16, src 4 x be32, dst 4 x be32, if u32, cookie 2 x u32.
const STATE = 1;
const SPORT = 4;
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
  const request = netlinkRequest(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, sequence, 56, littleEndian);
  request.writeUInt8(family, NLMSG_HEADER_BYTES);
  request.writeUInt8(IPPROTO_TCP, NLMSG_HEADER_BYTES + 1);
  if (littleEndian) request.writeUInt32LE(ALL_STATES, NLMSG_HEADER_BYTES + 4);
  else request.writeUInt32BE(ALL_STATES, NLMSG_HEADER_BYTES + 4);
  return request;
}

/**
 * The request that dumps every TCP socket of both address families in one walk (nlmsghdr + struct inet_diag_req,
 * TCPDIAG_GETSOCK): what `ss` sent before SOCK_DIAG_BY_FAMILY existed. The family field is ignored by the kernel.
 */
export function inetDiagBothFamiliesDumpRequest(sequence: number, littleEndian: boolean): Buffer {
  const request = netlinkRequest(
    TCPDIAG_GETSOCK,
    NLM_F_REQUEST | NLM_F_DUMP,
    sequence,
    INET_DIAG_REQ_BYTES,
    littleEndian,
  );
  if (littleEndian) request.writeUInt32LE(ALL_STATES, NLMSG_HEADER_BYTES + 52);
  else request.writeUInt32BE(ALL_STATES, NLMSG_HEADER_BYTES + 52);
  return request;
}

/**
 * Adds the sockets of one received chunk (`length` bytes of `bytes`) to `tally`; returns true once the dump's
 * NLMSG_DONE was seen. `messageType` is the type of the request that was answered (SOCK_DIAG_BY_FAMILY or
 * TCPDIAG_GETSOCK). Throws a ParseError on a malformed message or a kernel error.
 */
export function tallyInetDiagChunk(
  bytes: Buffer,
  length: number,
  tally: TcpSocketTally,
  littleEndian: boolean,
  messageType: typeof SOCK_DIAG_BY_FAMILY | typeof TCPDIAG_GETSOCK = SOCK_DIAG_BY_FAMILY,
): boolean {
  const fail = (detail: string): never => {
    throw new ParseError('sock_diag', detail);
  };
  // Host byte order: the address words read the way /proc/net/tcp prints them.
  const view = dataView(bytes);
  const readWord = (at: number) => view.getUint32(at, littleEndian);
  const { states, peers, listeningPorts } = tally;
  return forEachNetlinkMessage(bytes, length, littleEndian, 'sock_diag', messageType, (payload, end) => {
    if (end - payload < INET_DIAG_MSG_BYTES) fail(`inet_diag_msg of ${end - payload + NLMSG_HEADER_BYTES} bytes`);
    const family = bytes[payload];
    const state = bytes[payload + STATE]!;
    if (state < 1 || state > TCP_STATES.length) fail(`unknown TCP state ${state}`);
    if (family !== AF_INET && family !== AF_INET6) fail(`unknown address family ${family}`);
    states[state - 1]! += 1;

    const localPort = view.getUint16(payload + SPORT, false);
    if (state - 1 === LISTEN_INDEX) {
      listeningPorts.add(localPort);
      return;
    }
    if (peers === undefined) return;
    const port = view.getUint16(payload + DPORT, false);
    // Address words read as native integers: the same numbers /proc/net/tcp prints, so keys match tcp-table.ts.
    const w0 = readWord(payload + DST);
    const key: RemoteKey | undefined =
      family === AF_INET
        ? ipv4RemoteKey(w0, port)
        : ipv6RemoteKey(
            w0,
            readWord(payload + DST + 4),
            readWord(payload + DST + 8),
            readWord(payload + DST + 12),
            port,
            littleEndian,
          );
    if (key !== undefined) addPeerSocket(peers, key, localPort);
  });
}
