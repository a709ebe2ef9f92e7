/**
 * kappie_interface_stats{interface_name, statistic_name}: /proc/net/dev (kernel/net-dev.ts) for every interface, plus
 * three counters it lacks for the node's own interfaces: from the rtnetlink link dump the gathering reads anyway
 * (IFLA_STATS64), else from sysfs (kernel/sys-class-net.ts).
 *
 * One procfs read covers every interface (node_exporter's sysfs netclass reads, one file per attribute per interface,
 * are a known scrape-killer on busy Kubernetes nodes). Pod-side interfaces are summed into one interface_name by
 * default, so the series count stays flat however many pods the node runs.
 */
import { POD_INTERFACES_AGGREGATE, LABEL } from '../../catalog';
import { DEFAULT_POD_INTERFACES, globMatcher, type CollectorConfig } from '../../config';
import { describeError } from '../../errors';
import type { HostFs } from '../../kernel/host-fs';
import { NETDEV_STATISTICS, type NetDevInterface } from '../../kernel/net-dev';
import { interfaceStatisticFile, readInterfaceStatistic } from '../../kernel/sys-class-net';
import { MonotonicSum } from '../../monotonic-sum';
import type { LinkDump, RtnetlinkLink } from '../../kernel/rtnetlink-link';
import type { Sample, Source, SourceContext } from '../../source';
import { netDevOnce } from './procfs-reads';
import { createLinkReader, interfaceIncarnationsOf, type LinkReader } from './interface-incarnations';
import { podInterfaceTest } from './link-roles';
import { findUplinks } from './uplinks';

/**
 * Counters /proc/net/dev lacks, for the node's own (non-pod) interfaces only: the three that tell an operator
 * something /proc/net/dev cannot. They are fields of the link dump's struct rtnl_link_stats64, which the kernel fills
 * from the same dev_get_stats() call as the sysfs files of the same names, so on a live procfs they come from the
 * dump every gathering already makes; sysfs (one open/read/close per interface and counter) only without a dump
 * (--proc-path pointing at recorded files) or for an interface the dump did not list.
 * - rx_missed_errors: the NIC ran out of ring buffer (hidden inside procfs' rx_dropped): tune the ring, not the stack.
 * - rx_crc_errors: damaged frames on the wire (hidden inside procfs' rx_frame_errors): a cable or port problem.
 * - rx_nohandler: packets no protocol wanted (e.g. on a bond's inactive slave); not in /proc/net/dev at all.
 * Pod interfaces are veths: their drivers never set these, and reading them would cost files per pod.
 */
export const SYSFS_EXTRA_STATISTICS = ['rx_missed_errors', 'rx_crc_errors', 'rx_nohandler'] as const;

/** Which interfaces are reported, and which are pod-side. */
export interface InterfaceSelection {
  readonly reported: (name: string) => boolean;
  readonly isPod: (name: string) => boolean;
  /** Report pod interfaces one by one instead of summed. */
  readonly perPod: boolean;
}

/**
 * The selection from the configuration; `isPod` is the pod-interface test of this gathering (link-roles.ts
 * `podInterfaceTest`), by default the names --pod-interfaces gives, else the CNIs' default names.
 */
export function interfaceSelection(
  config: Pick<CollectorConfig, 'interfaceInclude' | 'interfaceExclude' | 'podInterfaces' | 'perPodInterfaceStats'>,
  isPod: (name: string) => boolean = globMatcher(
    config.podInterfaces.length > 0 ? config.podInterfaces : DEFAULT_POD_INTERFACES,
  ),
): InterfaceSelection {
  const included = globMatcher(config.interfaceInclude);
  const excluded = globMatcher(config.interfaceExclude);
  const includeAll = config.interfaceInclude.length === 0;
  return {
    reported: (name) => (includeAll || included(name)) && !excluded(name),
    isPod,
    perPod: config.perPodInterfaceStats,
  };
}

/** The never-decreasing sums of the 16 counters over the pod interfaces, members keyed by ifindex (see MonotonicSum). */
export function newPodSums(): MonotonicSum {
  return new MonotonicSum();
}

