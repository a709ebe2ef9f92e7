/**
 * `kappie sources`: every source with its state on this node (from one gathering: up or DOWN, with the reason or
 * the source's note), the metrics it fills (catalog names) and what it reads; the sources of the other platform; and
 * what `kappie serve` installs in the kernel, named as configured. Pure: sources, gathering and config in, text out.
 */
import { METRICS, type Platform } from './catalog';
import type { Gathering } from './gatherer';
import type { InstalledObject } from './installed-state';
import type { Source } from './source';
import { DEFAULT_WIDTH, prose, table } from './text-table';

export interface SourcesReport {
  /** Every source known (both platforms), in catalog order. */
  readonly sources: readonly Source[];
  /** The platform this runs on: its sources get a state, the others are listed as not running here. */
  readonly platform: Platform;
  /** One gathering of the selected sources (sources not selected by --sources/--disable-sources are absent). */
  readonly gathering: Gathering;
  /** What `kappie serve` installs on Linux (empty elsewhere). */
  readonly installed: readonly InstalledObject[];
  /** Characters per line (the terminal's columns); every line fits (text-table.ts). Default 120. */
  readonly width?: number;
}

/**
 * The state cell of a source: `up`, `DOWN`, with the status name when the source names the strategy that gathered
 * (drops: `up (drop_counters)`), or `not selected` when --sources / --disable-sources left it out.
 */
function stateOf(source: Source, gathering: Gathering): { state: string; reason: string } {
  const status = gathering.sources.find((s) => s.source === source.name);
  if (status === undefined) return { state: 'not selected', reason: '--sources / --disable-sources left it out' };
  const state = status.up ? 'up' : 'DOWN';
  return { state: status.name === source.name ? state : `${state} (${status.name})`, reason: status.reason ?? '' };
}

export function renderSources(report: SourcesReport): string {
  const here = report.sources.filter((source) => source.platforms.includes(report.platform));
  const elsewhere = report.sources.filter((source) => !source.platforms.includes(report.platform));
  const metricsOf = (source: Source) => source.metrics.map((key) => METRICS[key].name).join(', ');
  const parts: string[] = [];
  const width = report.width ?? DEFAULT_WIDTH;

  const stateRows = here.map((source) => {
    const { state, reason } = stateOf(source, report.gathering);
    return [source.name, state, reason];
  });
  parts.push(
    prose(
      `Sources on ${report.platform}, gathered once now (a serving collector shows its own on its status page at /)`,
      width,
    ),
    table(['source', 'state', 'reason or note'], stateRows, width),
    '',
    prose('What each source fills and reads', width),
    table(
      ['source', 'metrics', 'reads'],
      here.map((source) => [source.name, metricsOf(source), source.description]),
      width,
    ),
  );
  if (elsewhere.length > 0) {
    parts.push(
      '',
      prose(`Sources of other platforms (not run on ${report.platform})`, width),
      table(
        ['source', 'platforms', 'metrics', 'reads'],
        elsewhere.map((source) => [source.name, source.platforms.join(','), metricsOf(source), source.description]),
        width,
      ),
    );
  }
  if (report.installed.length > 0) {
    parts.push(
      '',
      prose('Installed in the kernel by `kappie serve` (removed when it stops)', width),
      table(
        ['kind', 'name', 'option', 'purpose'],
        report.installed.map((object) => [object.kind, object.name, object.option, object.purpose]),
        width,
      ),
    );
  }
  return `${parts.join('\n')}\n`;
}
