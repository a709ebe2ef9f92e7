/**
 * Network interfaces on Windows: the MIB_IF_ROW2 rows of GetIfTable2 (64-bit counters). Fills kappie_interface_stats
 * for every interface, with container vNICs summed into interface_name="pod_interfaces" by default (as pod veths are
 * on Linux), and kappie_forward_count/bytes from the uplink adapters.
 *
 * Statistic names are the /proc/net/dev names Linux nodes report (rx_bytes, tx_dropped, ...) so dashboards need one
 * query for both OSes; the GetIfTable2 field behind each is in INTERFACE_STATISTICS.
 *
 * The pod_interfaces and forward totals are MonotonicSums whose members are adapters keyed by their NET_LUID: the
 * persistent identifier NDIS gives an interface, where the interface index "can change even if the computer does not
 * restart" (e.g. an adapter disabled and re-enabled) and the lowest free one is reused, and an alias can be renamed.
 */
import { LABEL, POD_INTERFACES_AGGREGATE } from '../../catalog';
import { globMatcher, type CollectorConfig } from '../../config';
import { MonotonicSum } from '../../monotonic-sum';
import type { Sample, Source } from '../../source';
import { forwardSamples, newForwardSums, type ForwardSamples, type UplinkCounters } from '../forward-totals';
import { BinaryReader } from './binary-reader';
import { createIpHelper, MIB_IF_ROW2_SIZE, MIB_IF_TABLE2_ROWS_OFFSET, type IpHelper } from './iphlpapi';

/** MIB_IF_ROW2 offsets on x64 (netioapi.h field order, natural alignment; sizeof = 1352). */
const ROW = {
  interfaceLuid: 0,
  interfaceIndex: 8,
  alias: 28,
  description: 542,
  /** WCHAR[IF_MAX_STRING_SIZE + 1] */
  stringChars: 257,
  type: 1128,
  /** InterfaceAndOperStatusFlags: one byte of bit fields, HardwareInterface first (bit 0), FilterInterface bit 1. */
  flags: 1152,
  operStatus: 1156,
  counters: {
    InOctets: 1208,
    InUcastPkts: 1216,
    InNUcastPkts: 1224,
    InDiscards: 1232,
    InErrors: 1240,
    InUnknownProtos: 1248,
    OutOctets: 1280,
    OutUcastPkts: 1288,
    OutNUcastPkts: 1296,
    OutDiscards: 1304,
    OutErrors: 1312,
  },
} as const;

type IfCounter = keyof typeof ROW.counters;
type IfCounters = Readonly<Record<IfCounter, number>>;
const COUNTER_FIELDS = Object.entries(ROW.counters) as [IfCounter, number][];

const HARDWARE_INTERFACE_BIT = 0x01;
const FILTER_INTERFACE_BIT = 0x02;
/** IF_OPER_STATUS */
export const IF_OPER_STATUS_UP = 1;
export const IF_OPER_STATUS_NOT_PRESENT = 6;
/** IFTYPE (ipifcons.h) */
export const IF_TYPE_SOFTWARE_LOOPBACK = 24;

export interface IfRow {
  /** NET_LUID as 16 hex digits: the interface's persistent identity (IfType in the top 16 bits, NetLuidIndex below). */
  readonly luid: string;
  readonly index: number;
  readonly alias: string;
  readonly description: string;
  readonly type: number;
  readonly hardware: boolean;
  /** An NDIS filter module's view of an adapter: same packets as the adapter, so never counted on its own. */
  readonly filter: boolean;
  readonly operStatus: number;
  readonly counters: IfCounters;
}