/**
 * The kappie_interface_stats samples: one per reported interface and statistic, the pod interfaces summed into
 * POD_INTERFACES_AGGREGATE (present while at least one pod interface with a known ifindex exists) unless per-pod.
 * `extras` holds the sysfs counters read for some interfaces. `incarnations` maps the names of `interfaces` to
 * ifindexes (see interfaceIncarnations): a pod interface is summed as its ifindex, so renaming it adds nothing. One
 * without an ifindex (deleted or renamed since it was listed) is left out of the sum this time, and then nothing is
 * forgotten: a veth renamed between the two reads must still be known when it shows up under its new name. Interfaces
 * absent from `interfaces` produce nothing.
 */
export function interfaceStatsSamples(
  interfaces: readonly NetDevInterface[],
  extras: ReadonlyMap<string, Readonly<Record<string, number>>>,
  selection: InterfaceSelection,
  podSums: MonotonicSum,
  incarnations: ReadonlyMap<string, number>,
): Sample<'interfaceStats'>[] {
  const samples: Sample<'interfaceStats'>[] = [];
  const pods = new Map<number, readonly number[]>();
  const sample = (interfaceName: string, statisticName: string, value: number): Sample<'interfaceStats'> => ({
    labels: { [LABEL.interfaceName]: interfaceName, [LABEL.statisticName]: statisticName },
    value,
  });
  // Index loops: without TurboFan (--no-opt) for-of, destructuring and Object.entries make an object per element,
  // and this runs for every interface and statistic of every gathering.
  for (let i = 0; i < interfaces.length; i++) {
    const { name, values } = interfaces[i]!;
    if (!selection.reported(name)) continue;
    if (selection.isPod(name) && !selection.perPod) {
      const ifindex = incarnations.get(name);
      if (ifindex !== undefined) pods.set(ifindex, values);
      continue;
    }
    for (let column = 0; column < NETDEV_STATISTICS.length; column++) {
      samples.push(sample(name, NETDEV_STATISTICS[column]!, values[column]!));
    }
    const extra = extras.get(name);
    if (extra === undefined) continue;
    for (const statistic in extra) samples.push(sample(name, statistic, extra[statistic]!));
  }
  // Updated even with no pod interface, so that deleted ones are forgotten (their ifindex left the system) once every
  // listed interface's ifindex is known.
  const everyIfindexKnown = interfaces.every(({ name }) => incarnations.has(name));
  const totals = podSums.update(pods, everyIfindexKnown ? new Set(incarnations.values()) : undefined);
  if (pods.size > 0) {
    NETDEV_STATISTICS.forEach((statistic, column) =>
      samples.push(sample(POD_INTERFACES_AGGREGATE, statistic, totals[column]!)),
    );
  }
  return samples;
}

/** The extras that could be read, and the ones skipped with the reason. */
interface InterfaceExtras {
  /** Per interface, its extras by statistic name. */
  readonly values: Map<string, Record<string, number>>;
  /** One `FILE: reason` per value skipped because its file could not be read or parsed. */
  readonly skipped: string[];
}

/**
 * The extras of a link from its IFLA_STATS64, by SYSFS_EXTRA_STATISTICS name; a counter this kernel's struct does
 * not have (rx_nohandler before 4.6) is absent, as its sysfs file is. Undefined when the dump has no such link or no
 * statistics for it.
 */
export function extrasFromLinkStats(
  links: ReadonlyMap<string, RtnetlinkLink>,
  name: string,
): Record<string, number> | undefined {
  const stats = links.get(name)?.stats64;
  if (stats === undefined) return undefined;
  const extras: Record<string, number> = {};
  for (let i = 0; i < SYSFS_EXTRA_STATISTICS.length; i++) {
    const statistic = SYSFS_EXTRA_STATISTICS[i]!;
    const value = stats[statistic];
    if (value !== undefined) extras[statistic] = Number(value);
  }
  return extras;
}

