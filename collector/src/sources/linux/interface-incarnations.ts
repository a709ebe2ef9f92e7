/**
 * Which incarnation of an interface a name stands for: its ifindex. Totals over interfaces (pod_interfaces, forward_*)
 * key their members by it, not by name: a renamed interface keeps its ifindex (and its counters), and a name can be
 * taken by a new interface. Within one network namespace the kernel hands out ifindexes cyclically (dev_new_index,
 * then an xarray with cyclic allocation since Linux 6.6), so an ifindex is not given to another interface until the
 * 31-bit space has wrapped: it names one incarnation for the life of any collector.
 *
 * Two readers give the same numbers:
 * - the rtnetlink link dump (kernel/rtnetlink-link.ts: IFLA_IFNAME with ifi_index of every link, one request), used
 *   when the proc root is a live procfs (`HostFs.procIsLive()`), on a socket opened in the namespace that proc root
 *   shows (kernel/net-namespace.ts; `--proc-path /proc/<pid>` is that process's): one request instead of a file per
 *   interface (see README "Totals over changing members" and
 *   `node bench/linux-sources-cost.mjs`);
 * - sysfs `class/net/<name>/ifindex`, one small file per interface, for a recorded tree (tests, a --proc-path holding
 *   copies), and when netlink fails (the failure is remembered and logged once, then sysfs serves).
 */
import * as os from 'node:os';
import { describeError, SourceUnavailableError } from '../../errors';
import type { HostFs } from '../../kernel/host-fs';
import { createNetlink, type Netlink } from '../../kernel/netlink-socket';
import { dumpLinks, type LinkDump } from '../../kernel/rtnetlink-link';
import { interfaceSysPath, parseSysfsCounter } from '../../kernel/sys-class-net';
import { readOnce, type SourceContext } from '../../source';
import type { Logger } from '../../log';

const LITTLE_ENDIAN = os.endianness() === 'LE';

/**
 * The ifindex of each of `names`, read under the sys root. A name without the file (the interface was deleted or
 * renamed since it was listed) is left out: the caller counts it when it next sees it. When none of the names has one
 * and `class/net` itself is missing, sysfs is not where --sys-path points: a SourceUnavailableError says so.
 */
export function interfaceIncarnationsFromSysfs(
  fs: Pick<HostFs, 'readSys' | 'listSys' | 'sysPath'>,
  names: Iterable<string>,
): Map<string, number> {
  const incarnations = new Map<string, number>();
  let missing = 0;
  for (const name of names) {
    const file = `class/net/${name}/ifindex`;
    let text: string;
    try {
      text = fs.readSys(interfaceSysPath(name, '/ifindex'));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENODEV') throw error;
      missing++;
      continue;
    }
    incarnations.set(name, parseSysfsCounter(text, file));
  }
  if (missing > 0 && incarnations.size === 0) checkSysfsPresent(fs);
  return incarnations;
}

/**
 * The ifindex of each of `names` that a link dump holds (a link added or removed during an interrupted dump may be
 * missing: it is left out, as a deleted interface is by the sysfs reader).
 */
export function interfaceIncarnationsFromLinks(dump: LinkDump, names: Iterable<string>): Map<string, number> {
  const indexByName = new Map(dump.links.map((link) => [link.name, link.index]));
  const incarnations = new Map<string, number>();
  for (const name of names) {
    const index = indexByName.get(name);
    if (index !== undefined) incarnations.set(name, index);
  }
  return incarnations;
}

/** What a source needs of its context to find incarnations. */
export interface IncarnationContext {
  readonly fs: Pick<HostFs, 'readSys' | 'listSys' | 'sysPath' | 'procIsLive' | 'procPath'>;
  readonly log: Pick<Logger, 'warn'>;
}

/**
 * Finds the ifindex of each of `names` (see `interfaceIncarnationsFromSysfs` for what is left out). `interfaceCount` is
 * how many interfaces the namespace has (rows of /proc/net/dev): the dump returns every link, with its statistics,
 * at about half the cost per link of one sysfs file (`node bench/linux-sources-cost.mjs 10 250`: 252 links 2.4 ms,
 * 252 files 4.9 ms), so it is used only when `names` are at least half of the interfaces (netdev's pod sum asks for
 * all of them; forward's one or two uplinks are cheaper as files).
 */
