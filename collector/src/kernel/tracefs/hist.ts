/**
 * The `hist` file of an event with hist triggers (CONFIG_HIST_TRIGGERS): instead of streaming every event to user
 * space, the kernel keeps a hash table per trigger (keyed, for kfree_skb, by reason and location function) and this
 * file shows its totals. A pure parser and its read. Not on our CI kernel: tested on recorded and documented output.
 *
 * Output format (kernel/trace/trace_events_hist.c, Documentation/trace/histogram.rst):
 *
 *   # event histogram
 *   #
 *   # trigger info: hist:keys=reason,location.sym:vals=hitcount:sort=hitcount:size=4096 if protocol != 0 [active]
 *   #
 *
 *   { reason:          3, location: [ffffffff820a7f2c] __udp4_lib_rcv                                } hitcount:          7
 *   { reason:         12, location: [ffffffffc0a01234] nf_hook_slow                                  } hitcount:          2  len:       168
 *
 *   Totals:
 *       Hits: 9
 *       Entries: 2
 *       Dropped: 0
 *
 * Numeric keys print in decimal, `.sym` keys as `[address] symbol` (with ` [module]` for module symbols). Several
 * triggers on one event print one such table each, in order.
 */
import { ParseError } from '../../errors';
import type { Tracefs } from './tracefs';

export type HistKey = { readonly number: number } | { readonly address: bigint; readonly symbol: string };

export interface HistEntry {
  readonly keys: Readonly<Record<string, HistKey>>;
  /** `hitcount` and every value field. */
  readonly values: Readonly<Record<string, number>>;
}

export interface HistTable {
  readonly trigger: string;
  readonly entries: readonly HistEntry[];
  readonly hits: number;
  /** Events not counted because the table was full: lost. */
  readonly dropped: number;
}

function count(word: string | undefined, file: string, what: string, line: number): number {
  if (word === undefined || !/^\d+$/.test(word)) {
    throw new ParseError(file, `${what}: expected a count, got ${JSON.stringify(word ?? '')}`, line);
  }
  const value = Number(word);
  if (!Number.isSafeInteger(value)) throw new ParseError(file, `${what}: ${word} is beyond 2^53`, line);
  return value;
}

function parseKeys(text: string, file: string, line: number): Record<string, HistKey> {
  const keys: Record<string, HistKey> = {};
  const key = /\s*([A-Za-z_][A-Za-z0-9_]*): (?:\[([0-9a-f]+)\] ([^\s,]+)(?: \[[A-Za-z0-9_-]+\])?|\s*(\d+))\s*(,|$)/y;
  let match: RegExpExecArray | null;
  let end = 0;
  while (end < text.length && (match = key.exec(text)) !== null) {
    keys[match[1]!] =
      match[2] !== undefined
        ? { address: BigInt(`0x${match[2]}`), symbol: match[3]!.replace(/\+0x[0-9a-f]+\/0x[0-9a-f]+$/, '') }
        : { number: count(match[4], file, match[1]!, line) };
    end = key.lastIndex;
    if (match[5] === '') break;
  }
  if (end !== text.length || Object.keys(keys).length === 0) {
    throw new ParseError(file, `cannot read the keys ${JSON.stringify(text.slice(0, 80))}`, line);
  }
  return keys;
}

/** Parses a `hist` file: one table per hist trigger on the event, in order. Throws ParseError, naming the line. */
export function parseHist(text: string, file = 'hist'): HistTable[] {
  if (text.length > 0 && !text.endsWith('\n')) throw new ParseError(file, 'does not end with a newline: truncated');
  const tables: HistTable[] = [];
  let current: { trigger: string; entries: HistEntry[]; totals: Record<string, number> } | undefined;
  const finish = () => {
    if (!current) return;
    const hits = current.totals['Hits'];
    const dropped = current.totals['Dropped'];
    if (hits === undefined || dropped === undefined) {
      throw new ParseError(file, `table "${current.trigger}" has no Totals (Hits, Dropped): truncated`);
    }
    tables.push({ trigger: current.trigger, entries: current.entries, hits, dropped });
    current = undefined;
  };
  let inTotals = false;
  text
    .split('\n')
    .slice(0, -1)
    .forEach((line, index) => {
      const lineNumber = index + 1;
      const info = /^# trigger info: (.*?)(?: \[(?:active|paused)\])?$/.exec(line);
      if (info) {
        finish();
        current = { trigger: info[1]!, entries: [], totals: {} };
        inTotals = false;
        return;
      }
      if (line.startsWith('#') || line.trim() === '') return;
      if (!current) throw new ParseError(file, 'entry before any "# trigger info:" line', lineNumber);
      if (line.trim() === 'Totals:') {
        inTotals = true;
        return;
      }
      if (inTotals) {
        const total = /^\s+(Hits|Entries|Dropped): (\d+)$/.exec(line);
        if (!total) throw new ParseError(file, `unexpected line in Totals: ${JSON.stringify(line)}`, lineNumber);
        current.totals[total[1]!] = count(total[2], file, total[1]!, lineNumber);
        return;
      }
      const entry = /^\{ (.*) \}((?:\s+[A-Za-z_][A-Za-z0-9_]*:\s+\d+)+)\s*$/.exec(line);
      if (!entry) throw new ParseError(file, `not a hist entry: ${JSON.stringify(line.slice(0, 80))}`, lineNumber);
      const values: Record<string, number> = {};
      for (const value of entry[2]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*):\s+(\d+)/g)) {
        values[value[1]!] = count(value[2], file, value[1]!, lineNumber);
      }
      if (values['hitcount'] === undefined) throw new ParseError(file, 'entry without hitcount', lineNumber);
      current.entries.push({ keys: parseKeys(entry[1]!.trimEnd(), file, lineNumber), values });
    });
  finish();
  return tables;
}

/** The tables of a `hist` file (relative to the mount). */
export function readHist(tracefs: Tracefs, file: string): HistTable[] {
  return parseHist(tracefs.read(file), tracefs.pathOf(file));
}
