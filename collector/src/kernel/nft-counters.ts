/**
 * The named counters of one nftables table, read over nftables' own netlink API (NETLINK_NETFILTER, subsystem
 * NFNL_SUBSYS_NFTABLES): one NFT_MSG_GETOBJ dump, filtered in the kernel by table and by object type, instead of
 * spawning `nft -j list counters` (a process, libnftables' whole cache and JSON for 512 counters).
 *
 * A pure request builder and parser of the kernel's messages (include/uapi/linux/netfilter/nf_tables.h,
 * nfnetlink.h) and the thin dump through netlink-socket.ts. Each reply is an NFT_MSG_NEWOBJ message holding a
 * `struct nfgenmsg` (4 bytes: family u8, version u8, res_id be16, the ruleset generation's low bits) then attributes:
 * - NFTA_OBJ_TABLE (1), NFTA_OBJ_NAME (2): NUL-terminated strings;
 * - NFTA_OBJ_TYPE (3): be32, NFT_OBJECT_COUNTER = 1 (quotas, limits, ct helpers... are other types);
 * - NFTA_OBJ_DATA (4), nested: for a counter NFTA_COUNTER_BYTES (1) and NFTA_COUNTER_PACKETS (2), be64 each;
 * - NFTA_OBJ_USE (5), NFTA_OBJ_HANDLE (6), NFTA_OBJ_USERDATA (8): not read.
 * nftables puts integer payloads in network byte order (big-endian) whatever the host; the netlink and attribute
 * headers stay in host order.
 *
 * The dump of a table that does not exist is empty, not an error (nf_tables_dump_obj filters by name while it
 * walks): the caller decides what no counters means.
 *
 * The parser (forEachNftCounter) hands each counter object to a sink as offsets into the received bytes, and the
 * sink decodes what it needs: a serving collector reads its 512 flag counters at every gathering without a string or
 * a bigint per counter (sources/linux/flag-counters.ts); a snapshot and the tests decode whole objects
 * (parseNftCounterChunk, dumpNftCounters).
 */
import { ParseError, SourceUnavailableError } from '../errors';
import {
  dataView,
  forEachAttribute,
  forEachNetlinkMessage,
  NLA_HEADER_BYTES,
  netlinkAttribute,
  netlinkRequest,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  NLMSG_ERROR,
  NLMSG_HEADER_BYTES,
} from './netlink';
import { NETLINK_NETFILTER, type Netlink } from './netlink-socket';

const NFNL_SUBSYS_NFTABLES = 10;
export const NFT_MSG_NEWOBJ = (NFNL_SUBSYS_NFTABLES << 8) | 18;
export const NFT_MSG_GETOBJ = (NFNL_SUBSYS_NFTABLES << 8) | 19;
const NFGENMSG_BYTES = 4;
const NFTA_OBJ_TABLE = 1;
const NFTA_OBJ_NAME = 2;
const NFTA_OBJ_TYPE = 3;
const NFTA_OBJ_DATA = 4;
const NFTA_OBJ_USE = 5;
const NFTA_OBJ_HANDLE = 6;
const NFTA_COUNTER_BYTES = 1;
const NFTA_COUNTER_PACKETS = 2;
export const NFT_OBJECT_COUNTER = 1;
const WHAT = 'nftables counter dump';

/** nftables families (NFPROTO_*, include/uapi/linux/netfilter.h) by the name `nft` uses. */
export const NFT_FAMILIES = { inet: 1, ip: 2, arp: 3, netdev: 5, bridge: 7, ip6: 10 } as const;
export type NftFamily = keyof typeof NFT_FAMILIES;

/** One named counter object, its values exact (bigint: the kernel keeps u64 packets and bytes). */
export interface NftCounterObject {
  readonly table: string;
  readonly name: string;
  readonly packets: bigint;
  readonly bytes: bigint;
}

/**
 * Where one counter object's parts lie in the chunk being parsed, as byte offsets into `chunk`: what a sink reads
 * with the nftCounter* functions below, decoding only what it needs (the flag counters compare name bytes and read
 * numbers; a snapshot decodes every name). The parser fills ONE such object per chunk and passes it for every counter:
 * read it during the call, never keep it.
 */
