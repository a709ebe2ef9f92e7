/**
 * Kernel text symbols from /proc/kallsyms, to name the function a drop location address falls in (kernels whose
 * kfree_skb prints `location=%p`, like 5.15, and the binary trace_pipe_raw reader, whose records carry the raw
 * address on every kernel). Pure: parse the bytes, then look addresses up by binary search.
 * Addresses read as all zeros (kptr_restrict, no CAP_SYSLOG) make the table empty: the caller says so.
 *
 * The file has ~120k lines (6 MB) on a distribution kernel. Read whole as one string and kept with every name, it
 * grew the collector's resident memory by ~24 MiB for good (measured on this machine's 6.18 kernel, 121,788 text
 * symbols: VmRSS 89 MiB against 65 MiB without it). So `readKallsyms` feeds the parser 64 KiB chunks, the parser works
 * on bytes (addresses as two 32-bit words in typed arrays, no string per line but the name), and keeps the names of
 * only the functions its caller asks about (`keepName`): every start address is kept, so the range of a kept
 * function still ends where the next symbol starts. Read so by the raw drop reader: VmRSS 67 MiB (+2 MiB), ~0.35 s of
 * CPU once at start.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ParseError } from '../errors';
import type { HostRoots } from './host-fs';

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
const READ_CHUNK = 64 << 10;

/** The value of a lower-case hex digit, or -1. */
function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** Parses /proc/kallsyms fed in chunks of bytes, keeping text symbols (`t`, `T`) with a known (non-zero) address. */
export class KallsymsParser {
  private high: Uint32Array<ArrayBuffer> = new Uint32Array(1 << 14);
  private low: Uint32Array<ArrayBuffer> = new Uint32Array(1 << 14);
  private names: (string | undefined)[] = [];
  private count = 0;
  private lineNumber = 0;
  /** The start of a line cut by the end of the previous chunk. */
  private carry: Buffer = Buffer.alloc(0);

  constructor(
    private readonly file = 'kallsyms',
    private readonly options: KallsymsOptions = {},
  ) {}

  /** Parses the complete lines of `bytes[0, length)`; a cut last line waits for the next chunk. Throws ParseError. */
  push(bytes: Buffer, length = bytes.length): void {
    let chunk = bytes.subarray(0, length);
    if (this.carry.length > 0) {
      chunk = Buffer.concat([this.carry, chunk]);
      this.carry = Buffer.alloc(0);
    }
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end < 0) break;
      this.line(chunk, start, end);
      start = end + 1;
    }
    // A copy: the caller reuses its buffer.
    if (start < chunk.length) this.carry = Buffer.from(chunk.subarray(start));
  }

  /** The table of every line pushed. Throws ParseError when the text did not end with a newline. */
  finish(): KernelSymbols {
    if (this.carry.length > 0) {
      throw new ParseError(this.file, 'does not end with a newline: the text is truncated');
    }
    return symbolTable(this.high.slice(0, this.count), this.low.slice(0, this.count), this.names);
  }

  private line(chunk: Buffer, start: number, end: number): void {
    this.lineNumber += 1;
    // ADDRESS: 8 to 16 lower-case hex digits, as two 32-bit words.
    let at = start;
    let high = 0;
    let low = 0;
    let digits = 0;
    for (; at < end; at += 1) {
      const value = hexDigit(chunk[at]!);
      if (value < 0) break;
      digits += 1;
      // A digit moves into `low`, whose top digit moves into `high` (bits 32 and up).
      high = high * 16 + Math.floor(low / 0x10000000);
      low = (low % 0x10000000) * 16 + value;
    }
    const type = chunk[at + 1];
    const nameStart = at + 3;
    let nameEnd = nameStart;
    while (nameEnd < end && chunk[nameEnd] !== TAB && chunk[nameEnd] !== SPACE) nameEnd += 1;
    const moduleColumn = nameEnd < end ? chunk.toString('latin1', nameEnd, end) : '';
    if (
      digits < 8 ||
      digits > 16 ||
      chunk[at] !== SPACE ||
      type === undefined ||
      !isLetter(type) ||
      chunk[at + 2] !== SPACE ||
      nameEnd === nameStart ||
      (moduleColumn !== '' && !/^\t\[\S+\]$/.test(moduleColumn))
    ) {
      const text = chunk.toString('latin1', start, Math.min(end, start + 80));
      throw new ParseError(this.file, `expected "ADDRESS TYPE NAME", got ${JSON.stringify(text)}`, this.lineNumber);
    }
    // `t`/`T`: text (code) symbols; data and others cannot hold a drop location.
    if ((type !== 0x74 && type !== 0x54) || (high === 0 && low === 0)) return;
    const name = chunk.toString('latin1', nameStart, nameEnd);
    if (this.count === this.high.length) {
      this.high = grow(this.high);
      this.low = grow(this.low);
    }
    this.high[this.count] = high;
    this.low[this.count] = low;
    if (this.options.keepName === undefined || this.options.keepName(name)) this.names[this.count] = name;
    this.count += 1;
  }
}

