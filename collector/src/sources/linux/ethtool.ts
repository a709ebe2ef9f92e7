/**
 * kappie_interface_stats{interface_name, statistic_name} from the NIC driver's own statistics (`ethtool -S`): where a
 * NIC shows the drops the kernel's generic counters do not (ring overflows, per-queue drops, the Azure accelerated
 * networking VF's counters), named exactly as the driver names them.
 *
 * Read for the uplinks (the same choice as kappie_forward_*: default-route interfaces or --uplink-interfaces) and the
 * devices below them, or for --ethtool-interfaces. Pod-side interfaces are never read unless per-pod statistics
 * are on; --interface-include/--interface-exclude apply as for the netdev source.
 *
 * Names a driver shares with the netdev source (/proc/net/dev's 16 counters and the 3 sysfs extras: rx_packets,
 * rx_dropped, ...) are left out: the netdev source exports the kernel's value under that name for every interface,
 * so a dashboard reading rx_dropped sees the same counter whatever the driver (and the output never holds two
 * series with the same labels). veth, for example, has none of them (peer_ifindex, rx_queue_0_xdp_packets, ...).
 *
 * Network namespace: the one the proc root shows, as for every other family (--proc-path /proc/<pid>: that process's):
 * the interface names come from its /proc/net/dev and the routes, and the ioctl socket is opened in it
 * (kernel/net-namespace.ts). The devices below an uplink are found in sysfs (--sys-path), which shows the namespace it
 * was mounted from: with a proc root of another namespace, only those of the same name there that the proc root's
 * /proc/net/dev also lists are read.
 *
 * Cost: three ioctls per interface per gathering on one socket kept open, one read of /proc/net/dev
 * (bench/ethtool-cost.mjs).
 */
import { LABEL } from '../../catalog';
import { globMatcher } from '../../config';
import { describeError } from '../../errors';
import { openEthtoolSocket, type EthtoolSocket } from '../../kernel/ethtool-ioctl';
import { selectDriverStatistics, type LeftOut } from '../../kernel/ethtool';
import type { Sample, Source, SourceContext } from '../../source';
import { NETDEV_STATISTICS } from '../../kernel/net-dev';
import { interfaceSelection, SYSFS_EXTRA_STATISTICS } from './netdev';
import { netDevOnce } from './procfs-reads';
import { findUplinks, withLowerDevices } from './uplinks';

/** Statistic names the netdev source exports for an interface: a driver counter of the same name is left out. */
export const NETDEV_STATISTIC_NAMES: ReadonlySet<string> = new Set([...NETDEV_STATISTICS, ...SYSFS_EXTRA_STATISTICS]);

/** The interfaces to read, in order: configured globs, else the uplinks and the devices below them. */
export function ethtoolTargets(ctx: Pick<SourceContext, 'config' | 'fs'>, present: readonly string[]): string[] {
  const selection = interfaceSelection(ctx.config);
  const configured = ctx.config.ethtoolInterfaces;
  const candidates =
    configured.length > 0
      ? present.filter(globMatcher(configured))
      : withLowerDevices(ctx.fs, findUplinks(ctx, present).uplinks);
  return candidates.filter(
    (name) => present.includes(name) && selection.reported(name) && (selection.perPod || !selection.isPod(name)),
  );
}

/** One line for the status page about what an interface's selection left out, or undefined when nothing was. */
export function leftOutNote(ifname: string, leftOut: LeftOut, cap: number): string | undefined {
  const parts: string[] = [];
  if (leftOut.beyondCap > 0) parts.push(`${leftOut.beyondCap} beyond --ethtool-max-statistics ${cap}`);
  if (leftOut.inexact > 0) parts.push(`${leftOut.inexact} above 2^53`);
  if (leftOut.duplicate > 0) parts.push(`${leftOut.duplicate} repeated or unnamed`);
  return parts.length > 0 ? `${ifname}: ${parts.join(', ')} left out` : undefined;
}

export function createEthtoolSource(): Source {
  let note: string | undefined;
  // Opened at the first gathering and kept (loading libc through koffi costs more than the ioctls); closed by stop.
  let socket: EthtoolSocket | undefined;
  return {
    name: 'ethtool',
    description:
      'NIC driver statistics (ethtool -S, SIOCETHTOOL ioctl) of the uplinks and the devices below them, or --ethtool-interfaces',
    platforms: ['linux'],
    metrics: ['interfaceStats'],
    collect(ctx) {
      const cap = ctx.config.ethtoolMaxStatistics;
      note = undefined;
      if (cap === 0) {
        note = 'off (--ethtool-max-statistics 0)';
        return {};
      }
      // The names of the namespace the socket is opened in (the proc root's): /proc/net/dev, not sysfs, which shows
      // the namespace it was mounted from (--sys-path: the collector's own under --proc-path /proc/<pid>).
      const targets = ethtoolTargets(
        ctx,
        netDevOnce(ctx).map((row) => row.name),
      );
      if (targets.length === 0) {
        note = 'no interface to read (no uplink, or none matches --ethtool-interfaces)';
        return {};
      }
      const samples: Sample<'interfaceStats'>[] = [];
      const notes: string[] = [];
      let failures = 0;
      socket ??= openEthtoolSocket(ctx.fs.procPath);
      for (const ifname of targets) {
        let result;
        try {
          result = socket.read(ifname);
        } catch (error) {
          // One interface failing (a driver bug, a set changing twice) does not hide the others.
          notes.push(`${ifname}: ${describeError(error)}`);
          failures++;
          continue;
        }
        if (result.kind !== 'statistics') continue;
        const { statistics, leftOut } = selectDriverStatistics(
          result.read.names,
          result.read.values,
          NETDEV_STATISTIC_NAMES,
          cap,
        );
        for (const { name, value } of statistics) {
          samples.push({ labels: { [LABEL.interfaceName]: ifname, [LABEL.statisticName]: name }, value });
        }
        const left = leftOutNote(ifname, leftOut, cap);
        if (left) notes.push(left);
      }
      if (failures === targets.length) throw new Error(notes.join('; '));
      note = notes.length > 0 ? notes.join('; ') : undefined;
      return samples.length > 0 ? { interfaceStats: samples } : {};
    },
    note: () => note,
    stop() {
      socket?.close();
      socket = undefined;
      note = undefined;
      return Promise.resolve();
    },
  };
}
