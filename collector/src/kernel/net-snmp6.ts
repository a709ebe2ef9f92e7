/**
 * /proc/net/snmp6: the kernel's IPv6 protocol counters, one `Name value` per line, the name already prefixed by its
 * protocol (Ip6InReceives, Icmp6InErrors, Udp6NoPorts, UdpLite6InErrors; net/ipv6/proc.c snmp6_seq_show). One
 * parser for every source that reads it (snmp, drop counters).
 *
 * The Ip6, Icmp6 and Udp6 groups are always printed, so a file lacking one is cut short: an error naming the group,
 * not counters silently missing. UdpLite6 is not required (removed with UDP-Lite in Linux 7.1).
 */
import { ParseError } from '../errors';
import type { HostFs } from './host-fs';
import { parseCount, procfsLines, requireParts } from './procfs-text';

export const NET_SNMP6_FILE = 'net/snmp6';

/**
 * Per counter name (`Ip6InReceives`, `Udp6NoPorts`, ...), its value, in file order. Read-only: one parse is shared by
 * the sources of a gathering (sources/linux/procfs-reads.ts).
 */
export type Snmp6Counters = ReadonlyMap<string, number>;
/** Name prefixes every kernel with IPv6 prints in /proc/net/snmp6. */
export const NET_SNMP6_GROUPS = ['Ip6', 'Icmp6', 'Udp6'] as const;

/** A line the kernel prints: a name, spaces and a tab, a count of at most 15 digits (below 2^53: Number() is exact). */
const SHORT_COUNT_LINE = /^[A-Za-z0-9_]+[ \t]+\d{1,15}$/;
const WHITESPACE = /\s/;

/** True when a name of `group` (Ip6, Udp6, ...) is among `fields`: the prefix followed by a capital letter. */
function hasGroup(fields: ReadonlyMap<string, number>, group: string): boolean {
  // "Udp6" must not be satisfied by UdpLite6 names alone, nor "Ip6" by anything but Ip6 names.
  let found = false;
  fields.forEach((_, name) => {
    if (found || !name.startsWith(group)) return;
    const next = name.charCodeAt(group.length);
    found = next >= 0x41 && next <= 0x5a; // A-Z
  });
  return found;
}

/**
 * Parses /proc/net/snmp6: one `Name value` per line (the kernel pads with spaces and a tab). Runs at every gathering:
 * a line is checked whole by one regular expression and cut at its whitespace; only a line that fails is split by a
 * capturing expression and its value checked word by word (for the exact error).
 */
export function parseSnmp6(text: string, file = NET_SNMP6_FILE): Snmp6Counters {
  const fields = new Map<string, number>();
  const lines = procfsLines(text, file);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    let name: string;
    let value: number;
    if (SHORT_COUNT_LINE.test(line)) {
      name = line.slice(0, line.search(WHITESPACE));
      value = Number(line.slice(Math.max(line.lastIndexOf(' '), line.lastIndexOf('\t')) + 1));
    } else {
      const match = /^([A-Za-z0-9_]+)\s+(\S+)$/.exec(line);
      if (!match) {
        throw new ParseError(file, `expected "Name value", got ${JSON.stringify(line.slice(0, 80))}`, index + 1);
      }
      name = match[1]!;
      value = parseCount(match[2], file, name, index + 1);
    }
    if (fields.has(name)) throw new ParseError(file, `${name} appears twice`, index + 1);
    fields.set(name, value);
  }
  requireParts(file, 'counters', NET_SNMP6_GROUPS, (group) => hasGroup(fields, group));
  return fields;
}

/** Reads and parses /proc/net/snmp6, or undefined when it is absent (a kernel without IPv6). */
export function readNetSnmp6(fs: HostFs): Snmp6Counters | undefined {
  const text = fs.readProcIfExists(NET_SNMP6_FILE);
  return text === undefined ? undefined : parseSnmp6(text, NET_SNMP6_FILE);
}
