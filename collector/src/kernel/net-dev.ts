/**
 * /proc/net/dev: every interface's 16 counters in one file (net/core/net-procfs.c dev_seq_show). Parsed once here
 * for every source that needs it (netdev, forward, drop counters), with the strictest rules: the exact two header
 * lines, exactly 16 decimal counters per interface, no interface twice, nothing beyond 2^53.
 */
import { ParseError } from '../errors';
import type { HostFs } from './host-fs';
import { interfaceLabelOfLatin1 } from './interface-name';
import { procfsLines } from './procfs-text';

/**
 * The 16 columns of /proc/net/dev in file order, named as /sys/class/net/IF/statistics names them. Three columns are
 * sums in procfs (net/core/net-procfs.c), and we export the procfs value under the sysfs name:
 * - rx_dropped = rx_dropped + rx_missed_errors (the NIC's ring overflows count as drops here);
 * - rx_frame_errors = rx_length_errors + rx_over_errors + rx_crc_errors + rx_frame_errors;
 * - tx_carrier_errors = tx_carrier_errors + tx_aborted_errors + tx_window_errors + tx_heartbeat_errors.
 */
export const NETDEV_STATISTICS = [
  'rx_bytes',
  'rx_packets',
  'rx_errors',
  'rx_dropped',
  'rx_fifo_errors',
  'rx_frame_errors',
  'rx_compressed',
  'multicast',
  'tx_bytes',
  'tx_packets',
  'tx_errors',
  'tx_dropped',
  'tx_fifo_errors',
  'collisions',
  'tx_carrier_errors',
  'tx_compressed',
] as const;
export type NetDevStatistic = (typeof NETDEV_STATISTICS)[number];

export interface NetDevInterface {
  /**
   * The interface's label (interface-name.ts: the name itself unless it holds a backslash, a control character or
   * bytes that are not UTF-8).
   */
  readonly name: string;
  /** The 16 counters in NETDEV_STATISTICS order (a vector, so summing 1000 pod interfaces stays cheap). */
  readonly values: readonly number[];
}

const COLUMN = Object.fromEntries(NETDEV_STATISTICS.map((statistic, column) => [statistic, column])) as Record<
  NetDevStatistic,
  number
>;

/** One counter of an interface by its name. */
export function counterOf(netdev: NetDevInterface, statistic: NetDevStatistic): number {
  return netdev.values[COLUMN[statistic]]!;
}

/** The two header lines the kernel has written since 2.6; other columns would mean we misname every number. */
const HEADER_RECEIVE = ['bytes', 'packets', 'errs', 'drop', 'fifo', 'frame', 'compressed', 'multicast'];
const HEADER_TRANSMIT = ['bytes', 'packets', 'errs', 'drop', 'fifo', 'colls', 'carrier', 'compressed'];

function checkHeader(lines: readonly string[], file: string): void {
  if (lines.length < 2 || !/^Inter-\|\s*Receive\s*\|\s*Transmit\s*$/.test(lines[0]!)) {
    throw new ParseError(file, 'expected the "Inter-| Receive | Transmit" header line', 1);
  }
  const parts = lines[1]!.split('|');
  const words = (part: string | undefined) => (part ?? '').trim().split(/\s+/);
  if (
    parts.length !== 3 ||
    parts[0]!.trim() !== 'face' ||
    words(parts[1]).join(' ') !== HEADER_RECEIVE.join(' ') ||
    words(parts[2]).join(' ') !== HEADER_TRANSMIT.join(' ')
  ) {
    throw new ParseError(file, `unexpected column header ${JSON.stringify(lines[1]!.slice(0, 160))}`, 2);
  }
}

const SPACE = 0x20;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * The 16 space-separated decimal counters of a /proc/net/dev line from `start`, or what is wrong with them. A
 * character scan, not split+Number: at 1000 interfaces it is ~20 times faster, and a scrape reads this file twice.
 */
function parseCounterRow(line: string, start: number): number[] | string {
  const values: number[] = [];
  let value = -1;
  for (let i = start; i <= line.length; i++) {
    const code = i < line.length ? line.charCodeAt(i) : SPACE;
    if (code >= ZERO && code <= NINE) {
      value = (value < 0 ? 0 : value * 10) + (code - ZERO);
      if (value > Number.MAX_SAFE_INTEGER)
        return `counter ${values.length + 1} is beyond 2^53 and cannot be exported exactly`;
    } else if (code === SPACE || code === 0x09) {
      if (value >= 0) values.push(value);
      value = -1;
    } else {
      return `unexpected character ${JSON.stringify(line[i])} among the counters`;
    }
  }
  return values.length === NETDEV_STATISTICS.length
    ? values
    : `expected ${NETDEV_STATISTICS.length} counters, got ${values.length}`;
}

export const NET_DEV_FILE = 'net/dev';

/**
 * Parses /proc/net/dev, given as the file's bytes: `  NAME: 16 counters` per interface after two header lines
 * (`  NAME:ALIAS: ...` alias rows of old kernels are interfaces named `NAME:ALIAS`). A name is the kernel's bytes,
 * not necessarily UTF-8: the text is decoded as Latin-1 (one character per byte, so the name's bytes are kept) and
 * each name becomes its label (interface-name.ts; `eth0` stays `eth0`, distinct names stay distinct).
 */
export function parseNetDev(bytes: Buffer, file = NET_DEV_FILE): NetDevInterface[] {
  const lines = procfsLines(bytes.toString('latin1'), file);
  checkHeader(lines, file);
  const seen = new Set<string>();
  const interfaces: NetDevInterface[] = [];
  for (let index = 2; index < lines.length; index++) {
    const lineNumber = index + 1;
    const line = lines[index]!;
    // Interface names never hold ':' or whitespace (dev_valid_name) and the counters never hold ':', so the last ':'
    // ends the name. Kernels before 2.2 listed IP aliases as their own rows, `eth0:1: counters`: the alias is kept as
    // the row's name, `eth0:1`, rather than failing every interface of the file. In Latin-1 text `\s` and trim() are
    // the kernel's isspace() on bytes (tab to CR, space, 0xA0), so the cut is made on the bytes dev_valid_name refuses.
    const colon = line.lastIndexOf(':');
    const rawName = line.slice(0, colon).trim();
    if (colon < 0 || !/^[^\s:]+(?::[^\s:]+)?$/.test(rawName)) {
      throw new ParseError(file, `expected "NAME: counters", got ${JSON.stringify(line.slice(0, 80))}`, lineNumber);
    }
    const name = interfaceLabelOfLatin1(rawName);
    if (seen.has(name)) throw new ParseError(file, `interface ${name} appears twice`, lineNumber);
    seen.add(name);
    const values = parseCounterRow(line, colon + 1);
    if (typeof values === 'string') throw new ParseError(file, `${name}: ${values}`, lineNumber);
    interfaces.push({ name, values });
  }
  return interfaces;
}

/** Reads and parses /proc/net/dev. */
export function readNetDev(fs: HostFs): NetDevInterface[] {
  return parseNetDev(fs.readProcBytes(NET_DEV_FILE), NET_DEV_FILE);
}
