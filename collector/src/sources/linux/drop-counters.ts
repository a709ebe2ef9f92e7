/**
 * Pure parsers of the kernel files the drop source's counters strategy (drops/counters.ts) reads: /proc/net/dev,
 * softnet_stat, snmp, netstat, snmp6 and stat/nf_conntrack, reduced to the drop counters it needs. Interim: the kernel
 * layer (collector/src/kernel/) gets one parser per kernel file, shared with the netdev and snmp sources, and these go.
 */
import { ParseError } from '../../errors';
import { parseCount, procfsLines } from './procfs-text';

/** `/proc/net/dev`: rx and tx `drop` columns summed over every interface. */
export function parseNetDevDrops(text: string, file = 'net/dev'): { rx: number; tx: number } {
  const lines = procfsLines(text, file);
  if (lines.length < 2 || !lines[1]!.includes('|')) throw new ParseError(file, 'missing the two header lines');
  let rx = 0;
  let tx = 0;
  lines.slice(2).forEach((line, index) => {
    const colon = line.indexOf(':');
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (colon < 0 || fields.length < 16) {
      throw new ParseError(file, `expected "IFACE: 16 counters", got ${JSON.stringify(line.slice(0, 60))}`, index + 3);
    }
    rx += parseCount(fields[3], file, 'rx drop', index + 3);
    tx += parseCount(fields[11], file, 'tx drop', index + 3);
  });
  return { rx, tx };
}

function parseHex(word: string | undefined, file: string, what: string, line: number): number {
  if (word === undefined || !/^[0-9a-f]{1,13}$/.test(word)) {
    throw new ParseError(file, `${what}: expected a hex counter, got ${JSON.stringify(word ?? '')}`, line);
  }
  return Number.parseInt(word, 16);
}

/** `/proc/net/softnet_stat`: one line per CPU in hex, the 2nd column counts packets dropped (backlog full). */
export function parseSoftnetDrops(text: string, file = 'net/softnet_stat'): number {
  let dropped = 0;
  procfsLines(text, file).forEach((line, index) => {
    const fields = line.trim().split(/\s+/);
    dropped += parseHex(fields[1], file, 'dropped', index + 1);
  });
  return dropped;
}

/** `/proc/net/snmp` and `/proc/net/netstat`: pairs of `Proto: names...` / `Proto: values...` lines. */
export function parseSnmpPairs(text: string, file = 'net/snmp'): Record<string, Record<string, number>> {
  const lines = procfsLines(text, file);
  if (lines.length % 2 !== 0) throw new ParseError(file, 'odd number of lines: header and value lines must pair');
  const tables: Record<string, Record<string, number>> = {};
  for (let i = 0; i < lines.length; i += 2) {
    const names = lines[i]!.split(/\s+/).filter((w) => w !== '');
    const values = lines[i + 1]!.split(/\s+/).filter((w) => w !== '');
    const proto = names[0];
    if (!proto?.endsWith(':') || values[0] !== proto || names.length !== values.length) {
      throw new ParseError(file, `header and values of ${JSON.stringify(proto ?? '')} do not match`, i + 2);
    }
    const table: Record<string, number> = {};
    for (let k = 1; k < names.length; k += 1) {
      // Signed fields (Tcp MaxConn is -1) are not counters: skip them rather than invent a number.
      if (values[k]!.startsWith('-')) continue;
      table[names[k]!] = parseCount(values[k], file, `${proto} ${names[k]}`, i + 2);
    }
    tables[proto.slice(0, -1)] = table;
  }
  return tables;
}

/** `/proc/net/snmp6`: `Name value` lines. */
export function parseSnmp6(text: string, file = 'net/snmp6'): Record<string, number> {
  const values: Record<string, number> = {};
  procfsLines(text, file).forEach((line, index) => {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 2)
      throw new ParseError(file, `expected "Name value", got ${JSON.stringify(line)}`, index + 1);
    values[fields[0]!] = parseCount(fields[1], file, fields[0]!, index + 1);
  });
  return values;
}

/** `/proc/net/stat/nf_conntrack`: a header, then one hex line per CPU; drops are `drop` and `insert_failed`. */
export function parseConntrackDrops(text: string, file = 'net/stat/nf_conntrack'): number {
  const lines = procfsLines(text, file);
  const header = lines[0]?.trim().split(/\s+/) ?? [];
  const columns = ['drop', 'insert_failed'].map((name) => header.indexOf(name));
  if (columns.some((column) => column < 0)) throw new ParseError(file, 'header lacks drop or insert_failed', 1);
  let dropped = 0;
  lines.slice(1).forEach((line, index) => {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== header.length) throw new ParseError(file, 'row and header differ in length', index + 2);
    for (const column of columns) dropped += parseHex(fields[column], file, header[column]!, index + 2);
  });
  return dropped;
}