export interface NftCounterAt {
  readonly chunk: Buffer;
  readonly view: DataView;
  /** NFTA_OBJ_TABLE without its NUL: chunk[tableStart, tableEnd). */
  readonly tableStart: number;
  readonly tableEnd: number;
  /** NFTA_OBJ_NAME without its NUL: chunk[nameStart, nameEnd). */
  readonly nameStart: number;
  readonly nameEnd: number;
  /** Offsets of the 8-byte big-endian payloads of NFTA_COUNTER_PACKETS and NFTA_COUNTER_BYTES. */
  readonly packetsAt: number;
  readonly bytesAt: number;
}

/** What the parser hands each counter object of a dump to. */
export interface NftCounterSink {
  /** One counter object (see NftCounterAt: valid during the call only). May throw (a ParseError) to stop the parse. */
  counter(at: NftCounterAt): void;
  /** Set by the parser when a message carried NLM_F_DUMP_INTR (see NftCounterDump.interrupted). */
  interrupted: boolean;
}

/** What one dump gave. */
export interface NftCounterDump {
  /** The counter objects in the kernel's order (per table, in creation order). Objects of other types are left out. */
  readonly counters: NftCounterObject[];
  /**
   * True when the kernel flagged the dump as interrupted (NLM_F_DUMP_INTR: the ruleset changed while it ran), so a
   * counter may be missing or shown twice. A reader that needs a consistent set dumps again.
   */
  readonly interrupted: boolean;
}

/**
 * The request for the counter objects of table `family table` (what `nft list counters table FAMILY NAME` asks):
 * nlmsghdr, nfgenmsg (family, NFNETLINK_V0, res_id 0), NFTA_OBJ_TABLE and NFTA_OBJ_TYPE = NFT_OBJECT_COUNTER.
 * Throws a RangeError for a table name the kernel could never hold (empty, NUL, or over NFT_TABLE_MAXNAMELEN 256).
 */
export function nftCounterDumpRequest(
  family: NftFamily,
  table: string,
  sequence: number,
  littleEndian: boolean,
): Buffer {
  const name = Buffer.from(`${table}\0`, 'utf8');
  if (table === '' || table.includes('\0') || name.length > 256) {
    throw new RangeError(`an nftables table name is 1 to 255 bytes without NUL, got ${JSON.stringify(table)}`);
  }
  const type = Buffer.alloc(4);
  type.writeUInt32BE(NFT_OBJECT_COUNTER, 0);
  const attributes = Buffer.concat([
    netlinkAttribute(NFTA_OBJ_TABLE, name, littleEndian),
    netlinkAttribute(NFTA_OBJ_TYPE, type, littleEndian),
  ]);
  const request = netlinkRequest(
    NFT_MSG_GETOBJ,
    NLM_F_REQUEST | NLM_F_DUMP,
    sequence,
    NFGENMSG_BYTES + attributes.length,
    littleEndian,
  );
  request.writeUInt8(NFT_FAMILIES[family], NLMSG_HEADER_BYTES);
  attributes.copy(request, NLMSG_HEADER_BYTES + NFGENMSG_BYTES);
  return request;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The end of a NUL-terminated string attribute's text (the NUL's offset); a ParseError when there is no NUL. */
function stringEnd(bytes: Buffer, start: number, end: number, what: string): number {
  // Uint8Array's own indexOf: Buffer's goes through JavaScript wrappers that cost more than the search without
  // TurboFan (1024 strings per gathering of the flag table).
  const nul = Uint8Array.prototype.indexOf.call(bytes, 0, start);
  if (nul < 0 || nul >= end) throw new ParseError(WHAT, `${what} is not NUL-terminated`);
  return nul;
}

/** chunk[start, end) decoded as UTF-8 (nft writes names as UTF-8; anything else is malformed). */
function decodeName(chunk: Buffer, start: number, end: number, what: string): string {
  try {
    // A plain Uint8Array view: Buffer's subarray costs more than the decoding without TurboFan.
    return UTF8.decode(new Uint8Array(chunk.buffer, chunk.byteOffset + start, end - start));
  } catch {
    throw new ParseError(WHAT, `${what} is not UTF-8`);
  }
}

/** The counter's name (NFTA_OBJ_NAME). Throws a ParseError when it is not UTF-8. */
export function nftCounterName(at: NftCounterAt): string {
  return decodeName(at.chunk, at.nameStart, at.nameEnd, 'NFTA_OBJ_NAME');
}