/** Decodes a MIB_IF_TABLE2: ULONG NumEntries, padding, then NumEntries rows of MIB_IF_ROW2 at offset 8. */
export function decodeIfTable2(bytes: Uint8Array): IfRow[] {
  const reader = new BinaryReader(bytes, 'MIB_IF_TABLE2');
  const entries = reader.u32(0, 'NumEntries');
  reader.require(MIB_IF_TABLE2_ROWS_OFFSET, entries * MIB_IF_ROW2_SIZE, `${entries} MIB_IF_ROW2 rows`);
  const rows: IfRow[] = [];
  for (let i = 0; i < entries; i++) {
    const base = MIB_IF_TABLE2_ROWS_OFFSET + i * MIB_IF_ROW2_SIZE;
    // Every row is inside the buffer (checked above): fields are read without a check each.
    const flags = reader.bytes[base + ROW.flags]!;
    const counters = {} as Record<IfCounter, number>;
    for (const [name, offset] of COUNTER_FIELDS) counters[name] = reader.u64InRange(base + offset);
    rows.push({
      luid: reader.u64HexInRange(base + ROW.interfaceLuid),
      index: reader.u32InRange(base + ROW.interfaceIndex),
      alias: reader.utf16z(base + ROW.alias, ROW.stringChars, 'Alias'),
      description: reader.utf16z(base + ROW.description, ROW.stringChars, 'Description'),
      type: reader.u32InRange(base + ROW.type),
      hardware: (flags & HARDWARE_INTERFACE_BIT) !== 0,
      filter: (flags & FILTER_INTERFACE_BIT) !== 0,
      operStatus: reader.u32InRange(base + ROW.operStatus),
      counters,
    });
  }
  return rows;
}

const receivedPackets = (c: IfCounters) => c.InUcastPkts + c.InNUcastPkts;
const sentPackets = (c: IfCounters) => c.OutUcastPkts + c.OutNUcastPkts;

/** statistic_name -> how it is made from a row (the Linux /proc/net/dev names; packets = unicast + non-unicast). */
export const INTERFACE_STATISTICS: Readonly<Record<string, (c: IfCounters) => number>> = {
  rx_bytes: (c) => c.InOctets,
  rx_packets: receivedPackets,
  rx_errors: (c) => c.InErrors,
  rx_dropped: (c) => c.InDiscards,
  rx_unknown_protos: (c) => c.InUnknownProtos,
  tx_bytes: (c) => c.OutOctets,
  tx_packets: sentPackets,
  tx_errors: (c) => c.OutErrors,
  tx_dropped: (c) => c.OutDiscards,
};

const STATISTIC_ENTRIES = Object.entries(INTERFACE_STATISTICS);

export type InterfaceSelection = Pick<
  CollectorConfig,
  'interfaceInclude' | 'interfaceExclude' | 'podInterfaces' | 'perPodInterfaceStats' | 'uplinkInterfaces'
>;

/**
 * The host's vNIC on the pod network: "Container NIC <hex>" (the friendly name vfpctrl gives its switch port), shown
 * by Windows as "vEthernet (Container NIC <hex>)". It carries the host's own traffic to and from pods, so it is never
 * summed into pod_interfaces, whatever --pod-interfaces says: a host-to-pod packet would count on it and on the pod.
 */
export function isHostVnic(alias: string): boolean {
  return /^(vEthernet \()?Container NIC [0-9a-f]+\)?$/i.test(alias);
}

/** Rows that are interfaces of their own: not filter-module views, not adapters Windows says are not present. */
function isReportable(row: IfRow): boolean {
  return !row.filter && row.operStatus !== IF_OPER_STATUS_NOT_PRESENT;
}

/**
 * The uplinks: the adapters named by --uplink-interfaces, else every physical adapter that is up (hardware, not a
 * filter view, not loopback). On a node whose NIC is bound to the Hyper-V switch, the physical adapter's counters are
 * everything that crossed the wire, pods and host alike.
 */
export function uplinkRows(rows: readonly IfRow[], uplinkGlobs: readonly string[]): IfRow[] {
  const reportable = rows.filter(isReportable);
  if (uplinkGlobs.length > 0) {
    const isUplink = globMatcher(uplinkGlobs);
    return reportable.filter((row) => isUplink(row.alias));
  }
  return reportable.filter(
    (row) => row.hardware && row.operStatus === IF_OPER_STATUS_UP && row.type !== IF_TYPE_SOFTWARE_LOOPBACK,
  );
}

export interface InterfaceSamples extends ForwardSamples {
  readonly interfaceStats: Sample<'interfaceStats'>[];
}

