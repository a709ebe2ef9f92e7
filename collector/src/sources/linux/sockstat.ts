/**
 * /proc/net/sockstat and /proc/net/sockstat6: socket counts per protocol, O(1) to read at any socket count.
 * Fills kappie_udp_active_sockets (UDP + UDP6 in use).
 */
import { ParseError } from '../../errors';
import { parseCount, procfsLines } from './procfs-text';
import type { Source } from '../../source';

/** Per protocol line (`TCP`, `UDP6`, ...), its key/value pairs (`inuse`, `orphan`, `tw`, ...). */
export type Sockstat = Record<string, Record<string, number>>;

/** Parses sockstat or sockstat6 text: lines of `PROTO: key value key value ...`. */
export function parseSockstat(text: string, file = 'sockstat'): Sockstat {
  const result: Sockstat = {};
  procfsLines(text, file).forEach((line, index) => {
    const match = /^([A-Za-z0-9]+):((?: [a-z_]+ \d+)+)\s*$/.exec(line);
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
  });
  return result;
}

/** UDP sockets in use over IPv4 and IPv6 (sockstat6 is absent on kernels without IPv6). */
export function udpActiveSockets(v4: Sockstat, v6: Sockstat | undefined): number {
  const inUse = (stat: Sockstat | undefined, protocol: string) => stat?.[protocol]?.['inuse'] ?? 0;
  if (v4['UDP']?.['inuse'] === undefined) throw new ParseError('sockstat', 'no "UDP: inuse" line');
  return inUse(v4, 'UDP') + inUse(v6, 'UDP6');
}

/** The sockstat source (stateless: each gathering reads and parses the two files). */
export function createSockstatSource(): Source {
  return {
    name: 'sockstat',
    description: '/proc/net/sockstat{,6}: UDP sockets in use',
    platforms: ['linux'],
    metrics: ['udpActiveSockets'],
    collect(ctx) {
      const v4 = parseSockstat(ctx.fs.readProc('net/sockstat'), 'net/sockstat');
      const v6Text = ctx.fs.readProcIfExists('net/sockstat6');
      const v6 = v6Text === undefined ? undefined : parseSockstat(v6Text, 'net/sockstat6');
      return { udpActiveSockets: [{ labels: {}, value: udpActiveSockets(v4, v6) }] };
    },
  };
}