/** The counter's table (NFTA_OBJ_TABLE). Throws a ParseError when it is not UTF-8. */
function nftCounterTable(at: NftCounterAt): string {
  return decodeName(at.chunk, at.tableStart, at.tableEnd, 'NFTA_OBJ_TABLE');
}

/** The counter's packets or bytes, exact (u64). */
function nftCounterBigint(at: NftCounterAt, value: 'packets' | 'bytes'): bigint {
  return at.view.getBigUint64(value === 'packets' ? at.packetsAt : at.bytesAt, false);
}

/** 2^53 / 2^32: a u64 whose high 32 bits reach this is beyond Number.MAX_SAFE_INTEGER. */
const SAFE_HIGH_WORD_LIMIT = 2 ** 21;

/** Throws the ParseError of nftCounterNumber when the value is beyond 2^53, without making the number. */
export function checkNftCounterNumber(at: NftCounterAt, value: 'packets' | 'bytes'): void {
  if (at.view.getUint32(value === 'packets' ? at.packetsAt : at.bytesAt, false) >= SAFE_HIGH_WORD_LIMIT) {
    nftCounterNumber(at, value);
  }
}

/**
 * The counter's packets or bytes as a number, read as two u32 halves (no bigint per value). A value beyond 2^53
 * (never reached: 2^53 segments is 28 years at 10^7 segments/s) is a ParseError naming the counter, not a rounding.
 */
export function nftCounterNumber(at: NftCounterAt, value: 'packets' | 'bytes'): number {
  const offset = value === 'packets' ? at.packetsAt : at.bytesAt;
  const high = at.view.getUint32(offset, false);
  if (high >= SAFE_HIGH_WORD_LIMIT) {
    throw new ParseError(WHAT, `counter ${nftCounterName(at)} ${value} ${nftCounterBigint(at, value)} > 2^53`);
  }
  const low = at.view.getUint32(offset + 4, false);
  // Without TurboFan each arithmetic result beyond a small integer is a new heap number: skip the sum when it is low.
  return high === 0 ? low : high * 2 ** 32 + low;
}

/** NLA_F_NESTED: the kernel may flag NFTA_OBJ_DATA as nested (the general walk masks it off like every flag). */
const NLA_F_NESTED = 0x8000;

/**
 * The first 4 bytes of an attribute of `length` bytes (its header included) and `type`, as getUint32 in host order
 * reads them: the fast path below compares a fixed attribute's whole header in one read.
 */
function headerWord(length: number, type: number, littleEndian: boolean): number {
  return (littleEndian ? (type << 16) | length : (length << 16) | type) >>> 0;
}

/** The header words of the attributes of a counter object that have a fixed size, in one host order. */
interface KernelLayoutHeaders {
  readonly type: number;
  /** NFTA_OBJ_TYPE's payload, NFT_OBJECT_COUNTER in big-endian, read as a host-order word. */
  readonly counterType: number;
  readonly handle: number;
  readonly use: number;
  readonly data: number;
  readonly nestedData: number;
  readonly bytes: number;
  readonly packets: number;
}

/** NFTA_COUNTER_BYTES or NFTA_COUNTER_PACKETS: header and be64. */
const COUNTER_VALUE_BYTES = NLA_HEADER_BYTES + 8;
/** NFTA_OBJ_DATA of a counter: header, NFTA_COUNTER_BYTES, NFTA_COUNTER_PACKETS. */
const COUNTER_DATA_BYTES = NLA_HEADER_BYTES + 2 * COUNTER_VALUE_BYTES;
/** NFTA_OBJ_HANDLE: header and be64. */
const HANDLE_BYTES = NLA_HEADER_BYTES + 8;
/** NFTA_OBJ_TYPE or NFTA_OBJ_USE: header and be32. */
const BE32_ATTRIBUTE_BYTES = NLA_HEADER_BYTES + 4;

