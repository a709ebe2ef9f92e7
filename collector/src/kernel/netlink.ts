/**
 * Pure framing of netlink messages (include/uapi/linux/netlink.h), shared by the SOCK_DIAG and rtnetlink parsers.
 *
 * Every message starts with `struct nlmsghdr` (len u32, type u16, flags u16, seq u32, pid u32) and is padded to 4
 * bytes; attributes (`struct nlattr`/`rtattr`: len u16, type u16, then the payload) are padded the same way. All
 * of it is in host byte order. A dump answers with data messages and ends with NLMSG_DONE, whose payload is an int
 * (negative errno when the dump failed part way); NLMSG_ERROR carries a negative errno.
 */
import { ParseError } from '../errors';

export const NLMSG_HEADER_BYTES = 16;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_REQUEST = 0x1;
/** NLM_F_ROOT | NLM_F_MATCH: every object. */
export const NLM_F_DUMP = 0x300;
/** Set on the messages of a dump the kernel's tables changed under: the dump may be inconsistent. */
export const NLM_F_DUMP_INTR = 0x10;
export const NLA_HEADER_BYTES = 4;
/** Attribute type bits that are flags (NLA_F_NESTED, NLA_F_NET_BYTEORDER), not part of the type. */
export const NLA_TYPE_MASK = 0x3fff;

/** Rounds a length up to the 4-byte alignment of messages and attributes. */
export function netlinkAlign(length: number): number {
  return (length + 3) & ~3;
}

/** Integer readers in host byte order over one buffer. */
export interface HostOrderReader {
  u16(at: number): number;
  u32(at: number): number;
  i32(at: number): number;
  u64(at: number): bigint;
}

/**
 * A DataView over a Buffer's bytes. The parsers of dumps read through DataViews rather than Buffer's readUInt*:
 * those validate their offset through a wrapper that allocates on every call unless V8's optimizing compiler
 * removes it, which the collector runs without (`--no-opt`), so a 512-counter nft dump cost ~1.2 MiB of garbage
 * and ~4x the time per read (bench/RESULTS.md). Out-of-range reads throw a RangeError all the same.
 */
export function dataView(bytes: Buffer): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function hostOrderReader(bytes: Buffer, littleEndian: boolean): HostOrderReader {
  const view = dataView(bytes);
  return {
    u16: (at) => view.getUint16(at, littleEndian),
    u32: (at) => view.getUint32(at, littleEndian),
    i32: (at) => view.getInt32(at, littleEndian),
    u64: (at) => view.getBigUint64(at, littleEndian),
  };
}

/**
 * A request message: a header of `type` and `flags` followed by `payloadBytes` zero bytes, which the caller fills
 * from NLMSG_HEADER_BYTES on.
 */
export function netlinkRequest(
  type: number,
  flags: number,
  sequence: number,
  payloadBytes: number,
  littleEndian: boolean,
): Buffer {
  const request = Buffer.alloc(NLMSG_HEADER_BYTES + payloadBytes);
  if (littleEndian) {
    request.writeUInt32LE(request.length, 0);
    request.writeUInt16LE(type, 4);
    request.writeUInt16LE(flags, 6);
    request.writeUInt32LE(sequence, 8);
  } else {
    request.writeUInt32BE(request.length, 0);
    request.writeUInt16BE(type, 4);
    request.writeUInt16BE(flags, 6);
    request.writeUInt32BE(sequence, 8);
  }
  return request;
}

/**
 * One netlink attribute (struct nlattr: nla_len, nla_type in host byte order, then `payload`), padded to 4 bytes, as
 * a request carries it after its fixed header.
 */
export function netlinkAttribute(type: number, payload: Buffer, littleEndian: boolean): Buffer {
  const bytes = Buffer.alloc(netlinkAlign(NLA_HEADER_BYTES + payload.length));
  if (littleEndian) {
    bytes.writeUInt16LE(NLA_HEADER_BYTES + payload.length, 0);
    bytes.writeUInt16LE(type, 2);
  } else {
    bytes.writeUInt16BE(NLA_HEADER_BYTES + payload.length, 0);
    bytes.writeUInt16BE(type, 2);
  }
  payload.copy(bytes, NLA_HEADER_BYTES);
  return bytes;
}

