/**
 * `kappie snapshot`: one gathering as tables a person reads on a node (kubectl exec): where the numbers came from,
 * drops by reason, TCP states, top remote peers, TCP flags, interfaces, protocol counters, and the sources' health.
 * An empty table says why it is empty. Tables and prose fit the given width (the terminal's; text-table.ts).
 * Pure: gathering and origin in, text out.
 */
import { DIRECTION, LABEL, METRICS, TCP_FLAGS, type MetricKey } from './catalog';
import type { Gathering, SourceStatus } from './gatherer';
import type { SnapshotOrigin } from './snapshot-origin';
import type { SampleView } from './source';
import { DEFAULT_WIDTH, prose, table } from './text-table';
import { KERNEL_COUNTERS_STATUS } from './sources/linux/drops/drops-source';

export interface SnapshotTableInput {
  readonly gathering: Gathering;
  readonly origin: SnapshotOrigin;
  /** The source names (as --sources selects them) that fill each metric, to explain an empty table. */
  readonly metricSources: ReadonlyMap<MetricKey, readonly string[]>;
  /** Characters per line (the terminal's columns); DEFAULT_WIDTH (text-table.ts) when not a terminal. */
  readonly width?: number;
}

function samplesOf(gathering: Gathering, key: MetricKey): SampleView[] {
  return gathering.samples[key] ?? [];
}

function byValueDescending(a: SampleView, b: SampleView): number {
  return b.value - a.value;
}

/** A titled block; `body` is a table, or a note (in parentheses) that says why there is no table. */
function section(title: string, body: string | { note: string }, width: number): string {
  const text = typeof body === 'string' ? body : prose(`(${body.note})`, width, '  ');
  return `${prose(title, width)}\n${text}\n`;
}

