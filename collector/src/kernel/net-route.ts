/**
 * /proc/net/route and /proc/net/ipv6_route: the main routing tables, read to find the node's uplinks (the interfaces
 * holding the default routes). Pure parsers, and their thin reads.
 *
 * Limits, from what these files show: only the main table (policy-routing tables are not listed), and a multipath
 * IPv4 route shows its first nexthop's device only. --uplink-interfaces covers both.
 */
import { ParseError } from '../errors';
import type { HostFs } from './host-fs';
import { interfaceLabelOfLatin1 } from './interface-name';
import { procfsLines } from './procfs-text';

export const IPV4_ROUTE_FILE = 'net/route';
export const IPV6_ROUTE_FILE = 'net/ipv6_route';

/** rtnetlink/route.h flags as both files print them. */
export const RTF_UP = 0x0001;
export const RTF_REJECT = 0x0200;

export interface Route {
  /**
   * The device's label (interface-name.ts: the name itself unless it holds a backslash, a control character or
   * bytes that are not UTF-8).
   */
  readonly interfaceName: string;
  /** Destination prefix length (IPv4: from the netmask). */
  readonly prefixLength: number;
  /** True when the destination address is all zeros. */
  readonly zeroDestination: boolean;
  readonly flags: number;
}

/** Hex digits only; the count is checked apart (a constant: an expression made per field was garbage per route). */
const HEX_DIGITS = /^[0-9A-Fa-f]+$/;

function hexField(word: string | undefined, digits: number, file: string, what: string, lineNumber: number): number {
  if (word === undefined || word.length !== digits || !HEX_DIGITS.test(word)) {
    throw new ParseError(file, `${what}: expected ${digits} hex digits, got ${JSON.stringify(word ?? '')}`, lineNumber);
  }
  return Number.parseInt(word, 16);
}

/**
 * A netmask's prefix length: its count of one bits. /proc/net/route prints the mask as a host-order u32 of a
 * network-order value, so the bytes are reversed on little-endian machines; counting bits does not care.
 */
function maskLength(mask: number): number {
  let ones = 0;
  for (let bits = mask >>> 0; bits !== 0; bits >>>= 1) ones += bits & 1;
  return ones;
}

const IPV4_HEADER = [
  'Iface',
  'Destination',
  'Gateway',
  'Flags',
  'RefCnt',
  'Use',
  'Metric',
  'Mask',
  'MTU',
  'Window',
  'IRTT',
];

/**
 * Parses /proc/net/route, given as the file's bytes: a header line, then tab-separated `Iface Destination Gateway
 * Flags ... Mask ...` rows. An empty file is no routes: a network namespace whose main table was never created (no
 * IPv4 route yet) prints not even the header. The text is decoded as Latin-1 (one character per byte; `\s` is then
 * the kernel's isspace, which no name holds) and each device name becomes its label (interface-name.ts).
 */
export function parseIpv4Routes(bytes: Buffer, file = IPV4_ROUTE_FILE): Route[] {
  const lines = procfsLines(bytes.toString('latin1'), file);
  if (lines.length === 0) return [];
  if (lines[0]!.trim().split(/\s+/).join(' ') !== IPV4_HEADER.join(' ')) {
    throw new ParseError(file, `expected the header "${IPV4_HEADER.join(' ')}"`, 1);
  }
  return lines.slice(1).map((line, index) => {
    const lineNumber = index + 2;
    const words = line.trim().split(/\s+/);
    if (words.length !== IPV4_HEADER.length) {
      throw new ParseError(file, `expected ${IPV4_HEADER.length} fields, got ${words.length}`, lineNumber);
    }
    const destination = hexField(words[1], 8, file, 'Destination', lineNumber);
    const flags = hexField(words[3], 4, file, 'Flags', lineNumber);
    const mask = hexField(words[7], 8, file, 'Mask', lineNumber);
    return {
      interfaceName: interfaceLabelOfLatin1(words[0]!),
      prefixLength: maskLength(mask),
      zeroDestination: destination === 0,
      flags,
    };
  });
}

/**
 * Parses /proc/net/ipv6_route, given as the file's bytes: no header; per route `dest plen src plen nexthop metric
 * refcnt use flags device`, addresses as 32 hex digits, the rest as hex; the device as in parseIpv4Routes.
 */
export function parseIpv6Routes(bytes: Buffer, file = IPV6_ROUTE_FILE): Route[] {
  return procfsLines(bytes.toString('latin1'), file).map((line, index) => {
    const lineNumber = index + 1;
    const words = line.trim().split(/\s+/);
    if (words.length !== 10) throw new ParseError(file, `expected 10 fields, got ${words.length}`, lineNumber);
    const destination = words[0]!;
    hexField(destination, 32, file, 'destination', lineNumber);
    const prefixLength = hexField(words[1], 2, file, 'prefix length', lineNumber);
    if (prefixLength > 128) throw new ParseError(file, `prefix length ${prefixLength} is over 128`, lineNumber);
    hexField(words[2], 32, file, 'source', lineNumber);
    hexField(words[3], 2, file, 'source prefix length', lineNumber);
    hexField(words[4], 32, file, 'next hop', lineNumber);
    for (const [column, what] of [
      [5, 'metric'],
      [6, 'refcnt'],
      [7, 'use'],
    ] as const) {
      hexField(words[column], 8, file, what, lineNumber);
    }
    const flags = hexField(words[8], 8, file, 'flags', lineNumber);
    return {
      interfaceName: interfaceLabelOfLatin1(words[9]!),
      prefixLength,
      zeroDestination: /^0+$/.test(destination),
      flags,
    };
  });
}

/**
 * A usable default route: destination 0/0, up, and not a reject route (the kernel keeps an "unreachable" IPv6
 * default on lo in every namespace: it carries no traffic and must not make lo an uplink).
 */
export function isDefaultRoute(route: Route): boolean {
  return (
    route.zeroDestination &&
    route.prefixLength === 0 &&
    (route.flags & RTF_UP) !== 0 &&
    (route.flags & RTF_REJECT) === 0
  );
}

/** The interfaces holding a default route, IPv4 and IPv6, each once, sorted. */
export function defaultRouteInterfaces(...tables: readonly (readonly Route[])[]): string[] {
  const names = new Set<string>();
  for (const table of tables) for (const route of table) if (isDefaultRoute(route)) names.add(route.interfaceName);
  return [...names].sort();
}

/** Reads and parses /proc/net/route. */
export function readIpv4Routes(fs: HostFs): Route[] {
  return parseIpv4Routes(fs.readProcBytes(IPV4_ROUTE_FILE), IPV4_ROUTE_FILE);
}

/** Reads and parses /proc/net/ipv6_route; no routes when the file is absent (a kernel without IPv6). */
export function readIpv6Routes(fs: HostFs): Route[] {
  const bytes = fs.readProcBytesIfExists(IPV6_ROUTE_FILE);
  return bytes === undefined ? [] : parseIpv6Routes(bytes, IPV6_ROUTE_FILE);
}
