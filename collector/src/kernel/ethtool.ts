/**
 * Pure encoders and parsers of the kernel's ethtool ioctl buffers for a NIC driver's own statistics: what `ethtool -S
 * IFACE` prints, read with three SIOCETHTOOL commands on one interface.
 *
 *  1. ETHTOOL_GSSET_INFO: how many statistics the driver has (`struct ethtool_sset_info`);
 *  2. ETHTOOL_GSTRINGS with string set ETH_SS_STATS: their names, 32 bytes each (`struct ethtool_gstrings`);
 *  3. ETHTOOL_GSTATS: their values, u64 each, in the same order (`struct ethtool_stats`).
 *
 * Layouts and numbers are from include/uapi/linux/ethtool.h and include/uapi/linux/sockios.h. Every integer is in
 * host byte order. ethtool's netlink interface has no replacement for these: its ETHTOOL_MSG_STATS_GET returns only
 * the standard groups (eth-phy, eth-mac, eth-ctrl, rmon), not the driver's private counters that `ethtool -S` prints.
 *
 * GSTRINGS and GSTATS carry the count the caller expects (from GSSET_INFO). When the driver's count has changed
 * since (queues reconfigured in between), kernels differ: recent ones (6.18 here) answer with a count of 0 and write
 * no entries, older ones write as many entries as the driver has now, whatever the buffer. So the caller sends the
 * exact count in a buffer with room to spare (`entriesWithSlack`), re-reads when the reply's count is not the one it
 * sent, and these parsers refuse a reply that claims more entries than its buffer holds.
 */
import { ParseError } from '../errors';
import { interfaceNameBytes } from './interface-name';

/** `ioctl(fd, SIOCETHTOOL, struct ifreq *)` (include/uapi/linux/sockios.h). */
export const SIOCETHTOOL = 0x8946;
export const ETHTOOL_GSTRINGS = 0x1b;
export const ETHTOOL_GSTATS = 0x1d;
export const ETHTOOL_GSSET_INFO = 0x37;
/** The string set of the driver statistics (enum ethtool_stringset). */
export const ETH_SS_STATS = 1;
/** Bytes per name in a GSTRINGS reply; a name of exactly 32 characters has no terminating NUL. */
export const ETH_GSTRING_LEN = 32;
/** Bytes of `ifr_name` in `struct ifreq`, terminating NUL included: names are at most 15 characters. */
export const IFNAMSIZ = 16;

/** Header bytes before the entries of each structure. */
const SSET_INFO_HEADER = 16; // cmd u32, reserved u32, sset_mask u64
const GSTRINGS_HEADER = 12; // cmd u32, string_set u32, len u32
const GSTATS_HEADER = 8; // cmd u32, n_stats u32
const U64_BYTES = 8;

/** Where each command's reply came from, for error messages. */
const WHAT = {
  ssetInfo: 'ETHTOOL_GSSET_INFO',
  strings: 'ETHTOOL_GSTRINGS',
  stats: 'ETHTOOL_GSTATS',
} as const;

function writer(buffer: Buffer, littleEndian: boolean) {
  return {
    u32: (value: number, at: number) =>
      littleEndian ? buffer.writeUInt32LE(value, at) : buffer.writeUInt32BE(value, at),
    u64: (value: bigint, at: number) =>
      littleEndian ? buffer.writeBigUInt64LE(value, at) : buffer.writeBigUInt64BE(value, at),
  };
}

function reader(buffer: Buffer, littleEndian: boolean) {
  return {
    u32: (at: number) => (littleEndian ? buffer.readUInt32LE(at) : buffer.readUInt32BE(at)),
    u64: (at: number) => (littleEndian ? buffer.readBigUInt64LE(at) : buffer.readBigUInt64BE(at)),
  };
}

/**
 * Room for `count` entries plus slack, so that a driver whose statistic count grew between GSSET_INFO and the next
 * command (channels added with `ethtool -L` in between) still fits: twice the count plus 64.
 */
export function entriesWithSlack(count: number): number {
  return count * 2 + 64;
}

/**
 * An `ifr_name`: the interface's name bytes (interface-name.ts `interfaceNameBytes` of its label: a UTF-8 name as it
 * is, escapes turned back into the bytes they stand for), NUL-padded to IFNAMSIZ bytes. Throws a ParseError for a
 * label that is not one, or a name the kernel cannot have (dev_valid_name: 1 to 15 bytes, no "/", ":" or
 * whitespace, which for bytes is tab to CR, space and 0xA0).
 */
