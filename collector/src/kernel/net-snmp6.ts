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
import { counterNames, CounterValues, type CounterNames } from './counter-columns';
import { parseCount, requireFinalNewline, requireParts } from './procfs-text';

export const NET_SNMP6_FILE = 'net/snmp6';

/**
 * Per counter name (`Ip6InReceives`, `Udp6NoPorts`, ...), its value, in file order. Read-only: one parse is shared by
 * the sources of a gathering (sources/linux/procfs-reads.ts).
 */
export type Snmp6Counters = ReadonlyMap<string, number>;
/** Name prefixes every kernel with IPv6 prints in /proc/net/snmp6. */
export const NET_SNMP6_GROUPS = ['Ip6', 'Icmp6', 'Udp6'] as const;

/**
 * A line the kernel prints, matched from a given index of the whole text (sticky): a name, spaces and a tab, a count
 * of at most 15 digits (below 2^53: the digits' sum is exact), the newline.
 */
const SHORT_COUNT_LINE = '[A-Za-z0-9_]+[ \\t]+\\d{1,15}\\n';
const SPACE = 0x20;
const TAB = 0x09;
const ZERO = 0x30;

/** True when a name of `group` (Ip6, Udp6, ...) is among `names`: the prefix followed by a capital letter. */
function hasGroup(names: readonly string[], group: string): boolean {
  // "Udp6" must not be satisfied by UdpLite6 names alone, nor "Ip6" by anything but Ip6 names.
  for (let i = 0; i < names.length; i++) {
    if (!names[i]!.startsWith(group)) continue;
    const next = names[i]!.charCodeAt(group.length);
    if (next >= 0x41 && next <= 0x5a) return true; // A-Z
  }
  return false;
}

/**
 * The counter names of the previous parse, kept by the caller from one gathering to the next. The kernel prints the
 * same names in the same order for the life of a boot, so a parse given this makes no name string, name Map or group
 * check while every line's name is the one kept at its place. A parse replaces them when they changed; the result
 * never depends on them.
 */
export interface Snmp6Names {
  last: CounterNames | undefined;
}

export function createSnmp6Names(): Snmp6Names {
  return { last: undefined };
}

/** The count at the end of a line that SHORT_COUNT_LINE matched, `end` being its newline. */
function shortCount(text: string, end: number): number {
  let from = end;
  while (from > 0 && text.charCodeAt(from - 1) !== SPACE && text.charCodeAt(from - 1) !== TAB) from--;
  let value = 0;
  for (let at = from; at < end; at++) value = value * 10 + (text.charCodeAt(at) - ZERO);
  return value;
}

/**
 * Parses /proc/net/snmp6: one `Name value` per line (the kernel pads with spaces and a tab). Runs at every gathering:
 * a line is checked whole by one regular expression matched in place, its name compared with the one `kept` at its
 * place and its digits summed; only a line that fails is cut out and split by a capturing expression, and its value
 * checked word by word (for the exact error).
 */
export function parseSnmp6(text: string, file = NET_SNMP6_FILE, kept: Snmp6Names = createSnmp6Names()): Snmp6Counters {
  requireFinalNewline(text, file);
  const previous = kept.last?.names;
  /** The names of this parse once one differs from `previous` (until then they are previous's). */
  let names: string[] | undefined;
  let seen: Set<string> | undefined;
  const values: number[] = [];
  const shortLine = new RegExp(SHORT_COUNT_LINE, 'y');
  let index = 0;
  for (let start = 0; start < text.length; index++) {
    const end = text.indexOf('\n', start);
    shortLine.lastIndex = start;
    const short = shortLine.test(text);
    const expected = names === undefined ? previous?.[index] : undefined;
    if (
      short &&
      expected !== undefined &&
      text.startsWith(expected, start) &&
      (text.charCodeAt(start + expected.length) === SPACE || text.charCodeAt(start + expected.length) === TAB)
    ) {
      values.push(shortCount(text, end));
      start = end + 1;
      continue;
    }
    let name: string;
    let value: number;
    if (short) {
      let nameEnd = start;
      while (text.charCodeAt(nameEnd) !== SPACE && text.charCodeAt(nameEnd) !== TAB) nameEnd++;
      name = text.slice(start, nameEnd);
      value = shortCount(text, end);
    } else {
      const line = text.slice(start, end);
      const match = /^([A-Za-z0-9_]+)\s+(\S+)$/.exec(line);
      if (!match) {
        throw new ParseError(file, `expected "Name value", got ${JSON.stringify(line.slice(0, 80))}`, index + 1);
      }
      name = match[1]!;
      value = parseCount(match[2], file, name, index + 1);
    }
    if (names === undefined || seen === undefined) {
      names = previous === undefined ? [] : previous.slice(0, index);
      seen = new Set(names);
    }
    if (seen.has(name)) throw new ParseError(file, `${name} appears twice`, index + 1);
    seen.add(name);
    names.push(name);
    values.push(value);
    start = end + 1;
  }
  if (names === undefined && previous !== undefined && index === previous.length) {
    return new CounterValues(kept.last!, values);
  }
  const found = names ?? (previous ?? []).slice(0, index);
  requireParts(file, 'counters', NET_SNMP6_GROUPS, (group) => hasGroup(found, group));
  const counters = counterNames(found);
  kept.last = counters;
  return new CounterValues(counters, values);
}

/** Reads and parses /proc/net/snmp6, or undefined when it is absent (a kernel without IPv6). */
export function readNetSnmp6(fs: HostFs, kept?: Snmp6Names): Snmp6Counters | undefined {
  const text = fs.readProcIfExists(NET_SNMP6_FILE);
  return text === undefined ? undefined : parseSnmp6(text, NET_SNMP6_FILE, kept);
}
