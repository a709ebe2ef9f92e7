/**
 * The node's uplinks: the interfaces its traffic leaves and enters by. One choice shared by the sources that follow
 * the uplinks (forward counts their packets, ethtool reads their drivers' statistics), so they never disagree.
 *
 * The uplinks are the interfaces matching --uplink-interfaces, else those holding the IPv4 and IPv6 default routes
 * of the main table (/proc/net/route, /proc/net/ipv6_route), resolved through the link dump to the devices that
 * carry every crossing packet once (link-roles.ts).
 */
import { globMatcher } from '../../config';
import { interfaceSysPath } from '../../kernel/sys-class-net';
import type { SourceContext } from '../../source';
import { resolveUplinks, type LinkFacts } from './link-roles';
import { defaultRouteHoldersOnce } from './procfs-reads';

export interface UplinkChoice {
  readonly uplinks: readonly string[];
  /** Why there is no uplink, when there is none. */
  readonly missing?: string;
}

/**
 * The uplinks among the present interfaces: those matching the configured globs, else those holding a default route.
 */
export function chooseUplinks(
  configured: readonly string[],
  present: readonly string[],
  defaultRouteHolders: readonly string[],
): UplinkChoice {
  if (configured.length > 0) {
    const matches = globMatcher(configured);
    const uplinks = present.filter(matches);
    return uplinks.length > 0
      ? { uplinks }
      : { uplinks, missing: `no interface matches --uplink-interfaces ${configured.join(',')}` };
  }
  const uplinks = present.filter((name) => defaultRouteHolders.includes(name));
  return uplinks.length > 0
    ? { uplinks }
    : {
        uplinks,
        missing:
          'no IPv4 or IPv6 default route in the main table: no uplink to count (set --uplink-interfaces to choose)',
      };
}

/** The uplinks found for one gathering, and what they were found from. */
export interface FoundUplinks extends UplinkChoice {
  /** The interfaces holding a default route (empty when --uplink-interfaces is set). */
  readonly holders: readonly string[];
}

/**
 * The uplinks among `present` (interface names of the collector's namespace), reading the routing tables only when
 * --uplink-interfaces is not set (once per gathering for every source that follows the uplinks: procfs-reads.ts). With the link dump (`links`), the default-route holders are resolved to the
 * interfaces that carry every crossing packet once (link-roles.ts `resolveUplinks`: a bridge's uplink port, a slave's
 * master); without it they are taken as the routes name them. --uplink-interfaces is taken as it is.
 */
export function findUplinks(
  ctx: Pick<SourceContext, 'config' | 'fs' | 'shared'>,
  present: readonly string[],
  links?: readonly LinkFacts[],
): FoundUplinks {
  const configured = ctx.config.uplinkInterfaces;
  if (configured.length > 0) return { ...chooseUplinks(configured, present, []), holders: [] };
  const holders = defaultRouteHoldersOnce(ctx).filter((name) => present.includes(name));
  const resolved = links === undefined ? holders : resolveUplinks(holders, links);
  return { ...chooseUplinks([], present, resolved), holders };
}

/** How deep `withLowerDevices` follows lower devices (a VLAN on a bond on a NIC is 2). */
const MAX_STACK_DEPTH = 8;

/**
 * `interfaces` followed by every device below them, in order and without repeats: what the kernel links as
 * /sys/class/net/IF/lower_NAME. That is a bond's or team's members, a VLAN's or macvlan's parent, and on Azure the
 * accelerated-networking VF (mlx5 or MANA) below the hv_netvsc interface that holds the address and the routes.
 * A device whose sysfs directory is gone (deleted meanwhile) has no lower devices. Names are labels (listSys writes
 * `lower_<name>` entries as labels, the label of `lower_` + a name is `lower_` + the name's label).
 */
export function withLowerDevices(fs: Pick<SourceContext['fs'], 'listSys'>, interfaces: readonly string[]): string[] {
  const result: string[] = [];
  const visit = (name: string, depth: number) => {
    if (result.includes(name)) return;
    result.push(name);
    if (depth >= MAX_STACK_DEPTH) return;
    let entries: string[];
    try {
      entries = fs.listSys(interfaceSysPath(name, ''));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENODEV') return;
      throw error;
    }
    for (const entry of entries.sort()) {
      if (entry.startsWith('lower_')) visit(entry.slice('lower_'.length), depth + 1);
    }
  };
  for (const name of interfaces) visit(name, 0);
  return result;
}