function kernelLayoutHeaders(littleEndian: boolean): KernelLayoutHeaders {
  return {
    type: headerWord(BE32_ATTRIBUTE_BYTES, NFTA_OBJ_TYPE, littleEndian),
    counterType: littleEndian ? (NFT_OBJECT_COUNTER << 24) >>> 0 : NFT_OBJECT_COUNTER,
    handle: headerWord(HANDLE_BYTES, NFTA_OBJ_HANDLE, littleEndian),
    use: headerWord(BE32_ATTRIBUTE_BYTES, NFTA_OBJ_USE, littleEndian),
    data: headerWord(COUNTER_DATA_BYTES, NFTA_OBJ_DATA, littleEndian),
    nestedData: headerWord(COUNTER_DATA_BYTES, NFTA_OBJ_DATA | NLA_F_NESTED, littleEndian),
    bytes: headerWord(COUNTER_VALUE_BYTES, NFTA_COUNTER_BYTES, littleEndian),
    packets: headerWord(COUNTER_VALUE_BYTES, NFTA_COUNTER_PACKETS, littleEndian),
  };
}

/** This machine's byte order: the fast path reads words in it. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Both host orders' header words, made once (read-only). */
const LITTLE_ENDIAN_HEADERS = kernelLayoutHeaders(true);
const BIG_ENDIAN_HEADERS = kernelLayoutHeaders(false);

/** NftCounterAt as the parser fills it. */
type CounterPosition = { -readonly [K in keyof NftCounterAt]: NftCounterAt[K] };

/** The length (its 4-byte header included) of the attribute whose header is the host-order word `header`. */
function attributeLength(header: number, littleEndian: boolean): number {
  return littleEndian ? header & 0xffff : header >>> 16;
}

/**
 * The NUL ending the string attribute at `start` (inside [start, end)) of the chunk `words` covers, -1 when it is not
 * a whole attribute of `kind` holding a NUL-terminated string.
 */
function kernelString(
  words: Uint32Array,
  littleEndian: boolean,
  at: CounterPosition,
  start: number,
  end: number,
  kind: number,
): number {
  if (start + NLA_HEADER_BYTES > end) return -1;
  // In bounds: start + 4 <= end <= the chunk's length.
  const header = words[start >>> 2]!;
  if ((littleEndian ? header >>> 16 : header & 0xffff) !== kind) return -1;
  const stop = start + attributeLength(header, littleEndian);
  if (stop <= start + NLA_HEADER_BYTES || stop > end) return -1;
  const nul = Uint8Array.prototype.indexOf.call(at.chunk, 0, start + NLA_HEADER_BYTES);
  return nul < stop ? nul : -1;
}

/** The counter's values at `start` (NFTA_OBJ_DATA) into `at`, false when not as the kernel writes them. */
function kernelCounterData(
  words: Uint32Array,
  headers: KernelLayoutHeaders,
  at: CounterPosition,
  start: number,
  end: number,
): boolean {
  if (start + COUNTER_DATA_BYTES > end) return false;
  const header = words[start >>> 2];
  if (header !== headers.data && header !== headers.nestedData) return false;
  const bytesHeader = start + NLA_HEADER_BYTES;
  const packetsHeader = bytesHeader + COUNTER_VALUE_BYTES;
  if (words[bytesHeader >>> 2] !== headers.bytes || words[packetsHeader >>> 2] !== headers.packets) return false;
  at.bytesAt = bytesHeader + NLA_HEADER_BYTES;
  at.packetsAt = packetsHeader + NLA_HEADER_BYTES;
  return true;
}

/**
 * The counter object of the message whose attributes are [first, end) of the chunk `words` covers into `at`, false
 * (`at` then partly filled) when the message is not laid out as the kernel writes one.
 */
