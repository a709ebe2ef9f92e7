/**
 * kappie_forward_count / kappie_forward_bytes{direction}: packets and bytes received (ingress) and sent (egress) on
 * the node's uplinks, from /proc/net/dev. The uplinks are the interfaces holding the IPv4 and IPv6 default routes
 * (/proc/net/route, /proc/net/ipv6_route) resolved through the rtnetlink link dump to the devices every crossing
 * packet passes once (uplinks.ts, link-roles.ts: the uplink port under a bridge, a slave's master), or
 * --uplink-interfaces.
 *
 * Unlike Retina's socket filter on every interface (which counts routed pod traffic once on the veth and again on
 * eth0), this counts only what crosses the uplinks: a packet entering or leaving the node counts once, and traffic
 * between pods of the same node not at all.
 *
 * /proc/net/dev (kernel/net-dev.ts) is read once per gathering for every source that needs it (procfs-reads.ts): a
 * read error reaches each of them alike. Reading it again here would cost 0.1 ms with 12 interfaces, 0.9 ms with 252
 * and 3.9 ms with 1002 (minimum of 200 rounds on a loaded 2-vCPU VM, `node bench/linux-sources-cost.mjs`).
 */
import { counterOf, type NetDevInterface, type NetDevStatistic } from '../../kernel/net-dev';
import type { Source } from '../../source';
import { netDevOnce } from './procfs-reads';
import { forwardSamples, newForwardSums, type UplinkCounters } from '../forward-totals';
import { createLinkReader, interfaceIncarnationsOf } from './interface-incarnations';
import { findUplinks } from './uplinks';

// The uplink choice lives in uplinks.ts (shared with the ethtool source); re-exported for existing callers.
export { chooseUplinks, type UplinkChoice } from './uplinks';

/**
 * The uplinks' counters by ifindex (`incarnations`: name -> ifindex), the members of the forward sum: an uplink that
 * leaves and comes back (a route change) or is renamed is the same member and adds only its growth. An uplink without
 * an ifindex (deleted since it was listed) is left out this time.
 */
export function uplinkCounters(
  interfaces: readonly NetDevInterface[],
  uplinks: readonly string[],
  incarnations: ReadonlyMap<string, number>,
): Map<number, UplinkCounters> {
  const members = new Map<number, UplinkCounters>();
  for (const netdev of interfaces) {
    const ifindex = incarnations.get(netdev.name);
    if (!uplinks.includes(netdev.name) || ifindex === undefined) continue;
    const counter = (statistic: NetDevStatistic) => counterOf(netdev, statistic);
    members.set(ifindex, {
      rxPackets: counter('rx_packets'),
      rxBytes: counter('rx_bytes'),
      txPackets: counter('tx_packets'),
      txBytes: counter('tx_bytes'),
    });
  }
  return members;
}

export function createForwardSource(): Source {
  const readLinks = createLinkReader();
  let sums = newForwardSums();
  let note: string | undefined;
  return {
    name: 'forward',
    description:
      '/proc/net/dev rx/tx of the default-route interfaces (/proc/net/route, ipv6_route) or --uplink-interfaces',
    platforms: ['linux'],
    metrics: ['forwardCount', 'forwardBytes'],
    collect(ctx) {
      const interfaces = netDevOnce(ctx);
      const links = readLinks(ctx);
      const choice = findUplinks(
        ctx,
        interfaces.map(({ name }) => name),
        links?.links,
      );
      if (choice.missing !== note) {
        if (choice.missing) ctx.log.warn(`forward: ${choice.missing}`);
        else ctx.log.info({ uplinks: choice.uplinks }, 'forward: uplinks found');
      }
      note = choice.missing;
      const incarnations = interfaceIncarnationsOf(ctx.fs, links, choice.uplinks);
      const samples = forwardSamples(uplinkCounters(interfaces, choice.uplinks, incarnations), sums);
      return samples.forwardCount.length > 0 ? { ...samples } : {};
    },
    note: () => note,
    stop() {
      readLinks.close();
      sums = newForwardSums();
      note = undefined;
      return Promise.resolve();
    },
  };
}
