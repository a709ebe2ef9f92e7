/**
 * /proc/net/dev: every interface's counters in one file, plus three sysfs counters it lacks for the node's own
 * interfaces. Fills kappie_interface_stats{interface_name, statistic_name}.
 *
 * One procfs read covers every interface (node_exporter's sysfs netclass reads, one file per attribute per interface,
 * are a known scrape-killer on busy Kubernetes nodes). Pod-side interfaces are summed into one interface_name by
 * default, so the series count stays flat however many pods the node runs.
 */
import { POD_INTERFACES_AGGREGATE, LABEL } from '../../catalog';
import { globMatcher, type CollectorConfig } from '../../config';
import { ParseError } from '../../errors';
import { addSamples, type Sample, type Samples, type Source, type SourceContext } from '../../source';
import { MonotonicSum } from './monotonic-sum';
import { parseCount, procfsLines } from './procfs-text';

/**
 * The 16 columns of /proc/net/dev in file order, named as /sys/class/net/IF/statistics names them. Three columns are
 * sums in procfs (net/core/net-procfs.c), and we export the procfs value under the sysfs name:
 * - rx_dropped = rx_dropped + rx_missed_errors (the NIC's ring overflows count as drops here);
 * - rx_frame_errors = rx_length_errors + rx_over_errors + rx_crc_errors + rx_frame_errors;
 * - tx_carrier_errors = tx_carrier_errors + tx_aborted_errors + tx_window_errors + tx_heartbeat_errors.
 */
export const NETDEV_STATISTICS = [
  'rx_bytes',
  'rx_packets',
  'rx_errors',
  'rx_dropped',
  'rx_fifo_errors',
  'rx_frame_errors',
  'rx_compressed',
  'multicast',
  'tx_bytes',
  'tx_packets',
  'tx_errors',
  'tx_dropped',
  'tx_fifo_errors',
  'collisions',
  'tx_carrier_errors',
  'tx_compressed',
] as const;
export type NetDevStatistic = (typeof NETDEV_STATISTICS)[number];

/**
 * sysfs counters read for the node's own (non-pod) interfaces only, each one open/read/close per interface per
 * gathering, so the list is short: the three that tell an operator something /proc/net/dev cannot.
 * - rx_missed_errors: the NIC ran out of ring buffer (hidden inside procfs' rx_dropped): tune the ring, not the stack.
 * - rx_crc_errors: damaged frames on the wire (hidden inside procfs' rx_frame_errors): a cable or port problem.
 * - rx_nohandler: packets no protocol wanted (e.g. on a bond's inactive slave); not in /proc/net/dev at all.
 * Pod interfaces are veths: their drivers never set these, and reading them would cost files per pod.
 */
export const SYSFS_EXTRA_STATISTICS = ['rx_missed_errors', 'rx_crc_errors', 'rx_nohandler'] as const;

export interface NetDevInterface {
  readonly name: string;
  readonly counters: Readonly<Record<NetDevStatistic, number>>;
}

/** The two header lines the kernel has written since 2.6; other columns would mean we misname every number. */
const HEADER_RECEIVE = ['bytes', 'packets', 'errs', 'drop', 'fifo', 'frame', 'compressed', 'multicast'];
const HEADER_TRANSMIT = ['bytes', 'packets', 'errs', 'drop', 'fifo', 'colls', 'carrier', 'compressed'];

function checkHeader(lines: readonly string[], file: string): void {
  if (lines.length < 2 || !/^Inter-\|\s*Receive\s*\|\s*Transmit\s*$/.test(lines[0]!)) {
    throw new ParseError(file, 'expected the "Inter-| Receive | Transmit" header line', 1);
  }
  const parts = lines[1]!.split('|');
  const words = (part: string | undefined) => (part ?? '').trim().split(/\s+/);
  if (
    parts.length !== 3 ||
    parts[0]!.trim() !== 'face' ||
    words(parts[1]).join(' ') !== HEADER_RECEIVE.join(' ') ||
    words(parts[2]).join(' ') !== HEADER_TRANSMIT.join(' ')
  ) {
    throw new ParseError(file, `unexpected column header ${JSON.stringify(lines[1]!.slice(0, 160))}`, 2);
  }
}

/** Parses /proc/net/dev: `  NAME: 16 counters` per interface after two header lines. */
export function parseNetDev(text: string, file = 'net/dev'): NetDevInterface[] {
  const lines = procfsLines(text, file);
  checkHeader(lines, file);
  const seen = new Set<string>();
  const interfaces: NetDevInterface[] = [];
  for (let index = 2; index < lines.length; index++) {
    const lineNumber = index + 1;
    // Interface names never hold ':' or whitespace (dev_valid_name), so the first ':' ends the name.
    const match = /^\s*([^\s:]+):(.*)$/.exec(lines[index]!);
    if (!match) {
      throw new ParseError(
        file,
        `expected "NAME: counters", got ${JSON.stringify(lines[index]!.slice(0, 80))}`,
        lineNumber,
      );
    }
    const name = match[1]!;
    if (seen.has(name)) throw new ParseError(file, `interface ${name} appears twice`, lineNumber);
    seen.add(name);
    const words = match[2]!.trim().split(/\s+/);
    if (words.length !== NETDEV_STATISTICS.length) {
      throw new ParseError(
        file,
        `${name}: expected ${NETDEV_STATISTICS.length} counters, got ${words.length}`,
        lineNumber,
      );
    }
    const counters = {} as Record<NetDevStatistic, number>;
    NETDEV_STATISTICS.forEach((statistic, column) => {
      counters[statistic] = parseCount(words[column], file, `${name} ${statistic}`, lineNumber);
    });
    interfaces.push({ name, counters });
  }
  return interfaces;
}

