/**
 * /proc/net/stat/nf_conntrack: connection tracking statistics, a header of column names then one line of `%08x`
 * words per possible CPU (net/netfilter/nf_conntrack_standalone.c ct_cpu_seq_show). The columns changed over the
 * years (searched and delete_list went, clashres and chainlength came), so they are read by name from the header;
 * `entries` (the table size, the same on every line), `insert_failed`, `drop` and `early_drop` are in every version
 * and required.
 */
import { ParseError } from '../errors';
import type { HostFs } from './host-fs';
import { parseHexWord, procfsLines, requireParts } from './procfs-text';

export const NF_CONNTRACK_STAT_FILE = 'net/stat/nf_conntrack';
export const CONNTRACK_STAT_REQUIRED_COLUMNS = ['entries', 'insert_failed', 'drop', 'early_drop'] as const;

export interface ConntrackStat {
  /** The header's column names in file order. */
  readonly columns: readonly string[];
  /** Per CPU line, its values by column name (u32 counters: they wrap). */
  readonly cpus: readonly Readonly<Record<string, number>>[];
}

/** Parses /proc/net/stat/nf_conntrack. */
export function parseConntrackStat(text: string, file = NF_CONNTRACK_STAT_FILE): ConntrackStat {
  const lines = procfsLines(text, file);
  if (lines.length === 0) throw new ParseError(file, 'empty: expected a header of column names', 1);
  const columns = lines[0]!.trim().split(/\s+/);
  const seen = new Set<string>();
  for (const name of columns) {
    if (!/^[a-z_]+$/.test(name)) throw new ParseError(file, `${JSON.stringify(name)} is not a column name`, 1);
    if (seen.has(name)) throw new ParseError(file, `column ${name} appears twice`, 1);
    seen.add(name);
  }
  requireParts(file, 'column', CONNTRACK_STAT_REQUIRED_COLUMNS, (name) => seen.has(name));
  const cpus = lines.slice(1).map((line, index) => {
    const lineNumber = index + 2;
    const words = line.trim().split(/\s+/);
    if (words.length !== columns.length) {
      throw new ParseError(file, `${words.length} values under ${columns.length} column names`, lineNumber);
    }
    const values: Record<string, number> = {};
    columns.forEach((name, column) => (values[name] = parseHexWord(words[column], file, name, lineNumber)));
    return values;
  });
  return { columns, cpus };
}

/** Reads and parses /proc/net/stat/nf_conntrack, or undefined when it is absent (nf_conntrack not loaded). */
export function readConntrackStat(fs: HostFs): ConntrackStat | undefined {
  const text = fs.readProcIfExists(NF_CONNTRACK_STAT_FILE);
  return text === undefined ? undefined : parseConntrackStat(text, NF_CONNTRACK_STAT_FILE);
}
