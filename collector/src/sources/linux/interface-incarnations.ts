/**
 * Which incarnation of an interface a name stands for: its ifindex. Totals over interfaces (pod_interfaces, forward_*)
 * key their members by it, not by name: a renamed interface keeps its ifindex (and its counters), and a name can be
 * taken by a new interface. Within one network namespace the kernel hands out ifindexes cyclically (dev_new_index,
 * then an xarray with cyclic allocation since Linux 6.6), so an ifindex is not given to another interface until the
 * 31-bit space has wrapped: it names one incarnation for the life of any collector.
 *
 * Read from sysfs `class/net/<name>/ifindex`, one small file per interface (the attribute takes no RTNL lock): 6.2 ms
 * minimum, 21 ms median for 252 interfaces on the loaded 2-vCPU test VM (`node bench/linux-sources-cost.mjs`; see
 * ARCHITECTURE.md "Totals over changing members"). The rtnetlink link dump gives the same (IFLA_IFNAME with
 * ifi_index) for every interface in one request and can replace this function behind the same signature.
 */
import { SourceUnavailableError } from '../../errors';
import type { HostFs } from '../../kernel/host-fs';
import { parseSysfsCounter } from '../../kernel/sys-class-net';

/**
 * The ifindex of each of `names`, read under the sys root. A name without the file (the interface was deleted or
 * renamed since it was listed) is left out: the caller counts it when it next sees it. When none of the names has one
 * and `class/net` itself is missing, sysfs is not where --sys-path points: a SourceUnavailableError says so.
 */
export function interfaceIncarnations(
  fs: Pick<HostFs, 'readSys' | 'listSys' | 'sysPath'>,
  names: Iterable<string>,
): Map<string, number> {
  const incarnations = new Map<string, number>();
  let missing = 0;
  for (const name of names) {
    const file = `class/net/${name}/ifindex`;
    let text: string;
    try {
      text = fs.readSys(file);
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