function grow(array: Uint32Array): Uint32Array<ArrayBuffer> {
  const bigger = new Uint32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}

/** Parses the text of /proc/kallsyms (see KallsymsParser). */
export function parseKallsyms(text: string, file = 'kallsyms', options: KallsymsOptions = {}): KernelSymbols {
  const parser = new KallsymsParser(file, options);
  parser.push(Buffer.from(text, 'latin1'));
  return parser.finish();
}

/** Sorts the symbols by address (the kernel prints its own in order, modules' in load order) and builds the lookups. */
function symbolTable(highs: Uint32Array, lows: Uint32Array, keptNames: (string | undefined)[]): KernelSymbols {
  const count = highs.length;
  let high = highs;
  let low = lows;
  let names = keptNames;
  for (let i = 1; i < count; i += 1) {
    if (highs[i - 1]! > highs[i]! || (highs[i - 1] === highs[i] && lows[i - 1]! > lows[i]!)) {
      const order = Array.from({ length: count }, (_, index) => index);
      order.sort((a, b) => highs[a]! - highs[b]! || lows[a]! - lows[b]!);
      high = Uint32Array.from(order, (index) => highs[index]!);
      low = Uint32Array.from(order, (index) => lows[index]!);
      names = order.map((index) => keptNames[index]);
      break;
    }
  }
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
  const addressAt = (index: number): bigint => (BigInt(high[index]!) << 32n) | BigInt(low[index]!);
  const functionAtWords = (h: number, l: number): string | undefined => {
    const index = indexOf(h, l);
    return index < 0 ? undefined : names[index];
  };
  return {
    size: count,
    functionAtWords,
    functionAt: (address) =>
      address >> 64n === 0n
        ? functionAtWords(Number((address >> 32n) & 0xffffffffn), Number(address & 0xffffffffn))
        : undefined,
    rangeOf(name) {
      // Called once per start (the netfilter stack condition on 5.15): a scan, not a map of every name.
      const index = names.indexOf(name);
      if (index < 0) return undefined;
      return [addressAt(index), index + 1 < count ? addressAt(index + 1) : addressAt(index) + 1n];
    },
  };
}

/**
 * The kallsyms file of proc root `procPath`: `<proc-path>/kallsyms`; for a process's directory (`--proc-path
 * /proc/<pid>`, which shows that process's network namespace and holds no system-wide file) its procfs's `kallsyms`,
 * the same table (kernel symbols are not per namespace).
 */
export function kallsymsFile(procPath: string): string {
  const direct = path.join(procPath, 'kallsyms');
  if (!/^\d+$/.test(path.basename(procPath)) || fs.existsSync(direct)) return direct;
  return path.join(path.dirname(procPath), 'kallsyms');
}

/**
 * The kernel text symbols of the host (kallsymsFile: /proc/kallsyms under --proc-path), read in 64 KiB chunks. Throws
 * read errors and ParseError.
 */
export function readKallsyms(roots: Pick<HostRoots, 'procPath'>, options: KallsymsOptions = {}): KernelSymbols {
  const file = kallsymsFile(roots.procPath);
  const parser = new KallsymsParser(file, options);
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK);
    for (;;) {
      const length = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (length === 0) break;
      parser.push(buffer, length);
    }
  } finally {
    fs.closeSync(fd);
  }
  return parser.finish();
}
