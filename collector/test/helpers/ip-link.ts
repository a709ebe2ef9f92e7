/** What `ip -s -s -d -j link` says about each link, in the shape of the rtnetlink link parser's output, to compare. */
import type { LinkStats64Field, RtnetlinkLink } from '../../src/kernel/rtnetlink-link';

interface IpLink {
  ifindex: number;
  ifname: string;
  master?: string;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string };
  stats64: { rx: Record<string, number>; tx: Record<string, number> };
}

/** iproute2's JSON keys (print_link_stats64) for the stats64 counters it prints. */
const IP_STATS: Record<'rx' | 'tx', Record<string, LinkStats64Field>> = {
  rx: {
    bytes: 'rx_bytes',
    packets: 'rx_packets',
    errors: 'rx_errors',
    dropped: 'rx_dropped',
    over_errors: 'rx_over_errors',
    multicast: 'multicast',
    length_errors: 'rx_length_errors',
    crc_errors: 'rx_crc_errors',
    frame_errors: 'rx_frame_errors',
    fifo_errors: 'rx_fifo_errors',
    missed_errors: 'rx_missed_errors',
    nohandler: 'rx_nohandler',
    otherhost_dropped: 'rx_otherhost_dropped',
  },
  tx: {
    bytes: 'tx_bytes',
    packets: 'tx_packets',
    errors: 'tx_errors',
    dropped: 'tx_dropped',
    carrier_errors: 'tx_carrier_errors',
    collisions: 'collisions',
    aborted_errors: 'tx_aborted_errors',
    fifo_errors: 'tx_fifo_errors',
    window_errors: 'tx_window_errors',
    heartbeat_errors: 'tx_heartbeat_errors',
  },
};

export interface ComparableLink {
  index: number;
  name: string;
  kind: string | undefined;
  masterIndex: number | undefined;
  linkNetnsId: number | undefined;
  /** The counters ip printed, as decimal strings (exact for 64-bit values). */
  stats: Record<string, string>;
}

/** The links of `ip -s -s -d -j link` output. */
export function linksFromIp(json: string): ComparableLink[] {
  const links = JSON.parse(json) as IpLink[];
  const indexOf = new Map(links.map((link) => [link.ifname, link.ifindex]));
  return links.map((link) => {
    const stats: Record<string, string> = {};
    for (const direction of ['rx', 'tx'] as const) {
      for (const [key, field] of Object.entries(IP_STATS[direction])) {
        const value = link.stats64[direction][key];
        if (value !== undefined) stats[field] = String(value);
      }
    }
    return {
      index: link.ifindex,
      name: link.ifname,
      kind: link.linkinfo?.info_kind,
      masterIndex: link.master === undefined ? undefined : indexOf.get(link.master),
      linkNetnsId: link.link_netnsid,
      stats,
    };
  });
}

/** The parser's links in the same shape, keeping only the counters ip printed for that link. */
export function comparableLinks(links: readonly RtnetlinkLink[], fromIp: readonly ComparableLink[]): ComparableLink[] {
  return links.map((link) => {
    const printed = fromIp.find((other) => other.index === link.index)?.stats ?? {};
    const stats: Record<string, string> = {};
    for (const field of Object.keys(printed) as LinkStats64Field[]) {
      const value = link.stats64?.[field];
      if (value !== undefined) stats[field] = value.toString();
    }
    return {
      index: link.index,
      name: link.name,
      kind: link.kind,
      masterIndex: link.masterIndex,
      linkNetnsId: link.linkNetnsId,
      stats,
    };
  });
}