function readKernelLayout(
  words: Uint32Array,
  littleEndian: boolean,
  at: CounterPosition,
  first: number,
  end: number,
): boolean {
  const headers = littleEndian ? LITTLE_ENDIAN_HEADERS : BIG_ENDIAN_HEADERS;
  const tableEnd = kernelString(words, littleEndian, at, first, end, NFTA_OBJ_TABLE);
  if (tableEnd < 0) return false;
  const name = first + ((attributeLength(words[first >>> 2]!, littleEndian) + 3) & ~3);
  const nameEnd = kernelString(words, littleEndian, at, name, end, NFTA_OBJ_NAME);
  if (nameEnd < 0) return false;
  const objectType = name + ((attributeLength(words[name >>> 2]!, littleEndian) + 3) & ~3);
  if (objectType + BE32_ATTRIBUTE_BYTES > end || words[objectType >>> 2] !== headers.type) return false;
  if (words[(objectType + NLA_HEADER_BYTES) >>> 2] !== headers.counterType) return false;
  // Linux 6.x: handle, use, data. Before: use, data, handle. Each of a fixed size (multiples of 4: no padding).
  let next = objectType + BE32_ATTRIBUTE_BYTES;
  if (next + HANDLE_BYTES <= end && words[next >>> 2] === headers.handle) {
    next += HANDLE_BYTES;
    if (next + BE32_ATTRIBUTE_BYTES > end || words[next >>> 2] !== headers.use) return false;
    next += BE32_ATTRIBUTE_BYTES;
    if (!kernelCounterData(words, headers, at, next, end)) return false;
    next += COUNTER_DATA_BYTES;
  } else {
    if (next + BE32_ATTRIBUTE_BYTES > end || words[next >>> 2] !== headers.use) return false;
    next += BE32_ATTRIBUTE_BYTES;
    if (!kernelCounterData(words, headers, at, next, end)) return false;
    next += COUNTER_DATA_BYTES;
    if (next + HANDLE_BYTES > end || words[next >>> 2] !== headers.handle) return false;
    next += HANDLE_BYTES;
  }
  // Nothing after: an attribute the general walk would read (another name, user data...) takes that walk.
  if (next + NLA_HEADER_BYTES <= end) return false;
  at.tableStart = first + NLA_HEADER_BYTES;
  at.tableEnd = tableEnd;
  at.nameStart = name + NLA_HEADER_BYTES;
  at.nameEnd = nameEnd;
  return true;
}

/**
 * Hands `sink` the counter objects of one received chunk (`length` bytes of `bytes`); returns true once the dump's
 * NLMSG_DONE was seen. Objects of another type (quotas, limits, ...) are skipped. Throws a ParseError on a malformed
 * message, a kernel error, or a counter without a table, a name (each NUL-terminated), or either 8-byte value.
 *
 * Each message is first read as the kernel writes a counter object (nf_tables_fill_obj_info and
 * nft_counter_do_dump, net/netfilter/nf_tables_api.c and nft_counter.c): NFTA_OBJ_TABLE, NFTA_OBJ_NAME,
 * NFTA_OBJ_TYPE = counter, then NFTA_OBJ_HANDLE, NFTA_OBJ_USE, NFTA_OBJ_DATA (Linux 6.x, as recorded from 6.18;
 * Linux 5.x wrote NFTA_OBJ_USE, NFTA_OBJ_DATA, NFTA_OBJ_HANDLE) and nothing else, NFTA_OBJ_DATA holding NFTA_COUNTER_BYTES then
 * NFTA_COUNTER_PACKETS: one typed array read per fixed attribute's header, no call per attribute (the collector runs
 * without TurboFan, where the general walk's callback per attribute made most of the parse's cost). Any other message
 * (other order, flags, padding attributes, another object type, anything malformed), and every message of a chunk
 * that is not 4-byte aligned in memory or not in the host's byte order, takes the general attribute walk, which gives
 * the same offsets for a message of the kernel's layout and every error message. `kernelLayout` false: always
 * the general walk (the tests hold the fast path to it).
 */
