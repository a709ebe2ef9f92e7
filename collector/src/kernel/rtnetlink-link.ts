/**
 * The rtnetlink link dump (RTM_GETLINK with NLM_F_DUMP, what `ip -s -d link` reads): every interface of the
 * collector's network namespace with its index, name, 64-bit counters, master (bridge or bond), kind (veth, bridge,
 * ...) and, for a veth, the namespace its peer lives in. Unlike /proc/net/dev it identifies an interface by its
 * ifindex (a rename keeps it, a re-creation changes it) and gives the raw name bytes.
 *
 * A pure parser of the kernel's messages (include/uapi/linux/rtnetlink.h, if_link.h) and the thin dump through
 * netlink-socket.ts. Each RTM_NEWLINK message holds a `struct ifinfomsg` (16 bytes: family u8, pad u8, type u16,
 * index s32, flags u32, change u32) then attributes; the ones read here:
 * - IFLA_IFNAME (3): the name, NUL-terminated. The kernel takes any bytes but '/', ':', whitespace and NUL, so the
 *   name becomes its label (interface-name.ts: itself when it is UTF-8, escapes for other bytes) and the bytes are
 *   kept as well.
 * - IFLA_MASTER (10): u32 ifindex of the bridge or bond the interface is enslaved to.
 * - IFLA_LINKINFO (18), nested: IFLA_INFO_KIND (1), the driver kind as a NUL-terminated string.
 * - IFLA_STATS64 (23): `struct rtnl_link_stats64`, u64 counters in host order. 23 counters since 2.6.35,
 *   rx_nohandler added in 4.6, rx_otherhost_dropped in 5.19: the attribute's length says how many this kernel sent.
 * - IFLA_LINK_NETNSID (37): s32 id, in this namespace, of the namespace the link's peer is in (veths whose peer was
 *   moved, e.g. a pod's eth0 seen from the node).
 */
import { ParseError } from '../errors';
import {
  dataView,
  forEachAttribute,
  forEachNetlinkMessage,
  hostOrderReader,
  netlinkAttribute,
  netlinkRequest,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  NLMSG_HEADER_BYTES,
} from './netlink';
import { NETLINK_ROUTE, type Netlink } from './netlink-socket';
import { interfaceLabel } from './interface-name';

export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const IFINFOMSG_BYTES = 16;
const IFLA_IFNAME = 3;
const IFLA_MASTER = 10;
const IFLA_LINKINFO = 18;
const IFLA_STATS64 = 23;
const IFLA_LINK_NETNSID = 37;
const IFLA_EXT_MASK = 29;
/**
 * The request's IFLA_EXT_MASK: RTEXT_FILTER_BRVLAN, which adds nothing to a link dump of every family (bridge VLANs
 * go to AF_BRIDGE dumps only). Any mask at all makes the kernel size the dump's datagrams for the largest link's
 * message (rtnl_calcit); without one it uses NLMSG_GOODSIZE, and a link whose message does not fit (hundreds of
 * altnames: over ~32 KiB) ends the dump early with a plain NLMSG_DONE, every later link silently missing. `ip` always
 * sends a mask (RTEXT_FILTER_VF).
 */
const RTEXT_FILTER_BRVLAN = 1 << 1;
const IFLA_INFO_KIND = 1;
const WHAT = 'rtnetlink link dump';

/** The counters of struct rtnl_link_stats64, in struct order. */
export const LINK_STATS64_FIELDS = [
  'rx_packets',
  'tx_packets',
  'rx_bytes',
  'tx_bytes',
  'rx_errors',
  'tx_errors',
  'rx_dropped',
  'tx_dropped',
  'multicast',
  'collisions',
  'rx_length_errors',
  'rx_over_errors',
  'rx_crc_errors',
  'rx_frame_errors',
  'rx_fifo_errors',
  'rx_missed_errors',
  'tx_aborted_errors',
  'tx_carrier_errors',
  'tx_fifo_errors',
  'tx_heartbeat_errors',
  'tx_window_errors',
  'rx_compressed',
  'tx_compressed',
  'rx_nohandler',
  'rx_otherhost_dropped',
] as const;
export type LinkStats64Field = (typeof LINK_STATS64_FIELDS)[number];
/** Every kernel since 2.6.35 sends at least these 23 counters (rx_packets ... tx_compressed). */
const MINIMUM_STATS64_FIELDS = 23;

/** Counters added to the struct after 2.6.35: absent when the kernel does not send them. */
type LaterStats64Field = 'rx_nohandler' | 'rx_otherhost_dropped';

/**
 * The 64-bit counters of a link, exact (bigint: u64 counters can pass 2^53). The parser's are getters decoding the
 * attribute's bytes when read: the counters are not own properties, so spread, Object.keys and JSON do not see them.
 */