export function interfaceNameField(name: string): Buffer {
  const bytes = interfaceNameBytes(name);
  if (bytes.length === 0 || bytes.length >= IFNAMSIZ || bytes.some(isRefusedInName)) {
    throw new ParseError('ifreq', `"${name}" is not an interface name (1 to 15 bytes, no "/", ":" or whitespace)`);
  }
  const field = Buffer.alloc(IFNAMSIZ);
  bytes.copy(field, 0);
  return field;
}

/** The bytes dev_valid_name refuses: NUL, "/", ":" and the kernel's isspace() (tab to CR, space, 0xA0). */
function isRefusedInName(byte: number): boolean {
  return (
    byte === 0 || byte === 0x2f || byte === 0x3a || byte === 0x20 || byte === 0xa0 || (byte >= 0x09 && byte <= 0x0d)
  );
}

/** ETHTOOL_GSSET_INFO asking for the size of ETH_SS_STATS: 16 header bytes and room for one u32. */
export function ssetInfoRequest(littleEndian: boolean): Buffer {
  const request = Buffer.alloc(SSET_INFO_HEADER + 4);
  const w = writer(request, littleEndian);
  w.u32(ETHTOOL_GSSET_INFO, 0);
  w.u64(1n << BigInt(ETH_SS_STATS), 8);
  return request;
}

/**
 * The number of driver statistics from a GSSET_INFO reply, or undefined when the driver has none (the kernel
 * clears the ETH_SS_STATS bit of sset_mask: loopback, bridges, macvlan, ...).
 */
export function parseSsetInfo(reply: Buffer, littleEndian: boolean): number | undefined {
  if (reply.length < SSET_INFO_HEADER + 4) {
    throw new ParseError(WHAT.ssetInfo, `reply of ${reply.length} bytes, expected at least ${SSET_INFO_HEADER + 4}`);
  }
  const r = reader(reply, littleEndian);
  if (r.u32(0) !== ETHTOOL_GSSET_INFO)
    throw new ParseError(WHAT.ssetInfo, `reply for command 0x${r.u32(0).toString(16)}`);
  const mask = r.u64(8);
  const asked = 1n << BigInt(ETH_SS_STATS);
  // The kernel answers only for bits that were asked: any other bit is a malformed reply.
  if ((mask & ~asked) !== 0n)
    throw new ParseError(WHAT.ssetInfo, `sset_mask 0x${mask.toString(16)} has bits not asked for`);
  if ((mask & asked) === 0n) return undefined;
  return r.u32(SSET_INFO_HEADER);
}

/** ETHTOOL_GSTRINGS of ETH_SS_STATS expecting `count` names, in a buffer with room for `capacity` (>= count). */
export function stringsRequest(count: number, capacity: number, littleEndian: boolean): Buffer {
  const request = Buffer.alloc(GSTRINGS_HEADER + Math.max(count, capacity) * ETH_GSTRING_LEN);
  const w = writer(request, littleEndian);
  w.u32(ETHTOOL_GSTRINGS, 0);
  w.u32(ETH_SS_STATS, 4);
  w.u32(count, 8);
  return request;
}

/**
 * The names of a GSTRINGS reply, in driver order, as `ethtool -S` prints them: each 32-byte slot up to its first NUL
 * (all 32 bytes when there is none). Throws when the reply claims more names than its buffer holds.
 */
export function parseStrings(reply: Buffer, littleEndian: boolean): string[] {
  if (reply.length < GSTRINGS_HEADER) throw new ParseError(WHAT.strings, `reply of ${reply.length} bytes`);
  const r = reader(reply, littleEndian);
  if (r.u32(0) !== ETHTOOL_GSTRINGS) throw new ParseError(WHAT.strings, `reply for command 0x${r.u32(0).toString(16)}`);
  if (r.u32(4) !== ETH_SS_STATS)
    throw new ParseError(WHAT.strings, `reply for string set ${r.u32(4)}, not ETH_SS_STATS`);
  const count = r.u32(8);
  const capacity = Math.floor((reply.length - GSTRINGS_HEADER) / ETH_GSTRING_LEN);
  if (count > capacity) {
    throw new ParseError(WHAT.strings, `${count} names in a buffer for ${capacity}: the driver's set grew while read`);
  }
  const names: string[] = [];
  for (let index = 0; index < count; index++) {
    const start = GSTRINGS_HEADER + index * ETH_GSTRING_LEN;
    const slot = reply.subarray(start, start + ETH_GSTRING_LEN);
    const end = slot.indexOf(0);
    names.push(slot.toString('latin1', 0, end < 0 ? ETH_GSTRING_LEN : end));
  }
  return names;
}