/**
 * Reads the extras of the reported non-pod interfaces: from `dump` (see SYSFS_EXTRA_STATISTICS) where it lists the
 * interface, else from sysfs. An interface deleted since /proc/net/dev was read, or a driver without the attribute,
 * has no file: that value is absent, not an error. A file that cannot be read or holds no number is skipped and
 * listed: these values are optional, so one bad driver file must not cost the counters of every interface.
 */
function readExtras(
  fs: HostFs,
  interfaces: readonly NetDevInterface[],
  selection: InterfaceSelection,
  dump: LinkDump | undefined,
): InterfaceExtras {
  const values = new Map<string, Record<string, number>>();
  const skipped: string[] = [];
  const links = new Map<string, RtnetlinkLink>();
  const listed = dump?.links ?? [];
  for (let i = 0; i < listed.length; i++) links.set(listed[i]!.name, listed[i]!);
  for (const { name } of interfaces) {
    if (!selection.reported(name) || selection.isPod(name)) continue;
    const fromDump = extrasFromLinkStats(links, name);
    if (fromDump !== undefined) {
      values.set(name, fromDump);
      continue;
    }
    const extras: Record<string, number> = {};
    for (const statistic of SYSFS_EXTRA_STATISTICS) {
      try {
        const value = readInterfaceStatistic(fs, name, statistic);
        if (value !== undefined) extras[statistic] = value;
      } catch (error) {
        const reason = describeError(error);
        const file = interfaceStatisticFile(name, statistic);
        skipped.push(reason.includes(file) ? reason : `${file}: ${reason}`);
      }
    }
    values.set(name, extras);
  }
  return { values, skipped };
}

/**
 * The pod-interface test of one gathering (link-roles.ts): --pod-interfaces when set, else the kernel rule over the
 * link dump (which needs the uplinks, so the routes are read), else the CNIs' default names. Also the dump, for the
 * ifindexes.
 */
function podSelection(
  ctx: SourceContext,
  readLinks: LinkReader,
  names: readonly string[],
): { isPod: (name: string) => boolean; dump: LinkDump | undefined } {
  const dump = readLinks(ctx);
  if (ctx.config.podInterfaces.length > 0 || dump === undefined) {
    return { isPod: podInterfaceTest(ctx.config.podInterfaces, undefined, [], []).isPod, dump };
  }
  const { uplinks, holders } = findUplinks(ctx, names, dump.links);
  return { isPod: podInterfaceTest([], dump.links, uplinks, holders).isPod, dump };
}

/** The netdev source; the pod sums and the note on skipped sysfs values live in this closure. */
export function createNetdevSource(): Source {
  const readLinks = createLinkReader();
  let podSums = newPodSums();
  let note: string | undefined;
  return {
    name: 'netdev',
    description:
      '/proc/net/dev (+ rx_missed/crc/nohandler of non-pod interfaces from the rtnetlink link dump, else sysfs): interface counters; pod interfaces from the link dump',
    platforms: ['linux'],
    metrics: ['interfaceStats'],
    collect(ctx) {
      const interfaces = netDevOnce(ctx);
      const names = interfaces.map(({ name }) => name);
      const { isPod, dump } = podSelection(ctx, readLinks, names);
      const selection = interfaceSelection(ctx.config, isPod);
      const extras = readExtras(ctx.fs, interfaces, selection, dump);
      const skipped =
        extras.skipped.length === 0
          ? undefined
          : `skipped ${extras.skipped.length} unreadable sysfs value(s): ${extras.skipped.join('; ')}`;
      if (skipped !== note && skipped !== undefined) ctx.log.warn(`netdev: ${skipped}`);
      note = skipped;
      // Only the pod sum needs identities: none are read when pod interfaces are reported one by one.
      const incarnations = selection.perPod ? new Map<string, number>() : interfaceIncarnationsOf(ctx.fs, dump, names);
      return { interfaceStats: interfaceStatsSamples(interfaces, extras.values, selection, podSums, incarnations) };
    },
    note: () => note,
    stop() {
      readLinks.close();
      podSums = newPodSums();
      note = undefined;
      return Promise.resolve();
    },
  };
}
