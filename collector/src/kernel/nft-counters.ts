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
 */
import { ParseError, SourceUnavailableError } from '../errors';
import {
  dataView,
  forEachAttribute,
  forEachNetlinkMessage,
  NLA_HEADER_BYTES,
  netlinkAlign,
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

function attribute(type: number, payload: Buffer, littleEndian: boolean): Buffer {
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
    attribute(NFTA_OBJ_TABLE, name, littleEndian),
    attribute(NFTA_OBJ_TYPE, type, littleEndian),
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

/** A NUL-terminated string attribute, decoded as UTF-8 (nft writes names as UTF-8; anything else is malformed). */
function stringAttribute(bytes: Buffer, start: number, end: number, what: string): string {
  // Uint8Array's own indexOf and a plain Uint8Array view: Buffer's indexOf and subarray go through JavaScript
  // wrappers that cost more than the decoding itself without TurboFan (1024 names per gathering of the flag table).
  const nul = Uint8Array.prototype.indexOf.call(bytes, 0, start);
  if (nul < 0 || nul >= end) throw new ParseError(WHAT, `${what} is not NUL-terminated`);
  try {
    return UTF8.decode(new Uint8Array(bytes.buffer, bytes.byteOffset + start, nul - start));
  } catch {
    throw new ParseError(WHAT, `${what} is not UTF-8`);
  }
}

function u64Attribute(view: DataView, start: number, end: number, what: string): bigint {
  if (end - start !== 8) throw new ParseError(WHAT, `${what} of ${end - start} bytes, expected 8`);
  return view.getBigUint64(start, false);
}

/**
 * Adds the counter objects of one received chunk (`length` bytes of `bytes`) to `dump`; returns true once the dump's
 * NLMSG_DONE was seen. Objects of another type (quotas, limits, ...) are skipped. Throws a ParseError on a malformed
 * message, a kernel error, or a counter without a table, a name, or either value.
 */
export function parseNftCounterChunk(
  bytes: Buffer,
  length: number,
  littleEndian: boolean,
  dump: { counters: NftCounterObject[]; interrupted: boolean },
): boolean {
  const view = dataView(bytes);
  return forEachNetlinkMessage(bytes, length, littleEndian, WHAT, NFT_MSG_NEWOBJ, (payload, end, flags) => {
    if (end - payload < NFGENMSG_BYTES) {
      throw new ParseError(WHAT, `nfgenmsg of ${end - payload} bytes, expected ${NFGENMSG_BYTES}`);
    }
    if ((flags & NLM_F_DUMP_INTR) !== 0) dump.interrupted = true;
    let table: string | undefined;
    let name: string | undefined;
    let type: number | undefined;
    let data: { start: number; end: number } | undefined;
    forEachAttribute(bytes, payload + NFGENMSG_BYTES, end, littleEndian, WHAT, (kind, start, stop) => {
      switch (kind) {
        case NFTA_OBJ_TABLE:
          table = stringAttribute(bytes, start, stop, 'NFTA_OBJ_TABLE');
          break;
        case NFTA_OBJ_NAME:
          name = stringAttribute(bytes, start, stop, 'NFTA_OBJ_NAME');
          break;
        case NFTA_OBJ_TYPE:
          if (stop - start !== 4) throw new ParseError(WHAT, `NFTA_OBJ_TYPE of ${stop - start} bytes, expected 4`);
          type = view.getUint32(start, false);
          break;
        case NFTA_OBJ_DATA:
          data = { start, end: stop };
          break;
      }
    });
    if (table === undefined || name === undefined || type === undefined) {
      throw new ParseError(
        WHAT,
        `an object without ${table === undefined ? 'table' : name === undefined ? 'name' : 'type'}`,
      );
    }
    if (type !== NFT_OBJECT_COUNTER) return;
    if (data === undefined) throw new ParseError(WHAT, `counter ${table}/${name} has no NFTA_OBJ_DATA`);
    let packets: bigint | undefined;
    let counted: bigint | undefined;
    forEachAttribute(bytes, data.start, data.end, littleEndian, WHAT, (kind, start, stop) => {
      if (kind === NFTA_COUNTER_PACKETS) packets = u64Attribute(view, start, stop, `counter ${name} packets`);
      else if (kind === NFTA_COUNTER_BYTES) counted = u64Attribute(view, start, stop, `counter ${name} bytes`);
    });
    if (packets === undefined || counted === undefined) {
      throw new ParseError(WHAT, `counter ${table}/${name} lacks ${packets === undefined ? 'packets' : 'bytes'}`);
    }
    dump.counters.push({ table, name, packets, bytes: counted });
  });
}

/** Parses a whole recorded dump (its datagrams concatenated); the dump must end with NLMSG_DONE. */
export function parseNftCounterDump(bytes: Buffer, littleEndian: boolean): NftCounterDump {
  const dump = { counters: [] as NftCounterObject[], interrupted: false };
  if (!parseNftCounterChunk(bytes, bytes.length, littleEndian, dump)) {
    throw new ParseError(WHAT, `no NLMSG_DONE in ${bytes.length} bytes: the dump is cut short`);
  }
  return dump;
}

/** How many times a dump the ruleset changed under is repeated before the reader gives up. */
const INTERRUPTED_DUMP_ATTEMPTS = 3;
const EPERM = 1;

/**
 * The counter objects of table `family table` in the collector's network namespace (empty when there is no such
 * table), dumped again when the kernel flags a dump as interrupted. Throws when netlink is unavailable (no koffi,
 * no CAP_NET_ADMIN: the kernel answers EPERM), a reply is malformed, or every attempt was interrupted.
 */
export function dumpNftCounters(
  netlink: Netlink,
  family: NftFamily,
  table: string,
  littleEndian: boolean,
): NftCounterObject[] {
  const request = nftCounterDumpRequest(family, table, 1, littleEndian);
  const refusal = (chunk: Buffer, length: number): void => {
    // nfnetlink refuses every nftables request without CAP_NET_ADMIN in the namespace: say so, not "error 1".
    if (length < NLMSG_HEADER_BYTES + 4) return;
    const type = littleEndian ? chunk.readUInt16LE(4) : chunk.readUInt16BE(4);
    const error = littleEndian ? chunk.readInt32LE(NLMSG_HEADER_BYTES) : chunk.readInt32BE(NLMSG_HEADER_BYTES);
    if (type === NLMSG_ERROR && error === -EPERM) {
      throw new SourceUnavailableError(
        'nftables netlink: Operation not permitted: nftables counters need CAP_NET_ADMIN in the network namespace',
      );
    }
  };
  for (let attempt = 1; attempt <= INTERRUPTED_DUMP_ATTEMPTS; attempt++) {
    const dump = { counters: [] as NftCounterObject[], interrupted: false };
    netlink.dump(NETLINK_NETFILTER, WHAT, [request], (chunk, length) => {
      refusal(chunk, length);
      return parseNftCounterChunk(chunk, length, littleEndian, dump);
    });
    if (!dump.interrupted) return dump.counters;
  }
  throw new ParseError(WHAT, `the ruleset changed during each of ${INTERRUPTED_DUMP_ATTEMPTS} dumps`);
}