/** ETHTOOL_GSTATS expecting `count` values, in a buffer with room for `capacity` (>= count). */
export function statsRequest(count: number, capacity: number, littleEndian: boolean): Buffer {
  const request = Buffer.alloc(GSTATS_HEADER + Math.max(count, capacity) * U64_BYTES);
  const w = writer(request, littleEndian);
  w.u32(ETHTOOL_GSTATS, 0);
  w.u32(count, 4);
  return request;
}

/** The values of a GSTATS reply, in driver order. Throws when the reply claims more values than its buffer holds. */
export function parseStats(reply: Buffer, littleEndian: boolean): bigint[] {
  if (reply.length < GSTATS_HEADER) throw new ParseError(WHAT.stats, `reply of ${reply.length} bytes`);
  const r = reader(reply, littleEndian);
  if (r.u32(0) !== ETHTOOL_GSTATS) throw new ParseError(WHAT.stats, `reply for command 0x${r.u32(0).toString(16)}`);
  const count = r.u32(4);
  const capacity = Math.floor((reply.length - GSTATS_HEADER) / U64_BYTES);
  if (count > capacity) {
    throw new ParseError(WHAT.stats, `${count} values in a buffer for ${capacity}: the driver's set grew while read`);
  }
  const values: bigint[] = [];
  for (let index = 0; index < count; index++) values.push(r.u64(GSTATS_HEADER + index * U64_BYTES));
  return values;
}

/** One driver statistic as exported: its name as `ethtool -S` prints it and its value. */
export interface DriverStatistic {
  readonly name: string;
  readonly value: number;
}

/** What `selectDriverStatistics` left out, by why (counts of statistics). */
export interface LeftOut {
  /** Named like a counter another source exports under that name for the same interface (see `reserved`). */
  readonly reserved: number;
  /** A name the driver lists twice (only the first is kept), or an empty name. */
  readonly duplicate: number;
  /** A value above 2^53, which a float64 sample cannot hold exactly. */
  readonly inexact: number;
  /** Beyond the per-interface cap. */
  readonly beyondCap: number;
}

export interface SelectedStatistics {
  readonly statistics: DriverStatistic[];
  readonly leftOut: LeftOut;
}

/**
 * The statistics to export from one interface's names and values (same order, same length: the caller read them
 * back to back and re-reads when the counts differ), in driver order:
 * - names in `reserved` are left out (another source exports a counter of that name for the interface, and two
 *   series with the same labels would be invalid exposition);
 * - a repeated or empty name is left out after its first occurrence;
 * - a value above Number.MAX_SAFE_INTEGER is left out rather than exported rounded;
 * - at most `cap` statistics are kept, the first ones in driver order (drivers list their device-wide counters
 *   before the per-queue and per-CPU ones).
 */
export function selectDriverStatistics(
  names: readonly string[],
  values: readonly bigint[],
  reserved: ReadonlySet<string>,
  cap: number,
): SelectedStatistics {
  if (names.length !== values.length) {
    throw new ParseError('ethtool', `${names.length} statistic names for ${values.length} values`);
  }
  const statistics: DriverStatistic[] = [];
  const seen = new Set<string>();
  let reservedCount = 0;
  let duplicate = 0;
  let inexact = 0;
  let beyondCap = 0;
  names.forEach((name, index) => {
    if (reserved.has(name)) {
      reservedCount++;
      return;
    }
    if (name === '' || seen.has(name)) {
      duplicate++;
      return;
    }
    seen.add(name);
    const value = values[index]!;
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      inexact++;
      return;
    }
    if (statistics.length >= cap) {
      beyondCap++;
      return;
    }
    statistics.push({ name, value: Number(value) });
  });
  return { statistics, leftOut: { reserved: reservedCount, duplicate, inexact, beyondCap } };
}
