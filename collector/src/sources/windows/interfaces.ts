/**
 * Network interfaces on Windows: the MIB_IF_ROW2 rows of GetIfTable2 (64-bit counters). Fills kappie_interface_stats
 * for every interface, with container vNICs summed into interface_name="pod_interfaces" by default (as pod veths are
 * on Linux), and kappie_forward_count/bytes from the uplink adapters.
 *
 * Statistic names are the /proc/net/dev names Linux nodes report (rx_bytes, tx_dropped, ...) so dashboards need one
 * query for both OSes; the GetIfTable2 field behind each is in INTERFACE_STATISTICS.
 */
import { DIRECTION, LABEL, POD_INTERFACES_AGGREGATE } from '../../catalog';
import { globMatcher, type CollectorConfig } from '../../config';
import type { Sample, Source } from '../../source';
import { BinaryReader } from './binary-reader';
import { addReading, MonotonicSums } from './counter-sums';
import { MIB_IF_ROW2_SIZE, MIB_IF_TABLE2_ROWS_OFFSET, readIfTable2 } from './iphlpapi';

/** MIB_IF_ROW2 offsets on x64 (netioapi.h field order, natural alignment; sizeof = 1352). */
const ROW = {
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

export interface InterfaceSamples {
  readonly interfaceStats: Sample<'interfaceStats'>[];
  readonly forwardCount: Sample<'forwardCount'>[];
  readonly forwardBytes: Sample<'forwardBytes'>[];
}

/**
 * Samples of one gathering. `podSums` keeps the pod_interfaces totals monotonic when container vNICs come and go
 * (a deleted pod's counts stay in the total instead of making it fall).
 */
export function interfaceSamples(
  rows: readonly IfRow[],
  selection: InterfaceSelection,
  podSums: MonotonicSums,
): InterfaceSamples {
  const included = selection.interfaceInclude.length > 0 ? globMatcher(selection.interfaceInclude) : () => true;
  const excluded = globMatcher(selection.interfaceExclude);
  const isPod = globMatcher(selection.podInterfaces);
  const perInterface = new Map<string, Map<string, number>>();
  const podReadings = new Map<string, Map<string, number>>();
  for (const row of rows) {
    if (!isReportable(row) || !included(row.alias) || excluded(row.alias)) continue;
    const aggregate = isPod(row.alias) && !selection.perPodInterfaceStats;
    const member = `${row.index}:${row.alias}`;
    for (const [statistic, value] of STATISTIC_ENTRIES) {
      if (aggregate) {
        addReading(podReadings, statistic, member, value(row.counters));
      } else {
        // Aliases are unique on Windows; should two rows share one, their counts are summed, not overwritten.
        addReading(perInterface, row.alias, statistic, value(row.counters));
      }
    }
  }
  const interfaceStats: Sample<'interfaceStats'>[] = [];
  for (const [name, statistics] of perInterface) {
    for (const [statistic, value] of statistics) {
      interfaceStats.push({ labels: { [LABEL.interfaceName]: name, [LABEL.statisticName]: statistic }, value });
    }
  }
  for (const [statistic, value] of podSums.update(podReadings)) {
    interfaceStats.push({
      labels: { [LABEL.interfaceName]: POD_INTERFACES_AGGREGATE, [LABEL.statisticName]: statistic },
      value,
    });
  }
  const uplinks = uplinkRows(rows, selection.uplinkInterfaces);
  // No uplink found: no forward series at all, rather than a zero that reads as "no traffic".
  if (uplinks.length === 0) return { interfaceStats, forwardCount: [], forwardBytes: [] };
  const sum = (pick: (row: IfRow) => number) => uplinks.reduce((total, row) => total + pick(row), 0);
  return {
    interfaceStats,
    forwardCount: [
      { labels: { [LABEL.direction]: DIRECTION.ingress }, value: sum((row) => receivedPackets(row.counters)) },
      { labels: { [LABEL.direction]: DIRECTION.egress }, value: sum((row) => sentPackets(row.counters)) },
    ],
    forwardBytes: [
      { labels: { [LABEL.direction]: DIRECTION.ingress }, value: sum((row) => row.counters.InOctets) },
      { labels: { [LABEL.direction]: DIRECTION.egress }, value: sum((row) => row.counters.OutOctets) },
    ],
  };
}

const podSums = new MonotonicSums('restart');
let uplinkNote: string | undefined;

export const windowsInterfacesSource: Source = {
  name: 'windows_interfaces',
  description: 'GetIfTable2: interface counters, and forward counts of the uplink adapters',
  platforms: ['windows'],
  metrics: ['interfaceStats', 'forwardCount', 'forwardBytes'],
  async collect(ctx) {
    const samples = interfaceSamples(decodeIfTable2(await readIfTable2()), ctx.config, podSums);
    uplinkNote =
      samples.forwardCount.length === 0
        ? 'no uplink adapter found (set --uplink-interfaces): kappie_forward_* not reported'
        : undefined;
    return { ...samples };
  },
  note: () => uplinkNote,
};