/** A sysfs counter file: one decimal number and a newline. */
export function parseSysfsCounter(text: string, file: string): number {
  const lines = procfsLines(text, file);
  if (lines.length !== 1) throw new ParseError(file, `expected one line, got ${lines.length}`);
  return parseCount(lines[0], file, 'counter', 1);
}

/** Which interfaces are reported, and which are pod-side, from the configuration. */
export interface InterfaceSelection {
  readonly reported: (name: string) => boolean;
  readonly isPod: (name: string) => boolean;
  /** Report pod interfaces one by one instead of summed. */
  readonly perPod: boolean;
}

export function interfaceSelection(
  config: Pick<CollectorConfig, 'interfaceInclude' | 'interfaceExclude' | 'podInterfaces' | 'perPodInterfaceStats'>,
): InterfaceSelection {
  const included = globMatcher(config.interfaceInclude);
  const excluded = globMatcher(config.interfaceExclude);
  const includeAll = config.interfaceInclude.length === 0;
  return {
    reported: (name) => (includeAll || included(name)) && !excluded(name),
    isPod: globMatcher(config.podInterfaces),
    perPod: config.perPodInterfaceStats,
  };
}

/** Per statistic, the never-decreasing sum over the pod interfaces (see MonotonicSum). */
export type PodSums = Map<string, MonotonicSum>;

/**
 * The kappie_interface_stats samples: one per reported interface and statistic, the pod interfaces summed into
 * POD_INTERFACES_AGGREGATE (present while at least one pod interface exists) unless per-pod. `extras` holds the
 * sysfs counters read for some interfaces. Interfaces absent from `interfaces` produce nothing.
 */
export function interfaceStatsSamples(
  interfaces: readonly NetDevInterface[],
  extras: ReadonlyMap<string, Readonly<Record<string, number>>>,
  selection: InterfaceSelection,
  podSums: PodSums,
): Sample[] {
  const samples: Sample[] = [];
  const podMembers = new Map<string, Map<string, number>>();
  const sample = (interfaceName: string, statisticName: string, value: number): Sample => ({
    labels: { [LABEL.interfaceName]: interfaceName, [LABEL.statisticName]: statisticName },
    value,
  });
  for (const { name, counters } of interfaces) {
    if (!selection.reported(name)) continue;
    if (selection.isPod(name) && !selection.perPod) {
      for (const statistic of NETDEV_STATISTICS) {
        const members = podMembers.get(statistic) ?? new Map<string, number>();
        members.set(name, counters[statistic]);
        podMembers.set(statistic, members);
      }
      continue;
    }
    for (const statistic of NETDEV_STATISTICS) samples.push(sample(name, statistic, counters[statistic]));
    for (const [statistic, value] of Object.entries(extras.get(name) ?? {})) {
      samples.push(sample(name, statistic, value));
    }
  }
  for (const statistic of NETDEV_STATISTICS) {
    const sum = podSums.get(statistic) ?? new MonotonicSum();
    podSums.set(statistic, sum);
    // Updating with no members forgets them all, so a veth deleted while no pod ran is not counted again later.
    const total = sum.update(podMembers.get(statistic) ?? new Map());
    if (podMembers.size > 0) samples.push(sample(POD_INTERFACES_AGGREGATE, statistic, total));
  }
  return samples;
}

/**
 * Reads the sysfs extras of the reported non-pod interfaces. An interface deleted since /proc/net/dev was read, or a
 * driver without the attribute, has no file: that value is absent, not an error.
 */
function readSysfsExtras(
  ctx: SourceContext,
  interfaces: readonly NetDevInterface[],
  selection: InterfaceSelection,
): Map<string, Record<string, number>> {
  const extras = new Map<string, Record<string, number>>();
  for (const { name } of interfaces) {
    if (!selection.reported(name) || selection.isPod(name)) continue;
    const values: Record<string, number> = {};
    for (const statistic of SYSFS_EXTRA_STATISTICS) {
      const file = `class/net/${name}/statistics/${statistic}`;
      let text: string;
      try {
        text = ctx.fs.readSys(file);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENODEV') continue;
        throw error;
      }
      values[statistic] = parseSysfsCounter(text, file);
    }
    extras.set(name, values);
  }
  return extras;
}

export function createNetdevSource(): Source {
  let podSums: PodSums = new Map();
  return {
    name: 'netdev',
    description: '/proc/net/dev (+ sysfs rx_missed/crc/nohandler of non-pod interfaces): interface counters',
    platforms: ['linux'],
    metrics: ['interfaceStats'],
    collect(ctx) {
      const selection = interfaceSelection(ctx.config);
      const interfaces = parseNetDev(ctx.fs.readProc('net/dev'), 'net/dev');
      const extras = readSysfsExtras(ctx, interfaces, selection);
      const samples: Samples = {};
      addSamples(samples, 'interfaceStats', interfaceStatsSamples(interfaces, extras, selection, podSums));
      return samples;
    },
    stop() {
      podSums = new Map();
      return Promise.resolve();
    },
  };
}

export const netdevSource: Source = createNetdevSource();
