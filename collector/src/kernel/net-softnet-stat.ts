/**
 * /proc/net/softnet_stat: one line per online CPU of `%08x` words (net/core/net-procfs.c softnet_seq_show). The
 * columns grew over the years: 10 in 2.6 (processed, dropped, time_squeeze, five zeros once fastroute,
 * cpu_collision, received_rps), then flow_limit_count, the backlog length and the CPU index (13 columns), then the
 * input and process queue lengths (15 on 6.18). Only the first 10 are required; every line must have the same width.
 */
import { ParseError } from '../errors';
import type { HostFs } from './host-fs';
import { parseHexWord, procfsLines } from './procfs-text';

export const NET_SOFTNET_STAT_FILE = 'net/softnet_stat';
/** The width of the oldest format: every kernel prints at least these. */
const MINIMUM_COLUMNS = 10;

/** One CPU's line. Counts are u32 and wrap (the kernel keeps them in unsigned int). */
export interface SoftnetCpu {
  /** Packets taken off this CPU's backlog and processed. */
  readonly processed: number;
  /** Packets dropped because this CPU's backlog queue was full (net.core.netdev_max_backlog). */
  readonly dropped: number;
  /** NAPI runs that stopped with work left (budget or time used up: net.core.netdev_budget{,_usecs}). */
  readonly timeSqueeze: number;
  /** Inter-processor interrupts received to process packets steered here by RPS. */
  readonly receivedRps: number;
  /** Packets dropped by the RPS flow limit (column 11); undefined when the kernel prints no such column. */
  readonly flowLimitCount: number | undefined;
  /** The CPU this line is about (column 13); older kernels skip offline CPUs without saying which. */
  readonly cpu: number | undefined;
  /** Every column as printed, in file order. */
  readonly columns: readonly number[];
}

/** Parses /proc/net/softnet_stat. */
export function parseSoftnetStat(text: string, file = NET_SOFTNET_STAT_FILE): SoftnetCpu[] {
  let width: number | undefined;
  return procfsLines(text, file).map((line, index) => {
    const lineNumber = index + 1;
    const words = line.split(' ');
    if (words.length < MINIMUM_COLUMNS) {
      throw new ParseError(file, `expected at least ${MINIMUM_COLUMNS} columns, got ${words.length}`, lineNumber);
    }
    if (width !== undefined && words.length !== width) {
      throw new ParseError(file, `${words.length} columns where the lines above have ${width}`, lineNumber);
    }
    width = words.length;
    const columns = words.map((word, column) => parseHexWord(word, file, `column ${column + 1}`, lineNumber));
    return {
      processed: columns[0]!,
      dropped: columns[1]!,
      timeSqueeze: columns[2]!,
      receivedRps: columns[9]!,
      flowLimitCount: columns[10],
      cpu: columns[12],
      columns,
    };
  });
}

/** Reads and parses /proc/net/softnet_stat. */
export function readSoftnetStat(fs: HostFs): SoftnetCpu[] {
  return parseSoftnetStat(fs.readProc(NET_SOFTNET_STAT_FILE), NET_SOFTNET_STAT_FILE);
}