/** The running totals of one windows_interfaces source: pod_interfaces over container vNICs, forward over uplinks. */
export interface InterfaceTotals {
  /** Columns in INTERFACE_STATISTICS order; members are NET_LUIDs. */
  readonly pods: MonotonicSum;
  readonly uplinks: MonotonicSum;
}

export function newInterfaceTotals(): InterfaceTotals {
  return { pods: new MonotonicSum(), uplinks: newForwardSums() };
}

const uplinkCounters = (row: IfRow): UplinkCounters => ({
  rxPackets: receivedPackets(row.counters),
  rxBytes: row.counters.InOctets,
  txPackets: sentPackets(row.counters),
  txBytes: row.counters.OutOctets,
});

/**
 * Samples of one gathering. Every adapter in `rows` (the whole GetIfTable2 table) exists, so an adapter that leaves
 * the pods or the uplinks but stays in the table (an uplink gone down) is remembered and adds only its growth when it
 * comes back, and one that left the table is forgotten. pod_interfaces is reported once a pod vNIC has been seen.
 */
export function interfaceSamples(
  rows: readonly IfRow[],
  selection: InterfaceSelection,
  totals: InterfaceTotals,
): InterfaceSamples {
  const included = selection.interfaceInclude.length > 0 ? globMatcher(selection.interfaceInclude) : () => true;
  const excluded = globMatcher(selection.interfaceExclude);
  const isPod = globMatcher(selection.podInterfaces);
  const existing = new Set(rows.map((row) => row.luid));
  const perInterface = new Map<string, number[]>();
  const pods = new Map<string, number[]>();
  for (const row of rows) {
    if (!isReportable(row) || !included(row.alias) || excluded(row.alias)) continue;
    const values = STATISTIC_ENTRIES.map(([, value]) => value(row.counters));
    if (isPod(row.alias) && !isHostVnic(row.alias) && !selection.perPodInterfaceStats) {
      pods.set(row.luid, values);
    } else {
      // Aliases are unique on Windows; should two rows share one, their counts are summed, not overwritten.
      const sum = perInterface.get(row.alias);
      perInterface.set(row.alias, sum ? sum.map((total, column) => total + values[column]!) : values);
    }
  }
  const interfaceStats: Sample<'interfaceStats'>[] = [];
  const push = (name: string, values: readonly number[]) =>
    STATISTIC_ENTRIES.forEach(([statistic], column) =>
      interfaceStats.push({
        labels: { [LABEL.interfaceName]: name, [LABEL.statisticName]: statistic },
        value: values[column]!,
      }),
    );
  for (const [name, values] of perInterface) push(name, values);
  const podTotals = totals.pods.update(pods, existing);
  if (podTotals.length > 0) push(POD_INTERFACES_AGGREGATE, podTotals);
  const uplinks = new Map(uplinkRows(rows, selection.uplinkInterfaces).map((row) => [row.luid, uplinkCounters(row)]));
  return { interfaceStats, ...forwardSamples(uplinks, totals.uplinks, existing) };
}

const NO_UPLINK_NOTE = 'no uplink adapter found (set --uplink-interfaces): kappie_forward_* not reported';

/** The windows_interfaces source; `ipHelper` reads GetIfTable2 (its own IP Helper by default). */
export function createWindowsInterfacesSource(ipHelper: Pick<IpHelper, 'readIfTable2'> = createIpHelper()): Source {
  let totals = newInterfaceTotals();
  let uplinkNote: string | undefined;
  return {
    name: 'windows_interfaces',
    description: 'GetIfTable2: interface counters, and forward counts of the uplink adapters',
    platforms: ['windows'],
    metrics: ['interfaceStats', 'forwardCount', 'forwardBytes'],
    async collect(ctx) {
      const samples = interfaceSamples(decodeIfTable2(await ipHelper.readIfTable2()), ctx.config, totals);
      uplinkNote = samples.forwardCount.length === 0 ? NO_UPLINK_NOTE : undefined;
      return { ...samples };
    },
    note: () => uplinkNote,
    stop() {
      totals = newInterfaceTotals();
      uplinkNote = undefined;
      return Promise.resolve();
    },
  };
}
