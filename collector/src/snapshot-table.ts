/**
 * `kappie snapshot`: one gathering as tables a person reads on a node (kubectl exec): drops by reason, TCP states,
 * top remote peers, TCP flags, interfaces, protocol counters, and the sources' health. Pure: gathering in, text out.
 */
import { DIRECTION, LABEL, METRICS, TCP_FLAGS, type MetricKey } from './catalog';
import type { SampleView } from './source';
import type { Gathering } from './gatherer';

/** A text table: a header row, a rule, then the rows, columns padded to their widest cell (the last left unpadded). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const format = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 && !/^\d/.test(cell) ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [format(headers), format(widths.map((w) => '-'.repeat(w))), ...rows.map(format)].join('\n');
}

function samplesOf(gathering: Gathering, key: MetricKey): SampleView[] {
  return gathering.samples[key] ?? [];
}

function byValueDescending(a: SampleView, b: SampleView): number {
  return b.value - a.value;
}

function section(title: string, body: string | undefined): string {
  return `${title}\n${body ?? '  (no data: see the sources table below)'}\n`;
}

function labelTable(
  samples: SampleView[],
  labels: readonly string[],
  valueHeader: string,
  limit = Infinity,
): string | undefined {
  if (samples.length === 0) return undefined;
  const rows = [...samples]
    .sort(byValueDescending)
    .slice(0, limit)
    .map((s) => [...labels.map((label) => s.labels[label] ?? ''), String(s.value)]);
  return table([...labels, valueHeader], rows);
}

/** Segments per TCP flag, one row per flag in the catalog's order and a column per direction. */
function tcpFlagTable(samples: readonly SampleView[]): string | undefined {
  if (samples.length === 0) return undefined;
  const directions = [DIRECTION.ingress, DIRECTION.egress] as const;
  const value = (flag: string, direction: string) =>
    samples.find((s) => s.labels[LABEL.flag] === flag && s.labels[LABEL.direction] === direction)?.value;
  const rows = TCP_FLAGS.map((flag) => [flag, ...directions.map((d) => String(value(flag, d) ?? '-'))]);
  return table([LABEL.flag, ...directions], rows);
}

export function renderSnapshot(gathering: Gathering): string {
  const parts: string[] = [];
  parts.push(
    section(
      'Drops by reason and direction (packets since boot or since the collector started)',
      labelTable(samplesOf(gathering, 'dropCount'), [LABEL.reason, LABEL.direction], 'packets', 30),
    ),
  );
  parts.push(section('TCP sockets by state', labelTable(samplesOf(gathering, 'tcpState'), [LABEL.state], 'sockets')));
  parts.push(
    section(
      'Top remote TCP peers',
      labelTable(samplesOf(gathering, 'tcpConnectionRemote'), [LABEL.address, LABEL.port], 'sockets', 20),
    ),
  );
  parts.push(
    section(
      'TCP segments by flag (since the collector that owns the nftables table started)',
      tcpFlagTable(samplesOf(gathering, 'tcpFlagCounters')),
    ),
  );
  const interfaces = samplesOf(gathering, 'interfaceStats');
  if (interfaces.length > 0) {
    const wanted = [
      'rx_bytes',
      'rx_packets',
      'rx_errors',
      'rx_dropped',
      'tx_bytes',
      'tx_packets',
      'tx_errors',
      'tx_dropped',
    ];
    const byInterface = new Map<string, Map<string, number>>();
    for (const s of interfaces) {
      const name = s.labels[LABEL.interfaceName] ?? '';
      const stats = byInterface.get(name) ?? new Map<string, number>();
      stats.set(s.labels[LABEL.statisticName] ?? '', s.value);
      byInterface.set(name, stats);
    }
    const rows = [...byInterface.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, stats]) => [name, ...wanted.map((w) => String(stats.get(w) ?? '-'))]);
    parts.push(section('Interfaces', table(['interface', ...wanted], rows)));
  } else {
    parts.push(section('Interfaces', undefined));
  }
  for (const key of ['tcpConnectionStats', 'ipConnectionStats', 'udpConnectionStats'] as const) {
    parts.push(
      section(
        `${METRICS[key].name} (non-zero)`,
        labelTable(
          samplesOf(gathering, key).filter((s) => s.value !== 0),
          [LABEL.statisticName],
          'count',
        ),
      ),
    );
  }
  const udp = samplesOf(gathering, 'udpActiveSockets')[0];
  parts.push(`UDP sockets in use: ${udp ? udp.value : 'no data'}\n`);
  const sources = gathering.sources.map((s) => [
    s.name,
    s.up ? 'up' : 'DOWN',
    `${(s.durationSeconds * 1000).toFixed(1)} ms`,
    s.reason ?? '',
  ]);
  parts.push(section('Sources', table(['source', 'state', 'took', 'reason'], sources)));
  return parts.join('\n');
}
