/**
 * kappie_udp_active_sockets (UDP + UDP6 in use) from /proc/net/sockstat and /proc/net/sockstat6 (kernel/net-sockstat.ts):
 * socket counts per protocol, O(1) to read at any socket count.
 */
import type { SockstatFiles } from '../../kernel/net-sockstat';
import { sockstatOnce } from './procfs-reads';
import type { Source } from '../../source';

/** UDP sockets in use over IPv4 and IPv6 (the parser guarantees both inuse counts; sockstat6 is absent without IPv6). */
export function udpActiveSockets({ v4, v6 }: SockstatFiles): number {
  const inUse = (stat: SockstatFiles['v4'], protocol: string) => stat[protocol]!['inuse']!;
  return inUse(v4, 'UDP') + (v6 === undefined ? 0 : inUse(v6, 'UDP6'));
}

/** The sockstat source (stateless: each gathering reads and parses the two files). */
export function createSockstatSource(): Source {
  return {
    name: 'sockstat',
    description: '/proc/net/sockstat{,6}: UDP sockets in use',
    platforms: ['linux'],
    metrics: ['udpActiveSockets'],
    collect(ctx) {
      return { udpActiveSockets: [{ labels: {}, value: udpActiveSockets(sockstatOnce(ctx)) }] };
    },
  };
}
