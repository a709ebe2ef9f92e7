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
import { MonotonicSum } from '../../monotonic-sum';
import { interfaceIncarnations } from './interface-incarnations';
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
  /** The 16 counters in NETDEV_STATISTICS order (a vector, so summing 1000 pod interfaces stays cheap). */
  readonly values: readonly number[];
}

const COLUMN = Object.fromEntries(NETDEV_STATISTICS.map((statistic, column) => [statistic, column])) as Record<
  NetDevStatistic,
  number
>;

/** One counter of an interface by its name. */
export function counterOf(netdev: NetDevInterface, statistic: NetDevStatistic): number {
  return netdev.values[COLUMN[statistic]]!;
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

const SPACE = 0x20;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * The 16 space-separated decimal counters of a /proc/net/dev line from `start`, or what is wrong with them. A
 * character scan, not split+Number: at 1000 interfaces it is ~20 times faster, and a scrape reads this file twice.
 */
function parseCounterRow(line: string, start: number): number[] | string {
  const values: number[] = [];
  let value = -1;
  for (let i = start; i <= line.length; i++) {
    const code = i < line.length ? line.charCodeAt(i) : SPACE;
    if (code >= ZERO && code <= NINE) {
      value = (value < 0 ? 0 : value * 10) + (code - ZERO);
      if (value > Number.MAX_SAFE_INTEGER)
        return `counter ${values.length + 1} is beyond 2^53 and cannot be exported exactly`;
    } else if (code === SPACE || code === 0x09) {
      if (value >= 0) values.push(value);
      value = -1;
    } else {
      return `unexpected character ${JSON.stringify(line[i])} among the counters`;
    }
  }
  return values.length === NETDEV_STATISTICS.length
    ? values
    : `expected ${NETDEV_STATISTICS.length} counters, got ${values.length}`;
}

/** Parses /proc/net/dev: `  NAME: 16 counters` per interface after two header lines. */
export function parseNetDev(text: string, file = 'net/dev'): NetDevInterface[] {
  const lines = procfsLines(text, file);
  checkHeader(lines, file);
  const seen = new Set<string>();
  const interfaces: NetDevInterface[] = [];
  for (let index = 2; index < lines.length; index++) {
    const lineNumber = index + 1;
    const line = lines[index]!;
    // Interface names never hold ':' or whitespace (dev_valid_name), so the first ':' ends the name.
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim();
    if (colon < 0 || !/^[^\s:]+$/.test(name)) {
      throw new ParseError(file, `expected "NAME: counters", got ${JSON.stringify(line.slice(0, 80))}`, lineNumber);
    }
    if (seen.has(name)) throw new ParseError(file, `interface ${name} appears twice`, lineNumber);
    seen.add(name);
    const values = parseCounterRow(line, colon + 1);
    if (typeof values === 'string') throw new ParseError(file, `${name}: ${values}`, lineNumber);
    interfaces.push({ name, values });
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
  for (const { name, values } of interfaces) {
    if (!selection.reported(name)) continue;
    if (selection.isPod(name) && !selection.perPod) {
      const ifindex = incarnations.get(name);
      if (ifindex !== undefined) pods.set(ifindex, values);
      continue;
    }
    NETDEV_STATISTICS.forEach((statistic, column) => samples.push(sample(name, statistic, values[column]!)));
    for (const [statistic, value] of Object.entries(extras.get(name) ?? {})) {
      samples.push(sample(name, statistic, value));
    }
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
  let podSums = newPodSums();
  return {
    name: 'netdev',
    description: '/proc/net/dev (+ sysfs rx_missed/crc/nohandler of non-pod interfaces): interface counters',
    platforms: ['linux'],
    metrics: ['interfaceStats'],
    collect(ctx) {
      const selection = interfaceSelection(ctx.config);
      const interfaces = parseNetDev(ctx.fs.readProc('net/dev'), 'net/dev');
      const extras = readSysfsExtras(ctx, interfaces, selection);
      // Only the pod sum needs identities: none are read when pod interfaces are reported one by one.
      const incarnations = selection.perPod
        ? new Map<string, number>()
        : interfaceIncarnations(
            ctx.fs,
            interfaces.map(({ name }) => name),
          );
      const samples: Samples = {};
      addSamples(
        samples,
        'interfaceStats',
        interfaceStatsSamples(interfaces, extras, selection, podSums, incarnations),
      );
      return samples;
    },
    stop() {
      podSums = newPodSums();
      return Promise.resolve();
    },
  };
}