function labelRows(samples: readonly SampleView[], labels: readonly string[], limit = Infinity): string[][] {
  return [...samples]
    .sort(byValueDescending)
    .slice(0, limit)
    .map((s) => [...labels.map((label) => s.labels[label] ?? ''), String(s.value)]);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The status page of the collector whose /metrics is `url`. */
function statusPageOf(url: string): string {
  return new URL('/', url).toString();
}

/** What the snapshot shows and where it came from: the first lines of the output. */
function originLine(origin: SnapshotOrigin, gathering: Gathering): string {
  if (origin.kind === 'collector') {
    const node = origin.nodeName === undefined ? '' : ` on node ${origin.nodeName}`;
    return (
      `From the collector serving ${origin.url}${node}, scraped at ${iso(origin.scrapedAt)}: its totals ` +
      `(metric prefix ${origin.metricPrefix}; \`--from none\` gathers here instead).`
    );
  }
  const looked =
    origin.lookedFor === undefined
      ? ' (--from none)'
      : ` (no collector answered at ${origin.lookedFor}; --from URL names one)`;
  return `Gathered by this snapshot at ${iso(gathering.at)}${looked}.`;
}

/** The statuses of the sources that fill `key`. */
function statusesFor(input: SnapshotTableInput, key: MetricKey): SourceStatus[] {
  const names = input.metricSources.get(key) ?? [];
  return input.gathering.sources.filter((status) => names.includes(status.source));
}

/** Why the table of `key` is empty: its source was not run, is down (and why), or counted nothing. */
function whyEmpty(input: SnapshotTableInput, key: MetricKey, nothingCounted: string): string {
  const statuses = statusesFor(input, key);
  const { origin } = input;
  if (statuses.length === 0) {
    const names = (input.metricSources.get(key) ?? []).join(' or ');
    return origin.kind === 'collector'
      ? `not exported by that collector: it does not run ${names}`
      : `not gathered: ${names} was not run, see --sources`;
  }
  const down = statuses.find((status) => !status.up);
  if (down) {
    const reason = down.reason ?? (origin.kind === 'collector' ? `see ${statusPageOf(origin.url)}` : 'no reason given');
    return `no data: source ${down.name} is DOWN: ${reason}`;
  }
  return nothingCounted;
}

/**
 * Why a collector's /metrics can show 0 for drops it has counted: a reason seen for the first time is exported at 0 for
 * --new-series-hold seconds (series-birth.ts) so that Prometheus' increase() sees the whole burst.
 */
const HELD_AT_ZERO =
  'first appeared less than --new-series-hold (90 s by default) ago: they read 0 on /metrics until their hold ends ' +
  '(`kappie snapshot --from none` counts here)';

/** The drops title: over which span the counts are, and how they were counted. */
function dropsTitle(input: SnapshotTableInput): { title: string; nothing: string } {
  const { origin, gathering } = input;
  if (origin.kind === 'collector') {
    const counters = gathering.sources.some((s) => s.name === KERNEL_COUNTERS_STATUS && s.up);
    return counters
      ? {
          title: "Drops by reason and direction: the collector's kernel drop counters (since boot, coarser reasons)",
          nothing: 'no drops since boot',
        }
      : {
          title: 'Drops by reason and direction: counted by the collector since it started (tracefs events)',
          nothing: `no drops since the collector started, or only reasons that ${HELD_AT_ZERO}`,
        };
  }
  const drops = origin.drops;
  switch (drops.countedBy) {
    case 'tracefs_events':
      return {
        title:
          `Drops by reason and direction: counted for ${drops.windowSeconds} s in tracefs instance ` +
          `${drops.tracefsInstance} (${iso(drops.from)} to ${iso(drops.to)}; --duration sets how long)`,
        nothing: `no drops in ${drops.windowSeconds} s`,
      };
    case 'kernel_counters':
      return {
        title: `Drops by reason and direction: kernel drop counters, totals since boot (${drops.why})`,
        nothing: 'no drops since boot',
      };
    case 'none':
      return { title: 'Drops by reason and direction', nothing: 'no drops' };
  }
}

function dropsSection(input: SnapshotTableInput, width: number): string {
  const { title, nothing } = dropsTitle(input);
  const all = samplesOf(input.gathering, 'dropCount');
  const counted = all.filter((s) => s.value !== 0);
  if (counted.length === 0) return section(title, { note: whyEmpty(input, 'dropCount', nothing) }, width);
  const limit = 30;
  const rows = labelRows(counted, [LABEL.reason, LABEL.direction], limit);
  const notes: string[] = [];
  if (counted.length > limit) notes.push(`${counted.length - limit} more reasons not shown (--json has them all)`);
  if (all.length > counted.length) {
    const held = input.origin.kind === 'collector' ? `; a reason at 0 may be one that ${HELD_AT_ZERO}` : '';
    notes.push(`${all.length - counted.length} reasons at 0 not shown${held}`);
  }
  const body = table([LABEL.reason, LABEL.direction, 'packets'], rows, width);
  return section(title, notes.length === 0 ? body : `${body}\n${prose(`(${notes.join('; ')})`, width, '  ')}`, width);
}

/** Segments per TCP flag, one row per flag in the catalog's order and a column per direction. */
function tcpFlagSection(input: SnapshotTableInput, width: number): string {
  const samples = samplesOf(input.gathering, 'tcpFlagCounters');
  const title =
    input.origin.kind === 'collector'
      ? "TCP segments by flag (the collector's nftables counters, since it started)"
      : 'TCP segments by flag (the nftables table of the collector serving here, since it started)';
  if (samples.length === 0) {
    return section(title, { note: whyEmpty(input, 'tcpFlagCounters', 'no segments counted') }, width);
  }
  const directions = [DIRECTION.ingress, DIRECTION.egress] as const;
  const value = (flag: string, direction: string) =>
    samples.find((s) => s.labels[LABEL.flag] === flag && s.labels[LABEL.direction] === direction)?.value;
  const rows = TCP_FLAGS.map((flag) => [flag, ...directions.map((d) => String(value(flag, d) ?? '-'))]);
  return section(title, table([LABEL.flag, ...directions], rows, width), width);
}

const INTERFACE_STATISTICS = [
  'rx_bytes',
  'rx_packets',
  'rx_errors',
  'rx_dropped',
  'tx_bytes',
  'tx_packets',
  'tx_errors',
  'tx_dropped',
];

function interfacesSection(input: SnapshotTableInput, width: number): string {
  const interfaces = samplesOf(input.gathering, 'interfaceStats');
  if (interfaces.length === 0) {
    return section('Interfaces', { note: whyEmpty(input, 'interfaceStats', 'no interfaces') }, width);
  }
  const byInterface = new Map<string, Map<string, number>>();
  for (const s of interfaces) {
    const name = s.labels[LABEL.interfaceName] ?? '';
    const stats = byInterface.get(name) ?? new Map<string, number>();
    stats.set(s.labels[LABEL.statisticName] ?? '', s.value);
    byInterface.set(name, stats);
  }
  const rows = [...byInterface.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, stats]) => [name, ...INTERFACE_STATISTICS.map((w) => String(stats.get(w) ?? '-'))]);
  return section('Interfaces', table(['interface', ...INTERFACE_STATISTICS], rows, width), width);
}

