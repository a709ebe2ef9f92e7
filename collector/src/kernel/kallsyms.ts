/**
 * Kernel text symbols from /proc/kallsyms, to name the function a drop location address falls in (kernels whose
 * kfree_skb prints `location=%p`, like 5.15). Pure: parse the text, then look addresses up by binary search.
 * Addresses read as all zeros (kptr_restrict, no CAP_SYSLOG) make the table empty: the caller says so.
 */
import { ParseError } from '../errors';
import type { HostFs } from './host-fs';

export interface KernelSymbols {
  readonly size: number;
  /** The function containing the address, or undefined when it is below the first or the table is empty. */
  functionAt(address: bigint): string | undefined;
  /** [start, end) of the named function (end = next symbol's start), for trace filters on address ranges. */
  rangeOf(name: string): readonly [bigint, bigint] | undefined;
}

/** Parses the text of /proc/kallsyms, keeping text symbols (`t`, `T`) with a known (non-zero) address. */
export function parseKallsyms(text: string, file = 'kallsyms'): KernelSymbols {
  const entries: { address: bigint; name: string }[] = [];
  let lineNumber = 0;
  let start = 0;
  while (start < text.length) {
    const end = text.indexOf('\n', start);
    if (end < 0) throw new ParseError(file, 'does not end with a newline: the text is truncated');
    lineNumber += 1;
    const line = text.slice(start, end);
    start = end + 1;
    const match = /^([0-9a-f]{8,16}) ([A-Za-z]) (\S+)(?:\t\[\S+\])?$/.exec(line);
    if (!match)
      throw new ParseError(file, `expected "ADDRESS TYPE NAME", got ${JSON.stringify(line.slice(0, 80))}`, lineNumber);
    const type = match[2]!;
    if (type !== 't' && type !== 'T') continue;
    const address = BigInt(`0x${match[1]!}`);
    if (address === 0n) continue;
    entries.push({ address, name: match[3]! });
  }
  entries.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const addresses = BigUint64Array.from(entries.map((entry) => entry.address));
  const names = entries.map((entry) => entry.name);
  const indexOf = (address: bigint): number => {
    let low = 0;
    let high = addresses.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (addresses[mid]! <= address) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  };
  return {
    size: names.length,
    functionAt(address) {
      const index = indexOf(address);
      return index < 0 ? undefined : names[index];
    },
    rangeOf(name) {
      const index = names.indexOf(name);
      if (index < 0) return undefined;
      const next = addresses[index + 1];
      return [addresses[index]!, next ?? addresses[index]! + 1n];
    },
  };
}

/** The kernel text symbols of the host (/proc/kallsyms under --proc-path). Throws read errors and ParseError. */
export function readKallsyms(fs: Pick<HostFs, 'readProc'>): KernelSymbols {
  return parseKallsyms(fs.readProc('kallsyms'), 'kallsyms');
}
