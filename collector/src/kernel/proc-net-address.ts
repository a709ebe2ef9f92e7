/**
 * Addresses as /proc/net/{tcp,tcp6,udp,udp6} print them, turned into canonical text.
 *
 * The kernel prints an address as the hex of the raw 32-bit words it stores in network byte order, read as native
 * integers (`%08X` of a `__be32`): on a little-endian CPU (x86_64, arm64) 127.0.0.1 is `0100007F`, on a big-endian
 * one `7F000001`. IPv6 is four such words, 32 hex digits. Ports are printed after ntohs, so `0050` is port 80 on
 * every CPU.
 */

/** Hex words of an IPv4-mapped IPv6 address (`::ffff:0:0/96`) before its IPv4 word, per byte order. */
export function ipv4MappedPrefix(littleEndian: boolean): string {
  return littleEndian ? '0000000000000000FFFF0000' : '00000000000000000000FFFF';
}

/** The four bytes of one `%08X` word, in network order. */
function wordBytes(hex: string, offset: number, littleEndian: boolean): [number, number, number, number] {
  const word = Number.parseInt(hex.slice(offset, offset + 8), 16);
  const b0 = word >>> 24;
  const b1 = (word >>> 16) & 0xff;
  const b2 = (word >>> 8) & 0xff;
  const b3 = word & 0xff;
  return littleEndian ? [b3, b2, b1, b0] : [b0, b1, b2, b3];
}

/** Dotted-quad text of an IPv4 address word as the kernel printed it (the number its `%08X` shows). */
export function ipv4FromWord(word: number, littleEndian: boolean): string {
  const bytes = [word >>> 24, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff];
  return (littleEndian ? bytes.reverse() : bytes).join('.');
}

/** Dotted-quad text of an 8-hex-digit IPv4 word. */
export function ipv4FromProcHex(hex: string, littleEndian: boolean): string {
  return ipv4FromWord(Number.parseInt(hex, 16), littleEndian);
}

/**
 * RFC 5952 text of a 32-hex-digit IPv6 address: lowercase, no leading zeros, the longest run of two or more zero
 * groups (the first of equal runs) written as `::`. IPv4-mapped addresses are returned as their IPv4 text, so a
 * peer reached over a dual-stack socket is the same label value as over an IPv4 one.
 */
export function ipv6FromProcHex(hex: string, littleEndian: boolean): string {
  if (hex.startsWith(ipv4MappedPrefix(littleEndian))) return ipv4FromProcHex(hex.slice(24), littleEndian);
  const groups: number[] = [];
  for (let offset = 0; offset < 32; offset += 8) {
    const [b0, b1, b2, b3] = wordBytes(hex, offset, littleEndian);
    groups.push((b0 << 8) | b1, (b2 << 8) | b3);
  }
  let bestStart = -1;
  let bestLength = 1; // a single zero group is never compressed
  for (let start = 0; start < 8;) {
    if (groups[start] !== 0) {
      start += 1;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end += 1;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const text = (list: number[]) => list.map((group) => group.toString(16)).join(':');
  if (bestStart < 0) return text(groups);
  return `${text(groups.slice(0, bestStart))}::${text(groups.slice(bestStart + bestLength))}`;
}