/**
 * Visits one data message: `payload` is the offset of its payload (just after the header), `end` the offset just
 * past the message (unpadded), `flags` its header's flags. Positional, not an object: a dump of 100k sockets calls
 * it 100k times.
 */
export type NetlinkMessageVisitor = (payload: number, end: number, flags: number) => void;

/**
 * Calls `visit` for every data message of one received chunk (`length` bytes of `bytes`) and returns true once the
 * dump's NLMSG_DONE was seen. Throws a ParseError naming `what` (e.g. `sock_diag`) on a malformed message, a kernel
 * error (NLMSG_ERROR, or NLMSG_DONE carrying one) or a message type `expectedType` does not allow.
 */
export function forEachNetlinkMessage(
  bytes: Buffer,
  length: number,
  littleEndian: boolean,
  what: string,
  expectedType: number,
  visit: NetlinkMessageVisitor,
): boolean {
  // One DataView, no reader object: this loop runs once per socket of a 100k-socket dump.
  const view = dataView(bytes);
  const fail = (detail: string): never => {
    throw new ParseError(what, detail);
  };
  let at = 0;
  while (at < length) {
    if (at + NLMSG_HEADER_BYTES > length) fail(`message header cut at byte ${at} of ${length}`);
    const messageLength = view.getUint32(at, littleEndian);
    const type = view.getUint16(at + 4, littleEndian);
    if (messageLength < NLMSG_HEADER_BYTES || at + messageLength > length) {
      fail(`message length ${messageLength} at byte ${at} does not fit the ${length} received`);
    }
    const payload = at + NLMSG_HEADER_BYTES;
    const hasInt = messageLength >= NLMSG_HEADER_BYTES + 4;
    if (type === NLMSG_DONE) {
      const error = hasInt ? view.getInt32(payload, littleEndian) : 0;
      if (error < 0) fail(`the kernel ended the dump with error ${-error}`);
      return true;
    }
    if (type === NLMSG_ERROR)
      fail(`the kernel answered the dump with error ${hasInt ? -view.getInt32(payload, littleEndian) : 0}`);
    if (type !== expectedType) fail(`unexpected message type ${type}`);
    visit(payload, at + messageLength, view.getUint16(at + 6, littleEndian));
    at += netlinkAlign(messageLength);
  }
  return false;
}

/**
 * Calls `visit` with the type (flag bits masked off) and payload range of every attribute in `[start, end)` of
 * `bytes` (read through `view` when given: a DataView over exactly `bytes`). Throws a ParseError naming `what` when an
 * attribute does not fit.
 */
export function forEachAttribute(
  bytes: Buffer,
  start: number,
  end: number,
  littleEndian: boolean,
  what: string,
  visit: (type: number, payload: number, payloadEnd: number) => void,
  view: DataView = dataView(bytes),
): void {
  // Direct reads, no reader object: this runs for every message of a dump (512 counters, thousands of links). A
  // caller that walks many messages of one chunk passes its DataView (`view`, over all of `bytes`): one less object
  // per call.
  let at = start;
  while (at + NLA_HEADER_BYTES <= end) {
    const attributeLength = view.getUint16(at, littleEndian);
    if (attributeLength < NLA_HEADER_BYTES || at + attributeLength > end) {
      throw new ParseError(what, `attribute length ${attributeLength} at byte ${at} does not fit its message`);
    }
    const type = view.getUint16(at + 2, littleEndian);
    visit(type & NLA_TYPE_MASK, at + NLA_HEADER_BYTES, at + attributeLength);
    at += netlinkAlign(attributeLength);
  }
  // Fewer than 4 bytes left over can only be alignment padding: no attribute header fits there.
}
