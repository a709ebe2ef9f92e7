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
import { counterNames, CounterValues, type CounterNames } from './counter-columns';
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
 * The words of a line of LINE's shape, its `Name:` first (the caller takes the name from it, colon left out). Only
 * for a header line not seen before and a value line that holds more than short integers.
 */
function splitLine(line: string, file: string, lineNumber: number): string[] {
  checkLine(line, file, lineNumber);
  return line.split(' ');
}

/** Throws unless `line` has LINE's shape. */
function checkLine(line: string, file: string, lineNumber: number): void {
  if (!LINE.test(line)) {
    throw new ParseError(file, `expected "Name: words ...", got ${JSON.stringify(line.slice(0, 80))}`, lineNumber);
  }
}

/** The name of a line of LINE's shape (before its colon). */
function lineName(line: string): string {
  return line.slice(0, line.indexOf(':'));
}

/** A header line already parsed, with its field names. */
interface SnmpHeader {
  readonly line: string;
  readonly fields: CounterNames;
}

/**
 * The headers of earlier parses by section name, kept by the caller from one gathering to the next. The kernel prints
 * the same header lines for the life of a boot, so a parse given this splits and checks a header only when its text
 * changed, and makes no field-name strings or name Map. A parse adds what it saw; the result never depends on it.
 */
export type SnmpHeaders = Map<string, SnmpHeader>;

/** The field names of a header line, checked: each a name of [A-Za-z0-9_], none twice. */
function parseHeader(headerLine: string, file: string, lineNumber: number): SnmpHeader {
  // header[0] is `Name:`, header[1..] the field names.
  const header = splitLine(headerLine, file, lineNumber);
  const name = lineName(headerLine);
  const namesChecked = ALL_FIELD_NAMES.test(headerLine);
  const names = header.slice(1);
  const seen = new Set<string>();
  for (const field of names) {
    if (!namesChecked && !/^[A-Za-z0-9_]+$/.test(field)) {
      throw new ParseError(file, `${name}: ${JSON.stringify(field)} is not a field name`, lineNumber);
    }
    if (seen.has(field)) throw new ParseError(file, `${name} ${field} appears twice`, lineNumber);
    seen.add(field);
  }
  return { line: headerLine, fields: counterNames(names) };
}

/** The number of words after the `Name:` of a line of LINE's shape: its spaces. */
function wordCount(line: string): number {
  let count = 0;
  for (let at = line.indexOf(' '); at >= 0; at = line.indexOf(' ', at + 1)) count++;
  return count;
}

const SPACE = 0x20;
const MINUS = 0x2d;
const ZERO = 0x30;

/**
 * The values of a value line that ALL_SHORT_INTEGERS matched (`Name: -?digits ...`, at most 15 digits each, so the
 * sum below is exact), read digit by digit: no word strings.
 */
function shortIntegers(line: string, count: number): number[] {
  const values = new Array<number>(count);
  if (count === 0) return values;
  let column = -1;
  let value = 0;
  let negative = false;
  for (let at = line.indexOf(' '); at < line.length; at++) {
    const code = line.charCodeAt(at);
    if (code === SPACE) {
      if (column >= 0) values[column] = negative ? -value : value;
      column++;
      value = 0;
      negative = false;
    } else if (code === MINUS) {
      negative = true;
    } else {
      value = value * 10 + (code - ZERO);
    }
  }
  if (column >= 0) values[column] = negative ? -value : value;
  return values;
}

/**
 * Parses /proc/net/snmp or /proc/net/netstat into its sections, which must include every one of `requiredSections`.
 * A pair whose names differ, or whose counts of fields and values differ, is an error: the values could not be
 * matched to their names. Values are whole numbers; only signed fields can be negative (Tcp MaxConn is -1).
 * Runs at every gathering: each line is checked whole by one regular expression, each word only when that fails;
 * with `headers` (SnmpHeaders) a header line seen before is not parsed again.
 */
export function parseSnmpTables(
  text: string,
  file: string,
  requiredSections: readonly string[],
  headers: SnmpHeaders = new Map(),
): SnmpTables {
  const lines = procfsLines(text, file);
  const tables = new Map<string, ReadonlyMap<string, number>>();
  for (let index = 0; index < lines.length; index += 2) {
    const headerLine = lines[index]!;
    checkLine(headerLine, file, index + 1);
    const name = lineName(headerLine);
    if (index + 1 >= lines.length) {
      throw new ParseError(file, `${name}: header line without its value line`, index + 1);
    }
    const valueLine = lines[index + 1]!;
    checkLine(valueLine, file, index + 2);
    const valuesName = lineName(valueLine);
    if (valuesName !== name) {
      throw new ParseError(file, `header ${name} is followed by values of ${valuesName}`, index + 2);
    }
    const fieldCount = wordCount(headerLine);
    const valueCount = wordCount(valueLine);
    if (valueCount !== fieldCount) {
      throw new ParseError(file, `${name}: ${fieldCount} field names but ${valueCount} values`, index + 2);
    }
    if (tables.has(name)) throw new ParseError(file, `${name} appears twice`, index + 1);
    let header = headers.get(name);
    if (header === undefined || header.line !== headerLine) {
      header = parseHeader(headerLine, file, index + 1);
      headers.set(name, header);
    }
    let values: number[];
    if (ALL_SHORT_INTEGERS.test(valueLine)) {
      values = shortIntegers(valueLine, valueCount);
    } else {
      // words[0] is `Name:` and words[1..] the values, as in the header.
      const words = valueLine.split(' ');
      const names = header.fields.names;
      values = new Array<number>(valueCount);
      for (let column = 0; column < valueCount; column++) {
        values[column] = parseSignedValue(words[column + 1], file, `${name} ${names[column]}`, index + 2);
      }
    }
    tables.set(name, new CounterValues(header.fields, values));
  }
  requireParts(file, 'section', requiredSections, (name) => tables.has(name));
  return tables;
}

/** Reads and parses /proc/net/snmp (Ip, Icmp, IcmpMsg, Tcp, Udp, UdpLite). */
export function readNetSnmp(fs: HostFs, headers?: SnmpHeaders): SnmpTables {
  return parseSnmpTables(fs.readProc(NET_SNMP_FILE), NET_SNMP_FILE, NET_SNMP_SECTIONS, headers);
}

/** Reads and parses /proc/net/netstat (TcpExt, IpExt, MPTcpExt). */
export function readNetNetstat(fs: HostFs, headers?: SnmpHeaders): SnmpTables {
  return parseSnmpTables(fs.readProc(NET_NETSTAT_FILE), NET_NETSTAT_FILE, NET_NETSTAT_SECTIONS, headers);
}