export type InterfaceIncarnations = (
  ctx: IncarnationContext,
  names: readonly string[],
  interfaceCount: number,
) => Map<string, number>;

/**
 * Reads the link dump for one source: undefined when the proc root is not the live procfs of the collector's own
 * namespace (a recorded tree: netlink would describe another namespace) or when netlink failed once (the failure is
 * logged once and remembered; the caller then reads sysfs and names). `dump` replaces the live dump (tests).
 */
export interface LinkReader {
  (ctx: IncarnationContext & Pick<SourceContext, 'shared'>): LinkDump | undefined;
  /** Closes the netlink socket the reader keeps between gatherings (its source's stop); a later read opens one. */
  close(): void;
}

/** The key of the link dump among a gathering's shared reads. */
const LINK_DUMP = 'rtnetlink RTM_GETLINK dump';

/**
 * A link reader whose netlink socket and remembered failure live in this closure. `withoutLinks` is what the log line
 * says the source does instead when the dump fails.
 */
export function createLinkReader(
  dump?: () => LinkDump,
  withoutLinks = 'ifindexes from sysfs, pod interfaces by name, uplinks as the routes name them',
): LinkReader {
  /** Made at the first live dump: its socket opens in the namespace of the configured proc root. */
  let netlink: Netlink | undefined;
  let netlinkUnavailable: string | undefined;
  const read = (ctx: IncarnationContext): LinkDump | undefined => {
    if (netlinkUnavailable !== undefined || !ctx.fs.procIsLive()) return undefined;
    try {
      return dump?.() ?? dumpLinks((netlink ??= createNetlink({ procPath: ctx.fs.procPath })), LITTLE_ENDIAN);
    } catch (error) {
      netlinkUnavailable = describeError(error);
      ctx.log.warn({ err: netlinkUnavailable }, `rtnetlink link dump failed: ${withoutLinks}`);
      return undefined;
    }
  };
  // One dump per gathering for every source that asks (netdev, forward, tcp_flags).
  const reader = (ctx: IncarnationContext & Pick<SourceContext, 'shared'>) => readOnce(ctx, LINK_DUMP, () => read(ctx));
  reader.close = () => netlink?.close();
  return reader;
}

/** The ifindex of each of `names`: from `dump` when there is one, else from sysfs. */
export function interfaceIncarnationsOf(
  fs: IncarnationContext['fs'],
  dump: LinkDump | undefined,
  names: readonly string[],
): Map<string, number> {
  if (names.length === 0) return new Map();
  return dump === undefined ? interfaceIncarnationsFromSysfs(fs, names) : interfaceIncarnationsFromLinks(dump, names);
}

/**
 * An incarnation reader for one source: its netlink socket handle and the remembered netlink failure live in this
 * closure. `dump` is the link dump to use (tests give a recorded one); by default the live rtnetlink dump.
 */
export function createInterfaceIncarnations(dump?: () => LinkDump): InterfaceIncarnations {
  /** Made at the first live dump: its sockets open in the namespace of the configured proc root. */
  let netlink: Netlink | undefined;
  let netlinkUnavailable: string | undefined;
  return (ctx, names, interfaceCount) => {
    if (names.length === 0) return new Map();
    if (netlinkUnavailable === undefined && names.length * 2 >= interfaceCount && ctx.fs.procIsLive()) {
      try {
        const links = dump?.() ?? dumpLinks((netlink ??= createNetlink({ procPath: ctx.fs.procPath })), LITTLE_ENDIAN);
        return interfaceIncarnationsFromLinks(links, names);
      } catch (error) {
        netlinkUnavailable = describeError(error);
        ctx.log.warn({ err: netlinkUnavailable }, 'rtnetlink link dump failed: reading ifindexes from sysfs');
      }
    }
    return interfaceIncarnationsFromSysfs(ctx.fs, names);
  };
}

function checkSysfsPresent(fs: Pick<HostFs, 'listSys' | 'sysPath'>): void {
  try {
    fs.listSys('class/net');
  } catch (error) {
    throw new SourceUnavailableError(
      `cannot list ${fs.sysPath}/class/net (${(error as NodeJS.ErrnoException).code ?? String(error)}): interfaces ` +
        'are told apart by their ifindex there; point --sys-path at the host sysfs (e.g. /host/sys)',
    );
  }
}