function labelSection(
  input: SnapshotTableInput,
  title: string,
  key: MetricKey,
  labels: readonly string[],
  valueHeader: string,
  width: number,
  options: { limit?: number; nonZero?: boolean } = {},
): string {
  const samples = samplesOf(input.gathering, key).filter((s) => !options.nonZero || s.value !== 0);
  if (samples.length === 0) return section(title, { note: whyEmpty(input, key, 'none') }, width);
  return section(title, table([...labels, valueHeader], labelRows(samples, labels, options.limit), width), width);
}

function sourcesSection(input: SnapshotTableInput, width: number): string {
  const { origin, gathering } = input;
  const rows = gathering.sources.map((s) => [
    s.name,
    s.up ? 'up' : 'DOWN',
    `${(s.durationSeconds * 1000).toFixed(1)} ms`,
    s.reason ?? (!s.up && origin.kind === 'collector' ? `see ${statusPageOf(origin.url)}` : ''),
  ]);
  const title =
    origin.kind === 'collector' ? "Sources (the collector's, as of its last gathering)" : 'Sources (this snapshot)';
  return section(title, table(['source', 'state', 'took', 'reason'], rows, width), width);
}

export function renderSnapshot(input: SnapshotTableInput): string {
  const width = input.width ?? DEFAULT_WIDTH;
  const parts: string[] = [`${prose(originLine(input.origin, input.gathering), width)}\n`];
  parts.push(dropsSection(input, width));
  parts.push(labelSection(input, 'TCP sockets by state', 'tcpState', [LABEL.state], 'sockets', width));
  parts.push(
    labelSection(input, 'Top remote TCP peers', 'tcpConnectionRemote', [LABEL.address, LABEL.port], 'sockets', width, {
      limit: 20,
    }),
  );
  parts.push(tcpFlagSection(input, width));
  parts.push(interfacesSection(input, width));
  for (const key of ['tcpConnectionStats', 'ipConnectionStats', 'udpConnectionStats'] as const) {
    parts.push(
      labelSection(input, `${METRICS[key].name} (non-zero)`, key, [LABEL.statisticName], 'count', width, {
        nonZero: true,
      }),
    );
  }
  const udp = samplesOf(input.gathering, 'udpActiveSockets')[0];
  const udpText = udp ? String(udp.value) : `(${whyEmpty(input, 'udpActiveSockets', 'none')})`;
  parts.push(`${prose(`UDP sockets in use: ${udpText}`, width)}\n`);
  parts.push(sourcesSection(input, width));
  return parts.join('\n');
}
