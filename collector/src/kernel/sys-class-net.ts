/**
 * /sys/class/net/IF/statistics/NAME: one counter of one interface per file (net/core/net-sysfs.c), read where
 * /proc/net/dev lacks a counter or only shows it inside a sum (rx_missed_errors, rx_crc_errors, rx_nohandler).
 */
import { ParseError } from '../errors';
import type { HostFs } from './host-fs';
import { interfacePath } from './interface-name';
import { parseCount, procfsLines } from './procfs-text';

/** The path of an interface statistic under the sys root, as messages show it (with the interface's label). */
export function interfaceStatisticFile(interfaceName: string, statistic: string): string {
  return `class/net/${interfaceName}/statistics/${statistic}`;
}

/**
 * A path under `class/net/<interface>` for reading: the interface's label turned back into the name's bytes
 * (interface-name.ts `interfacePath`: a string for a UTF-8 name, a Buffer otherwise). `below` starts with `/` or is
 * empty (the interface's directory).
 */
export function interfaceSysPath(interfaceName: string, below: string): string | Buffer {
  return interfacePath('class/net/', interfaceName, below);
}

/** A sysfs counter file: one decimal number and a newline. */
export function parseSysfsCounter(text: string, file: string): number {
  const lines = procfsLines(text, file);
  if (lines.length !== 1) throw new ParseError(file, `expected one line, got ${lines.length}`);
  return parseCount(lines[0], file, 'counter', 1);
}

/**
 * One statistic of one interface, or undefined when there is no such file: an interface deleted since it was listed,
 * or a driver without the attribute (ENOENT; ENODEV while the device is being unregistered). Other read errors and
 * a malformed value throw (a ParseError names the file).
 */
export function readInterfaceStatistic(fs: HostFs, interfaceName: string, statistic: string): number | undefined {
  const file = interfaceStatisticFile(interfaceName, statistic);
  let text: string;
  try {
    text = fs.readSys(interfaceSysPath(interfaceName, `/statistics/${statistic}`));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODEV') return undefined;
    throw error;
  }
  return parseSysfsCounter(text, file);
}