export type LinkStats64 = { readonly [F in Exclude<LinkStats64Field, LaterStats64Field>]: bigint } & {
  readonly [F in LaterStats64Field]?: bigint;
};

export interface RtnetlinkLink {
  /** ifindex: stable for the life of the interface, never reused while it exists. */
  readonly index: number;
  /**
   * The name's label (interface-name.ts: the name itself unless it holds a backslash, a control character or bytes
   * that are not UTF-8), as every other reader gives it.
   */
  readonly name: string;
  /** The name's bytes as the kernel holds them (without the NUL). */
  readonly nameBytes: Buffer;
  /** ARPHRD_* hardware type (1 Ethernet, 772 loopback). */
  readonly hardwareType: number;
  /** IFF_* flags (IFF_UP 0x1, IFF_RUNNING 0x40, ...). */
  readonly flags: number;
  /** IFLA_INFO_KIND: veth, bridge, bond, dummy, ...; undefined for a physical device or lo. */
  readonly kind: string | undefined;
  /** ifindex of the bridge or bond this link is enslaved to (IFLA_MASTER), if any. */
  readonly masterIndex: number | undefined;
  /** For a link whose peer is in another namespace: that namespace's id as seen from here (IFLA_LINK_NETNSID). */
  readonly linkNetnsId: number | undefined;
  /** IFLA_STATS64, or undefined when the kernel sent none. */
  readonly stats64: LinkStats64 | undefined;
}

/** What one dump gave. */
export interface LinkDump {
  readonly links: RtnetlinkLink[];
  /**
   * True when the kernel flagged the dump as interrupted (NLM_F_DUMP_INTR: links were added or removed while it
   * ran), so a link may be missing or shown twice. A reader that needs a consistent set dumps again.
   */
  readonly interrupted: boolean;
}

/**
 * The dump request: nlmsghdr + struct ifinfomsg (AF_UNSPEC: every link) + IFLA_EXT_MASK (RTEXT_FILTER_BRVLAN, see
 * there), 40 bytes.
 */
export function linkDumpRequest(sequence: number, littleEndian: boolean): Buffer {
  const mask = Buffer.alloc(4);
  if (littleEndian) mask.writeUInt32LE(RTEXT_FILTER_BRVLAN, 0);
  else mask.writeUInt32BE(RTEXT_FILTER_BRVLAN, 0);
  const extMask = netlinkAttribute(IFLA_EXT_MASK, mask, littleEndian);
  const request = netlinkRequest(
    RTM_GETLINK,
    NLM_F_REQUEST | NLM_F_DUMP,
    sequence,
    IFINFOMSG_BYTES + extMask.length,
    littleEndian,
  );
  extMask.copy(request, NLMSG_HEADER_BYTES + IFINFOMSG_BYTES);
  return request;
}

/** A NUL-terminated string attribute's bytes (without the NUL); a string without its NUL is malformed. */
function stringBytes(bytes: Buffer, start: number, end: number, what: string): Buffer {
  const nul = bytes.indexOf(0, start);
  if (nul < 0 || nul >= end) throw new ParseError(WHAT, `${what} is not NUL-terminated`);
  return bytes.subarray(start, nul);
}

const UTF8 = new TextDecoder('utf-8');

/**
 * Adds the links of one received chunk (`length` bytes of `bytes`) to `dump`; returns true once the dump's
 * NLMSG_DONE was seen. Throws a ParseError on a malformed message, a kernel error, or a link without an index or a
 * name.
 */
