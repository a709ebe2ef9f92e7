/**
 * /proc/net/snmp and /proc/net/netstat: the kernel's IPv4 protocol counters as pairs of lines, `Name: field field ...`
 * then `Name: value value ...` (net/ipv4/proc.c snmp_seq_show, netstat_seq_show). One parser for both files and for
 * every source that reads them (snmp, drop counters).
 *
 * Sections the kernel always prints are required, so a read cut at a line boundary (or an empty file) is an error
 * naming what is missing instead of a source that stays up with InSegs or NoPorts silently gone:
 * - net/snmp: Ip, Icmp, Tcp, Udp. Not required: IcmpMsg (printed only once some ICMP type was counted) and UdpLite
 *   (printed since 2.6.20, removed with UDP-Lite in Linux 7.1).
 * - net/netstat: TcpExt, IpExt. Not required: MPTcpExt (only with CONFIG_MPTCP).
 */
import { ParseError } from '../errors';
import type { HostFs } from './host-fs';
import { parseCount, procfsLines, requireParts } from './procfs-text';

/**
 * Per section name (`Tcp`, `TcpExt`, ...), its fields in file order with their values. Read-only: one parse is shared
 * by the sources of a gathering (sources/linux/procfs-reads.ts).
 */
export type SnmpTables = ReadonlyMap<string, ReadonlyMap<string, number>>;

export const NET_SNMP_FILE = 'net/snmp';
export const NET_NETSTAT_FILE = 'net/netstat';
/** Sections every kernel prints in /proc/net/snmp. */
export const NET_SNMP_SECTIONS = ['Ip', 'Icmp', 'Tcp', 'Udp'] as const;
/** Sections every kernel prints in /proc/net/netstat. */
export const NET_NETSTAT_SECTIONS = ['TcpExt', 'IpExt'] as const;

/** A value of /proc/net/snmp: counters are unsigned, but Tcp MaxConn is printed as -1. */
function parseSignedValue(word: string | undefined, file: string, what: string, lineNumber: number): number {
  if (word !== undefined && word.startsWith('-')) return -parseCount(word.slice(1), file, what, lineNumber);
  return parseCount(word, file, what, lineNumber);
}

/** `Name: word word ...`: the shape of every line of both files. */
const LINE = /^[A-Za-z0-9]+:(?: \S+)*$/;
/** A header line whose every word is a field name (the per-field check then has nothing to find). */
const ALL_FIELD_NAMES = /^[A-Za-z0-9]+:(?: [A-Za-z0-9_]+)*$/;
/**
 * A value line whose every word is an integer of at most 15 digits: below 2^53, so Number() of each is exact and the
 * per-value check (parseCount) has nothing to find. Longer numbers go through that check.
 */
const ALL_SHORT_INTEGERS = /^[A-Za-z0-9]+:(?: -?\d{1,15})*$/;

/**
 * The words of a line of LINE's shape, its `Name:` first (the caller takes the name from it, colon left out): one
 * split per line, no slice of the rest, at every gathering.
 */
function splitLine(line: string, file: string, lineNumber: number): string[] {
  if (!LINE.test(line)) {
    throw new ParseError(file, `expected "Name: words ...", got ${JSON.stringify(line.slice(0, 80))}`, lineNumber);
  }
  return line.split(' ');
}

/** The name of a line of LINE's shape (before its colon). */
function lineName(line: string): string {
  return line.slice(0, line.indexOf(':'));
}

/**
 * Parses /proc/net/snmp or /proc/net/netstat into its sections, which must include every one of `requiredSections`.
 * A pair whose names differ, or whose counts of fields and values differ, is an error: the values could not be
 * matched to their names. Values are whole numbers; only signed fields can be negative (Tcp MaxConn is -1).
 * Runs at every gathering: each line is checked whole by one regular expression, each word only when that fails.
 */
export function parseSnmpTables(text: string, file: string, requiredSections: readonly string[]): SnmpTables {
  const lines = procfsLines(text, file);
  const tables = new Map<string, ReadonlyMap<string, number>>();
  for (let index = 0; index < lines.length; index += 2) {
    const headerLine = lines[index]!;
    // header[0] is `Name:`, header[1..] the field names.
    const header = splitLine(headerLine, file, index + 1);
    const name = lineName(headerLine);
    if (index + 1 >= lines.length) {
      throw new ParseError(file, `${name}: header line without its value line`, index + 1);
    }
    const valueLine = lines[index + 1]!;
    // words[0] is `Name:` and words[1..] the values, as in header.
    const words = splitLine(valueLine, file, index + 2);
    const valuesName = lineName(valueLine);
    if (valuesName !== name) {
      throw new ParseError(file, `header ${name} is followed by values of ${valuesName}`, index + 2);
    }
    const fieldCount = header.length - 1;
    const valueCount = words.length - 1;
    if (valueCount !== fieldCount) {
      throw new ParseError(file, `${name}: ${fieldCount} field names but ${valueCount} values`, index + 2);
    }
    if (tables.has(name)) throw new ParseError(file, `${name} appears twice`, index + 1);
    const namesChecked = ALL_FIELD_NAMES.test(headerLine);
    const valuesChecked = ALL_SHORT_INTEGERS.test(valueLine);
    const fields = new Map<string, number>();
    for (let column = 0; column < fieldCount; column++) {
      const field = header[column + 1]!;
      if (!namesChecked && !/^[A-Za-z0-9_]+$/.test(field)) {
        throw new ParseError(file, `${name}: ${JSON.stringify(field)} is not a field name`, index + 1);
      }
      if (fields.has(field)) throw new ParseError(file, `${name} ${field} appears twice`, index + 1);
      fields.set(
        field,
        valuesChecked
          ? Number(words[column + 1])
          : parseSignedValue(words[column + 1], file, `${name} ${field}`, index + 2),
      );
    }
    tables.set(name, fields);
  }
  requireParts(file, 'section', requiredSections, (name) => tables.has(name));
  return tables;
}

/** Reads and parses /proc/net/snmp (Ip, Icmp, IcmpMsg, Tcp, Udp, UdpLite). */
export function readNetSnmp(fs: HostFs): SnmpTables {
  return parseSnmpTables(fs.readProc(NET_SNMP_FILE), NET_SNMP_FILE, NET_SNMP_SECTIONS);
}

/** Reads and parses /proc/net/netstat (TcpExt, IpExt, MPTcpExt). */
export function readNetNetstat(fs: HostFs): SnmpTables {
  return parseSnmpTables(fs.readProc(NET_NETSTAT_FILE), NET_NETSTAT_FILE, NET_NETSTAT_SECTIONS);
}
