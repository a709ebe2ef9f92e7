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

/** Parses /proc/net/snmp6: one `Name value` per line (the kernel pads with spaces and a tab). */
export function parseSnmp6(text: string, file = NET_SNMP6_FILE): Snmp6Counters {
  const fields = new Map<string, number>();
  procfsLines(text, file).forEach((line, index) => {
    const match = /^([A-Za-z0-9_]+)\s+(\S+)$/.exec(line);
    if (!match) {
      throw new ParseError(file, `expected "Name value", got ${JSON.stringify(line.slice(0, 80))}`, index + 1);
    }
    if (fields.has(match[1]!)) throw new ParseError(file, `${match[1]} appears twice`, index + 1);
    fields.set(match[1]!, parseCount(match[2], file, match[1]!, index + 1));
  });
  const names = [...fields.keys()];
  // "Udp6" must not be satisfied by UdpLite6 names alone, nor "Ip6" by anything but Ip6 names: the prefix is
  // followed by the field's capitalised name.
  requireParts(file, 'counters', NET_SNMP6_GROUPS, (group) =>
    names.some((name) => new RegExp(`^${group}[A-Z]`).test(name)),
  );
  return fields;
}

/** Reads and parses /proc/net/snmp6, or undefined when it is absent (a kernel without IPv6). */
export function readNetSnmp6(fs: HostFs): Snmp6Counters | undefined {
  const text = fs.readProcIfExists(NET_SNMP6_FILE);
  return text === undefined ? undefined : parseSnmp6(text, NET_SNMP6_FILE);
}