export function forEachNftCounter(
  bytes: Buffer,
  length: number,
  littleEndian: boolean,
  sink: NftCounterSink,
  kernelLayout = true,
): boolean {
  const view = dataView(bytes);
  // One position record and one attribute visitor per chunk, filled per message: nothing allocated per counter.
  const at: CounterPosition = {
    chunk: bytes,
    view,
    tableStart: 0,
    tableEnd: -1,
    nameStart: 0,
    nameEnd: -1,
    packetsAt: -1,
    bytesAt: -1,
  };
  let type = -1;
  let dataStart = -1;
  let dataEnd = -1;
  const objectAttribute = (kind: number, start: number, stop: number): void => {
    switch (kind) {
      case NFTA_OBJ_TABLE:
        at.tableStart = start;
        at.tableEnd = stringEnd(bytes, start, stop, 'NFTA_OBJ_TABLE');
        break;
      case NFTA_OBJ_NAME:
        at.nameStart = start;
        at.nameEnd = stringEnd(bytes, start, stop, 'NFTA_OBJ_NAME');
        break;
      case NFTA_OBJ_TYPE:
        if (stop - start !== 4) throw new ParseError(WHAT, `NFTA_OBJ_TYPE of ${stop - start} bytes, expected 4`);
        type = view.getUint32(start, false);
        break;
      case NFTA_OBJ_DATA:
        dataStart = start;
        dataEnd = stop;
        break;
    }
  };
  const counterAttribute = (kind: number, start: number, stop: number): void => {
    if (kind !== NFTA_COUNTER_PACKETS && kind !== NFTA_COUNTER_BYTES) return;
    const packets = kind === NFTA_COUNTER_PACKETS;
    if (stop - start !== 8) {
      const what = `counter ${nftCounterName(at)} ${packets ? 'packets' : 'bytes'}`;
      throw new ParseError(WHAT, `${what} of ${stop - start} bytes, expected 8`);
    }
    if (packets) at.packetsAt = start;
    else at.bytesAt = start;
  };
  const label = () => `${nftCounterTable(at)}/${nftCounterName(at)}`;
  // The fast path reads the chunk as host-order u32 words (a typed array's element, where a DataView read is a call
  // without TurboFan): every attribute starts 4-byte aligned in the chunk, so when the chunk is aligned in memory and
  // the caller's byte order is the host's, the word at an attribute's offset is its header as the kernel wrote it.
  const words =
    kernelLayout && littleEndian === HOST_LITTLE_ENDIAN && bytes.byteOffset % 4 === 0
      ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2)
      : undefined;
  return forEachNetlinkMessage(bytes, length, littleEndian, WHAT, NFT_MSG_NEWOBJ, (payload, end, flags) => {
    if (end - payload < NFGENMSG_BYTES) {
      throw new ParseError(WHAT, `nfgenmsg of ${end - payload} bytes, expected ${NFGENMSG_BYTES}`);
    }
    if ((flags & NLM_F_DUMP_INTR) !== 0) sink.interrupted = true;
    if (words !== undefined && readKernelLayout(words, littleEndian, at, payload + NFGENMSG_BYTES, end)) {
      sink.counter(at);
      return;
    }
    at.tableEnd = at.nameEnd = at.packetsAt = at.bytesAt = type = dataStart = dataEnd = -1;
    forEachAttribute(bytes, payload + NFGENMSG_BYTES, end, littleEndian, WHAT, objectAttribute, view);
    if (at.tableEnd < 0 || at.nameEnd < 0 || type < 0) {
      throw new ParseError(WHAT, `an object without ${at.tableEnd < 0 ? 'table' : at.nameEnd < 0 ? 'name' : 'type'}`);
    }
    if (type !== NFT_OBJECT_COUNTER) return;
    if (dataStart < 0) throw new ParseError(WHAT, `counter ${label()} has no NFTA_OBJ_DATA`);
    forEachAttribute(bytes, dataStart, dataEnd, littleEndian, WHAT, counterAttribute, view);
    if (at.packetsAt < 0 || at.bytesAt < 0) {
      throw new ParseError(WHAT, `counter ${label()} lacks ${at.packetsAt < 0 ? 'packets' : 'bytes'}`);
    }
    sink.counter(at);
  });
}

/** A counter object decoded whole: table and name as strings, values exact. */
function counterObject(at: NftCounterAt): NftCounterObject {
  return {
    table: nftCounterTable(at),
    name: nftCounterName(at),
    packets: nftCounterBigint(at, 'packets'),
    bytes: nftCounterBigint(at, 'bytes'),
  };
}

/**
 * Adds the counter objects of one received chunk (`length` bytes of `bytes`) to `dump`, decoded; returns true once
 * the dump's NLMSG_DONE was seen. The errors of forEachNftCounter.
 */
export function parseNftCounterChunk(
  bytes: Buffer,
  length: number,
  littleEndian: boolean,
  dump: { counters: NftCounterObject[]; interrupted: boolean },
): boolean {
  const sink: NftCounterSink = {
    interrupted: dump.interrupted,
    counter: (at) => dump.counters.push(counterObject(at)),
  };
  const done = forEachNftCounter(bytes, length, littleEndian, sink);
  dump.interrupted = sink.interrupted;
  return done;
}