export function parseLinkChunk(
  bytes: Buffer,
  length: number,
  littleEndian: boolean,
  dump: { links: RtnetlinkLink[]; interrupted: boolean },
): boolean {
  const read = hostOrderReader(bytes, littleEndian);
  // One view of the chunk for every attribute walk of its messages (forEachAttribute would make one per call).
  const view = dataView(bytes);
  return forEachNetlinkMessage(bytes, length, littleEndian, WHAT, RTM_NEWLINK, (payload, end, flags) => {
    if (end - payload < IFINFOMSG_BYTES) {
      throw new ParseError(WHAT, `ifinfomsg of ${end - payload} bytes, expected ${IFINFOMSG_BYTES}`);
    }
    if ((flags & NLM_F_DUMP_INTR) !== 0) dump.interrupted = true;
    const index = read.i32(payload + 4);
    if (index <= 0) throw new ParseError(WHAT, `link index ${index}`);
    let nameBytes: Buffer | undefined;
    let masterIndex: number | undefined;
    let kind: string | undefined;
    let linkNetnsId: number | undefined;
    let stats64: LinkStats64 | undefined;
    const fixedSize = (type: string, start: number, stop: number, size: number) => {
      if (stop - start < size) throw new ParseError(WHAT, `link ${index}: ${type} of ${stop - start} bytes`);
    };
    forEachAttribute(
      bytes,
      payload + IFINFOMSG_BYTES,
      end,
      littleEndian,
      WHAT,
      (type, start, stop) => {
        switch (type) {
          case IFLA_IFNAME:
            nameBytes = Buffer.from(stringBytes(bytes, start, stop, `link ${index}: IFLA_IFNAME`));
            break;
          case IFLA_MASTER:
            fixedSize('IFLA_MASTER', start, stop, 4);
            masterIndex = read.u32(start);
            break;
          case IFLA_LINK_NETNSID:
            fixedSize('IFLA_LINK_NETNSID', start, stop, 4);
            linkNetnsId = read.i32(start);
            break;
          case IFLA_STATS64:
            stats64 = parseStats64(bytes, start, stop, index, littleEndian);
            break;
          case IFLA_LINKINFO:
            forEachAttribute(
              bytes,
              start,
              stop,
              littleEndian,
              WHAT,
              (infoType, infoStart, infoStop) => {
                if (infoType === IFLA_INFO_KIND) {
                  kind = UTF8.decode(stringBytes(bytes, infoStart, infoStop, `link ${index}: IFLA_INFO_KIND`));
                }
              },
              view,
            );
            break;
        }
      },
      view,
    );
    if (nameBytes === undefined) throw new ParseError(WHAT, `link ${index} has no IFLA_IFNAME`);
    dump.links.push({
      index,
      name: interfaceLabel(nameBytes),
      nameBytes,
      hardwareType: read.u16(payload + 2),
      flags: read.u32(payload + 8),
      kind,
      masterIndex,
      linkNetnsId,
      stats64,
    });
  });
}

/**
 * A link's IFLA_STATS64 counters, read when asked: each field is a getter on the class, decoding its u64 from a copy
 * of the attribute's bytes (the receive buffer is reused by the next datagram). A dump lists every link with 25
 * counters while the sources read two or three of them, so decoding all as bigints made ~1.4 KB of garbage per link
 * at every gathering (measured for issue 17); this keeps one small copy and one DataView per link.
 */
class LazyLinkStats64 {
  /** `counters` u64s in the order of LINK_STATS64_FIELDS, in host order. */
  constructor(
    private readonly view: DataView,
    private readonly counters: number,
    private readonly littleEndian: boolean,
  ) {}

  /** The counter at `field`'s position in struct rtnl_link_stats64, or undefined when this kernel did not send it. */
  counter(field: number): bigint | undefined {
    return field < this.counters ? this.view.getBigUint64(field * 8, this.littleEndian) : undefined;
  }
}

// One getter per counter name on the prototype (made once at load): `stats.rx_missed_errors` decodes that counter.
LINK_STATS64_FIELDS.forEach((name, field) => {
  Object.defineProperty(LazyLinkStats64.prototype, name, {
    get(this: LazyLinkStats64) {
      return this.counter(field);
    },
    enumerable: true,
  });
});

function parseStats64(bytes: Buffer, start: number, stop: number, index: number, littleEndian: boolean): LinkStats64 {
  const count = Math.min(Math.floor((stop - start) / 8), LINK_STATS64_FIELDS.length);
  if (count < MINIMUM_STATS64_FIELDS) {
    throw new ParseError(WHAT, `link ${index}: IFLA_STATS64 of ${stop - start} bytes holds ${count} counters`);
  }
  const copy = Buffer.allocUnsafe(count * 8);
  bytes.copy(copy, 0, start, start + count * 8);
  return new LazyLinkStats64(dataView(copy), count, littleEndian) as unknown as LinkStats64;
}

/** Parses a whole recorded dump (its datagrams concatenated); the dump must end with NLMSG_DONE. */
export function parseLinkDump(bytes: Buffer, littleEndian: boolean): LinkDump {
  const dump = { links: [] as RtnetlinkLink[], interrupted: false };
  if (!parseLinkChunk(bytes, bytes.length, littleEndian, dump)) {
    throw new ParseError(WHAT, `no NLMSG_DONE in ${bytes.length} bytes: the dump is cut short`);
  }
  return dump;
}

/** Dumps every link of the collector's network namespace. Throws when netlink is unavailable or a reply malformed. */
export function dumpLinks(netlink: Netlink, littleEndian: boolean): LinkDump {
  const dump = { links: [] as RtnetlinkLink[], interrupted: false };
  netlink.dump(NETLINK_ROUTE, WHAT, [linkDumpRequest(1, littleEndian)], (chunk, length) =>
    parseLinkChunk(chunk, length, littleEndian, dump),
  );
  return dump;
}
