/**
 * /proc/net/sockstat and /proc/net/sockstat6: socket counts per protocol, O(1) to read at any socket count
 * (net/ipv4/proc.c sockstat_seq_show, net/ipv6/proc.c sockstat6_seq_show). One parser for every source that reads
 * them (sockstat, tcp_sockets).
 *
 * The TCP and UDP lines are always printed (TCP6 and UDP6 in sockstat6), so a file lacking one is cut short: an error
 * naming the line, never a socket count of 0. UDPLITE is not required (removed with UDP-Lite in Linux 7.1).
 */
import { ParseError } from '../errors';
import type { HostFs } from './host-fs';
import { parseCount, procfsLines, requireParts } from './procfs-text';

/** Per protocol line (`TCP`, `UDP6`, ...), its key/value pairs (`inuse`, `orphan`, `tw`, ...). */
export type Sockstat = Record<string, Record<string, number>>;

export const NET_SOCKSTAT_FILE = 'net/sockstat';
export const NET_SOCKSTAT6_FILE = 'net/sockstat6';
/** Protocol lines every kernel prints, per file. */
export const SOCKSTAT_PROTOCOLS = ['TCP', 'UDP'] as const;
export const SOCKSTAT6_PROTOCOLS = ['TCP6', 'UDP6'] as const;

/** `PROTO: key value key value ...`, the shape of every line (the kernel may end one with a space). */
const SOCKSTAT_LINE = /^([A-Za-z0-9]+):((?: [a-z_]+ \d+)+)\s*$/;

/**
 * Parses sockstat or sockstat6 text: lines of `PROTO: key value key value ...`, which must include a line for each
 * of `requiredProtocols`, each with an `inuse` count. Runs at every gathering: indexed loops, no closure per line.
 */
export function parseSockstat(text: string, file: string, requiredProtocols: readonly string[]): Sockstat {
  const result: Sockstat = {};
  const lines = procfsLines(text, file);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const match = SOCKSTAT_LINE.exec(line);
    if (!match)
      throw new ParseError(
        file,
        `expected "PROTO: key value ...", got ${JSON.stringify(line.slice(0, 80))}`,
        index + 1,
      );
    const protocol = match[1]!;
    if (result[protocol]) throw new ParseError(file, `protocol ${protocol} appears twice`, index + 1);
    const fields: Record<string, number> = {};
    const words = match[2]!.trim().split(' ');
    for (let i = 0; i < words.length; i += 2) {
      fields[words[i]!] = parseCount(words[i + 1], file, `${protocol} ${words[i]}`, index + 1);
    }
    result[protocol] = fields;
  }
  requireParts(file, 'inuse line', requiredProtocols, (protocol) => result[protocol]?.['inuse'] !== undefined);
  return result;
}

/** Both files; `v6` is undefined when sockstat6 is absent (a kernel without IPv6). */
export interface SockstatFiles {
  readonly v4: Sockstat;
  readonly v6: Sockstat | undefined;
}

/** Reads and parses /proc/net/sockstat and /proc/net/sockstat6. */
export function readSockstat(fs: HostFs): SockstatFiles {
  const v6Text = fs.readProcIfExists(NET_SOCKSTAT6_FILE);
  return {
    v4: parseSockstat(fs.readProc(NET_SOCKSTAT_FILE), NET_SOCKSTAT_FILE, SOCKSTAT_PROTOCOLS),
    v6: v6Text === undefined ? undefined : parseSockstat(v6Text, NET_SOCKSTAT6_FILE, SOCKSTAT6_PROTOCOLS),
  };
}
