/**
 * kappie_forward_count / kappie_forward_bytes{direction}: packets and bytes received (ingress) and sent (egress) on
 * the node's uplinks, from /proc/net/dev. The uplinks are the interfaces holding the IPv4 and IPv6 default routes
 * (/proc/net/route, /proc/net/ipv6_route), or --uplink-interfaces.
 *
 * Unlike Retina's socket filter on every interface (which counts routed pod traffic once on the veth and again on
 * eth0), this counts only what crosses the uplinks: a packet entering or leaving the node counts once, and traffic
 * between pods of the same node not at all.
 *
 * /proc/net/dev is read here and again by the netdev source: two reads of one file rather than a cache shared
 * between sources, which would couple them (and their up/down state). The second read is cheap: read + parse took
 * 0.1 ms with 12 interfaces, 0.9 ms with 252 and 3.9 ms with 1002 (minimum of 200 rounds on a loaded 2-vCPU VM,
 * `node bench/linux-sources-cost.mjs`).
 */
import { DIRECTION, LABEL } from '../../catalog';
import type { Sample, Source } from '../../source';
import { MonotonicSum } from './monotonic-sum';
import { counterOf, parseNetDev, type NetDevInterface, type NetDevStatistic } from './netdev';
import { findUplinks } from './uplinks';

// The uplink choice lives in uplinks.ts (shared with the ethtool source); re-exported for existing callers.
export { chooseUplinks, type UplinkChoice } from './uplinks';

/** The never-decreasing sums over the uplinks of rx packets, rx bytes, tx packets, tx bytes (see MonotonicSum). */
export function newForwardSums(): MonotonicSum {
  return new MonotonicSum(4);
}

/**
 * Forward samples over the uplinks, summed so that an uplink appearing or leaving (a route change) never makes the
 * counters fall. No uplink: no samples.
 */
export function forwardSamples(
  interfaces: readonly NetDevInterface[],
  uplinks: readonly string[],
  sums: MonotonicSum,
): { count: Sample<'forwardCount'>[]; bytes: Sample<'forwardBytes'>[] } {
  const members = new Map<string, number[]>();
  for (const netdev of interfaces) {
    if (!uplinks.includes(netdev.name)) continue;
    const counter = (statistic: NetDevStatistic) => counterOf(netdev, statistic);
    members.set(netdev.name, [counter('rx_packets'), counter('rx_bytes'), counter('tx_packets'), counter('tx_bytes')]);
  }
  const [rxPackets, rxBytes, txPackets, txBytes] = sums.update(members);
  if (uplinks.length === 0) return { count: [], bytes: [] };
  const ingress = { [LABEL.direction]: DIRECTION.ingress };
  const egress = { [LABEL.direction]: DIRECTION.egress };
  return {
    count: [
      { labels: ingress, value: rxPackets! },
      { labels: egress, value: txPackets! },
    ],
    bytes: [
      { labels: ingress, value: rxBytes! },
      { labels: egress, value: txBytes! },
    ],
  };
}

export function createForwardSource(): Source {
  let sums = newForwardSums();
  let note: string | undefined;
  return {
    name: 'forward',
    description:
      '/proc/net/dev rx/tx of the default-route interfaces (/proc/net/route, ipv6_route) or --uplink-interfaces',
    platforms: ['linux'],
    metrics: ['forwardCount', 'forwardBytes'],
    collect(ctx) {
      const interfaces = parseNetDev(ctx.fs.readProc('net/dev'), 'net/dev');
      const choice = findUplinks(
        ctx,
        interfaces.map(({ name }) => name),
      );
      if (choice.missing !== note) {
        if (choice.missing) ctx.log.warn({ source: 'forward' }, `forward: ${choice.missing}`);
        else ctx.log.info({ source: 'forward', uplinks: choice.uplinks }, 'forward: uplinks found');
      }
      note = choice.missing;
      const { count, bytes } = forwardSamples(interfaces, choice.uplinks, sums);
      return count.length > 0 ? { forwardCount: count, forwardBytes: bytes } : {};
    },
    note: () => note,
    stop() {
      sums = newForwardSums();
      note = undefined;
      return Promise.resolve();
    },
  };
}