/** Parses a whole recorded dump (its datagrams concatenated); the dump must end with NLMSG_DONE. */
export function parseNftCounterDump(bytes: Buffer, littleEndian: boolean): NftCounterDump {
  const dump = { counters: [] as NftCounterObject[], interrupted: false };
  if (!parseNftCounterChunk(bytes, bytes.length, littleEndian, dump)) {
    throw new ParseError(WHAT, `no NLMSG_DONE in ${bytes.length} bytes: the dump is cut short`);
  }
  return dump;
}

/**
 * One datagram of a counter dump into `sink`: true at NLMSG_DONE. nfnetlink refuses every nftables request without
 * CAP_NET_ADMIN in the namespace: that reply throws a SourceUnavailableError that says so, not "error 1".
 */
function readCounterChunk(chunk: Buffer, length: number, littleEndian: boolean, sink: NftCounterSink): boolean {
  if (length >= NLMSG_HEADER_BYTES + 4) {
    const type = littleEndian ? chunk.readUInt16LE(4) : chunk.readUInt16BE(4);
    const error = littleEndian ? chunk.readInt32LE(NLMSG_HEADER_BYTES) : chunk.readInt32BE(NLMSG_HEADER_BYTES);
    if (type === NLMSG_ERROR && error === -EPERM) {
      throw new SourceUnavailableError(
        'nftables netlink: Operation not permitted: nftables counters need CAP_NET_ADMIN in the network namespace',
      );
    }
  }
  return forEachNftCounter(chunk, length, littleEndian, sink);
}

/**
 * One dump of the counter objects of table `family table` into `sink`, made by libuv's worker threads
 * (Netlink.dumpOffThread: the kernel builds the 512-object dump while the main thread does other work; the parse runs
 * on the main thread as datagrams arrive). Resolves with the sink, which may be `interrupted` (NLM_F_DUMP_INTR: the
 * caller dumps again) or have seen no object (no such table). Rejects as dumpNftCountersInto throws, and when the
 * worker threads cannot make the dump (see dumpOffThread).
 */
export async function dumpNftCountersOffThread<S extends NftCounterSink>(
  netlink: Netlink,
  family: NftFamily,
  table: string,
  littleEndian: boolean,
  sink: S,
): Promise<S> {
  const request = nftCounterDumpRequest(family, table, 1, littleEndian);
  await netlink.dumpOffThread(NETLINK_NETFILTER, WHAT, request, (chunk, length) =>
    readCounterChunk(chunk, length, littleEndian, sink),
  );
  return sink;
}

/** How many times a dump the ruleset changed under is repeated before the reader gives up. */
const INTERRUPTED_DUMP_ATTEMPTS = 3;
const EPERM = 1;

/**
 * Dumps the counter objects of table `family table` in the collector's network namespace into a sink from `newSink`
 * (none when there is no such table), and dumps again, into a new sink, when the kernel flags a dump as interrupted.
 * Returns the sink of the complete dump. Throws when netlink is unavailable (no koffi, no CAP_NET_ADMIN: the kernel
 * answers EPERM), a reply is malformed (or the sink throws), or every attempt was interrupted.
 */
export function dumpNftCountersInto<S extends NftCounterSink>(
  netlink: Netlink,
  family: NftFamily,
  table: string,
  littleEndian: boolean,
  newSink: () => S,
): S {
  const request = nftCounterDumpRequest(family, table, 1, littleEndian);
  for (let attempt = 1; attempt <= INTERRUPTED_DUMP_ATTEMPTS; attempt++) {
    const sink = newSink();
    netlink.dump(NETLINK_NETFILTER, WHAT, [request], (chunk, length) =>
      readCounterChunk(chunk, length, littleEndian, sink),
    );
    if (!sink.interrupted) return sink;
  }
  throw new ParseError(WHAT, `the ruleset changed during each of ${INTERRUPTED_DUMP_ATTEMPTS} dumps`);
}

/** The counter objects of table `family table`, decoded (empty when there is no such table): dumpNftCountersInto. */
export function dumpNftCounters(
  netlink: Netlink,
  family: NftFamily,
  table: string,
  littleEndian: boolean,
): NftCounterObject[] {
  return dumpNftCountersInto(netlink, family, table, littleEndian, () => {
    const counters: NftCounterObject[] = [];
    return { counters, interrupted: false, counter: (at: NftCounterAt) => counters.push(counterObject(at)) };
  }).counters;
}
