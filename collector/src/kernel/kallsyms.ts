/**
 * Kernel text symbols from /proc/kallsyms, to name the function a drop location address falls in (kernels whose
 * kfree_skb prints `location=%p`, like 5.15, and the binary trace_pipe_raw reader, whose records carry the raw
 * address on every kernel). Pure: parse the text, then look addresses up by binary search.
 * Addresses read as all zeros (kptr_restrict, no CAP_SYSLOG) make the table empty: the caller says so.
 *
 * The file has ~120k lines (6 MB) on a distribution kernel, so the parser scans characters rather than matching a
 * regular expression per line, keeps addresses as two 32-bit words (no bigint per symbol), and can keep the names of
 * only the functions its caller asks about (`keepName`): every start address is kept, so the range of a kept function
 * still ends where the next symbol starts. Measured on this machine's 6.18 kernel (121,788 text symbols): the
 * regular-expression parser took 1.4 s and 4.7 MiB of retained heap with all names.
 */
import { ParseError } from '../errors';
import type { HostFs } from './host-fs';

export interface KernelSymbols {
  /** Text symbols with a known address. */
  readonly size: number;
  /**
   * The function containing the address, or undefined when it is below the first, the table is empty, or its name was
   * not kept (`keepName`).
   */
  functionAt(address: bigint): string | undefined;
  /** The same, for an address given as its high and low 32-bit words (as read from a binary record: no bigint). */
  functionAtWords(high: number, low: number): string | undefined;
  /** [start, end) of the named (kept) function (end = next symbol's start), for trace filters on address ranges. */
  rangeOf(name: string): readonly [bigint, bigint] | undefined;
}

export interface KallsymsOptions {
  /** Which function names to keep (default: all). Functions not kept still bound their neighbours' ranges. */
  readonly keepName?: (name: string) => boolean;
}

const NEWLINE = 10;
const SPACE = 32;
const TAB = 9;

function isHexDigit(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 102);
}

/** Parses the text of /proc/kallsyms, keeping text symbols (`t`, `T`) with a known (non-zero) address. */
export function parseKallsyms(text: string, file = 'kallsyms', options: KallsymsOptions = {}): KernelSymbols {
  const highs: number[] = [];
  const lows: number[] = [];
  const keptNames: (string | undefined)[] = [];
  let lineNumber = 0;
  let start = 0;
  const fail = (detail: string): never => {
    throw new ParseError(file, detail, lineNumber);
  };
  while (start < text.length) {
    const end = text.indexOf('\n', start);
    lineNumber += 1;
    if (end < 0) throw new ParseError(file, 'does not end with a newline: the text is truncated');
    // ADDRESS: 8 to 16 lower-case hex digits.
    let at = start;
    while (at < end && isHexDigit(text.charCodeAt(at))) at += 1;
    const digits = at - start;
    const expected = () => `expected "ADDRESS TYPE NAME", got ${JSON.stringify(text.slice(start, end).slice(0, 80))}`;
    if (digits < 8 || digits > 16 || text.charCodeAt(at) !== SPACE) fail(expected());
    const type = text[at + 1];
    if (type === undefined || !/^[A-Za-z]$/.test(type) || text.charCodeAt(at + 2) !== SPACE) fail(expected());
    // NAME: up to a tab (the module column, `\t[nf_tables]`) or the end of the line; no spaces.
    const nameStart = at + 3;
    let nameEnd = nameStart;
    while (nameEnd < end) {
      const code = text.charCodeAt(nameEnd);
      if (code === TAB || code === SPACE || code === NEWLINE) break;
      nameEnd += 1;
    }
    if (nameEnd === nameStart) fail(expected());
    if (nameEnd < end && !/^\t\[\S+\]$/.test(text.slice(nameEnd, end))) fail(expected());
    const lineStart = start;
    start = end + 1;
    if (type !== 't' && type !== 'T') continue;
    const high = digits > 8 ? parseInt(text.slice(lineStart, lineStart + digits - 8), 16) : 0;
    const low = parseInt(text.slice(lineStart + digits - 8, lineStart + digits), 16);
    if (high === 0 && low === 0) continue;
    const name = text.slice(nameStart, nameEnd);
    highs.push(high);
    lows.push(low);
    keptNames.push(options.keepName === undefined || options.keepName(name) ? name : undefined);
  }
  return symbolTable(highs, lows, keptNames);
}

/** Sorts the symbols by address (the kernel prints its own in order, modules' in load order) and builds the lookups. */
function symbolTable(highs: number[], lows: number[], keptNames: (string | undefined)[]): KernelSymbols {
  const count = highs.length;
  let order: number[] | undefined;
  for (let i = 1; i < count; i += 1) {
    if (highs[i - 1]! > highs[i]! || (highs[i - 1] === highs[i] && lows[i - 1]! > lows[i]!)) {
      order = Array.from({ length: count }, (_, index) => index);
      order.sort((a, b) => highs[a]! - highs[b]! || lows[a]! - lows[b]!);
      break;
    }
  }
  const high = Uint32Array.from(order ? order.map((i) => highs[i]!) : highs);
  const low = Uint32Array.from(order ? order.map((i) => lows[i]!) : lows);
  const names = order ? order.map((i) => keptNames[i]) : keptNames;
  const indexByName = new Map<string, number>();
  names.forEach((name, index) => {
    if (name !== undefined && !indexByName.has(name)) indexByName.set(name, index);
  });
  const indexOf = (h: number, l: number): number => {
    let lowIndex = 0;
    let highIndex = count - 1;
    let found = -1;
    while (lowIndex <= highIndex) {
      const mid = (lowIndex + highIndex) >> 1;
      if (high[mid]! < h || (high[mid] === h && low[mid]! <= l)) {
        found = mid;
        lowIndex = mid + 1;
      } else {
        highIndex = mid - 1;
      }
    }
    return found;
  };
  const wordsOf = (address: bigint): [number, number] => [
    Number((address >> 32n) & 0xffffffffn),
    Number(address & 0xffffffffn),
  ];
  const addressAt = (index: number): bigint => (BigInt(high[index]!) << 32n) | BigInt(low[index]!);
  const functionAtWords = (h: number, l: number): string | undefined => {
    const index = indexOf(h, l);
    return index < 0 ? undefined : names[index];
  };
  return {
    size: count,
    functionAtWords,
    functionAt: (address) => (address >> 64n === 0n ? functionAtWords(...wordsOf(address)) : undefined),
    rangeOf(name) {
      const index = indexByName.get(name);
      if (index === undefined) return undefined;
      return [addressAt(index), index + 1 < count ? addressAt(index + 1) : addressAt(index) + 1n];
    },
  };
}

/** The kernel text symbols of the host (/proc/kallsyms under --proc-path). Throws read errors and ParseError. */
export function readKallsyms(fs: Pick<HostFs, 'readProc'>, options: KallsymsOptions = {}): KernelSymbols {
  return parseKallsyms(fs.readProc('kallsyms'), 'kallsyms', options);
}
