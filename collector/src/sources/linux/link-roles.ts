/**
 * What each interface of the node is, decided from the kernel's own description of its links (the rtnetlink link
 * dump, kernel/rtnetlink-link.ts: kind, master, the namespace of a veth's peer) rather than from names alone. Pure:
 * links and default-route holders in, roles out.
 *
 * **Uplinks** (kappie_forward_*, kappie_tcp_flag_counters, ethtool) are the interfaces every packet crossing the node
 * passes once. Starting from each default-route holder:
 * - a device enslaved to a bond, team or any non-bridge master is replaced by that master (the master carries every
 *   packet once; Azure's accelerated-networking VF under hv_netvsc `eth0`, a bond member);
 * - a bridge (Azure CNI bridge mode: `azure0` holds the node address and the default route) is replaced by its
 *   uplink ports, because the bridge device sees only the traffic of the host's own stack, not what it switches
 *   between a pod and the wire. Its uplink ports are the ports that are not veths (a NIC, a bond, a VLAN); on a node
 *   built only of veths (a test host, a nested container) the ports whose names do not match the CNIs' pod names
 *   (DEFAULT_POD_INTERFACES). A bridge with no such port stays the uplink itself.
 * - anything else is its own uplink.
 *
 * **Pod interfaces** (summed into interface_name="pod_interfaces") are, by the kernel: the host side of a veth whose
 * peer is in another network namespace (IFLA_LINK_NETNSID present), unless it is an uplink, a default-route holder, or
 * enslaved to an uplink. So a host `veth-mgmt` whose peer is in the host namespace is not a pod interface; bridges
 * (`cbr0`, `azure0`), `cilium_host`/`cilium_net` (both ends on the host) and the uplinks' slaves are node interfaces,
 * reported on their own.
 */
import { DEFAULT_POD_INTERFACES, globMatcher } from '../../config';
import type { RtnetlinkLink } from '../../kernel/rtnetlink-link';

/** The parts of a link the roles depend on. */
export type LinkFacts = Pick<RtnetlinkLink, 'index' | 'name' | 'kind' | 'masterIndex' | 'linkNetnsId'>;

/** How many masters up `masterOf` follows (a VLAN on a bond on a NIC is 2). */
const MAX_MASTER_DEPTH = 8;

/** The top of the master chain of `link` through non-bridge masters (bond, team, hv_netvsc over its VF). */
function nonBridgeMasterTop(link: LinkFacts, byIndex: ReadonlyMap<number, LinkFacts>): LinkFacts {
  let current = link;
  for (let depth = 0; depth < MAX_MASTER_DEPTH && current.masterIndex !== undefined; depth++) {
    const master = byIndex.get(current.masterIndex);
    if (master === undefined || master.kind === 'bridge') break;
    current = master;
  }
  return current;
}

/** The ports of bridge `bridge` that lead out of the node (see the module comment), or none. */
function bridgeUplinkPorts(bridge: LinkFacts, links: readonly LinkFacts[]): LinkFacts[] {
  const ports = links.filter((link) => link.masterIndex === bridge.index);
  const notVeth = ports.filter((port) => port.kind !== 'veth');
  if (notVeth.length > 0) return notVeth;
  const podName = globMatcher(DEFAULT_POD_INTERFACES);
  return ports.filter((port) => !podName(port.name));
}

/**
 * `links` by ifindex, in their order. A loop rather than `new Map(links.map(...))`: that made a pair array per link at
 * every gathering (the collector runs without TurboFan).
 */
function linksByIndex(links: readonly LinkFacts[]): Map<number, LinkFacts> {
  const byIndex = new Map<number, LinkFacts>();
  for (let i = 0; i < links.length; i++) byIndex.set(links[i]!.index, links[i]!);
  return byIndex;
}

/**
 * The uplinks for the default-route holders `holders` (names), in order, without repeats. A holder the dump does not
 * list (deleted meanwhile) is kept as it is.
 */
export function resolveUplinks(holders: readonly string[], links: readonly LinkFacts[]): string[] {
  if (holders.length === 0) return [];
  const byIndex = linksByIndex(links);
  const byName = new Map<string, LinkFacts>();
  for (let i = 0; i < links.length; i++) byName.set(links[i]!.name, links[i]!);
  const uplinks: string[] = [];
  const add = (name: string) => {
    if (!uplinks.includes(name)) uplinks.push(name);
  };
  for (const holder of holders) {
    const link = byName.get(holder);
    if (link === undefined) {
      add(holder);
      continue;
    }
    const top = nonBridgeMasterTop(link, byIndex);
    if (top.kind !== 'bridge') {
      add(top.name);
      continue;
    }
    const ports = bridgeUplinkPorts(top, links);
    if (ports.length === 0) add(top.name);
    for (const port of ports) add(nonBridgeMasterTop(port, byIndex).name);
  }
  return uplinks;
}

/** The names of the uplinks among `links` that are ports of a bridge (their traffic is switched, not routed). */
export function bridgePorts(uplinks: readonly string[], links: readonly LinkFacts[]): string[] {
  if (uplinks.length === 0) return [];
  const byIndex = linksByIndex(links);
  return uplinks.filter((name) => {
    const link = links.find((candidate) => candidate.name === name);
    const master = link?.masterIndex === undefined ? undefined : byIndex.get(link.masterIndex);
    return master?.kind === 'bridge';
  });
}

/**
 * The pod interfaces among `links` by the kernel rule (module comment): veths whose peer is in another namespace,
 * minus the uplinks, the default-route holders and every device enslaved (directly or through a chain of masters)
 * to an uplink or holder.
 */
export function kernelPodInterfaces(
  links: readonly LinkFacts[],
  uplinks: readonly string[],
  holders: readonly string[],
): Set<string> {
  const byIndex = linksByIndex(links);
  const nodeSide = new Set([...uplinks, ...holders]);
  const underNodeSide = (link: LinkFacts): boolean => {
    let current = link;
    for (let depth = 0; depth < MAX_MASTER_DEPTH && current.masterIndex !== undefined; depth++) {
      const master = byIndex.get(current.masterIndex);
      if (master === undefined || master.kind === 'bridge') return false;
      if (nodeSide.has(master.name)) return true;
      current = master;
    }
    return false;
  };
  return new Set(
    links
      .filter((link) => link.kind === 'veth' && link.linkNetnsId !== undefined)
      .filter((link) => !nodeSide.has(link.name) && !underNodeSide(link))
      .map((link) => link.name),
  );
}

/** How pod interfaces were told apart this time, for the status page and the README's rule. */
export type PodRule = 'names' | 'kernel' | 'default-names';

/**
 * The pod-interface test for one gathering:
 * - `--pod-interfaces` set (`configured` not empty): the names decide, both ways (the override);
 * - else with a link dump: the kernel rule (`kernelPodInterfaces`);
 * - else (a recorded tree, netlink unavailable): the CNIs' default names, DEFAULT_POD_INTERFACES.
 */
export function podInterfaceTest(
  configured: readonly string[],
  links: readonly LinkFacts[] | undefined,
  uplinks: readonly string[],
  holders: readonly string[],
): { readonly isPod: (name: string) => boolean; readonly rule: PodRule } {
  if (configured.length > 0) return { isPod: globMatcher(configured), rule: 'names' };
  if (links === undefined) return { isPod: globMatcher(DEFAULT_POD_INTERFACES), rule: 'default-names' };
  const pods = kernelPodInterfaces(links, uplinks, holders);
  return { isPod: (name) => pods.has(name), rule: 'kernel' };
}
